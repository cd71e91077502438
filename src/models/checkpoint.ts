// Model checkpoints: safetensors holding the configuration (metadata "config", JSON) and every parameter
// named as in parameterSpecs. Loading checks the whole file against the schema before anything is used, so a
// damaged or mismatched file is refused with the reason and never half-loads.
import { formatBytes, LabError } from '../gpu/errors.ts';
import { validateConfig, type ModelConfig } from './config.ts';
import { parameterSpecs, type ParameterOptions } from './parameters.ts';
import { encodeSafetensors, nonFinite, readSafetensorsHeader, readTensor, type NamedTensor } from './safetensors.ts';

export interface Checkpoint {
  config: ModelConfig;
  heads: ParameterOptions;
  params: Map<string, NamedTensor>;
  /** Extra tensors stored alongside (optimizer moments under "optim.", say). */
  extra: Map<string, NamedTensor>;
  /** Extra metadata (training step, learning-rate schedule, ...). */
  metadata: Record<string, string>;
}

export function saveCheckpoint(c: Checkpoint): Uint8Array {
  const schema = parameterSpecs(c.config, c.heads);
  const entries: [string, NamedTensor][] = schema.map((p) => {
    const t = c.params.get(p.name);
    if (!t) throw new LabError('bad-input', `checkpoint: parameter ${p.name} is missing`);
    return [p.name, t];
  });
  for (const [name, t] of c.extra) entries.push([name, t]);
  return encodeSafetensors(entries, { ...c.metadata, config: JSON.stringify(c.config), heads: JSON.stringify(c.heads), format: 'mamba-speech-lab/1' });
}

/** The heads object from the metadata: only the known switches, each a boolean. */
function validateHeads(raw: unknown): ParameterOptions {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new LabError('bad-input', 'checkpoint: the "heads" metadata must be an object like {"pretrainHead":true}: corrupt file');
  const o = raw as Record<string, unknown>;
  const heads: ParameterOptions = {};
  for (const key of ['pretrainHead', 'ctcHead'] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new LabError('bad-input', `checkpoint: heads.${key} is ${JSON.stringify(v).slice(0, 40)}, not true or false: corrupt file`);
    heads[key] = v;
  }
  return heads;
}

/**
 * A checkpoint from safetensors bytes, checked before any tensor is read: the header (shapes, offsets, the file's
 * size), the configuration against its schema (kinds, ranges, divisibility), the parameter list the configuration
 * implies against the tensors the file holds (names, shapes, byte total); then every weight must be finite.
 */
export function loadCheckpoint(bytes: Uint8Array, expected?: ModelConfig): Checkpoint {
  const file = readSafetensorsHeader(bytes);
  const { config: configText, heads: headsText, format, ...metadata } = file.metadata;
  if (!configText) throw new LabError('bad-input', 'checkpoint: no "config" in the metadata: not a checkpoint of this lab (convert it first)');
  let rawConfig: unknown;
  let rawHeads: unknown;
  try {
    rawConfig = JSON.parse(configText);
  } catch {
    throw new LabError('bad-input', 'checkpoint: the "config" metadata is not valid JSON: corrupt file');
  }
  try {
    rawHeads = headsText ? JSON.parse(headsText) : { pretrainHead: true };
  } catch {
    throw new LabError('bad-input', 'checkpoint: the "heads" metadata is not valid JSON: corrupt file');
  }
  void format;
  const config = validateConfig(rawConfig);
  const heads = validateHeads(rawHeads);
  if (expected) {
    for (const key of Object.keys(expected) as (keyof ModelConfig)[]) {
      if (JSON.stringify(expected[key]) !== JSON.stringify(config[key])) {
        throw new LabError(
          'bad-input',
          `checkpoint: ${key} is ${JSON.stringify(config[key])} in the file but the model expects ${JSON.stringify(expected[key])}`,
        );
      }
    }
  }
  const specs = parameterSpecs(config, heads);
  // The byte total first: a configuration that needs more weights than the file holds is refused before any shape.
  let values = 0;
  for (const p of specs) values += p.shape.reduce((a, b) => a * b, 1);
  let held = 0;
  for (const p of specs) {
    const e = file.entries.get(p.name);
    if (e) held += e.end - e.begin;
  }
  const f32 = 4 * values;
  if (held < 2 * values) {
    throw new LabError(
      'bad-input',
      `checkpoint: the config (${config.kind}-${config.size}, ${config.n_layers} layers, d_model ${config.d_model}) needs ${values} weights ` +
        `(${formatBytes(f32)} as F32) but the file holds ${formatBytes(held)} of them (${formatBytes(file.dataLength)} of tensor data in all): wrong config or truncated file`,
    );
  }
  for (const p of specs) {
    const e = file.entries.get(p.name);
    if (!e) throw new LabError('bad-input', `checkpoint: tensor ${p.name} [${p.shape}] is missing`);
    if (e.shape.join(',') !== p.shape.join(',')) {
      throw new LabError('bad-input', `checkpoint: tensor ${p.name} has shape [${e.shape}] but the model expects [${p.shape}]`);
    }
  }
  const params = new Map<string, NamedTensor>();
  for (const p of specs) {
    const t = readTensor(bytes, file.entries.get(p.name)!);
    const bad = nonFinite(t.data);
    if (bad.count > 0) {
      throw new LabError(
        'non-finite',
        `checkpoint: tensor ${p.name} holds ${bad.count} non-finite value${bad.count > 1 ? 's' : ''} (NaN or infinity), the first at index ${bad.first} ` +
          `(${t.data[bad.first]}): the run that wrote it diverged or the file is damaged; use an earlier checkpoint`,
      );
    }
    params.set(p.name, t);
    file.entries.delete(p.name);
  }
  const extra = new Map<string, NamedTensor>();
  for (const [name, e] of file.entries) extra.set(name, readTensor(bytes, e));
  return { config, heads, params, extra, metadata };
}
