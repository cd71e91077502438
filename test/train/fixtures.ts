// Small corpora and models for training tests: the first utterances of public/eval in a MemoryStore, and a
// model small enough to train for hundreds of updates in a test.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { preset } from '../../src/models/presets.ts';
import type { ModelConfig, EncoderKind } from '../../src/models/config.ts';
import { formatManifest, MANIFEST_FILE, parseManifest } from '../../src/speech/manifest.ts';
import { bytesOf, MemoryStore } from '../../src/speech/store.ts';

const EVAL = join(import.meta.dirname, '../../public/eval');

/** The `n` shortest utterances of public/eval (split "test", about 1 s each) as a corpus in memory. */
export async function evalCorpus(n: number): Promise<MemoryStore> {
  const { entries } = parseManifest(await readFile(join(EVAL, MANIFEST_FILE), 'utf8'));
  const store = new MemoryStore();
  const chosen = [...entries].sort((a, b) => a.samples - b.samples || (a.id < b.id ? -1 : 1)).slice(0, n);
  for (const e of chosen) await store.write(e.audio, new Uint8Array(await readFile(join(EVAL, e.audio))));
  await store.write(MANIFEST_FILE, bytesOf(formatManifest(chosen)));
  return store;
}

/** A model of `kind` with HuBERT's extractor strides (20 ms frames) at a small width: 32 channels, d_model 64, 2 layers. */
export function smallConfig(kind: EncoderKind = 'mamba'): ModelConfig {
  const base = preset(kind, 'tiny');
  const c = 32;
  return {
    ...base,
    extractor: { ...base.extractor, layers: [[c, 10, 5], [c, 3, 2], [c, 3, 2], [c, 3, 2], [c, 3, 2], [c, 2, 2], [c, 2, 2]] },
    d_model: 64,
    n_layers: 2,
    ffn: base.ffn ? 96 : 0,
    h: 2,
    d_state: 8,
    expand: 2,
    dt_rank: 4,
    pos_conv: { ...base.pos_conv, kernel: 16, groups: 4 },
    final_dim: 32,
  };
}
