// Which models an analysis compares: random initial values of a preset (the baseline), a checkpoint's bytes (from
// a file, OPFS, an upload or the server), and the MFCC reference row. A checkpoint is checked before its weights
// reach the GPU: a damaged file or an encoder kind this lab does not know is refused with the reason.
import type { Gpu } from '../gpu/device.ts';
import { LabError } from '../gpu/errors.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { ENCODER_KINDS, SIZES, type ModelConfig } from '../models/config.ts';
import { HubertModel } from '../models/hubert.ts';
import { presetByName } from '../models/presets.ts';

export type ModelSource =
  | { kind: 'random'; preset: string; seed?: number }
  | { kind: 'checkpoint'; name: string; bytes: Uint8Array }
  | { kind: 'mfcc' };

/** The name a source is shown and exported under. */
export function sourceId(s: ModelSource): string {
  if (s.kind === 'mfcc') return 'mfcc';
  if (s.kind === 'random') return `random:${s.preset}${s.seed === undefined ? '' : `:${s.seed}`}`;
  return s.name;
}

/** "random:mamba-tiny" or "random:mamba-tiny:7" (seed 7); anything else is undefined (a checkpoint path). */
export function parseRandom(spec: string): ModelSource | undefined {
  const m = /^random:([a-z-]+-(?:tiny|small|base))(?::(\d+))?$/.exec(spec);
  if (!spec.startsWith('random:')) return undefined;
  if (!m) throw new LabError('bad-input', `"${spec}": random models are random:<kind>-<size>[:seed], kinds ${ENCODER_KINDS.join(', ')}, sizes ${SIZES.join(', ')}`);
  presetOf(m[1]);
  return { kind: 'random', preset: m[1], seed: m[2] === undefined ? undefined : Number(m[2]) };
}

function presetOf(name: string): ModelConfig {
  try {
    return presetByName(name);
  } catch (e) {
    throw new LabError('bad-input', (e as Error).message);
  }
}

/** SHA-256 of bytes, first 16 hex digits. */
export async function checksum(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  return [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The model's configuration and checksum, without touching the GPU (checkpoints are checked in full here). */
export async function describeSource(s: Exclude<ModelSource, { kind: 'mfcc' }>, seed: number): Promise<{ config: ModelConfig; model: string; checksum: string }> {
  if (s.kind === 'random') {
    const config = presetOf(s.preset);
    return { config, model: s.preset, checksum: await checksum(`random ${JSON.stringify(config)} seed ${s.seed ?? seed}`) };
  }
  const config = checkpointConfig(s.name, s.bytes);
  return { config, model: `${config.kind}-${config.size}`, checksum: await checksum(s.bytes) };
}

/** A checkpoint's configuration, refusing a damaged file or an unknown encoder kind with the reason. */
export function checkpointConfig(name: string, bytes: Uint8Array): ModelConfig {
  let config: ModelConfig;
  try {
    // Parse the header only: the kind decides which parameters the file must hold.
    config = headerConfig(bytes);
  } catch (e) {
    throw new LabError('bad-input', `${name} is not a checkpoint of this lab: ${(e as Error).message}`);
  }
  if (!ENCODER_KINDS.includes(config.kind)) {
    throw new LabError('bad-input', `${name}: encoder kind "${String(config.kind)}" is not one this lab knows (${ENCODER_KINDS.join(', ')}); it cannot be analysed`);
  }
  if (!Array.isArray(config.extractor?.layers) || !(config.n_layers >= 0) || !(config.d_model > 0)) {
    throw new LabError('bad-input', `${name}: its "config" metadata lacks the extractor layers, d_model or n_layers`);
  }
  try {
    loadCheckpoint(bytes);
  } catch (e) {
    throw new LabError('bad-input', `${name}: ${(e as Error).message}`);
  }
  return config;
}

/** The "config" JSON of a safetensors header (8-byte little-endian length, then the JSON header). */
function headerConfig(bytes: Uint8Array): ModelConfig {
  if (bytes.length < 8) throw new Error('the file is shorter than a safetensors header');
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (!(n > 1) || 8 + n > bytes.length) throw new Error('not a safetensors file (bad header length)');
  let header: { __metadata__?: Record<string, string> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new Error('not a safetensors file (the header is not JSON)');
  }
  const text = header.__metadata__?.config;
  if (!text) throw new Error('no "config" in its metadata');
  try {
    return JSON.parse(text) as ModelConfig;
  } catch {
    throw new Error('its "config" metadata is not valid JSON');
  }
}

/** The model on the GPU (inference only; the caller releases it). */
export function buildModel(gpu: Gpu, s: Exclude<ModelSource, { kind: 'mfcc' }>, seed: number): HubertModel {
  if (s.kind === 'random') return HubertModel.create(gpu, presetOf(s.preset), s.seed ?? seed);
  const ck = loadCheckpoint(s.bytes);
  return HubertModel.fromValues(gpu, ck.config, new Map([...ck.params].map(([name, t]) => [name, t.data])), { heads: ck.heads });
}
