// Model configurations: the paper's six encoder kinds at three sizes. Names follow the glossary
// (d_model, d_inner = expand * d_model, n = d_state, dt_rank, d_conv, h).
import { LabError } from '../gpu/errors.ts';
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

// ---- schema ----
// A configuration read from a file (a checkpoint's metadata) is checked field by field before anything is sized
// from it: kinds, integer types, ranges and divisibility. The bounds are far above any model this lab builds
// (base: d_model 768, 12 layers) and far below what would make the loader allocate gigabytes or loop for long.

export const CONFIG_LIMITS = {
  layers: 256,
  width: 16384,
  extractorLayers: 32,
  kernel: 4096,
  stride: 1024,
  d_state: 1024,
  d_conv: 64,
  expand: 16,
  classes: 1 << 20,
  /** Samples per frame (the product of the extractor's strides; HuBERT's is 320). */
  hop: 65536,
} as const;

/** A configuration that breaks the schema: a LabError ('bad-input') naming the field. */
export class ConfigError extends LabError {
  constructor(message: string) {
    super('bad-input', message);
    this.name = 'ConfigError';
  }
}

function fail(where: string, field: string, message: string): never {
  throw new ConfigError(`${where}: config field ${field} ${message}`);
}

function int(where: string, o: Record<string, unknown>, field: string, min: number, max: number, path = field): number {
  const v = o[field];
  if (typeof v !== 'number') fail(where, path, `must be a number, not ${v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 40) ?? typeof v}`);
  if (!Number.isInteger(v)) fail(where, path, `must be a whole number, not ${v}`);
  if (v < min || v > max) fail(where, path, `is ${v}, outside ${min}..${max}`);
  return v;
}

function oneOf<T extends string>(where: string, o: Record<string, unknown>, field: string, choices: readonly T[], path = field): T {
  const v = o[field];
  if (typeof v !== 'string' || !choices.includes(v as T)) fail(where, path, `is ${JSON.stringify(v)?.slice(0, 40) ?? 'missing'}; it is one of ${choices.join(', ')}`);
  return v as T;
}

function object(where: string, v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, path, 'must be an object');
  return v as Record<string, unknown>;
}

/**
 * `raw` (parsed JSON) as a ModelConfig, or a ConfigError naming the field and the bound. Takes O(1) time in the
 * numbers it reads (n_layers 1e8 is refused at once). Fields this version does not know are kept as they are.
 */
export function validateConfig(raw: unknown, where = 'checkpoint'): ModelConfig {
  const L = CONFIG_LIMITS;
  const o = object(where, raw, '(the whole config)');
  const kind = oneOf(where, o, 'kind', ENCODER_KINDS);
  const size = oneOf(where, o, 'size', SIZES);
  const ex = object(where, o.extractor, 'extractor');
  const layersRaw = ex.layers;
  if (!Array.isArray(layersRaw)) fail(where, 'extractor.layers', 'must be a list of [channels, kernel, stride]');
  if (layersRaw.length < 1 || layersRaw.length > L.extractorLayers) fail(where, 'extractor.layers', `has ${layersRaw.length} layers, outside 1..${L.extractorLayers}`);
  const layers = layersRaw.map((l: unknown, i: number) => {
    const p = `extractor.layers[${i}]`;
    if (!Array.isArray(l) || l.length !== 3) fail(where, p, 'must be [channels, kernel, stride]');
    const t = { c: l[0], k: l[1], s: l[2] } as Record<string, unknown>;
    const c = int(where, t, 'c', 1, L.width, `${p}[0] (channels)`);
    const k = int(where, t, 'k', 1, L.kernel, `${p}[1] (kernel)`);
    const s = int(where, t, 's', 1, L.stride, `${p}[2] (stride)`);
    return [c, k, s] as const;
  });
  const norm = oneOf(where, ex, 'norm', ['group', 'layer'] as const, 'extractor.norm');
  const hop = layers.reduce((p, [, , st]) => p * st, 1);
  if (hop > L.hop) fail(where, 'extractor.layers', `strides multiply to a hop of ${hop} samples, above ${L.hop}`);
  const d_model = int(where, o, 'd_model', 1, L.width);
  const n_layers = int(where, o, 'n_layers', 1, L.layers);
  const ffn = int(where, o, 'ffn', 0, 4 * L.width);
  const h = int(where, o, 'h', 1, d_model);
  if ((kind === 'transformer' || kind === 'causal-transformer') && d_model % h !== 0) fail(where, 'h', `(${h} heads) must divide d_model (${d_model})`);
  const d_state = int(where, o, 'd_state', 1, L.d_state);
  const d_conv = int(where, o, 'd_conv', 1, L.d_conv);
  const expand = int(where, o, 'expand', 1, L.expand);
  const dt_rank = int(where, o, 'dt_rank', 1, L.width);
  if (d_model * expand > 4 * L.width) fail(where, 'expand', `times d_model (${expand} x ${d_model}) is above ${4 * L.width}`);
  const pc = object(where, o.pos_conv, 'pos_conv');
  const kernel = int(where, pc, 'kernel', 1, L.kernel, 'pos_conv.kernel');
  const groups = int(where, pc, 'groups', 1, d_model, 'pos_conv.groups');
  if (d_model % groups !== 0) fail(where, 'pos_conv.groups', `(${groups}) must divide d_model (${d_model})`);
  const padding = oneOf(where, pc, 'padding', ['same', 'causal'] as const, 'pos_conv.padding');
  const final_dim = int(where, o, 'final_dim', 1, L.width);
  const targets = int(where, o, 'targets', 1, L.classes);
  const vocab = int(where, o, 'vocab', 2, L.classes);
  return {
    ...(o as object),
    kind,
    size,
    extractor: { ...ex, layers, norm },
    d_model,
    n_layers,
    ffn,
    h,
    d_state,
    d_conv,
    expand,
    dt_rank,
    pos_conv: { ...pc, kernel, groups, padding },
    final_dim,
    targets,
    vocab,
  } as ModelConfig;
}
