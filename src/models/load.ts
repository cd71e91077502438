// Model <-> checkpoint: a HubertModel's configuration, weights (read back from the GPU) and optional extra
// tensors (optimiser moments, ...) as a safetensors checkpoint, and back. Loading validates the whole file
// (checkpoint.ts) before anything is created on the GPU, so a damaged file never half-loads.
import type { Gpu } from '../gpu/device.ts';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.ts';
import type { ModelConfig } from './config.ts';
import { HubertModel, type HubertOptions } from './hubert.ts';
import type { NamedTensor } from './safetensors.ts';

export interface SaveOptions {
  /** Extra tensors stored alongside the weights (e.g. "optim.m.<name>"). */
  extra?: Map<string, NamedTensor>;
  metadata?: Record<string, string>;
}

/** The model's configuration and current weights (read from the GPU) as a Checkpoint. */
export async function modelCheckpoint(model: HubertModel, opts: SaveOptions = {}): Promise<Checkpoint> {
  const params = new Map<string, NamedTensor>();
  for (const p of model.params.all()) params.set(p.name, { shape: [...p.value.shape], data: (await p.value.read()) as Float32Array });
  return { config: model.config, heads: model.heads, params, extra: opts.extra ?? new Map(), metadata: opts.metadata ?? {} };
}

/** The safetensors bytes of the model (configuration, weights, extras). */
export async function saveModel(model: HubertModel, opts: SaveOptions = {}): Promise<Uint8Array> {
  return saveCheckpoint(await modelCheckpoint(model, opts));
}

export interface LoadedModel {
  model: HubertModel;
  checkpoint: Checkpoint;
}

/**
 * A model from checkpoint bytes: the file is decoded and checked against its schema (and against `expected`
 * when given) first; only then are the weights uploaded. Options other than the heads (which the file names)
 * apply to the new model.
 */
export function loadModel(gpu: Gpu, bytes: Uint8Array, opts: { expected?: ModelConfig } & Omit<HubertOptions, 'heads'> = {}): LoadedModel {
  const { expected, ...options } = opts;
  const checkpoint = loadCheckpoint(bytes, expected);
  const values = new Map([...checkpoint.params].map(([name, t]) => [name, t.data]));
  const model = HubertModel.fromValues(gpu, checkpoint.config, values, { ...options, heads: checkpoint.heads });
  return { model, checkpoint };
}
