// Depthwise causal conv1d over (b, l, channels) activations: Mamba's conv1d (k = d_conv), with a fused SiLU,
// its backward, and a streaming step that carries the last k - 1 input frames (the conv state).
// Weights keep PyTorch's layout (channels, k) or (channels, 1, k). The WGSL is shaders/depthwise.wgsl; the CPU
// twin is reference/depthwise.ts. The strided/grouped conv1d is conv.ts.
import shader from '../../shaders/depthwise.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { chunking, sumChunks } from './reduce.ts';

const FLAT_WG = 256;
/** Taps the vec4 kernels hold in registers (MAX_K in depthwise.wgsl). */
const VEC4_MAX_K = 8;

function flat(n: number): [number, number] {
  return grid(Math.ceil(n / FLAT_WG));
}

const desc = (t: Tensor) => `${t.name}${shapeString(t.shape)}`;

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

/** The vec4 kernels (4 channels x 4 frames per invocation) need c % 4 == 0 and k <= 8. */
function vec4(c: number, k: number): boolean {
  return c % 4 === 0 && k <= VEC4_MAX_K;
}

/** An entry point of depthwise.wgsl, its `_vec4` twin when the shape allows. */
function entry(name: string, c: number, k: number): string {
  return vec4(c, k) ? `${name}_vec4` : name;
}

/** Workgroups of a kernel over (b, frames, c). */
function framesGrid(b: number, frames: number, c: number, k: number): [number, number] {
  return vec4(c, k) ? flat(b * Math.ceil(frames / 4) * (c / 4)) : flat(b * frames * c);
}

/** Override constants of a kernel: the vec4 ones also take the tap count KT. */
function constants(c: number, k: number, flags: Record<string, boolean>): Record<string, number | boolean> {
  return vec4(c, k) ? { ...flags, KT: k } : flags;
}

function depthwiseParams(b: number, l: number, c: number, k: number, padLeft: number, lOut: number, rowsPerChunk = 0, chunks = 0, lTail = 0, ntStart = 0, ntLen = 0) {
  return params().u32(b, l, c, k, padLeft, lOut, rowsPerChunk, chunks, lTail, ntStart, ntLen);
}

/** Causal depthwise conv1d: x (b, l, c), weight (c, k) -> y (b, l, c), left padding k - 1. */
export function depthwiseConv(enc: Encoder, x: Tensor, weight: Tensor, opts: DepthwiseOptions = {}): Tensor {
  const { c, k } = depthwiseWeight(x, weight, opts.bias);
  const [b, l] = x.shape;
  return depthwiseRun(enc, x, weight, b, c, k, k - 1, l, opts);
}

/**
 * y (b, l_out, c) over x (b, l, c), or over [tail, x] along frames when a tail (b, l_tail, c) is given; with
 * `next`, the same dispatch also copies frames [next.start, next.start + its frames) of that input into next.out.
 */
function depthwiseRun(
  enc: Encoder,
  x: Tensor,
  weight: Tensor,
  b: number,
  c: number,
  k: number,
  padLeft: number,
  lOut: number,
  opts: DepthwiseOptions,
  tail?: Tensor,
  next?: { out: Tensor; start: number },
): Tensor {
  const gpu = enc.gpu;
  const lTail = tail ? tail.shape[1] : 0;
  const l = lTail + x.shape[1];
  const out = opts.out ?? gpu.tensor([b, lOut, c], 'f32', undefined, 'depthwise.out');
  if (out.size !== b * lOut * c) throw new ShapeError(`depthwiseConv: out ${desc(out)} should hold [${b}, ${lOut}, ${c}]`);
  enc.dispatch({
    pipeline: gpu.pipeline(shader, entry('depthwise_forward', c, k), constants(c, k, { HAS_BIAS: !!opts.bias, SILU: !!opts.silu, TAIL: !!tail, NEXT_TAIL: !!next })),
    params: depthwiseParams(b, l, c, k, padLeft, lOut, 0, 0, lTail, next?.start ?? 0, next ? next.out.shape[1] : 0),
    buffers: [x, weight, out, opts.bias ?? gpu.empty, tail ?? gpu.empty, next?.out ?? gpu.emptyOutput],
    workgroups: framesGrid(b, lOut, c, k),
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
      pipeline: gpu.pipeline(shader, entry('depthwise_silu_grad', c, k), constants(c, k, { HAS_BIAS: !!opts.bias })),
      params: depthwiseParams(b, l, c, k, k - 1, l),
      buffers: [x, weight, dz, opts.bias ?? gpu.empty, gpu.empty, dy],
      workgroups: framesGrid(b, l, c, k),
      macs: n * k,
    });
    enc.releaseAfter(dz);
  }
  const dx = gpu.tensor([b, l, c], 'f32', undefined, 'depthwise.dx');
  enc.dispatch({
    pipeline: gpu.pipeline(shader, entry('depthwise_dx', c, k), constants(c, k, {})),
    params: depthwiseParams(b, l, c, k, k - 1, l),
    buffers: [dz, weight, dx],
    workgroups: framesGrid(b, l, c, k),
    macs: n * k,
  });

  const dweight = opts.dweight ?? gpu.tensor(weight.shape, 'f32', undefined, 'depthwise.dweight');
  const dbias = wantBias ? (opts.dbias ?? gpu.tensor([c], 'f32', undefined, 'depthwise.dbias')) : undefined;
  const columns = vec4(c, k) ? c / 4 : c;
  const { chunks, perChunk } = chunking(b * l, columns);
  const direct = chunks === 1 && !accumulate;
  const partW = direct ? dweight : gpu.tensor([chunks, c, k], 'f32', undefined, 'depthwise.dweight.partials');
  const partB = dbias ? (direct ? dbias : gpu.tensor([chunks, c], 'f32', undefined, 'depthwise.dbias.partials')) : undefined;
  enc.dispatch({
    pipeline: gpu.pipeline(shader, entry('depthwise_dweight', c, k), constants(c, k, { HAS_BIAS: !!dbias })),
    params: depthwiseParams(b, l, c, k, k - 1, l, perChunk, chunks),
    buffers: [dz, x, partW, partB ?? gpu.empty],
    workgroups: flat(chunks * columns),
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
  // One dispatch: the conv over [state, x] read in place, and the next state, its last k - 1 frames.
  const next = enc.gpu.tensor([b, k - 1, c], 'f32', undefined, 'depthwise.state');
  const y = depthwiseRun(enc, x, weight, b, c, k, 0, m, opts, state, { out: next, start: m });
  enc.releaseAfter(state);
  return { y, state: next };
}
