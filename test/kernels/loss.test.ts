import { describe, expect, it } from 'vitest';
import { LabError, ShapeError } from '../../src/gpu/errors.ts';
import { checkCrossEntropy, checkCtc, checkLogSoftmax, ctcData, describeCtc, type CeCase, type CtcCase } from '../../src/kernels/checks/loss.ts';
import { crossEntropy, crossEntropyBackward, ctcLoss, readCrossEntropy } from '../../src/kernels/loss.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { crossEntropyBackwardRef, crossEntropyRef, ctcRef, logSoftmaxRef } from '../../src/kernels/reference/loss.ts';
import { testGpu } from '../gpu.ts';

describe('cross-entropy against its CPU twin', () => {
  const cases: CeCase[] = [
    { rows: 1, K: 1 },
    { rows: 1, K: 7, maskRate: 1 },
    { rows: 257, K: 3, maskRate: 0.3 },
    { rows: 999, K: 504, maskRate: 0.8, scale: 6 },
    { rows: 70001, K: 5, maskRate: 0.5 }, // more than 256 rows per reduction thread
    { rows: 70001, K: 5, maskRate: 0.5, variant: 'elements' }, // 2-D grid for the per-logit backward
    { rows: 513, K: 37, maskRate: 0.9, variant: 'rows' },
    { rows: 513, K: 37, maskRate: 0.9, variant: 'elements' },
  ];
  for (const c of cases) {
    it(`${c.rows}x${c.K}${c.maskRate !== undefined ? ` mask ${c.maskRate}` : ''}${c.variant ? ` ${c.variant}` : ''}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const { forward, backward } = await checkCrossEntropy(gpu, c, seed, 0.75);
      expect(forward, `forward, seed ${seed}`).toBeLessThan(1e-4);
      // f32 cancellation in softmax - 1 near p = 1 (relative to 1e-3 of the largest entry)
      expect(backward, `backward, seed ${seed}`).toBeLessThan(1e-3);
    });
  }

  it('reads mean, count and accuracy; no selected rows gives loss 0 and gradient 0', async () => {
    const gpu = await testGpu();
    // Row 0: logits favour class 1, target 1 (right); row 1: favour 0, target 2 (wrong); row 2 not selected.
    const logits = [0, 2, 0, 3, 0, 1, 5, 5, 5];
    const x = gpu.tensor([3, 3], 'f32', logits, 'logits');
    const t = gpu.tensor([3], 'i32', [1, 2, 99], 'targets');
    const m = gpu.tensor([3], 'f32', [1, 1, 0], 'mask');
    const fwd = gpu.run((enc) => crossEntropy(enc, x, t, { mask: m }));
    const s = readCrossEntropy(await fwd.stats.read(), 3);
    const want = crossEntropyRef(logits, [1, 2, 99], [1, 1, 0], 3, 3);
    expect(s.count).toBe(2);
    expect(s.correct).toBe(1);
    expect(s.accuracy).toBe(0.5);
    expect(s.loss).toBeCloseTo(want.loss, 5);
    const none = gpu.tensor([3], 'f32', [0, 0, 0], 'mask');
    const { f2, d2 } = gpu.run((enc) => {
      const f2 = crossEntropy(enc, x, t, { mask: none });
      return { f2, d2: crossEntropyBackward(enc, x, t, f2, { mask: none }) };
    });
    expect(readCrossEntropy(await f2.stats.read())).toMatchObject({ loss: 0, count: 0 });
    expect(Array.from(await d2.read()).every((v) => v === 0)).toBe(true);
  });

  it('the twin backward matches central finite differences of the twin forward', () => {
    const seed = freshSeed();
    const rand = seeded(seed);
    const [rows, K] = [6, 5];
    const logits = Float64Array.from(randomNormal(rows * K, rand, 2));
    const targets = Int32Array.from({ length: rows }, () => Math.floor(rand() * K));
    const mask = [1, 0, 1, 1, 0, 1];
    const g = crossEntropyBackwardRef(logits, targets, mask, rows, K, 1.5);
    const h = 1e-5;
    for (let i = 0; i < logits.length; i++) {
      const save = logits[i];
      logits[i] = save + h;
      const up = crossEntropyRef(logits, targets, mask, rows, K).loss;
      logits[i] = save - h;
      const down = crossEntropyRef(logits, targets, mask, rows, K).loss;
      logits[i] = save;
      expect(Math.abs(g[i] - (1.5 * (up - down)) / (2 * h)), `logit ${i}, seed ${seed}`).toBeLessThan(1e-8);
    }
  });

  it('log_softmax matches the twin', async () => {
    const gpu = await testGpu();
    for (const [rows, K] of [
      [1, 1],
      [300, 30],
      [3, 1001],
    ]) {
      const seed = freshSeed();
      expect(await checkLogSoftmax(gpu, rows, K, seed), `${rows}x${K}, seed ${seed}`).toBeLessThan(1e-4);
    }
  });
});

describe('cross-entropy bad input', () => {
  it('names the tensor and shape when targets do not match the rows', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([4, 3], 'f32', undefined, 'logits');
    const t = gpu.tensor([5], 'i32', undefined, 'clusterIds');
    expect(() => gpu.run((enc) => crossEntropy(enc, x, t))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => crossEntropy(enc, x, t))).toThrow(/clusterIds\[5\].*4.*logits\[4, 3\]/);
    const m = gpu.tensor([3], 'f32', undefined, 'frameMask');
    const t4 = gpu.tensor([4], 'i32', undefined, 'targets');
    expect(() => gpu.run((enc) => crossEntropy(enc, x, t4, { mask: m }))).toThrow(/frameMask\[3\]/);
  });

  it('targets out of range give a clear error, from the GPU stats and from the twin', async () => {
    const gpu = await testGpu();
    const x = gpu.tensor([3, 4], 'f32', new Float32Array(12), 'logits');
    const t = gpu.tensor([3], 'i32', [0, 4, -1], 'targets');
    const fwd = gpu.run((enc) => crossEntropy(enc, x, t));
    const stats = await fwd.stats.read();
    expect(stats[3]).toBe(2);
    expect(() => readCrossEntropy(stats, 4)).toThrow(LabError);
    expect(() => readCrossEntropy(stats, 4)).toThrow(/2 selected row\(s\) have a target outside \[0, 4\)/);
    expect(() => crossEntropyRef(new Float32Array(12), [0, 4, -1], undefined, 3, 4)).toThrow(/targets\[1\] = 4 is outside \[0, 4\)/);
  });
});

/** -log P(target) by summing over every length-T path of V symbols that collapses to the target. */
function bruteForceCtc(probs: number[][], target: number[]): number {
  const T = probs.length;
  const V = probs[0].length;
  let total = 0;
  for (let code = 0; code < V ** T; code++) {
    const path: number[] = [];
    let c = code;
    for (let t = 0; t < T; t++) {
      path.push(c % V);
      c = Math.floor(c / V);
    }
    const collapsed: number[] = [];
    path.forEach((k, t) => {
      if (k !== 0 && (t === 0 || path[t - 1] !== k)) collapsed.push(k);
    });
    if (collapsed.length === target.length && collapsed.every((k, i) => k === target[i])) {
      total += path.reduce((p, k, t) => p * probs[t][k], 1);
    }
  }
  return -Math.log(total);
}

describe('CTC', () => {
  it('matches hand-enumerated paths for T=1, T=2 and a repeated label', async () => {
    const gpu = await testGpu();
    // V = 2 (blank, a). T = 2, target "a": paths aa, -a, a- .
    const p = [
      [0.3, 0.7],
      [0.6, 0.4],
    ];
    const hand = -Math.log(0.7 * 0.4 + 0.3 * 0.4 + 0.7 * 0.6);
    expect(bruteForceCtc(p, [1])).toBeCloseTo(hand, 12);
    const lp2 = p.flat().map(Math.log);
    expect(ctcRef(lp2, [1], [2], [1], { b: 1, T: 2, V: 2, S: 1 }).nll[0]).toBeCloseTo(hand, 12);
    // T = 1: only the path "a".
    expect(ctcRef([Math.log(0.3), Math.log(0.7)], [1], [1], [1], { b: 1, T: 1, V: 2, S: 1 }).nll[0]).toBeCloseTo(-Math.log(0.7), 12);
    // Empty target, T = 2: only "--".
    expect(ctcRef(lp2, [0], [2], [0], { b: 1, T: 2, V: 2, S: 1 }).nll[0]).toBeCloseTo(-Math.log(0.3 * 0.6), 12);
    // "aa" needs a blank between: T = 3 has the single path a-a; T = 2 is impossible.
    const p3 = [
      [0.2, 0.8],
      [0.5, 0.5],
      [0.1, 0.9],
    ];
    const lp3 = p3.flat().map(Math.log);
    expect(ctcRef(lp3, [1, 1], [3], [2], { b: 1, T: 3, V: 2, S: 2 }).nll[0]).toBeCloseTo(-Math.log(0.8 * 0.5 * 0.9), 12);
    expect(ctcRef(lp3, [1, 1], [2], [2], { b: 1, T: 3, V: 2, S: 2 }).nll[0]).toBe(Infinity);
    // The same on the GPU, batched: utterances (T=2 "a"), (T=3 "aa"), (T=2 "aa" impossible).
    const lp = gpu.tensor([3, 3, 2], 'f32', [...lp2, 0, 0, ...lp3, ...lp3], 'logProbs');
    const out = gpu.run((enc) => ctcLoss(enc, lp, { targets: [1, 0, 1, 1, 1, 1], inputLengths: [2, 3, 2], targetLengths: [1, 2, 2] }));
    const nll = await out.nll.read();
    expect(nll[0]).toBeCloseTo(hand, 5);
    expect(nll[1]).toBeCloseTo(-Math.log(0.8 * 0.5 * 0.9), 5);
    expect(nll[2]).toBe(Infinity);
    expect(out.impossible).toEqual([2]);
    const grad = await out.grad.read();
    expect(Array.from(grad.slice(12)).every((v) => v === 0)).toBe(true); // impossible: no gradient
    expect(Array.from(grad.slice(4, 6))).toEqual([0, 0]); // frame 2 of utterance 0 is past its length
  });

  it('brute-force enumeration agrees with the twin on random 3-symbol cases', () => {
    const seed = freshSeed();
    const rand = seeded(seed);
    for (const [T, target] of [
      [3, [1, 2]],
      [4, [2, 2]],
      [5, [1, 2, 1]],
    ] as const) {
      const V = 3;
      const logits = randomNormal(T * V, rand);
      const lp = logSoftmaxRef(logits, T, V);
      const probs = Array.from({ length: T }, (_, t) => Array.from({ length: V }, (_, k) => Math.exp(lp[t * V + k])));
      const want = bruteForceCtc(probs, [...target]);
      const got = ctcRef(lp, target, [T], [target.length], { b: 1, T, V, S: target.length }).nll[0];
      expect(Math.abs(got - want), `T ${T}, seed ${seed}`).toBeLessThan(1e-10);
    }
  });

  it('the twin gradient w.r.t. the logits matches central finite differences of the twin loss', () => {
    const seed = freshSeed();
    const c: CtcCase = { b: 2, T: 7, V: 4, S: 3 };
    const d = ctcData(c, seed);
    d.targets.set([1, 1, 2, 3, 0, 0]);
    d.targetLengths.set([3, 1]);
    d.inputLengths.set([7, 5]);
    const opts = { scale: 0.7, divideByTargetLength: true };
    const loss = (logits: Float64Array) => {
      const r = ctcRef(logSoftmaxRef(logits, c.b * c.T, c.V), d.targets, d.inputLengths, d.targetLengths, c, opts);
      return 0.7 * (r.nll[0] + r.nll[1]);
    };
    const g = ctcRef(logSoftmaxRef(d.logits, c.b * c.T, c.V), d.targets, d.inputLengths, d.targetLengths, c, opts).grad;
    const h = 1e-5;
    const x = Float64Array.from(d.logits);
    for (let i = 0; i < x.length; i++) {
      const save = x[i];
      x[i] = save + h;
      const up = loss(x);
      x[i] = save - h;
      const down = loss(x);
      x[i] = save;
      expect(Math.abs(g[i] - (up - down) / (2 * h)), `logit ${i}, seed ${seed}`).toBeLessThan(1e-7);
    }
  });

  const cases: CtcCase[] = [
    { b: 1, T: 1, V: 2, S: 0 },
    { b: 3, T: 33, V: 5, S: 11, impossible: true },
    { b: 2, T: 500, V: 30, S: 140 }, // L = 281 > 256 extended labels: threads loop over s
    { b: 4, T: 61, V: 30, S: 20, impossible: true, opts: { zeroInfinity: true, divideByTargetLength: true, scale: 0.25 } },
  ];
  for (const c of cases) {
    it(`GPU matches the twin: ${describeCtc(c)}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const err = await checkCtc(gpu, c, seed);
      expect(err.nll, `nll, seed ${seed}`).toBeLessThan(1e-4);
      // max |error| / max |gradient|
      expect(err.grad, `grad, seed ${seed}`).toBeLessThan(1e-4);
    });
  }

  it('bad input: lengths, targets and shapes are refused with the offending name', async () => {
    const gpu = await testGpu();
    const lp = gpu.tensor([2, 4, 3], 'f32', new Float32Array(24), 'logProbs');
    const ok = { targets: [1, 2, 1, 0], inputLengths: [4, 3], targetLengths: [2, 1] };
    const run = (inputs: object) => () => gpu.run((enc) => ctcLoss(enc, lp, { ...ok, ...inputs }));
    expect(run({ inputLengths: [4] })).toThrow(ShapeError);
    expect(run({ inputLengths: [4] })).toThrow(/inputLengths \[1\].*b=2.*logProbs\[2, 4, 3\]/);
    expect(run({ inputLengths: [5, 3] })).toThrow(/inputLengths\[0\] = 5 must lie in \[1, 4\]/);
    expect(run({ targets: [1, 2, 1] })).toThrow(/targets \[3\] must hold b\*S = 2\*2/);
    expect(run({ targets: [1, 3, 1, 0] })).toThrow(/targets\[0, 1\] = 3 must lie in \[1, 3\)/);
    expect(run({ targets: [0, 2, 1, 0] })).toThrow(/0 is the blank/);
    const flat = gpu.tensor([4, 3], 'f32', undefined, 'lp2d');
    expect(() => gpu.run((enc) => ctcLoss(enc, flat, ok))).toThrow(/lp2d\[4, 3\] must be \(b, T, V\)/);
  });
});
