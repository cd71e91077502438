// The benchmark sweep's inputs and rows, shared by the workflow, the worker, the page and the CLI.
import type { EncoderKind, Size } from '../models/config.ts';

export { ENCODER_KINDS, SIZES, type EncoderKind, type Size } from '../models/config.ts';

export type AttentionForm = 'materialised' | 'tiled';

export interface SweepOptions {
  models: EncoderKind[];
  preset: Size;
  /** Audio lengths in seconds. */
  lengths: number[];
  /** Attention kernel of the Transformer kinds: 'materialised' (the paper's) or 'tiled'. */
  attention: AttentionForm;
  batch: number;
  /** Timed runs after one warm-up; the median is reported. */
  reps: number;
}

export const DEFAULT_SWEEP: SweepOptions = {
  models: ['mamba', 'causal-transformer', 'transformer'],
  preset: 'tiny',
  lengths: [10, 20, 40, 80, 160, 320],
  attention: 'materialised',
  batch: 1,
  reps: 3,
};

export interface SweepRow {
  model: EncoderKind;
  preset: Size;
  attention: AttentionForm;
  seconds: number;
  frames: number;
  /** MACs of one forward at batch 1, from the configuration (src/bench/macs.ts). */
  macs: number;
  /** MACs the dispatched kernels reported; null when the run did not happen (out of memory). */
  macsCounted: number | null;
  macsPerSecond: number;
  /** Real-time factor: forward time over audio duration; null when out of memory. */
  rtf: number | null;
  ms: number | null;
  timing: 'timestamp-query' | 'wall-clock' | null;
  oom: boolean;
  /** Why it did not run: the tensor and the limit. */
  oomReason?: string;
}
