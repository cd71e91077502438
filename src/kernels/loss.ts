import shader from '../../shaders/loss.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { LabError, ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { ctcMinFrames, type CtcOptions } from './reference/loss.ts';

export type { CtcOptions };

function describe(t: Tensor): string {
  return `${t.name}${shapeString(t.shape)}`;
}

/** Workgroups of 256 invocations for `n` items, folded into 2-D past 65535. */
function rowGrid(n: number): [number, number] {
  return grid(Math.ceil(n / 256));
}

// ---------------------------------------------------------------------------------------------------
// Softmax cross-entropy over selected rows

/** Backward tiling: one invocation per row (CPU drivers) or per logit (GPUs). Default by adapter kind. */
export type CeBackwardVariant = 'rows' | 'elements';

export interface CrossEntropyOptions {
  /** (rows) f32: a row counts when mask != 0 (HuBERT: the masked frames). Absent: every row counts. */
  mask?: Tensor;
}

export interface CrossEntropyResult {
  /**
   * (8) f32: [mean loss, count, correct, bad targets, loss sum, accuracy, 0, 0]. `count` is the number of
   * selected rows with a valid target; `correct` counts those whose argmax (first maximum) is the target;
   * `bad targets` counts selected rows whose target is outside [0, K) (they are left out: see readCrossEntropy).
   */
  stats: Tensor;
  /** (rows) log-sum-exp of each row, kept for the backward. The caller releases it. */
  lse: Tensor;
}

export interface CrossEntropyStats {
  loss: number;
  count: number;
  correct: number;
  accuracy: number;
  lossSum: number;
}

function checkCe(logits: Tensor, targets: Tensor, mask?: Tensor): { rows: number; K: number } {
  if (logits.shape.length !== 2 || logits.dtype !== 'f32') {
    throw new ShapeError(`crossEntropy: logits ${describe(logits)}:${logits.dtype} must be 2-D (rows, K) f32`);
  }
  const [rows, K] = logits.shape;
  if (K < 1) throw new ShapeError(`crossEntropy: logits ${describe(logits)} needs at least one class`);
  if (targets.size !== rows || targets.dtype === 'f32') {
    throw new ShapeError(
      `crossEntropy: targets ${describe(targets)}:${targets.dtype} must hold ${rows} integers (i32 or u32), one per row of logits ${describe(logits)}`,
    );
  }
  if (mask && (mask.size !== rows || mask.dtype !== 'f32')) {
    throw new ShapeError(`crossEntropy: mask ${describe(mask)}:${mask.dtype} must hold ${rows} f32, one per row of logits ${describe(logits)}`);
  }
  return { rows, K };
}

/**
 * Mean softmax cross-entropy over the selected rows of logits (rows, K) against integer targets (rows).
 * Two dispatches: per-row partials, then one fixed-order reduction (deterministic, no float atomics).
 * The mean, count and accuracy numerator stay on the GPU in `stats` (read with readCrossEntropy).
 */
export function crossEntropy(enc: Encoder, logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): CrossEntropyResult {
  const { rows, K } = checkCe(logits, targets, opts.mask);
  const gpu = enc.gpu;
  const lse = gpu.tensor([rows], 'f32', undefined, 'ce.lse');
  const partials = gpu.tensor([rows, 4], 'f32', undefined, 'ce.partials');
  const stats = gpu.tensor([8], 'f32', undefined, 'ce.stats');
  const p = params().u32(rows, K).f32(1).u32(rows * K);
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'ce_rows', { HAS_MASK: !!opts.mask }),
    params: p,
    buffers: [logits, targets, opts.mask ?? gpu.empty, lse, partials],
    workgroups: rowGrid(rows),
    macs: rows * K,
  });
  enc.dispatch({ pipeline: gpu.pipeline(shader, 'ce_reduce'), params: p, buffers: [partials, stats], workgroups: [1] });
  enc.releaseAfter(partials);
  return { stats, lse };
}

/**
 * dlogits (rows, K) = gscale * (softmax - onehot(target)) / count on selected rows, 0 elsewhere: the gradient
 * of gscale * (mean loss). Uses the forward's `lse` and `stats` (count read on the GPU, no round trip).
 */
export function crossEntropyBackward(
  enc: Encoder,
  logits: Tensor,
  targets: Tensor,
  fwd: CrossEntropyResult,
  opts: CrossEntropyOptions & { gscale?: number; out?: Tensor; variant?: CeBackwardVariant } = {},
): Tensor {
  const { rows, K } = checkCe(logits, targets, opts.mask);
  if (fwd.lse.size !== rows || fwd.stats.size !== 8) {
    throw new ShapeError(`crossEntropyBackward: lse ${describe(fwd.lse)} must hold ${rows} values and stats ${describe(fwd.stats)} 8`);
  }
  const gpu = enc.gpu;
  const out = opts.out ?? gpu.tensor([rows, K], 'f32', undefined, 'ce.dlogits');
  if (out.size !== rows * K) throw new ShapeError(`crossEntropyBackward: out ${describe(out)} should hold [${rows}, ${K}]`);
  const perRow = (opts.variant ?? (gpu.kind === 'cpu' ? 'rows' : 'elements')) === 'rows';
  enc.dispatch({
    pipeline: gpu.pipeline(shader, perRow ? 'ce_backward_rows' : 'ce_backward', { HAS_MASK: !!opts.mask }),
    params: params().u32(rows, K).f32(opts.gscale ?? 1).u32(rows * K),
    buffers: [logits, targets, opts.mask ?? gpu.empty, fwd.lse, fwd.stats, out],
    workgroups: rowGrid(perRow ? rows : rows * K),
  });
  return out;
}

/** Decode the stats tensor's values; throws a LabError when a selected row had a target outside [0, K). */
export function readCrossEntropy(stats: ArrayLike<number>, K?: number): CrossEntropyStats {
  const bad = stats[3];
  if (bad > 0) {
    throw new LabError(
      'bad-input',
      `cross-entropy: ${bad} selected row(s) have a target outside [0, ${K ?? 'K'}); check the cluster targets against the number of classes`,
    );
  }
  return { loss: stats[0], count: stats[1], correct: stats[2], accuracy: stats[5], lossSum: stats[4] };
}

/** Host-side check of targets before upload: every selected target must lie in [0, K). */
export function checkTargets(targets: ArrayLike<number>, K: number, mask?: ArrayLike<number>, name = 'targets'): void {
  for (let r = 0; r < targets.length; r++) {
    if (mask && mask[r] === 0) continue;
    const t = targets[r];
    if (!Number.isInteger(t) || t < 0 || t >= K) {
      throw new LabError('bad-input', `${name}[${r}] = ${t} is outside [0, ${K}) (${targets.length} rows, ${K} classes)`);
    }
  }
}

/** y (rows, K) = x - logsumexp(x) along the last axis of x (..., K). */
export function logSoftmax(enc: Encoder, x: Tensor, out?: Tensor): Tensor {
  if (x.shape.length < 1 || x.dtype !== 'f32') throw new ShapeError(`logSoftmax: x ${describe(x)} must be f32 with at least 1 axis`);
  const K = x.shape[x.shape.length - 1];
  const rows = K ? x.size / K : 0;
  const y = out ?? enc.gpu.tensor(x.shape, 'f32', undefined, `${x.name}.logSoftmax`);
  if (y.size !== x.size) throw new ShapeError(`logSoftmax: out ${describe(y)} should hold ${describe(x)}`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'log_softmax_rows'),
    params: params().u32(rows, K).f32(1).u32(rows * K),
    buffers: [x, y],
    workgroups: rowGrid(rows),
  });
  return y;
}

// ---------------------------------------------------------------------------------------------------
// CTC

export interface CtcInputs {
  /** (b, S) labels in [1, V), padded: only the first targetLengths[b] of each row are read. */
  targets: ArrayLike<number>;
  /** (b) frames of each utterance, 1..T. */
  inputLengths: ArrayLike<number>;
  /** (b) labels of each utterance, 0..S. */
  targetLengths: ArrayLike<number>;
  /** Padded target width S (defaults to the largest target length). */
  S?: number;
}

export interface CtcResult {
  /** (b) per-utterance negative log-likelihood; Infinity for an impossible alignment (0 with zeroInfinity). */
  nll: Tensor;
  /**
   * (b, T, V): gradient of scale * sum_b nll_b with respect to the PRE-SOFTMAX logits (logProbs being their
   * log_softmax): scale_b * (softmax - occupancy / P). This is what a CTC head back-propagates; no separate
   * log-softmax backward is needed. Zero past each input length and for impossible alignments.
   */
  grad: Tensor;
  /** Utterances whose target cannot fit their input length (loss Infinity, or 0 with zeroInfinity). */
  impossible: number[];
}

/**
 * CTC loss, blank = 0, on the GPU: one workgroup per utterance, alpha/beta over the 2S+1 extended labels in
 * log space. logProbs (b, T, V) are log-softmax outputs. Targets and lengths come from the host (they are
 * validated there and uploaded). Matches ctcRef.
 */
export function ctcLoss(enc: Encoder, logProbs: Tensor, inputs: CtcInputs, opts: CtcOptions = {}): CtcResult {
  if (logProbs.shape.length !== 3 || logProbs.dtype !== 'f32') {
    throw new ShapeError(`ctcLoss: logProbs ${describe(logProbs)} must be (b, T, V) f32`);
  }
  const [B, T, V] = logProbs.shape;
  if (V < 2) throw new ShapeError(`ctcLoss: logProbs ${describe(logProbs)} needs V >= 2 (blank + at least one label)`);
  const { targets, inputLengths, targetLengths } = inputs;
  if (inputLengths.length !== B || targetLengths.length !== B) {
    throw new ShapeError(
      `ctcLoss: inputLengths [${inputLengths.length}] and targetLengths [${targetLengths.length}] must both have b=${B} entries for logProbs ${describe(logProbs)}`,
    );
  }
  let maxS = 0;
  for (let b = 0; b < B; b++) maxS = Math.max(maxS, targetLengths[b]);
  const S = inputs.S ?? maxS;
  if (targets.length !== B * S) {
    throw new ShapeError(`ctcLoss: targets [${targets.length}] must hold b*S = ${B}*${S} labels (padded rows) for logProbs ${describe(logProbs)}`);
  }
  if (B > 65535) throw new ShapeError(`ctcLoss: logProbs ${describe(logProbs)} has more than 65535 utterances`);
  const labels = Array.from(targets);
  const impossible: number[] = [];
  for (let b = 0; b < B; b++) {
    const Tb = inputLengths[b];
    const Sb = targetLengths[b];
    if (!Number.isInteger(Tb) || Tb < 1 || Tb > T) {
      throw new ShapeError(`ctcLoss: inputLengths[${b}] = ${Tb} must lie in [1, ${T}] for logProbs ${describe(logProbs)}`);
    }
    if (!Number.isInteger(Sb) || Sb < 0 || Sb > S) {
      throw new ShapeError(`ctcLoss: targetLengths[${b}] = ${Sb} must lie in [0, ${S}] for targets [${B}, ${S}]`);
    }
    for (let i = 0; i < Sb; i++) {
      const l = targets[b * S + i];
      if (!Number.isInteger(l) || l < 1 || l >= V) {
        throw new LabError('bad-input', `ctcLoss: targets[${b}, ${i}] = ${l} must lie in [1, ${V}) (0 is the blank)`);
      }
    }
    if (ctcMinFrames(labels.slice(b * S, b * S + Sb)) > Tb) impossible.push(b);
  }
  const gpu = enc.gpu;
  const Lmax = 2 * S + 1;
  const tgt = gpu.tensor([B, S], 'i32', targets, 'ctc.targets');
  const inLen = gpu.tensor([B], 'i32', inputLengths, 'ctc.inputLengths');
  const tgtLen = gpu.tensor([B], 'i32', targetLengths, 'ctc.targetLengths');
  const scratch = gpu.tensor([B, (T + 2) * Lmax + T], 'f32', undefined, 'ctc.scratch');
  const nll = gpu.tensor([B], 'f32', undefined, 'ctc.nll');
  const grad = gpu.tensor([B, T, V], 'f32', undefined, 'ctc.grad');
  const flags = (opts.zeroInfinity ? 1 : 0) | (opts.divideByTargetLength ? 2 : 0);
  enc.dispatch({
    pipeline: gpu.pipeline(shader, 'ctc'),
    params: params().u32(T, V, S, flags).f32(opts.scale ?? 1),
    buffers: [logProbs, tgt, inLen, tgtLen, scratch, nll, grad],
    workgroups: [B],
    macs: B * T * Lmax * 6,
  });
  enc.releaseAfter(tgt, inLen, tgtLen, scratch);
  return { nll, grad, impossible };
}
