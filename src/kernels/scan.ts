// Selective scan (Mamba's S6): forward in two forms (sequential, chunked parallel), backward, streaming step.
// The WGSL is shaders/scan.wgsl; the CPU twin is reference/scan.ts.
import shader from '../../shaders/scan.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { LabError, ShapeError } from '../gpu/errors.ts';
import { params, type Params } from '../gpu/params.ts';
import { assertShape, shapeString, type Tensor } from '../gpu/tensor.ts';

/** Largest d_state the kernels take (private arrays in the shader are this long). */
export const SCAN_MAX_N = 64;
/** Time steps per chunk unless the caller says otherwise. */
export const SCAN_DEFAULT_CHUNK = 64;
/** Channels per backward workgroup (WGB in the shader). */
const WGB = 32;

export interface ScanInputs {
  /** (b, l, d_inner) */
  u: Tensor;
  /** (b, l, d_inner), before softplus; delta = softplus(dt + dtBias) */
  dt: Tensor;
  /** (d_inner) */
  dtBias: Tensor;
  /** (d_inner, n); A = -exp(aLog) */
  aLog: Tensor;
  /** (b, l, n), shared by all channels */
  B: Tensor;
  /** (b, l, n), shared by all channels */
  C: Tensor;
  /** (d_inner) skip connection */
  D: Tensor;
  /** (b, l, d_inner) optional gate: out = y * silu(z) */
  z?: Tensor;
}

/** 'sequential': one invocation per (b, channel) looping over time. 'chunked': three passes over chunks. */
export type ScanForm = 'sequential' | 'chunked';

export interface ScanOptions {
  /** (b, d_inner, n) state before the first frame; zeros when absent. */
  h0?: Tensor;
  /** Time steps per chunk (the granularity of the saved states and of the chunked form). */
  chunk?: number;
  /** Default: sequential on CPU adapters with enough channels to fill them, chunked otherwise. */
  form?: ScanForm | 'auto';
}

/** What the backward needs from the forward (besides the inputs). */
export interface ScanSaved {
  /** (b, d_inner, nchunks, n): the state before each chunk's first frame. */
  states: Tensor;
  chunk: number;
}

export interface ScanForwardResult extends ScanSaved {
  /** (b, l, d_inner) */
  out: Tensor;
  /** (b, d_inner, n): the state after the last frame. */
  hT: Tensor;
  /**
   * (1) u32, set to 1 on the GPU when any output or the final state is NaN or Inf (a NaN in dt, say).
   * Nothing checks it unless the caller does: `await assertScanFinite(result)`.
   */
  nonFinite: Tensor<'u32'>;
}

export interface ScanGrads {
  du: Tensor;
  /** Gradient w.r.t. dt before softplus. */
  ddt: Tensor;
  dz?: Tensor;
  dALog: Tensor;
  dB: Tensor;
  dC: Tensor;
  dD: Tensor;
  /** Sum of ddt over b and l. */
  dDtBias: Tensor;
  /** (b, d_inner, n) gradient w.r.t. the initial state. */
  dh0: Tensor;
}

export interface ScanDims {
  b: number;
  l: number;
  d: number;
  n: number;
}

/** Shape checks shared by every entry: throws ShapeError naming the tensor, its shape and the expectation. */
export function scanDims(x: ScanInputs): ScanDims {
  if (x.u.shape.length !== 3) throw new ShapeError(`scan: u ${x.u.name}${shapeString(x.u.shape)} should be (b, l, d_inner)`);
  const [b, l, d] = x.u.shape;
  if (l < 1 || b < 1 || d < 1) throw new ShapeError(`scan: u ${x.u.name}${shapeString(x.u.shape)} has an empty dimension`);
  if (x.aLog.shape.length !== 2) throw new ShapeError(`scan: A_log ${x.aLog.name}${shapeString(x.aLog.shape)} should be (d_inner=${d}, n)`);
  const n = x.aLog.shape[1];
  if (n < 1 || n > SCAN_MAX_N) throw new ShapeError(`scan: A_log ${x.aLog.name}${shapeString(x.aLog.shape)}: n=${n} must be 1..${SCAN_MAX_N}`);
  assertShape(x.aLog, [d, n], 'scan: A_log');
  assertShape(x.dt, [b, l, d], 'scan: dt');
  assertShape(x.dtBias, [d], 'scan: dt_bias');
  assertShape(x.B, [b, l, n], 'scan: B');
  assertShape(x.C, [b, l, n], 'scan: C');
  assertShape(x.D, [d], 'scan: D');
  if (x.z) assertShape(x.z, [b, l, d], 'scan: z');
  if (b > 65535) throw new ShapeError(`scan: u ${x.u.name}${shapeString(x.u.shape)}: batch over 65535`);
  return { b, l, d, n };
}

function chunking(l: number, chunk: number): number {
  if (!Number.isInteger(chunk) || chunk < 1) throw new ShapeError(`scan: chunk ${chunk} must be a positive integer`);
  const nchunks = Math.ceil(l / chunk);
  if (nchunks > 65535) throw new ShapeError(`scan: l=${l} makes ${nchunks} chunks of ${chunk} (at most 65535): use a longer chunk`);
  return nchunks;
}

function scanParams(s: ScanDims, chunk: number, nchunks: number, count = 0): Params {
  return params().u32(s.b, s.l, s.d, chunk, nchunks, Math.ceil(s.d / WGB), count, s.n);
}

/** Floats of the packed buffer (layout in shaders/scan.wgsl). */
function packedSize(s: ScanDims): number {
  const n8 = Math.ceil(s.n / 8) * 8;
  const align4 = (x: number) => Math.ceil(x / 4) * 4;
  const offBC = align4(align4(2 * s.d) + s.d * n8 + s.b * s.d * s.n);
  return offBC + s.b * s.l * 2 * n8;
}

/** Fill the packed buffer (dt_bias, D, A*log2 e, h0, B|C) that every other kernel reads; zero flag[0]. */
function pack(enc: Encoder, x: ScanInputs, s: ScanDims, h0: Tensor | undefined, flag: Tensor): Tensor {
  const gpu = enc.gpu;
  if (h0) assertShape(h0, [s.b, s.d, s.n], 'scan: h0');
  const count = packedSize(s);
  const packed = gpu.tensor([count], 'f32', undefined, 'scan.packed');
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'scan_pack', { HAS_H0: !!h0 }),
    params: scanParams(s, 1, 1, count),
    buffers: [x.dtBias, x.aLog, x.D, h0 ?? gpu.empty, x.B, x.C, packed, flag],
    workgroups: grid(Math.ceil(count / 256)),
  });
  enc.releaseAfter(packed);
  return packed;
}

/**
 * Forward selective scan. Returns the output, the final state, the chunk start states for the backward
 * and a non-finite flag (see assertScanFinite). Both forms give the same results.
 */
export function scanForward(enc: Encoder, x: ScanInputs, opts: ScanOptions = {}): ScanForwardResult {
  const s = scanDims(x);
  const gpu = enc.gpu;
  const chunk = opts.chunk ?? SCAN_DEFAULT_CHUNK;
  const nchunks = chunking(s.l, chunk);
  let form = opts.form ?? 'auto';
  if (form === 'auto') form = gpu.kind === 'cpu' && s.b * s.d >= 128 ? 'sequential' : 'chunked';
  const out = gpu.tensor([s.b, s.l, s.d], 'f32', undefined, 'scan.out');
  const states = gpu.tensor([s.b, s.d, nchunks, s.n], 'f32', undefined, 'scan.states');
  const hT = gpu.tensor([s.b, s.d, s.n], 'f32', undefined, 'scan.hT');
  const nonFinite = gpu.tensor([1], 'u32', undefined, 'scan.nonFinite');
  const packed = pack(enc, x, s, opts.h0, nonFinite);
  const p = scanParams(s, chunk, nchunks);
  const z = x.z ?? gpu.empty;
  // The model's MACs, the same in both forms (src/bench/macs.ts): per (b, t, channel) 3n + 1, i.e. dA*h and
  // delta*B*u and <h, C> per state, and D*u. The chunked form's extra state pass is work, not model MACs.
  const macs = s.b * s.l * s.d * (3 * s.n + 1);
  if (form === 'sequential') {
    // n <= 24 (every preset): all states in registers, one pass over time.
    const nb = Math.ceil(s.n / 8) * 2;
    enc.dispatch({
      pipeline: nb <= 6 ? gpu.pipeline(shader, 'scan_seq_fused', { HAS_Z: !!x.z, NB: nb }) : gpu.pipeline(shader, 'scan_seq', { HAS_Z: !!x.z }),
      params: p,
      buffers: [x.u, x.dt, packed, z, out, states, nonFinite, hT],
      workgroups: [Math.ceil(s.d / 64), s.b],
      macs,
    });
  } else {
    const tmp = gpu.tensor([s.b * s.d * nchunks * (s.n + 1)], 'f32', undefined, 'scan.chunkTmp');
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'scan_chunk_state'),
      params: p,
      buffers: [x.u, x.dt, packed, tmp],
      workgroups: [Math.ceil(s.d / 64), nchunks, s.b],
    });
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'scan_chunk_carry'),
      params: p,
      buffers: [tmp, packed, states, hT],
      workgroups: grid(Math.ceil((s.b * s.d * s.n) / 64)),
    });
    enc.dispatch({
      pipeline: gpu.pipeline(shader, 'scan_chunk_out', { HAS_Z: !!x.z }),
      params: p,
      buffers: [x.u, x.dt, packed, z, out, states, nonFinite],
      workgroups: [Math.ceil(s.d / 64), nchunks, s.b],
      macs,
    });
    enc.releaseAfter(tmp);
  }
  return { out, hT, states, chunk, nonFinite };
}

/**
 * Streaming step: k >= 1 new frames (inputs with l = k) from the carried state h (b, d_inner, n), which is
 * overwritten with the state after the last frame. Returns the k outputs (b, k, d_inner). One dispatch that reads
 * the weights, B and C where they are (the forward's packed copy costs a dispatch per chunk). Feeding a sequence
 * through in pieces of any sizes gives the full forward's outputs. Nothing flags a non-finite value here: a NaN in
 * the inputs reaches the outputs and the state.
 */
export function scanStep(enc: Encoder, x: ScanInputs, h: Tensor): Tensor {
  const s = scanDims(x);
  const gpu = enc.gpu;
  assertShape(h, [s.b, s.d, s.n], 'scan: h0');
  const out = gpu.tensor([s.b, s.l, s.d], 'f32', undefined, 'scan.out');
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'scan_step', { HAS_Z: !!x.z }),
    params: scanParams(s, s.l, 1),
    buffers: [x.u, x.dt, x.dtBias, x.z ?? gpu.empty, x.aLog, x.D, x.B, x.C, h, out],
    workgroups: [Math.ceil(s.d / 64), s.b],
    macs: s.b * s.l * s.d * (3 * s.n + 1),
  });
  return out;
}

/** Throw LabError 'non-finite' if the forward (or step) produced a NaN or Inf. Waits for the GPU. */
export async function assertScanFinite(r: { nonFinite: Tensor<'u32'> }): Promise<void> {
  const [flag] = await r.nonFinite.read();
  if (flag !== 0) {
    throw new LabError(
      'non-finite',
      'selective scan: an output or the final state is NaN or Inf; check dt, dt_bias, u, z, B, C and the initial state for NaN/Inf or overflow',
    );
  }
}

/** Floats of the backward's work buffer (layout in shaders/scan.wgsl). */
function workSize(s: ScanDims, chunk: number): number {
  const groups = Math.ceil(s.d / WGB);
  const scratch = chunk * Math.ceil(s.n / 8) * 8 * s.b * groups * WGB;
  return scratch + s.b * s.l * 2 * s.n * groups + 2 * s.b * s.d * s.n + 2 * s.b * s.d;
}

/**
 * Backward of scanForward given dout (b, l, d_inner): recomputes each chunk's states from the saved chunk
 * start states and scans in reverse. Parameter gradients (dA_log, dD, dDtBias) are summed over b and l;
 * dB, dC over channels, through per-group partials reduced in a second dispatch (deterministic).
 */
export function scanBackward(enc: Encoder, x: ScanInputs, saved: ScanSaved, dout: Tensor): ScanGrads {
  const s = scanDims(x);
  const gpu = enc.gpu;
  const nchunks = chunking(s.l, saved.chunk);
  assertShape(dout, [s.b, s.l, s.d], 'scan: dout');
  assertShape(saved.states, [s.b, s.d, nchunks, s.n], 'scan: states');
  const groups = Math.ceil(s.d / WGB);
  const work = gpu.tensor([workSize(s, saved.chunk)], 'f32', undefined, 'scan.work');
  // The pack kernel zeroes a flag word: work[0] (scratch, written before it is read) takes it.
  const packed = pack(enc, x, s, undefined, work);
  const du = gpu.tensor([s.b, s.l, s.d], 'f32', undefined, 'scan.du');
  const ddt = gpu.tensor([s.b, s.l, s.d], 'f32', undefined, 'scan.ddt');
  const dz = x.z ? gpu.tensor([s.b, s.l, s.d], 'f32', undefined, 'scan.dz') : undefined;
  const dB = gpu.tensor([s.b, s.l, s.n], 'f32', undefined, 'scan.dB');
  const dC = gpu.tensor([s.b, s.l, s.n], 'f32', undefined, 'scan.dC');
  const dALog = gpu.tensor([s.d, s.n], 'f32', undefined, 'scan.dA_log');
  const dD = gpu.tensor([s.d], 'f32', undefined, 'scan.dD');
  const dDtBias = gpu.tensor([s.d], 'f32', undefined, 'scan.ddt_bias');
  const dh0 = gpu.tensor([s.b, s.d, s.n], 'f32', undefined, 'scan.dh0');
  const p = scanParams(s, saved.chunk, nchunks);
  // Without z, z and dz still need buffers, and not the same one (one is read, the other written).
  const noDz = dz ? undefined : gpu.tensor([1], 'f32', undefined, 'scan.noDz');
  if (noDz) enc.releaseAfter(noDz);
  // n <= 24 (every preset): every per-state value in registers.
  const nb = Math.ceil(s.n / 8) * 2;
  enc.dispatch({
    pipeline: nb <= 6 ? gpu.pipeline(shader, 'scan_bwd_fused', { HAS_Z: !!x.z, NB: nb }) : gpu.pipeline(shader, 'scan_bwd', { HAS_Z: !!x.z }),
    params: p,
    buffers: [x.u, x.dt, packed, x.z ?? gpu.empty, dout, saved.states, du, ddt, dz ?? noDz!, work],
    workgroups: [groups, s.b],
    macs: 5 * s.b * s.l * s.d * s.n,
  });
  const bc = s.b * s.l * 2 * s.n;
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'scan_bwd_reduce_bc'),
    params: p,
    buffers: [work, dB, dC],
    workgroups: grid(Math.ceil(bc / 256)),
  });
  const np = s.d * s.n + 2 * s.d + s.b * s.d * s.n;
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'scan_bwd_reduce_params'),
    params: p,
    buffers: [work, dALog, dD, dDtBias, dh0],
    workgroups: grid(Math.ceil(np / 256)),
  });
  enc.releaseAfter(work);
  return { du, ddt, dz, dALog, dB, dC, dD, dDtBias, dh0 };
}
