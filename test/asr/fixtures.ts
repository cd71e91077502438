// Audio and models for the asr tests: public/eval utterances joined into one long file, and random-init CTC models
// of the small training-test width.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Gpu } from '../../src/gpu/device.ts';
import type { EncoderKind, ModelConfig } from '../../src/models/config.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { decodeTo16k } from '../../src/speech/audio.ts';
import { MANIFEST_FILE, parseManifest, type ManifestEntry } from '../../src/speech/manifest.ts';
import { smallConfig } from '../train/fixtures.ts';

export const EVAL = join(import.meta.dirname, '../../public/eval');

export async function evalEntries(): Promise<ManifestEntry[]> {
  return parseManifest(await readFile(join(EVAL, MANIFEST_FILE), 'utf8')).entries;
}

/** The first `n` utterances of public/eval joined end to end (16 kHz). */
export async function joinedEval(n: number): Promise<Float32Array> {
  const parts = await Promise.all((await evalEntries()).slice(0, n).map(async (e) => decodeTo16k(new Uint8Array(await readFile(join(EVAL, e.audio))))));
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** smallConfig(kind), optionally with another extractor norm. */
export function asrConfig(kind: EncoderKind, norm?: 'layer' | 'group'): ModelConfig {
  const c = smallConfig(kind);
  return norm ? { ...c, extractor: { ...c.extractor, norm } } : c;
}

/** A random-init model with only the CTC head. */
export function ctcModel(gpu: Gpu, config: ModelConfig, seed = 3): HubertModel {
  return HubertModel.create(gpu, config, seed, { heads: { ctcHead: true } });
}

/** 16-bit PCM WAV of several channels (interleaved), for stereo input. */
export function encodeWavChannels(channels: Float32Array[], sampleRate: number): Uint8Array {
  const [nc, n] = [channels.length, channels[0].length];
  const out = new Uint8Array(44 + n * nc * 2);
  const v = new DataView(out.buffer);
  const w = (off: number, s: string) => [...s].forEach((ch, i) => (out[off + i] = ch.charCodeAt(0)));
  w(0, 'RIFF');
  v.setUint32(4, 36 + n * nc * 2, true);
  w(8, 'WAVE');
  w(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, nc, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * nc * 2, true);
  v.setUint16(32, nc * 2, true);
  v.setUint16(34, 16, true);
  w(36, 'data');
  v.setUint32(40, n * nc * 2, true);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nc; c++) v.setInt16(44 + (i * nc + c) * 2, Math.max(-32768, Math.min(32767, Math.round(channels[c][i] * 32768))), true);
  }
  return out;
}
