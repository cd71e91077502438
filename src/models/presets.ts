import type { ConvLayer } from '../nn/feature-extractor.ts';
import { ENCODER_KINDS, isCausal, SIZES, type EncoderKind, type ModelConfig, type Size } from './config.ts';

/** HuBERT's extractor: [(512,10,5)] + [(512,3,2)]*4 + [(512,2,2)]*2. */
function hubertExtractor(channels: number): ConvLayer[] {
  return [[channels, 10, 5], ...Array(4).fill([channels, 3, 2]), ...Array(2).fill([channels, 2, 2])];
}

interface SizeSpec {
  d_model: number;
  n_layers: number;
  extractor_channels: number;
  h: number;
  transformer_ffn: number;
  mamba_mlp_ffn: number;
  d_state: number;
  pos_kernel: number;
  pos_groups: number;
  final_dim: number;
  targets: number;
}

// base and small as in the paper (PAPER.md); tiny is small enough to train on a CPU driver.
const SIZE_SPECS: Record<Size, SizeSpec> = {
  base: { d_model: 768, n_layers: 12, extractor_channels: 512, h: 12, transformer_ffn: 3072, mamba_mlp_ffn: 896, d_state: 24, pos_kernel: 128, pos_groups: 16, final_dim: 256, targets: 504 },
  small: { d_model: 384, n_layers: 12, extractor_channels: 512, h: 12, transformer_ffn: 1024, mamba_mlp_ffn: 1024, d_state: 24, pos_kernel: 128, pos_groups: 16, final_dim: 256, targets: 504 },
  tiny: { d_model: 128, n_layers: 4, extractor_channels: 64, h: 4, transformer_ffn: 512, mamba_mlp_ffn: 192, d_state: 16, pos_kernel: 32, pos_groups: 8, final_dim: 64, targets: 100 },
};

export function preset(kind: EncoderKind, size: Size): ModelConfig {
  const s = SIZE_SPECS[size];
  const transformer = kind === 'transformer' || kind === 'causal-transformer';
  const causal = isCausal(kind);
  return {
    kind,
    size,
    extractor: { layers: hubertExtractor(s.extractor_channels), norm: causal ? 'layer' : 'group' },
    d_model: s.d_model,
    n_layers: s.n_layers,
    ffn: transformer ? s.transformer_ffn : kind === 'mamba-mlp' ? s.mamba_mlp_ffn : 0,
    h: s.h,
    d_state: s.d_state,
    d_conv: 4,
    expand: 3,
    dt_rank: Math.ceil(s.d_model / 16),
    pos_conv: { kernel: s.pos_kernel, groups: s.pos_groups, padding: causal ? 'causal' : 'same' },
    final_dim: s.final_dim,
    targets: s.targets,
    vocab: 30,
  };
}

/** "mamba-base" -> preset('mamba', 'base'). */
export function presetByName(name: string): ModelConfig {
  const m = /^(.+)-(tiny|small|base)$/.exec(name);
  const kind = m?.[1] as EncoderKind | undefined;
  if (!m || !kind || !ENCODER_KINDS.includes(kind)) {
    throw new Error(`unknown preset "${name}"; presets are <kind>-<size>, kinds ${ENCODER_KINDS.join(', ')}, sizes ${SIZES.join(', ')}`);
  }
  return preset(kind, m[2] as Size);
}
