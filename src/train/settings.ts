// A training run's settings, with defaults per stage. Stored in every checkpoint, so that --resume continues
// with exactly the settings the run started with.
import { LabError } from '../gpu/errors.ts';
import { FINETUNE_MASK, PRETRAIN_MASK, type MaskOptions } from './masking.ts';
import type { ScheduleKind } from './schedule.ts';

/** pretrain: HuBERT masked prediction; finetune: CTC from a pre-trained checkpoint; ctc: CTC from scratch. */
export const STAGES = ['pretrain', 'finetune', 'ctc'] as const;
export type Stage = (typeof STAGES)[number];

export interface TrainSettings {
  stage: Stage;
  seed: number;
  /** Updates in the whole run. */
  steps: number;
  /** Padded audio per micro-batch (seconds); micro-batches per update. */
  batchSeconds: number;
  accumulate: number;
  maxBatch?: number;
  lr: number;
  schedule: ScheduleKind;
  warmup: number;
  /** tri-stage: updates held at the peak. */
  hold: number;
  weightDecay: number;
  maxGradNorm: number;
  /** Span masking (pre-training always; fine-tuning at a lower rate; never for CTC from scratch). */
  mask: MaskOptions | null;
  evalEvery: number;
  saveEvery: number;
  /** Step checkpoints kept (the best on dev is kept apart). */
  keep: number;
  /** Dev utterances scored per evaluation (0: all). */
  devLimit: number;
  /** Pre-training: k-means clusters, iteration, the layer whose features give iteration 2's targets. */
  clusters: number;
  iteration: 1 | 2;
  layer: number;
  kmeansFrames: number;
  kmeansIterations: number;
  /** Fine-tuning: updates during which only the CTC head trains; the extractor never trains. */
  freezeEncoderSteps: number;
  /**
   * CTC and fine-tuning: weight of an auxiliary loss added to CTC, the cross-entropy of every frame against its
   * k-means target (`clusters` clusters of MFCC frames, as pre-training iteration 1), summed over each
   * utterance's frames like CTC and averaged over utterances; 0 turns it off. It gives every frame a target from
   * the first update, where CTC alone learns the timing and the letters' frequencies long before any sound.
   */
  auxWeight: number;
}

export function defaultSettings(stage: Stage): TrainSettings {
  const common = {
    stage,
    seed: 1,
    steps: 2000,
    batchSeconds: 32,
    accumulate: 1,
    weightDecay: 0.01,
    maxGradNorm: 10,
    evalEvery: 200,
    saveEvery: 200,
    keep: 3,
    devLimit: 100,
    clusters: 100,
    iteration: 1 as const,
    layer: 3,
    kmeansFrames: 100_000,
    kmeansIterations: 20,
    freezeEncoderSteps: 0,
    auxWeight: 0,
  };
  switch (stage) {
    case 'pretrain':
      return { ...common, lr: 5e-4, schedule: 'linear', warmup: 200, hold: 0, mask: PRETRAIN_MASK };
    case 'finetune':
      return { ...common, lr: 5e-4, schedule: 'tri-stage', warmup: 200, hold: 800, mask: FINETUNE_MASK, freezeEncoderSteps: 200 };
    case 'ctc':
      return { ...common, lr: 1e-3, schedule: 'cosine', warmup: 200, hold: 0, mask: null };
  }
}

const positive = ['steps', 'batchSeconds', 'accumulate', 'lr', 'evalEvery', 'saveEvery', 'keep', 'clusters', 'kmeansFrames', 'kmeansIterations'] as const;
const nonNegative = ['warmup', 'hold', 'weightDecay', 'maxGradNorm', 'devLimit', 'layer', 'freezeEncoderSteps', 'auxWeight'] as const;

/** Refuses settings that cannot run, naming the setting (before anything is loaded). */
export function checkSettings(s: TrainSettings): void {
  for (const k of positive) if (!(s[k] > 0) || !Number.isFinite(s[k])) throw new LabError('bad-input', `train: ${k} must be a positive number, got ${s[k]}`);
  for (const k of nonNegative) if (!(s[k] >= 0) || !Number.isFinite(s[k])) throw new LabError('bad-input', `train: ${k} must be 0 or more, got ${s[k]}`);
  for (const k of ['steps', 'accumulate', 'evalEvery', 'saveEvery', 'keep', 'clusters', 'warmup', 'hold', 'layer'] as const) {
    if (!Number.isInteger(s[k])) throw new LabError('bad-input', `train: ${k} must be a whole number, got ${s[k]}`);
  }
  if (s.mask && !(s.mask.prob >= 0 && s.mask.prob <= 1 && s.mask.span >= 1)) throw new LabError('bad-input', `train: mask probability must lie in [0, 1] and span be at least 1`);
  if (s.stage === 'pretrain' && s.auxWeight > 0) throw new LabError('bad-input', 'train: the auxiliary frame loss (auxWeight) belongs to the ctc and finetune stages; pre-training predicts frames already');
  if (s.clusters > 65535) throw new LabError('bad-input', `train: clusters ${s.clusters} is above 65535`);
}
