// Model checkpoints: safetensors holding the configuration (metadata "config", JSON) and every parameter
// named as in parameterSpecs. Loading checks the whole file against the schema before anything is used, so a
// damaged or mismatched file is refused with the reason and never half-loads.
import { LabError } from '../gpu/errors.ts';
import type { ModelConfig } from './config.ts';
import { parameterSpecs, type ParameterOptions } from './parameters.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.ts';

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

export function loadCheckpoint(bytes: Uint8Array, expected?: ModelConfig): Checkpoint {
  const file = decodeSafetensors(bytes);
  const { config: configText, heads: headsText, format, ...metadata } = file.metadata;
  if (!configText) throw new LabError('bad-input', 'checkpoint: no "config" in the metadata: not a checkpoint of this lab (convert it first)');
  let config: ModelConfig;
  let heads: ParameterOptions;
  try {
    config = JSON.parse(configText);
    heads = headsText ? JSON.parse(headsText) : { pretrainHead: true };
  } catch {
    throw new LabError('bad-input', 'checkpoint: the "config" metadata is not valid JSON: corrupt file');
  }
  void format;
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
  const params = new Map<string, NamedTensor>();
  for (const p of parameterSpecs(config, heads)) {
    const t = file.tensors.get(p.name);
    if (!t) throw new LabError('bad-input', `checkpoint: tensor ${p.name} [${p.shape}] is missing`);
    if (t.shape.join(',') !== p.shape.join(',')) {
      throw new LabError('bad-input', `checkpoint: tensor ${p.name} has shape [${t.shape}] but the model expects [${p.shape}]`);
    }
    params.set(p.name, t);
    file.tensors.delete(p.name);
  }
  return { config, heads, params, extra: file.tensors, metadata };
}
