import type { Gpu } from '../../gpu/device.ts';
import { maxRelError } from '../compare.ts';
import { crossEntropy, crossEntropyBackward, ctcLoss, logSoftmax, type CeBackwardVariant } from '../loss.ts';
import { randomNormal, seeded } from '../random.ts';
import { crossEntropyBackwardRef, crossEntropyRef, ctcRef, logSoftmaxRef, type CtcOptions } from '../reference/loss.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

/**
 * Largest absolute error over the largest expected magnitude: the bound used for the CTC gradient, whose
 * entries are differences of nearly equal probabilities (a per-entry relative error says little there).
 */
export function normRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst / Math.max(scale, 1e-30);
}

export interface CeCase {
  rows: number;
  K: number;
  /** Fraction of rows selected; undefined: no mask (all rows). */
  maskRate?: number;
  /** Logit scale (larger: peakier softmax). */
  scale?: number;
  variant?: CeBackwardVariant;
}

export interface CeInputs {
  logits: Float32Array;
  targets: Int32Array;
  mask?: Float32Array;
}

export function ceInputs(c: CeCase, seed: number): CeInputs {
  const rand = seeded(seed);
  const logits = randomNormal(c.rows * c.K, rand, c.scale ?? 2);
  const targets = Int32Array.from({ length: c.rows }, () => Math.floor(rand() * c.K));
  // Make some argmaxes right so that the accuracy numerator is not trivially 0.
  for (let r = 0; r < c.rows; r += 3) logits[r * c.K + targets[r]] += 4;
  const mask = c.maskRate === undefined ? undefined : Float32Array.from({ length: c.rows }, () => (rand() < c.maskRate! ? 1 : 0));
  if (mask && c.rows > 0) mask[0] = 1; // at least one row
  return { logits, targets, mask };
}

/** GPU forward (stats, lse) and backward vs the twin; returns the largest relative error. */
export async function checkCrossEntropy(gpu: Gpu, c: CeCase, seed: number, gscale = 1): Promise<{ forward: number; backward: number }> {
  const { logits, targets, mask } = ceInputs(c, seed);
  const x = gpu.tensor([c.rows, c.K], 'f32', logits, 'logits');
  const t = gpu.tensor([c.rows], 'i32', targets, 'targets');
  const m = mask ? gpu.tensor([c.rows], 'f32', mask, 'mask') : undefined;
  const { fwd, d } = gpu.run((enc) => {
    const fwd = crossEntropy(enc, x, t, { mask: m });
    return { fwd, d: crossEntropyBackward(enc, x, t, fwd, { mask: m, gscale, variant: c.variant }) };
  });
  const [stats, lse, dx] = [await fwd.stats.read(), await fwd.lse.read(), await d.read()];
  for (const z of [x, t, m, fwd.stats, fwd.lse, d]) z?.release();
  const want = crossEntropyRef(logits, targets, mask, c.rows, c.K);
  const forward = Math.max(
    maxRelError([stats[0], stats[4]], [want.loss, want.lossSum]),
    maxRelError(lse, want.lse),
    stats[1] === want.count && stats[2] === want.correct && stats[3] === 0 ? 0 : Infinity,
  );
  // dx = gscale (p - onehot) / count with p = exp(x - lse) formed in f32: two roundings at lse's magnitude move p by
  // up to 2 ulp(|lse|), which entries near p = 1 (where p - 1 cancels) show at full size. Errors at that level read
  // as 1e-3 (the tolerance); below it the usual relative floor holds.
  const lseMax = want.lse.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const roundoff = lseMax > 0 ? 2 * 2 ** (Math.floor(Math.log2(lseMax)) - 23) : 0;
  const floor = want.count > 0 ? (1e3 * gscale * roundoff) / want.count : 0;
  const backward = maxRelError(dx, crossEntropyBackwardRef(logits, targets, mask, c.rows, c.K, gscale), floor);
  return { forward, backward };
}

export async function checkLogSoftmax(gpu: Gpu, rows: number, K: number, seed: number): Promise<number> {
  const data = randomNormal(rows * K, seeded(seed), 3);
  const x = gpu.tensor([rows, K], 'f32', data, 'x');
  const y = gpu.run((enc) => logSoftmax(enc, x));
  const got = await y.read();
  x.release();
  y.release();
  return maxRelError(got, logSoftmaxRef(data, rows, K));
}

export interface CtcCase {
  b: number;
  T: number;
  V: number;
  S: number;
  /** Make the last utterance impossible (target longer than its frames). */
  impossible?: boolean;
  opts?: CtcOptions;
}

export interface CtcData {
  logProbs: Float32Array;
  logits: Float64Array;
  targets: Int32Array;
  inputLengths: Int32Array;
  targetLengths: Int32Array;
}

/** Random logits, their log-softmax, padded targets with repeated labels, varied lengths. */
export function ctcData(c: CtcCase, seed: number): CtcData {
  const rand = seeded(seed);
  const { b: B, T, V, S } = c;
  const logits = Float64Array.from(randomNormal(B * T * V, rand, 1.5));
  const logProbs = Float32Array.from(logSoftmaxRef(logits, B * T, V));
  const targets = new Int32Array(B * S);
  const inputLengths = new Int32Array(B);
  const targetLengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    inputLengths[b] = b === 0 ? T : Math.max(1, T - Math.floor(rand() * Math.min(T, 5)));
    const cap = Math.min(S, Math.floor(inputLengths[b] / 2));
    targetLengths[b] = b === 0 ? cap : Math.floor(rand() * (cap + 1));
    for (let i = 0; i < S; i++) {
      // Repeat the previous label one time in four (needs a blank between them).
      const prev = i > 0 ? targets[b * S + i - 1] : 0;
      // Padding past the target length holds labels too: the kernel must not read it.
      targets[b * S + i] = prev && rand() < 0.25 ? prev : 1 + Math.floor(rand() * (V - 1));
    }
  }
  if (c.impossible && B > 1 && S >= 2) {
    const b = B - 1;
    targetLengths[b] = S;
    inputLengths[b] = Math.min(T, S - 1);
  }
  return { logProbs, logits, targets, inputLengths, targetLengths };
}

export async function checkCtc(gpu: Gpu, c: CtcCase, seed: number): Promise<{ nll: number; grad: number }> {
  const d = ctcData(c, seed);
  const lp = gpu.tensor([c.b, c.T, c.V], 'f32', d.logProbs, 'logProbs');
  const out = gpu.run((enc) =>
    ctcLoss(enc, lp, { targets: d.targets, inputLengths: d.inputLengths, targetLengths: d.targetLengths, S: c.S }, c.opts),
  );
  const [nll, grad] = [await out.nll.read(), await out.grad.read()];
  for (const z of [lp, out.nll, out.grad]) z.release();
  const want = ctcRef(d.logProbs, d.targets, d.inputLengths, d.targetLengths, c, c.opts);
  // Infinite losses must agree exactly; the finite ones by relative error.
  let nllErr = 0;
  const fin: number[] = [];
  const finWant: number[] = [];
  for (let b = 0; b < c.b; b++) {
    if (!Number.isFinite(want.nll[b])) {
      if (nll[b] !== want.nll[b]) nllErr = Infinity;
    } else {
      fin.push(nll[b]);
      finWant.push(want.nll[b]);
    }
  }
  return { nll: Math.max(nllErr, maxRelError(fin, finWant)), grad: normRelError(grad, want.grad) };
}

const CE_CASES: CeCase[] = [
  { rows: 1, K: 1 },
  { rows: 37, K: 5, maskRate: 0.5 },
  { rows: 301, K: 504, maskRate: 0.8 },
  { rows: 1000, K: 100 },
  { rows: 299, K: 31, maskRate: 0.5, variant: 'rows' },
  { rows: 299, K: 31, maskRate: 0.5, variant: 'elements' },
];

const CTC_CASES: CtcCase[] = [
  { b: 1, T: 1, V: 2, S: 1 },
  { b: 3, T: 29, V: 6, S: 9, impossible: true },
  { b: 2, T: 80, V: 30, S: 30, opts: { divideByTargetLength: true, scale: 0.5, zeroInfinity: true }, impossible: true },
];

function describeCe(c: CeCase): string {
  return `${c.rows}x${c.K}${c.maskRate !== undefined ? ' masked' : ''}${c.variant ? ` ${c.variant}` : ''}`;
}

export function describeCtc(c: CtcCase): string {
  return `b${c.b} T${c.T} V${c.V} S${c.S}${c.impossible ? ' +impossible' : ''}${c.opts?.zeroInfinity ? ' zeroInf' : ''}${c.opts?.divideByTargetLength ? ' /len' : ''}`;
}

export const lossChecks: Check[] = [
  ...CE_CASES.flatMap((c): Check[] => [
    { family: 'loss', name: `ce forward ${describeCe(c)}`, tolerance: 1e-4, run: async (gpu, seed) => (await checkCrossEntropy(gpu, c, seed)).forward },
    { family: 'loss', name: `ce backward ${describeCe(c)}`, tolerance: 1e-3, run: async (gpu, seed) => (await checkCrossEntropy(gpu, c, seed, 0.5)).backward },
  ]),
  { family: 'loss', name: 'log_softmax 77x30', tolerance: 1e-4, run: (gpu, seed) => checkLogSoftmax(gpu, 77, 30, seed) },
  ...CTC_CASES.flatMap((c): Check[] => [
    { family: 'loss', name: `ctc nll ${describeCtc(c)}`, tolerance: 1e-4, run: async (gpu, seed) => (await checkCtc(gpu, c, seed)).nll },
    { family: 'loss', name: `ctc grad ${describeCtc(c)}`, tolerance: 1e-4, run: async (gpu, seed) => (await checkCtc(gpu, c, seed)).grad },
  ]),
];

export function ceBench(rows: number, K: number): KernelBench {
  return {
    family: 'loss',
    name: 'cross-entropy fwd+bwd',
    shape: `${rows}x${K}`,
    // Reads logits twice (forward, backward), writes dlogits once; ~4 flops per logit each way.
    flops: 8 * rows * K,
    bytes: 3 * rows * K * 4,
    setup(gpu) {
      const { logits, targets, mask } = ceInputs({ rows, K, maskRate: 0.8 }, rows);
      const x = gpu.tensor([rows, K], 'f32', logits, 'logits');
      const t = gpu.tensor([rows], 'i32', targets, 'targets');
      const m = gpu.tensor([rows], 'f32', mask, 'mask');
      const d = gpu.tensor([rows, K], 'f32', undefined, 'dlogits');
      return {
        record: (enc) => {
          const fwd = crossEntropy(enc, x, t, { mask: m });
          crossEntropyBackward(enc, x, t, fwd, { mask: m, out: d });
          enc.releaseAfter(fwd.stats, fwd.lse);
        },
        dispose: () => [x, t, m, d].forEach((z) => z.release()),
      };
    },
  };
}

export function ctcBench(b: number, T: number, V: number, S: number): KernelBench {
  return {
    family: 'loss',
    name: 'ctc fwd+bwd',
    shape: `${b}x${T}x${V} S${S}`,
    // ~10 flops per extended label per frame, forward and backward.
    flops: 20 * b * T * (2 * S + 1),
    setup(gpu) {
      const rand = seeded(T);
      const logProbs = Float32Array.from(logSoftmaxRef(randomNormal(b * T * V, rand), b * T, V));
      const targets = Int32Array.from({ length: b * S }, () => 1 + Math.floor(rand() * (V - 1)));
      const lp = gpu.tensor([b, T, V], 'f32', logProbs, 'logProbs');
      const inputs = { targets, inputLengths: new Int32Array(b).fill(T), targetLengths: new Int32Array(b).fill(S), S };
      return {
        record: (enc) => {
          const out = ctcLoss(enc, lp, inputs);
          enc.releaseAfter(out.nll, out.grad);
        },
        dispose: () => lp.release(),
      };
    },
  };
}

export const lossBenches: KernelBench[] = [ceBench(4000, 504), ctcBench(4, 500, 30, 100)];
