// CPU twins of loss.wgsl: softmax cross-entropy over selected rows, log-softmax, CTC. Float64 throughout.
import { LabError } from '../../gpu/errors.ts';

export interface CrossEntropyRefResult {
  /** Mean negative log-likelihood over the selected rows (0 when none is selected). */
  loss: number;
  /** Selected rows. */
  count: number;
  /** Selected rows whose argmax (first maximum) equals the target. */
  correct: number;
  lossSum: number;
  /** Per-row log-sum-exp (rows). */
  lse: Float64Array;
}

function checkTargetsRef(targets: ArrayLike<number>, mask: ArrayLike<number> | undefined, rows: number, K: number): void {
  for (let r = 0; r < rows; r++) {
    if (mask && mask[r] === 0) continue;
    const t = targets[r];
    if (!Number.isInteger(t) || t < 0 || t >= K) {
      throw new LabError('bad-input', `cross-entropy: targets[${r}] = ${t} is outside [0, ${K})`);
    }
  }
}

/** logits (rows, K), targets (rows), mask (rows): a row counts when mask[r] != 0 (all rows without a mask). */
export function crossEntropyRef(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  rows: number,
  K: number,
): CrossEntropyRefResult {
  checkTargetsRef(targets, mask, rows, K);
  const lse = new Float64Array(rows);
  let lossSum = 0;
  let count = 0;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    let arg = 0;
    for (let k = 0; k < K; k++) {
      if (logits[r * K + k] > m) {
        m = logits[r * K + k];
        arg = k;
      }
    }
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(logits[r * K + k] - m);
    lse[r] = m + Math.log(s);
    if (mask && mask[r] === 0) continue;
    const t = targets[r];
    lossSum += lse[r] - logits[r * K + t];
    count++;
    if (arg === t) correct++;
  }
  return { loss: count ? lossSum / count : 0, count, correct, lossSum, lse };
}

/** d(gscale * mean loss)/dlogits = gscale * (softmax - onehot) / count on selected rows, 0 elsewhere. */
export function crossEntropyBackwardRef(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  rows: number,
  K: number,
  gscale = 1,
): Float64Array {
  const { lse, count } = crossEntropyRef(logits, targets, mask, rows, K);
  const d = new Float64Array(rows * K);
  if (count === 0) return d;
  for (let r = 0; r < rows; r++) {
    if (mask && mask[r] === 0) continue;
    for (let k = 0; k < K; k++) {
      const p = Math.exp(logits[r * K + k] - lse[r]);
      d[r * K + k] = (gscale * (p - (k === targets[r] ? 1 : 0))) / count;
    }
  }
  return d;
}

/** y = x - logsumexp(x) per row of (rows, K). */
export function logSoftmaxRef(x: ArrayLike<number>, rows: number, K: number): Float64Array {
  const y = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, x[r * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(x[r * K + k] - m);
    const lse = m + Math.log(s);
    for (let k = 0; k < K; k++) y[r * K + k] = x[r * K + k] - lse;
  }
  return y;
}

export interface CtcShape {
  b: number;
  T: number;
  V: number;
  /** Padded target width. */
  S: number;
}

export interface CtcOptions {
  /** Impossible alignments give loss 0 instead of Infinity (their gradient is 0 either way). */
  zeroInfinity?: boolean;
  /** Divide each utterance's loss (and gradient) by its target length (at least 1), as PyTorch's 'mean'. */
  divideByTargetLength?: boolean;
  /** The gradient is that of scale * sum_b loss_b (e.g. 1 / b for a batch mean). */
  scale?: number;
}

export interface CtcRefResult {
  /** Per-utterance negative log-likelihood (b); Infinity (or 0 with zeroInfinity) when impossible. */
  nll: Float64Array;
  /**
   * (b, T, V): gradient of scale * sum_b nll_b with respect to the PRE-SOFTMAX logits, where
   * logProbs = log_softmax(logits): scale_b * (softmax - occupancy / P). Zero past the input length
   * and for impossible alignments.
   */
  grad: Float64Array;
}

function lae(a: number, b: number): number {
  const m = Math.max(a, b);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** CTC with blank = 0, forward-backward in log space. logProbs (b, T, V), targets (b, S) padded. */
export function ctcRef(
  logProbs: ArrayLike<number>,
  targets: ArrayLike<number>,
  inputLengths: ArrayLike<number>,
  targetLengths: ArrayLike<number>,
  shape: CtcShape,
  opts: CtcOptions = {},
): CtcRefResult {
  const { b: B, T, V, S } = shape;
  const nll = new Float64Array(B);
  const grad = new Float64Array(B * T * V);
  for (let b = 0; b < B; b++) {
    const Tb = inputLengths[b];
    const Sb = targetLengths[b];
    const L = 2 * Sb + 1;
    const label = (s: number) => (s % 2 === 0 ? 0 : targets[b * S + (s - 1) / 2]);
    const lp = (t: number, k: number) => logProbs[(b * T + t) * V + k];
    const skip = (s: number) => s >= 2 && label(s) !== 0 && label(s) !== label(s - 2);
    const alpha = Array.from({ length: Tb }, () => new Float64Array(L).fill(-Infinity));
    const beta = Array.from({ length: Tb }, () => new Float64Array(L).fill(-Infinity));
    alpha[0][0] = lp(0, 0);
    if (L > 1) alpha[0][1] = lp(0, label(1));
    for (let t = 1; t < Tb; t++)
      for (let s = 0; s < L; s++) {
        let a = alpha[t - 1][s];
        if (s >= 1) a = lae(a, alpha[t - 1][s - 1]);
        if (skip(s)) a = lae(a, alpha[t - 1][s - 2]);
        alpha[t][s] = a + lp(t, label(s));
      }
    let total = alpha[Tb - 1][L - 1];
    if (L > 1) total = lae(total, alpha[Tb - 1][L - 2]);
    const norm = opts.divideByTargetLength ? 1 / Math.max(Sb, 1) : 1;
    if (total === -Infinity) {
      nll[b] = opts.zeroInfinity ? 0 : Infinity;
      continue;
    }
    nll[b] = -total * norm;
    // beta(t, s): probability of frames t+1.. given state s at frame t (emission at t excluded).
    beta[Tb - 1][L - 1] = 0;
    if (L > 1) beta[Tb - 1][L - 2] = 0;
    for (let t = Tb - 2; t >= 0; t--)
      for (let s = 0; s < L; s++) {
        let v = beta[t + 1][s] + lp(t + 1, label(s));
        if (s + 1 < L) v = lae(v, beta[t + 1][s + 1] + lp(t + 1, label(s + 1)));
        if (s + 2 < L && skip(s + 2)) v = lae(v, beta[t + 1][s + 2] + lp(t + 1, label(s + 2)));
        beta[t][s] = v;
      }
    const sc = (opts.scale ?? 1) * norm;
    for (let t = 0; t < Tb; t++) {
      const occ = new Float64Array(V).fill(-Infinity);
      for (let s = 0; s < L; s++) occ[label(s)] = lae(occ[label(s)], alpha[t][s] + beta[t][s]);
      for (let k = 0; k < V; k++) grad[(b * T + t) * V + k] = sc * (Math.exp(lp(t, k)) - Math.exp(occ[k] - total));
    }
  }
  return { nll, grad };
}

/** Fewest frames that can emit `labels`: one per label plus one blank between each equal neighbour pair. */
export function ctcMinFrames(labels: ArrayLike<number>): number {
  let n = labels.length;
  for (let i = 1; i < labels.length; i++) if (labels[i] === labels[i - 1]) n++;
  return n;
}
