// conv1d over (b, l, channels) activations with stride, groups and zero padding (HuBERT's feature extractor
// and positional conv), its backward, and chunk-incremental streaming for causal (right-padding-free) convs.
// Weights keep PyTorch's layout (c_out, c_in/groups, k). The WGSL is shaders/conv.wgsl; the CPU twin is
// reference/conv.ts. The depthwise causal conv (Mamba's) is depthwise.ts.
import shader from '../../shaders/conv.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { framesConcat } from './layout.ts';
import { chunking, sumChunks } from './reduce.ts';
import { conv1dOutLength, type Conv1dShape } from './reference/conv.ts';

export { conv1dOutLength };

const FLAT_WG = 256;
/** Output frames per invocation of conv_fwd_vec4 and conv_fwd_xs (TF_VEC4 and TF_XS in conv.wgsl). */
const FWD_FRAMES = { vec4: 8, xs: 8 } as const;
/** Input frames per invocation of conv_dx_vec4 (TX_DX in conv.wgsl). */
const DX_FRAMES = 4;

function flat(n: number): [number, number] {
  return grid(Math.ceil(n / FLAT_WG));
}

const desc = (t: Tensor) => `${t.name}${shapeString(t.shape)}`;

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
  /**
   * (b, l_tail, c_in): frames that come before x. The conv runs over their concatenation along frames without
   * writing it out (a stream's carried tail and its new frames); padding applies to the concatenation.
   */
  tail?: Tensor;
  /** The weight already in the forward kernels' layout (conv1dPackWeight; a stream packs it once). */
  packed?: Tensor;
  /** y = GELU(conv + bias), fused (inference, where the pre-activation is not kept). */
  gelu?: boolean;
  /**
   * Also copy frames [start, start + out's frames) of the input [tail, x] into `out` (b, frames, c_in), in the
   * same dispatch: a stream's next tail.
   */
  nextTail?: { out: Tensor; start: number };
}

/** The twin's shape of a call plus what the kernels derive from it. */
interface ConvGeometry extends Conv1dShape {
  /** Frames of the tail before x (l counts both). */
  lTail: number;
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
  const [b, lx, cIn] = x.shape;
  const [cOut, cinG, k] = weight.shape;
  const tail = opts.tail;
  if (tail && (tail.shape.length !== 3 || tail.shape[0] !== b || tail.shape[2] !== cIn)) {
    throw new ShapeError(`${what}: tail ${desc(tail)} must be (b=${b}, frames, c_in=${cIn}) to go before input ${desc(x)}`);
  }
  const lTail = tail ? tail.shape[1] : 0;
  const l = lTail + lx;
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
  return { b, l, cIn, cOut, k, stride, groups, padLeft: left, padRight: right, lTail, lOut, cinG, coutG: cOut / groups };
}

function convParams(g: ConvGeometry, framesPerChunk = 0, n = 0, nextTail = { start: 0, frames: 0 }) {
  return params().u32(g.b, g.l, g.cIn, g.cOut, g.k, g.stride, g.padLeft, g.lOut, g.cinG, g.coutG, framesPerChunk, n, g.lTail, nextTail.start, nextTail.frames);
}

function pickVariant(g: { cinG: number; coutG: number }, forced: ConvVariant | undefined, input: boolean): ConvVariant {
  const outOk = g.coutG % 4 === 0;
  const inOk = g.cinG % 4 === 0;
  const best: ConvVariant = outOk && inOk ? 'vec4' : outOk && input ? 'xs' : 'scalar';
  if (!forced) return best;
  const allowed = forced === 'scalar' || (forced === 'xs' && outOk) || (forced === 'vec4' && outOk && inOk);
  if (!allowed) throw new ShapeError(`conv1d: variant ${forced} needs c_out/groups (${g.coutG})${forced === 'vec4' ? ` and c_in/groups (${g.cinG})` : ''} divisible by 4`);
  return forced === 'xs' && !input ? 'scalar' : forced;
}

/** The weight (c_out, cin_g, k) rearranged for the vec4 kernels: 'fwd' (k, cin_g, c_out), 'bwd' (k, c_out, cin_g). Owned by the caller. */
function weightLayout(enc: Encoder, weight: Tensor, which: 'fwd' | 'bwd'): Tensor {
  const [cOut, cinG, k] = weight.shape;
  const n = weight.size;
  const t = enc.gpu.tensor(which === 'fwd' ? [k, cinG, cOut] : [k, cOut, cinG], 'f32', undefined, `${weight.name}.${which}`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, which === 'fwd' ? 'conv_w_fwd_layout' : 'conv_w_bwd_layout'),
    params: params().u32(0, 0, 0, cOut, k, 0, 0, 0, cinG, 0, 0, n, 0, 0, 0),
    buffers: [weight, t],
    workgroups: flat(n),
  });
  return t;
}

/**
 * The weight (c_out, c_in/groups, k) in the forward kernels' layout, for conv1d's `packed` option: what a
 * stream packs once instead of at every step. Undefined when the shape takes the scalar kernel (which reads
 * PyTorch's layout). Owned by the caller.
 */
export function conv1dPackWeight(enc: Encoder, weight: Tensor, opts: Pick<Conv1dOptions, 'groups' | 'variant'> = {}): Tensor | undefined {
  if (weight.shape.length !== 3) throw new ShapeError(`conv1dPackWeight: weight ${desc(weight)} must be (c_out, c_in / groups, k)`);
  const coutG = weight.shape[0] / (opts.groups ?? 1);
  return pickVariant({ cinG: weight.shape[1], coutG }, opts.variant, true) === 'scalar' ? undefined : weightLayout(enc, weight, 'fwd');
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
  const tail = opts.tail ?? gpu.empty;
  const nt = opts.nextTail;
  const ntFrames = nt ? nt.out.shape[1] : 0;
  if (nt && (nt.out.shape.length !== 3 || nt.out.shape[0] !== g.b || nt.out.shape[2] !== g.cIn || nt.start < 0 || nt.start + ntFrames > g.l)) {
    throw new ShapeError(`conv1d: next tail ${desc(nt.out)} from frame ${nt.start} must be (b=${g.b}, frames, c_in=${g.cIn}) within the ${g.l} input frames`);
  }
  const constants = { HAS_BIAS: !!opts.bias, TAIL: !!opts.tail, GELU: !!opts.gelu, NEXT_TAIL: !!nt };
  const ntParams = { start: nt?.start ?? 0, frames: ntFrames };
  const buffers = (w: Tensor) => [x, w, out, bias, tail, nt?.out ?? gpu.emptyOutput];
  if (variant === 'scalar') {
    const n = g.b * g.lOut * g.cOut;
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'conv_fwd_scalar', constants),
      params: convParams(g, 0, n, ntParams),
      buffers: buffers(weight),
      workgroups: flat(n),
      macs,
    });
    return out;
  }
  let wf = opts.packed;
  if (wf) {
    if (wf.shape.join() !== [g.k, g.cinG, g.cOut].join()) throw new ShapeError(`conv1d: packed weight ${desc(wf)} must be [${g.k}, ${g.cinG}, ${g.cOut}] (conv1dPackWeight of ${desc(weight)})`);
  } else {
    wf = weightLayout(enc, weight, 'fwd');
    enc.releaseAfter(wf);
  }
  enc.dispatch({
    pipeline: gpu.pipeline(shader, variant === 'vec4' ? 'conv_fwd_vec4' : 'conv_fwd_xs', constants),
    params: convParams(g, 0, 0, ntParams),
    buffers: buffers(wf),
    workgroups: variant === 'vec4'
      ? [Math.ceil(g.cOut / 4 / 8), Math.ceil(Math.ceil(g.lOut / FWD_FRAMES.vec4) / 8), g.b]
      : [Math.ceil(g.cOut / 4 / 16), Math.ceil(Math.ceil(g.lOut / FWD_FRAMES.xs) / 4), g.b],
    macs,
  });
  return out;
}

export interface ConvGradTensors {
  /** Input gradient (absent when not asked for). */
  dx?: Tensor;
  dweight: Tensor;
  dbias?: Tensor;
}

export interface Conv1dBackwardOptions extends Omit<Conv1dOptions, 'out' | 'tail' | 'packed' | 'gelu' | 'nextTail'> {
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
      const wb = weightLayout(enc, weight, 'bwd');
      enc.releaseAfter(wb);
      const tiles = g.stride * Math.ceil(Math.ceil(g.l / g.stride) / DX_FRAMES);
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
      pipeline: gpu.pipeline(shader, 'conv_dweight_vec4', { ACCUMULATE: wAcc }),
      params: convParams(g, w.perChunk),
      buffers: [dy, x, partW],
      workgroups: [Math.ceil(pairs / 64), g.cOut / 4, w.chunks],
      macs,
    });
  } else {
    const n = w.chunks * size;
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'conv_dweight_scalar', { ACCUMULATE: wAcc }),
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
  /** The weight in the forward layout, packed by the first step that computes (the weight does not change in a stream). */
  packed?: Tensor;
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
 * frames of the offline conv1d with the same options, and the next stream (which keeps the packed weight: the
 * caller releases it with the last tail). The old tail is released once the encoder's work is done.
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
  let packed = stream.packed;
  let next: Tensor;
  if (n > 0) {
    // The conv reads [tail, x] in place and copies the next tail, [n * stride, have), in the same dispatch.
    packed ??= conv1dPackWeight(enc, weight, opts);
    next = enc.gpu.tensor([b, have - n * stride, x.shape[2]], 'f32', undefined, 'conv1d.tail');
    y = conv1d(enc, x, weight, { ...opts, padding: 'valid', tail, packed, nextTail: { out: next, start: n * stride } });
  } else {
    y = enc.gpu.tensor([b, 0, weight.shape[0]], 'f32', undefined, 'conv1d.out');
    next = framesConcat(enc, tail, x, 0, have, 'conv1d.tail');
  }
  enc.releaseAfter(tail);
  return { y, stream: { tail: next, packed } };
}
