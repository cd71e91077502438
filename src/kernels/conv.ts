import shader from '../../shaders/conv.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { conv1dOutLength } from './reference/conv.ts';

export { conv1dOutLength };

// Two conv families over (b, l, channels) activations:
// - depthwise causal conv1d (Mamba's conv1d, k = d_conv), with a fused SiLU and a streaming step;
// - general conv1d with stride, groups and zero padding (HuBERT's feature extractor and positional conv),
//   with chunk-incremental streaming for causal (right-padding-free) convs.
// Weights keep PyTorch's layouts: depthwise (channels, k) or (channels, 1, k); conv1d (c_out, c_in/groups, k).

const FLAT_WG = 256;
/** Output frames per invocation of conv_fwd_vec4 and conv_fwd_xs (TF_VEC4 and TF in conv.wgsl). */
const FWD_FRAMES = { vec4: 4, xs: 8 } as const;
/** Invocations a weight-gradient pass aims for before it splits the frame sum into chunks. */
const TARGET_INVOCATIONS = 8192;
/** Fewest frames a chunk of a weight-gradient sum covers. */
const MIN_CHUNK_FRAMES = 32;

function flat(n: number): [number, number] {
  return grid(Math.ceil(n / FLAT_WG));
}

const desc = (t: Tensor) => `${t.name}${shapeString(t.shape)}`;

/** Frames of a weight-gradient sum split into chunks (partials + a reduce) when the outputs are few. */
function chunking(frames: number, outputs: number): { chunks: number; perChunk: number } {
  const wanted = Math.max(1, Math.min(Math.ceil(frames / MIN_CHUNK_FRAMES), Math.ceil(TARGET_INVOCATIONS / Math.max(1, outputs))));
  const perChunk = Math.max(1, Math.ceil(frames / wanted));
  return { chunks: Math.max(1, Math.ceil(frames / perChunk)), perChunk };
}

/** out (n) = sum over chunks of partials (chunks, n), or out += that sum. */
function sumChunks(enc: Encoder, partials: Tensor, chunks: number, n: number, out: Tensor, accumulate: boolean): void {
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'sum_chunks', { ACCUMULATE: accumulate }),
    params: params().u32(n, 0, chunks, 0, 0, 0),
    buffers: [partials, out],
    workgroups: flat(n),
  });
}

/**
 * out (b, len, c) = frames start .. start + len - 1 of [a, b] concatenated along time, with a (b, la, c) and
 * b (b, lb, c). The streaming steps use it to glue the carried state to new frames and to cut the next state.
 */
export function framesConcat(enc: Encoder, a: Tensor, b: Tensor, start: number, len: number, name = 'frames'): Tensor {
  if (a.shape.length !== 3 || b.shape.length !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[2]) {
    throw new ShapeError(`framesConcat: ${desc(a)} and ${desc(b)} must both be (b, frames, channels) with equal b and channels`);
  }
  const [batch, la, c] = a.shape;
  const lb = b.shape[1];
  if (start < 0 || start + len > la + lb) {
    throw new ShapeError(`framesConcat: frames ${start}..${start + len} lie outside [${desc(a)}, ${desc(b)}] (${la + lb} frames)`);
  }
  const out = enc.gpu.tensor([batch, len, c], 'f32', undefined, name);
  const n = batch * len * c;
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'frames_concat'),
    params: params().u32(n, c, la, lb, start, len),
    buffers: [a, b, out],
    workgroups: flat(n),
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Depthwise causal conv1d.

export interface DepthwiseOptions {
  /** (channels) */
  bias?: Tensor;
  /** y = SiLU(conv(x)) (Mamba applies SiLU right after its conv). */
  silu?: boolean;
  out?: Tensor;
}

/** Channels and taps of a depthwise weight (c, k) or (c, 1, k), checked against x's channels. */
function depthwiseWeight(x: Tensor, weight: Tensor, bias?: Tensor): { c: number; k: number } {
  const ws = weight.shape;
  const ok = (ws.length === 2 || (ws.length === 3 && ws[1] === 1)) && ws[ws.length - 1] >= 1;
  if (x.shape.length !== 3) throw new ShapeError(`depthwiseConv: input ${desc(x)} must be (b, l, channels)`);
  const c = x.shape[2];
  if (!ok || ws[0] !== c) {
    throw new ShapeError(`depthwiseConv: weight ${desc(weight)} must be (channels, k) or (channels, 1, k) with channels = ${c} of input ${desc(x)}`);
  }
  if (bias && (bias.size !== c || bias.shape.length !== 1)) {
    throw new ShapeError(`depthwiseConv: bias ${desc(bias)} must be (${c}) to match input ${desc(x)}`);
  }
  return { c, k: ws[ws.length - 1] };
}

/** Taps the vec4 depthwise kernels hold in registers (MAX_K in conv.wgsl). */
const DW4_MAX_K = 8;

/** vec4 depthwise kernels (4 channels x 4 frames per invocation) need c % 4 == 0 and k <= 8. */
function dw4(c: number, k: number): boolean {
  return c % 4 === 0 && k <= DW4_MAX_K;
}

/** Workgroups of a depthwise kernel over (b, frames, c). */
function dwGrid(b: number, frames: number, c: number, k: number): [number, number] {
  return dw4(c, k) ? flat(b * Math.ceil(frames / 4) * (c / 4)) : flat(b * frames * c);
}

/** Override constants of a depthwise kernel: the vec4 ones also take the tap count KT. */
function dwConstants(c: number, k: number, constants: Record<string, boolean>): Record<string, number | boolean> {
  return dw4(c, k) ? { ...constants, KT: k } : constants;
}

function dwParams(b: number, l: number, c: number, k: number, padLeft: number, lOut: number, rowsPerChunk = 0, chunks = 0) {
  return params().u32(b, l, c, k, padLeft, lOut, rowsPerChunk, chunks);
}

/** Causal depthwise conv1d: x (b, l, c), weight (c, k) -> y (b, l, c), left padding k - 1. */
export function depthwiseConv(enc: Encoder, x: Tensor, weight: Tensor, opts: DepthwiseOptions = {}): Tensor {
  const { c, k } = depthwiseWeight(x, weight, opts.bias);
  const [b, l] = x.shape;
  return depthwiseRun(enc, x, weight, b, l, c, k, k - 1, l, opts);
}

function depthwiseRun(
  enc: Encoder,
  x: Tensor,
  weight: Tensor,
  b: number,
  l: number,
  c: number,
  k: number,
  padLeft: number,
  lOut: number,
  opts: DepthwiseOptions,
): Tensor {
  const gpu = enc.gpu;
  const out = opts.out ?? gpu.tensor([b, lOut, c], 'f32', undefined, 'depthwise.out');
  if (out.size !== b * lOut * c) throw new ShapeError(`depthwiseConv: out ${desc(out)} should hold [${b}, ${lOut}, ${c}]`);
  enc.dispatch({
    pipeline: gpu.pipeline(shader, dw4(c, k) ? 'dw4_forward' : 'dw_forward', dwConstants(c, k, { HAS_BIAS: !!opts.bias, SILU: !!opts.silu })),
    params: dwParams(b, l, c, k, padLeft, lOut),
    buffers: [x, weight, out, opts.bias ?? gpu.empty],
    workgroups: dwGrid(b, lOut, c, k),
    macs: b * lOut * c * k,
  });
  return out;
}

export interface DepthwiseBackwardOptions {
  bias?: Tensor;
  silu?: boolean;
  /** Write (or add, with accumulate) the weight gradient here: (c, k) or (c, 1, k). */
  dweight?: Tensor;
  /** Write (or add) the bias gradient here; computed when `bias` or `dbias` is given. */
  dbias?: Tensor;
  /** dweight += ..., dbias += ... (gradient accumulation); needs dweight (and dbias when a bias is used). */
  accumulate?: boolean;
}

export interface ConvGradTensors {
  /** Input gradient (absent when not asked for). */
  dx?: Tensor;
  dweight: Tensor;
  dbias?: Tensor;
}

/** Backward of depthwiseConv (same options) given dy (b, l, c): dx, dweight (sum over b and l), dbias. */
export function depthwiseConvBackward(
  enc: Encoder,
  x: Tensor,
  weight: Tensor,
  dy: Tensor,
  opts: DepthwiseBackwardOptions = {},
): { dx: Tensor; dweight: Tensor; dbias?: Tensor } {
  const { c, k } = depthwiseWeight(x, weight, opts.bias);
  const [b, l] = x.shape;
  if (dy.shape.length !== 3 || dy.shape[0] !== b || dy.shape[1] !== l || dy.shape[2] !== c) {
    throw new ShapeError(`depthwiseConvBackward: dy ${desc(dy)} must match input ${desc(x)}`);
  }
  const wantBias = !!opts.bias || !!opts.dbias;
  const accumulate = !!opts.accumulate;
  if (accumulate && (!opts.dweight || (wantBias && !opts.dbias))) {
    throw new ShapeError('depthwiseConvBackward: accumulate needs the dweight (and dbias) tensors to add into');
  }
  if (opts.dweight && opts.dweight.size !== c * k) throw new ShapeError(`depthwiseConvBackward: dweight ${desc(opts.dweight)} must hold ${c}x${k}`);
  if (opts.dbias && opts.dbias.size !== c) throw new ShapeError(`depthwiseConvBackward: dbias ${desc(opts.dbias)} must hold ${c}`);
  const gpu = enc.gpu;
  const n = b * l * c;
  let dz = dy;
  if (opts.silu) {
    dz = gpu.tensor([b, l, c], 'f32', undefined, 'depthwise.dz');
    enc.dispatch({
      pipeline: gpu.pipeline(shader, dw4(c, k) ? 'dw4_silu_grad' : 'dw_silu_grad', dwConstants(c, k, { HAS_BIAS: !!opts.bias })),
      params: dwParams(b, l, c, k, k - 1, l),
      buffers: [x, weight, dz, opts.bias ?? gpu.empty, dy],
      workgroups: dwGrid(b, l, c, k),
      macs: n * k,
    });
    enc.releaseAfter(dz);
  }
  const dx = gpu.tensor([b, l, c], 'f32', undefined, 'depthwise.dx');
  enc.dispatch({
    pipeline: gpu.pipeline(shader, dw4(c, k) ? 'dw4_dx' : 'dw_dx', dwConstants(c, k, {})),
    params: dwParams(b, l, c, k, k - 1, l),
    buffers: [dz, weight, dx],
    workgroups: dwGrid(b, l, c, k),
    macs: n * k,
  });

  const dweight = opts.dweight ?? gpu.tensor(weight.shape, 'f32', undefined, 'depthwise.dweight');
  const dbias = wantBias ? (opts.dbias ?? gpu.tensor([c], 'f32', undefined, 'depthwise.dbias')) : undefined;
  const vec = dw4(c, k);
  const { chunks, perChunk } = chunking(b * l, vec ? c / 4 : c);
  const direct = chunks === 1 && !accumulate;
  const partW = direct ? dweight : gpu.tensor([chunks, c, k], 'f32', undefined, 'depthwise.dweight.partials');
  const partB = dbias ? (direct ? dbias : gpu.tensor([chunks, c], 'f32', undefined, 'depthwise.dbias.partials')) : undefined;
  enc.dispatch({
    pipeline: gpu.pipeline(shader, vec ? 'dw4_wgrad' : 'dw_wgrad', dwConstants(c, k, { HAS_BIAS: !!dbias })),
    params: dwParams(b, l, c, k, k - 1, l, perChunk, chunks),
    buffers: [dz, x, partW, partB ?? gpu.empty],
    workgroups: flat(chunks * (vec ? c / 4 : c)),
    macs: n * k,
  });
  if (!direct) {
    sumChunks(enc, partW, chunks, c * k, dweight, accumulate);
    enc.releaseAfter(partW);
    if (dbias && partB) {
      sumChunks(enc, partB, chunks, c, dbias, accumulate);
      enc.releaseAfter(partB);
    }
  }
  return { dx, dweight, dbias };
}

/** A zero conv state (b, k - 1, c): the last k - 1 input frames before the stream starts. */
export function depthwiseConvState(gpu: Gpu, b: number, c: number, k: number): Tensor {
  return gpu.zeros([b, k - 1, c], 'f32', 'depthwise.state');
}

/**
 * Streaming step: state (b, k - 1, c) holds the last k - 1 input frames, x (b, m, c) the new ones (m >= 1).
 * Returns y (b, m, c), equal to the matching frames of the full causal conv, and the next state.
 * The old state is released once the encoder's work is done.
 */
export function depthwiseConvStep(
  enc: Encoder,
  state: Tensor,
  x: Tensor,
  weight: Tensor,
  opts: Omit<DepthwiseOptions, 'out'> = {},
): { y: Tensor; state: Tensor } {
  const { c, k } = depthwiseWeight(x, weight, opts.bias);
  const [b, m] = x.shape;
  if (state.shape.length !== 3 || state.shape[0] !== b || state.shape[1] !== k - 1 || state.shape[2] !== c) {
    throw new ShapeError(`depthwiseConvStep: state ${desc(state)} must be [${b}, ${k - 1}, ${c}] (b, k - 1, channels) for input ${desc(x)}`);
  }
  if (m < 1) throw new ShapeError(`depthwiseConvStep: input ${desc(x)} has no new frames`);
  const cat = framesConcat(enc, state, x, 0, k - 1 + m, 'depthwise.window');
  const y = depthwiseRun(enc, cat, weight, b, k - 1 + m, c, k, 0, m, opts);
  const next = framesConcat(enc, state, x, m, k - 1, 'depthwise.state');
  enc.releaseAfter(cat, state);
  return { y, state: next };
}

// ---------------------------------------------------------------------------------------------------
// General conv1d: stride, groups, zero padding.

/**
 * 'valid': no padding. 'same': output length l (for even k, pad k/2 both sides and drop the last output
 * frame, as fairseq's SamePad; that equals left k/2, right k/2 - 1). 'causal': k - 1 on the left.
 */
export type ConvPadding = 'valid' | 'same' | 'causal' | { left: number; right: number };

export function convPads(padding: ConvPadding, k: number): { left: number; right: number } {
  if (padding === 'valid') return { left: 0, right: 0 };
  if (padding === 'causal') return { left: k - 1, right: 0 };
  if (padding === 'same') {
    const left = Math.floor(k / 2);
    return { left, right: k - 1 - left };
  }
  return padding;
}

/** Kernel variant: vec4 (c_in/groups and c_out/groups multiples of 4), xs (c_out/groups multiple of 4), scalar (any). */
export type ConvVariant = 'vec4' | 'xs' | 'scalar';

export interface Conv1dOptions {
  stride?: number;
  groups?: number;
  padding?: ConvPadding;
  /** (c_out) */
  bias?: Tensor;
  out?: Tensor;
  /** Force a variant (tests); by default the fastest one the shape allows. */
  variant?: ConvVariant;
}

interface ConvGeometry {
  b: number;
  l: number;
  cIn: number;
  cOut: number;
  k: number;
  stride: number;
  groups: number;
  padLeft: number;
  padRight: number;
  lOut: number;
  cinG: number;
  coutG: number;
}

function convGeometry(x: Tensor, weight: Tensor, opts: Omit<Conv1dOptions, 'out'>, what = 'conv1d'): ConvGeometry {
  const stride = opts.stride ?? 1;
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(stride) || stride < 1) throw new ShapeError(`${what}: stride ${stride} must be a positive integer`);
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`${what}: groups ${groups} must be a positive integer`);
  if (x.shape.length !== 3) throw new ShapeError(`${what}: input ${desc(x)} must be (b, l, c_in)`);
  if (weight.shape.length !== 3) throw new ShapeError(`${what}: weight ${desc(weight)} must be (c_out, c_in / groups, k)`);
  const [b, l, cIn] = x.shape;
  const [cOut, cinG, k] = weight.shape;
  if (cIn % groups !== 0) throw new ShapeError(`${what}: groups ${groups} does not divide the ${cIn} channels of input ${desc(x)}`);
  if (cOut % groups !== 0) throw new ShapeError(`${what}: groups ${groups} does not divide the ${cOut} output channels of weight ${desc(weight)}`);
  if (cinG * groups !== cIn) {
    throw new ShapeError(`${what}: weight ${desc(weight)} needs c_in / groups = ${cIn / groups} (input ${desc(x)}, groups ${groups}), has ${cinG}`);
  }
  if (k < 1) throw new ShapeError(`${what}: weight ${desc(weight)} has no taps`);
  if (opts.bias && (opts.bias.shape.length !== 1 || opts.bias.size !== cOut)) {
    throw new ShapeError(`${what}: bias ${desc(opts.bias)} must be (${cOut}) to match weight ${desc(weight)}`);
  }
  const { left, right } = convPads(opts.padding ?? 'valid', k);
  if (!Number.isInteger(left) || !Number.isInteger(right) || left < 0 || right < 0) {
    throw new ShapeError(`${what}: padding ${left}/${right} must be non-negative integers`);
  }
  const lOut = conv1dOutLength({ l, k, stride, padLeft: left, padRight: right });
  if (lOut < 1) {
    throw new ShapeError(`${what}: input ${desc(x)} is shorter than the kernel: ${l} frames + padding ${left}/${right} < k = ${k} of weight ${desc(weight)}`);
  }
  return { b, l, cIn, cOut, k, stride, groups, padLeft: left, padRight: right, lOut, cinG, coutG: cOut / groups };
}

function convParams(g: ConvGeometry, framesPerChunk = 0, n = 0) {
  return params().u32(g.b, g.l, g.cIn, g.cOut, g.k, g.stride, g.padLeft, g.lOut, g.cinG, g.coutG, framesPerChunk, n);
}

function pickVariant(g: ConvGeometry, forced: ConvVariant | undefined, input: boolean): ConvVariant {
  const outOk = g.coutG % 4 === 0;
  const inOk = g.cinG % 4 === 0;
  const best: ConvVariant = outOk && inOk ? 'vec4' : outOk && input ? 'xs' : 'scalar';
  if (!forced) return best;
  const allowed = forced === 'scalar' || (forced === 'xs' && outOk) || (forced === 'vec4' && outOk && inOk);
  if (!allowed) throw new ShapeError(`conv1d: variant ${forced} needs c_out/groups (${g.coutG})${forced === 'vec4' ? ` and c_in/groups (${g.cinG})` : ''} divisible by 4`);
  return forced === 'xs' && !input ? 'scalar' : forced;
}

/** The weight (c_out, cin_g, k) rearranged for the vec4 kernels: 'fwd' (k, cin_g, c_out), 'bwd' (k, c_out, cin_g). */
function weightLayout(enc: Encoder, weight: Tensor, g: ConvGeometry, which: 'fwd' | 'bwd'): Tensor {
  const n = weight.size;
  const t = enc.gpu.tensor(which === 'fwd' ? [g.k, g.cinG, g.cOut] : [g.k, g.cOut, g.cinG], 'f32', undefined, `${weight.name}.${which}`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, which === 'fwd' ? 'conv_w_fwd_layout' : 'conv_w_bwd_layout'),
    params: convParams(g, 0, n),
    buffers: [weight, t],
    workgroups: flat(n),
  });
  enc.releaseAfter(t);
  return t;
}

/**
 * y (b, l_out, c_out) = conv1d(x (b, l, c_in), weight (c_out, c_in/groups, k)) + bias, with
 * l_out = floor((l + pad_left + pad_right - k) / stride) + 1.
 */
export function conv1d(enc: Encoder, x: Tensor, weight: Tensor, opts: Conv1dOptions = {}): Tensor {
  const g = convGeometry(x, weight, opts);
  const gpu = enc.gpu;
  const out = opts.out ?? gpu.tensor([g.b, g.lOut, g.cOut], 'f32', undefined, 'conv1d.out');
  if (out.size !== g.b * g.lOut * g.cOut) throw new ShapeError(`conv1d: out ${desc(out)} should hold [${g.b}, ${g.lOut}, ${g.cOut}]`);
  const variant = pickVariant(g, opts.variant, true);
  const macs = g.b * g.lOut * g.cOut * g.cinG * g.k;
  const bias = opts.bias ?? gpu.empty;
  if (variant === 'scalar') {
    const n = g.b * g.lOut * g.cOut;
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'conv_fwd_scalar', { HAS_BIAS: !!opts.bias }),
      params: convParams(g, 0, n),
      buffers: [x, weight, out, bias],
      workgroups: flat(n),
      macs,
    });
    return out;
  }
  const wf = weightLayout(enc, weight, g, 'fwd');
  enc.dispatch({
    pipeline: gpu.pipeline(shader, variant === 'vec4' ? 'conv_fwd_vec4' : 'conv_fwd_xs', { HAS_BIAS: !!opts.bias }),
    params: convParams(g),
    buffers: [x, wf, out, bias],
    workgroups: variant === 'vec4'
      ? [Math.ceil(g.cOut / 4 / 8), Math.ceil(Math.ceil(g.lOut / FWD_FRAMES.vec4) / 8), g.b]
      : [Math.ceil(g.cOut / 4 / 16), Math.ceil(Math.ceil(g.lOut / FWD_FRAMES.xs) / 4), g.b],
    macs,
  });
  return out;
}

export interface Conv1dBackwardOptions extends Omit<Conv1dOptions, 'out'> {
  /** Compute dx (default true; the first feature-extractor layer does not need it). */
  needDx?: boolean;
  /** Write (or add, with accumulate) the weight gradient here (c_out, c_in/groups, k). */
  dweight?: Tensor;
  /** Write (or add) the bias gradient here; computed when `bias` or `dbias` is given. */
  dbias?: Tensor;
  accumulate?: boolean;
}

/** Backward of conv1d (same options) given dy (b, l_out, c_out): dx (b, l, c_in), dweight, dbias. */
export function conv1dBackward(enc: Encoder, x: Tensor, weight: Tensor, dy: Tensor, opts: Conv1dBackwardOptions = {}): ConvGradTensors {
  const g = convGeometry(x, weight, opts, 'conv1dBackward');
  if (dy.shape.length !== 3 || dy.shape[0] !== g.b || dy.shape[1] !== g.lOut || dy.shape[2] !== g.cOut) {
    throw new ShapeError(`conv1dBackward: dy ${desc(dy)} must be [${g.b}, ${g.lOut}, ${g.cOut}] (the output of input ${desc(x)} and weight ${desc(weight)})`);
  }
  const wantBias = !!opts.bias || !!opts.dbias;
  const accumulate = !!opts.accumulate;
  if (accumulate && (!opts.dweight || (wantBias && !opts.dbias))) {
    throw new ShapeError('conv1dBackward: accumulate needs the dweight (and dbias) tensors to add into');
  }
  if (opts.dweight && opts.dweight.size !== weight.size) throw new ShapeError(`conv1dBackward: dweight ${desc(opts.dweight)} must match weight ${desc(weight)}`);
  if (opts.dbias && opts.dbias.size !== g.cOut) throw new ShapeError(`conv1dBackward: dbias ${desc(opts.dbias)} must hold ${g.cOut}`);
  const gpu = enc.gpu;
  const macs = g.b * g.lOut * g.cOut * g.cinG * g.k;

  let dx: Tensor | undefined;
  if (opts.needDx ?? true) {
    dx = gpu.tensor([g.b, g.l, g.cIn], 'f32', undefined, 'conv1d.dx');
    if (pickVariant(g, opts.variant, false) === 'vec4') {
      const wb = weightLayout(enc, weight, g, 'bwd');
      const tiles = g.stride * Math.ceil(Math.ceil(g.l / g.stride) / 4);
      enc.dispatch({
        pipeline: gpu.pipeline(shader, 'conv_dx_vec4'),
        params: convParams(g),
        buffers: [dy, wb, dx],
        workgroups: [Math.ceil(g.cIn / 4 / 16), Math.ceil(tiles / 4), g.b],
        macs,
      });
    } else {
      const n = g.b * g.l * g.cIn;
      enc.dispatch({
        pipeline: gpu.pipeline(shader, 'conv_dx_scalar'),
        params: convParams(g, 0, n),
        buffers: [dy, weight, dx],
        workgroups: flat(n),
        macs,
      });
    }
  }

  const frames = g.b * g.lOut;
  const size = weight.size;
  const dweight = opts.dweight ?? gpu.tensor(weight.shape, 'f32', undefined, 'conv1d.dweight');
  const vec4 = pickVariant(g, opts.variant, false) === 'vec4';
  const tiles = vec4 ? size / 16 : size;
  const w = chunking(frames, tiles);
  const wDirect = w.chunks === 1;
  const partW = wDirect ? dweight : gpu.tensor([w.chunks, size], 'f32', undefined, 'conv1d.dweight.partials');
  const wAcc = wDirect && accumulate;
  if (vec4) {
    const pairs = (g.cinG / 4) * g.k;
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'conv_dw_vec4', { ACCUMULATE: wAcc }),
      params: convParams(g, w.perChunk),
      buffers: [dy, x, partW],
      workgroups: [Math.ceil(pairs / 64), g.cOut / 4, w.chunks],
      macs,
    });
  } else {
    const n = w.chunks * size;
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'conv_dw_scalar', { ACCUMULATE: wAcc }),
      params: convParams(g, w.perChunk, n),
      buffers: [dy, x, partW],
      workgroups: flat(n),
      macs,
    });
  }
  if (!wDirect) {
    sumChunks(enc, partW, w.chunks, size, dweight, accumulate);
    enc.releaseAfter(partW);
  }

  let dbias: Tensor | undefined;
  if (wantBias) {
    dbias = opts.dbias ?? gpu.tensor([g.cOut], 'f32', undefined, 'conv1d.dbias');
    const bc = chunking(frames, g.cOut);
    const bDirect = bc.chunks === 1;
    const partB = bDirect ? dbias : gpu.tensor([bc.chunks, g.cOut], 'f32', undefined, 'conv1d.dbias.partials');
    const n = bc.chunks * g.cOut;
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'conv_bias_grad', { ACCUMULATE: bDirect && accumulate }),
      params: convParams(g, bc.perChunk, n),
      buffers: [dy, partB],
      workgroups: flat(n),
    });
    if (!bDirect) {
      sumChunks(enc, partB, bc.chunks, g.cOut, dbias, accumulate);
      enc.releaseAfter(partB);
    }
  }
  return { dx, dweight, dbias };
}

// ---------------------------------------------------------------------------------------------------
// Chunk-incremental streaming of a conv1d without right padding ('valid', 'causal' or {left, right: 0}).
//
// The padded input is P = [left zeros, x_0, x_1, ...]. After P's first n frames have arrived, the outputs
// t = 0 .. floor((n - k) / stride) are final (none when n < k), and the next output t' = floor((n - k) /
// stride) + 1 starts at P frame t' * stride. So the carried tail is P[t' * stride ..], of length
// (k - stride) + ((n - k) mod stride) once n >= k, or all n frames before that. It starts as the left padding.

export interface Conv1dStream {
  /** (b, frames, c_in): the padded input frames that later outputs still read. */
  tail: Tensor;
}

export type Conv1dStreamOptions = Omit<Conv1dOptions, 'out' | 'padding'> & { padding?: ConvPadding };

function streamPads(weight: Tensor, opts: Conv1dStreamOptions): { left: number; k: number; stride: number } {
  const k = weight.shape[weight.shape.length - 1];
  const stride = opts.stride ?? 1;
  const { left, right } = convPads(opts.padding ?? 'valid', k);
  if (right !== 0) throw new ShapeError(`conv1dStream: padding ${left}/${right} looks ahead; streaming needs no right padding ('valid' or 'causal')`);
  if (k < stride) throw new ShapeError(`conv1dStream: weight ${desc(weight)} has k = ${k} < stride ${stride}; streaming needs k >= stride`);
  return { left, k, stride };
}

/** A fresh stream for batch b: the tail is the left padding (zeros). */
export function conv1dStreamStart(gpu: Gpu, weight: Tensor, b: number, opts: Conv1dStreamOptions = {}): Conv1dStream {
  const { left } = streamPads(weight, opts);
  const cIn = weight.shape[1] * (opts.groups ?? 1);
  return { tail: gpu.zeros([b, left, cIn], 'f32', 'conv1d.tail') };
}

/**
 * Feed x (b, m, c_in); returns the outputs that became final (b, n, c_out), n >= 0, equal to the matching
 * frames of the offline conv1d with the same options, and the next stream. The old tail is released once
 * the encoder's work is done.
 */
export function conv1dStreamStep(
  enc: Encoder,
  stream: Conv1dStream,
  x: Tensor,
  weight: Tensor,
  opts: Conv1dStreamOptions = {},
): { y: Tensor; stream: Conv1dStream } {
  const { k, stride } = streamPads(weight, opts);
  const { tail } = stream;
  if (x.shape.length !== 3 || tail.shape[0] !== x.shape[0] || tail.shape[2] !== x.shape[2]) {
    throw new ShapeError(`conv1dStreamStep: input ${desc(x)} must be (b, m, c_in) matching the stream's tail ${desc(tail)}`);
  }
  const [b, m] = x.shape;
  const have = tail.shape[1] + m;
  const n = have >= k ? Math.floor((have - k) / stride) + 1 : 0;
  let y: Tensor;
  if (n > 0) {
    const cat = framesConcat(enc, tail, x, 0, have, 'conv1d.window');
    y = conv1d(enc, cat, weight, { ...opts, padding: 'valid' });
    enc.releaseAfter(cat);
  } else {
    y = enc.gpu.tensor([b, 0, weight.shape[0]], 'f32', undefined, 'conv1d.out');
  }
  const next = framesConcat(enc, tail, x, n * stride, have - n * stride, 'conv1d.tail');
  enc.releaseAfter(tail);
  return { y, stream: { tail: next } };
}
