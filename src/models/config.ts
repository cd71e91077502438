// Model configurations: the paper's six encoder kinds at three sizes. Names follow the glossary
// (d_model, d_inner = expand * d_model, n = d_state, dt_rank, d_conv, h).
import type { ExtractorDims } from '../nn/feature-extractor.ts';
import type { PositionalConvDims } from '../nn/positional-conv.ts';

export const ENCODER_KINDS = ['mamba', 'extbimamba', 'innbimamba', 'mamba-mlp', 'transformer', 'causal-transformer'] as const;
export type EncoderKind = (typeof ENCODER_KINDS)[number];

export const SIZES = ['tiny', 'small', 'base'] as const;
export type Size = (typeof SIZES)[number];

export interface ModelConfig {
  kind: EncoderKind;
  size: Size;
  extractor: ExtractorDims;
  d_model: number;
  n_layers: number;
  /** Feed-forward width after each mixer; 0 for none (Mamba, ExtBiMamba, InnBiMamba). */
  ffn: number;
  /** Attention heads (Transformer kinds). */
  h: number;
  /** Mamba: n = d_state, d_conv, expand, dt_rank. */
  d_state: number;
  d_conv: number;
  expand: number;
  dt_rank: number;
  /** Convolutional positional embedding: kernel, groups, 'same' (the paper's, ~1.28 s look-ahead) or 'causal'. */
  pos_conv: Omit<PositionalConvDims, 'd_model'>;
  /** Masked-prediction head: projection width and number of k-means targets K. */
  final_dim: number;
  targets: number;
  /** CTC head over blank + 29 characters. */
  vocab: number;
}

export function isCausal(kind: EncoderKind): boolean {
  return kind === 'mamba' || kind === 'causal-transformer';
}

export function isMamba(kind: EncoderKind): boolean {
  return kind === 'mamba' || kind === 'extbimamba' || kind === 'innbimamba' || kind === 'mamba-mlp';
}

export function d_inner(c: ModelConfig): number {
  return c.expand * c.d_model;
}

/** Audio samples per model frame (the product of the extractor's strides): 320 = 20 ms at 16 kHz. */
export function hopSamples(c: ModelConfig): number {
  return c.extractor.layers.reduce((p, [, , s]) => p * s, 1);
}

/** Frames the extractor makes from `samples` of audio (no padding). */
export function framesFor(c: ModelConfig, samples: number): number {
  let l = samples;
  for (const [, k, s] of c.extractor.layers) l = l < k ? 0 : Math.floor((l - k) / s) + 1;
  return l;
}
