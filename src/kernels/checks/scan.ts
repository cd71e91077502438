import type { Gpu } from '../../gpu/device.ts';
import { releaseAll, type Tensor } from '../../gpu/tensor.ts';
import { maxRelError } from '../compare.ts';
import { randomNormal, randomUniform, seeded } from '../random.ts';
import { scanBackwardRef, scanForwardRef, type ScanData, type ScanShape } from '../reference/scan.ts';
import { scanBackward, scanForward, scanStep, type ScanForm, type ScanInputs } from '../scan.ts';
import type { Check } from '../check.ts';
import type { BenchResult, KernelBench } from '../suite-types.ts';

export interface ScanCase extends ScanShape {
  z?: boolean;
  h0?: boolean;
  chunk: number;
  form?: ScanForm;
}

export function describeScan(c: ScanCase): string {
  return `b${c.b} l${c.l} d${c.d} n${c.n} chunk${c.chunk}${c.z ? ' z' : ''}${c.h0 ? ' h0' : ''}${c.form ? ` ${c.form}` : ''}`;
}

/**
 * Inputs in the ranges a trained Mamba sees: delta = softplus(dt + dt_bias) mostly 0.05 .. 1,
 * A_log around log(1..n) (S4D-real initialisation) with noise.
 */
export interface ScanArrays extends ScanData {
  u: Float32Array;
  dt: Float32Array;
  dtBias: Float32Array;
  aLog: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D: Float32Array;
  z?: Float32Array;
  h0?: Float32Array;
}

export function randomScanData(s: ScanShape, seed: number, opts: { z?: boolean; h0?: boolean } = {}): ScanArrays {
  const rand = seeded(seed);
  const { b, l, d, n } = s;
  const aLog = randomUniform(d * n, rand, -0.3, 0.3);
  for (let i = 0; i < d * n; i++) aLog[i] += Math.log(1 + (i % n));
  return {
    u: randomNormal(b * l * d, rand),
    dt: randomNormal(b * l * d, rand, 0.5),
    dtBias: randomUniform(d, rand, -2.5, 0.5),
    aLog,
    B: randomNormal(b * l * n, rand),
    C: randomNormal(b * l * n, rand),
    D: randomNormal(d, rand),
    z: opts.z ? randomNormal(b * l * d, rand) : undefined,
    h0: opts.h0 ? randomNormal(b * d * n, rand) : undefined,
  };
}

export function uploadScan(gpu: Gpu, x: ScanData, s: ScanShape): ScanInputs & { h0?: Tensor } {
  const { b, l, d, n } = s;
  return {
    u: gpu.tensor([b, l, d], 'f32', x.u, 'u'),
    dt: gpu.tensor([b, l, d], 'f32', x.dt, 'dt'),
    dtBias: gpu.tensor([d], 'f32', x.dtBias, 'dt_bias'),
    aLog: gpu.tensor([d, n], 'f32', x.aLog, 'A_log'),
    B: gpu.tensor([b, l, n], 'f32', x.B, 'B'),
    C: gpu.tensor([b, l, n], 'f32', x.C, 'C'),
    D: gpu.tensor([d], 'f32', x.D, 'D'),
    z: x.z ? gpu.tensor([b, l, d], 'f32', x.z, 'z') : undefined,
    h0: x.h0 ? gpu.tensor([b, d, n], 'f32', x.h0, 'h0') : undefined,
  };
}

export interface ScanErrors {
  [output: string]: number;
}

function worst(errs: ScanErrors): number {
  return Math.max(...Object.values(errs));
}

/** GPU forward (out, final state, chunk start states) against the twin; max relative error per output. */
export async function scanForwardErrors(gpu: Gpu, c: ScanCase, seed: number): Promise<ScanErrors> {
  const x = randomScanData(c, seed, c);
  const t = uploadScan(gpu, x, c);
  const r = gpu.run((enc) => scanForward(enc, t, { h0: t.h0, chunk: c.chunk, form: c.form ?? 'chunked' }));
  const [out, hT, states] = [await r.out.read(), await r.hT.read(), await r.states.read()];
  releaseAll(t, r);
  const want = scanForwardRef(x, c, c.chunk);
  return { out: maxRelError(out, want.out), hT: maxRelError(hT, want.hT), states: maxRelError(states, want.states!) };
}

/** GPU backward (from the GPU forward's saved states) against the twin backward. */
export async function scanBackwardErrors(gpu: Gpu, c: ScanCase, seed: number): Promise<ScanErrors> {
  const x = randomScanData(c, seed, c);
  const dout = randomNormal(c.b * c.l * c.d, seeded(seed ^ 0x5eed));
  const t = uploadScan(gpu, x, c);
  const g = gpu.tensor([c.b, c.l, c.d], 'f32', dout, 'dout');
  const [f, grads] = gpu.run((enc) => {
    const f = scanForward(enc, t, { h0: t.h0, chunk: c.chunk, form: c.form ?? 'chunked' });
    return [f, scanBackward(enc, t, f, g)] as const;
  });
  const want = scanBackwardRef(x, c, dout);
  const errs: ScanErrors = {};
  for (const k of ['du', 'ddt', 'dz', 'dALog', 'dB', 'dC', 'dD', 'dDtBias', 'dh0'] as const) {
    const got = grads[k];
    if (!got) continue;
    errs[k] = maxRelError(await got.read(), want[k]!);
  }
  releaseAll(t, g, f, grads);
  return errs;
}

/**
 * Stream the sequence through scanStep in pieces of the given sizes (repeating the list) and compare
 * the concatenated outputs and the final state with the twin's full forward.
 */
export async function scanStreamErrors(gpu: Gpu, c: ScanCase, pieces: number[], seed: number): Promise<ScanErrors> {
  const x = randomScanData(c, seed, c);
  const { b, l, d, n } = c;
  const out = new Float32Array(b * l * d);
  const h = gpu.tensor([b, d, n], 'f32', x.h0 ?? new Float32Array(b * d * n), 'h');
  for (let t0 = 0, p = 0; t0 < l; p++) {
    const k = Math.min(pieces[p % pieces.length], l - t0);
    const slice = (a: ArrayLike<number>, w: number) => {
      const r = new Float32Array(b * k * w);
      for (let bi = 0; bi < b; bi++) for (let t = 0; t < k; t++) for (let j = 0; j < w; j++) r[(bi * k + t) * w + j] = a[(bi * l + t0 + t) * w + j];
      return r;
    };
    const piece = uploadScan(gpu, { ...x, u: slice(x.u, d), dt: slice(x.dt, d), B: slice(x.B, n), C: slice(x.C, n), z: x.z && slice(x.z, d) }, { b, l: k, d, n });
    const r = gpu.run((enc) => scanStep(enc, piece, h));
    const y = await r.read();
    for (let bi = 0; bi < b; bi++) for (let t = 0; t < k; t++) for (let j = 0; j < d; j++) out[(bi * l + t0 + t) * d + j] = y[(bi * k + t) * d + j];
    releaseAll(piece, r);
    t0 += k;
  }
  const hT = await h.read();
  h.release();
  const want = scanForwardRef(x, c);
  return { out: maxRelError(out, want.out), hT: maxRelError(hT, want.hT) };
}

const FORWARD_CASES: ScanCase[] = [
  { b: 2, l: 37, d: 19, n: 5, chunk: 8, z: true, h0: true, form: 'sequential' },
  { b: 2, l: 37, d: 19, n: 5, chunk: 8, z: true, h0: true, form: 'chunked' },
  { b: 1, l: 130, d: 70, n: 24, chunk: 17, z: true, form: 'chunked' },
  { b: 1, l: 64, d: 40, n: 16, chunk: 64, form: 'sequential' },
  { b: 1, l: 21, d: 9, n: 33, chunk: 8, z: true, h0: true, form: 'sequential' },
];

const BACKWARD_CASES: ScanCase[] = [
  { b: 2, l: 23, d: 35, n: 7, chunk: 6, z: true, h0: true },
  { b: 1, l: 40, d: 20, n: 24, chunk: 16, form: 'sequential' },
];

// float32 exp and a recurrence over up to thousands of steps against float64: 5e-4, as matmul (1.2e-4 seen on a 37-step state).
export const SCAN_FORWARD_TOLERANCE = 5e-4;
export const SCAN_BACKWARD_TOLERANCE = 1e-3;

export const scanChecks: Check[] = [
  ...FORWARD_CASES.map((c) => ({
    family: 'scan',
    name: `forward ${describeScan(c)}`,
    tolerance: SCAN_FORWARD_TOLERANCE,
    run: async (gpu: Gpu, seed: number) => worst(await scanForwardErrors(gpu, c, seed)),
  })),
  ...BACKWARD_CASES.map((c) => ({
    family: 'scan',
    name: `backward ${describeScan(c)}`,
    tolerance: SCAN_BACKWARD_TOLERANCE,
    run: async (gpu: Gpu, seed: number) => worst(await scanBackwardErrors(gpu, c, seed)),
  })),
  {
    family: 'scan',
    name: 'step b2 l29 d11 n16 z, pieces 1,5,2,13',
    tolerance: SCAN_FORWARD_TOLERANCE,
    run: async (gpu, seed) => worst(await scanStreamErrors(gpu, { b: 2, l: 29, d: 11, n: 16, chunk: 29, z: true, h0: true }, [1, 5, 2, 13], seed)),
  },
];

// ---- benchmarks

/**
 * Flops of one forward, counting exp, log and division as one flop each:
 *   per (b, t, channel, state) 7: delta*A, exp, *h, (delta u)*B, +, *C, + to y;
 *   per (b, t, channel) 13: dt + bias, softplus (exp, log, abs/max, add), delta*u, D*u, +, silu (exp, add,
 *   divide, multiply), gate multiply.
 */
export function scanForwardFlops(s: ScanShape): number {
  return s.b * s.l * s.d * (7 * s.n + 13);
}

/** Bytes of the inputs read once (u, dt, z, B, C, weights) plus outputs written (out, states, final state). */
export function scanForwardBytes(s: ScanShape, chunk: number): number {
  const { b, l, d, n } = s;
  const nchunks = Math.ceil(l / chunk);
  return 4 * (3 * b * l * d + 2 * b * l * n + d * (n + 2) + b * l * d + b * d * nchunks * n + b * d * n);
}

/**
 * Flops of one backward (exp counted as one): per (b, t, channel, state) 5 to recompute the state, 21 in
 * the reverse step (adjoint 2, exp 2, dC and dB partials 5, du 2, dA 3, ddelta 4, carry 1, y 2) and 2 in the
 * workgroup sums of dB, dC; per (b, t, channel) about 20 (softplus, sigmoids, gate, du, dD, ddt).
 */
export function scanBackwardFlops(s: ScanShape): number {
  return s.b * s.l * s.d * (28 * s.n + 20);
}

/** Reads u, dt, z, dout, B, C, states; writes du, ddt, dz, dB, dC, dA_log, dD, ddt_bias. */
export function scanBackwardBytes(s: ScanShape, chunk: number): number {
  const { b, l, d, n } = s;
  const nchunks = Math.ceil(l / chunk);
  return 4 * (4 * b * l * d + 2 * b * l * n + b * d * nchunks * n + 3 * b * l * d + 2 * b * l * n + d * (n + 2));
}

export function scanForwardBench(l: number, form: ScanForm, b = 1, d = 768, n = 24, chunk = 64): KernelBench {
  const s = { b, l, d, n };
  return {
    family: 'scan',
    name: `scan fwd ${form}`,
    shape: `${b}x${l}x${d} n${n}`,
    flops: scanForwardFlops(s),
    bytes: scanForwardBytes(s, chunk),
    setup(gpu) {
      const x = uploadScan(gpu, randomScanData(s, l, { z: true }), s);
      return {
        record: (enc) => {
          const r = scanForward(enc, x, { chunk, form });
          enc.releaseAfter(r.out, r.hT, r.states, r.nonFinite);
        },
        dispose: () => releaseAll(x),
      };
    },
  };
}

export function scanBackwardBench(l: number, b = 1, d = 768, n = 24, chunk = 64): KernelBench {
  const s = { b, l, d, n };
  return {
    family: 'scan',
    name: 'scan bwd',
    shape: `${b}x${l}x${d} n${n}`,
    flops: scanBackwardFlops(s),
    bytes: scanBackwardBytes(s, chunk),
    setup(gpu) {
      const x = uploadScan(gpu, randomScanData(s, l, { z: true }), s);
      const dout = gpu.tensor([b, l, d], 'f32', randomNormal(b * l * d, seeded(l + 1)), 'dout');
      const f = gpu.run((enc) => scanForward(enc, x, { chunk }));
      return {
        record: (enc) => {
          const g = scanBackward(enc, x, f, dout);
          enc.releaseAfter(...(Object.values(g).filter(Boolean) as Tensor[]));
        },
        dispose: () => releaseAll(x, dout, f),
      };
    },
  };
}

export const scanBenches: KernelBench[] = [
  ...[1000, 4000, 16000].flatMap((l) => [scanForwardBench(l, 'chunked'), scanForwardBench(l, 'sequential')]),
  scanBackwardBench(1000),
];

// ---- roofline

export interface RooflineRow {
  name: string;
  shape: string;
  ms: number;
  /** max(bytes / copy bandwidth, flops / best matmul rate), in ms. */
  floorMs: number;
  /** ms / floorMs */
  ratio: number;
  bound: 'memory' | 'compute';
  copyGBps: number;
  matmulGFLOPs: number;
}

/**
 * Roofline of the scan forward benchmarks: the floor takes the copy bandwidth and the best matmul rate
 * measured in the same run (`results` must hold an elementwise copy and at least one matmul result).
 */
export function scanRoofline(benches: KernelBench[], results: BenchResult[]): RooflineRow[] {
  const copyGBps = Math.max(0, ...results.filter((r) => r.family === 'elementwise' && r.name === 'copy').map((r) => r.gbps ?? 0));
  const matmulGFLOPs = Math.max(0, ...results.filter((r) => r.family === 'matmul').map((r) => r.gflops ?? 0));
  if (!copyGBps || !matmulGFLOPs) return [];
  const rows: RooflineRow[] = [];
  for (const r of results) {
    if (r.family !== 'scan' || !r.name.startsWith('scan fwd')) continue;
    const bench = benches.find((b) => b.family === r.family && b.name === r.name && b.shape === r.shape);
    if (!bench) continue;
    const memMs = (bench.bytes ?? 0) / copyGBps / 1e6;
    const flopMs = (bench.flops ?? 0) / matmulGFLOPs / 1e6;
    const floorMs = Math.max(memMs, flopMs);
    rows.push({ name: r.name, shape: r.shape, ms: r.ms, floorMs, ratio: r.ms / floorMs, bound: memMs >= flopMs ? 'memory' : 'compute', copyGBps, matmulGFLOPs });
  }
  return rows;
}
