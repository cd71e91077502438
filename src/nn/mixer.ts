// What an EncoderLayer needs from its sequence mixer (self-attention, Mamba, ExtBiMamba, InnBiMamba).
import type { Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Pass } from './module.ts';

/** A streaming mixer's carried state (GPU tensors). Release it once no unsubmitted encoder uses it. */
export interface MixerState {
  release(): void;
}

/**
 * x (b, l, d_model) -> y (b, l, d_model), same contract as every module: forward borrows x and returns a new
 * tensor owned by the caller, saving what backward needs when pass.train; backward(dy) returns dx (owned by
 * the caller), accumulates parameter gradients and does not release dy.
 * lengths (b) i32, borrowed: the valid frames of each utterance of a padded batch. A mixer that looks ahead
 * keeps the padded frames out of the valid frames' outputs; a causal one needs no lengths (padding comes last).
 */
export interface Mixer<S extends MixerState = MixerState> {
  readonly name: string;
  forward(pass: Pass, x: Tensor, lengths?: Tensor): Tensor;
  backward(pass: Pass, dy: Tensor): Tensor;
  /** Causal mixers only (inference): an empty state for `batch` streams. */
  startState?(gpu: Gpu, batch: number): S;
  /**
   * Causal mixers only (inference): the new frames x (b, chunk, d_model) -> y (b, chunk, d_model), with `state`
   * updated; any chunking of a sequence gives the offline forward's output.
   */
  step?(pass: Pass, x: Tensor, state: S): Tensor;
}
