// The checkpoints in public/models: each listed in index.json loads (validated, finite), holds the heads the index
// says, and has its card beside it naming how it was made.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';

const DIR = join(import.meta.dirname, '../../public/models');
const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { file: string; card: string; heads: string[] }[];

describe('shipped models', () => {
  it('the index lists at least one model, each with its file, card and heads', () => {
    expect(index.length).toBeGreaterThan(0);
    for (const m of index) {
      expect(existsSync(join(DIR, m.file)), m.file).toBe(true);
      expect(existsSync(join(DIR, m.card)), m.card).toBe(true);
      expect(m.heads.length, m.file).toBeGreaterThan(0);
    }
  });

  for (const m of index) {
    it(`${m.file} loads with the heads its entry names, and its card gives the recipe`, () => {
      const c = loadCheckpoint(new Uint8Array(readFileSync(join(DIR, m.file))));
      expect(c.extra.size).toBe(0);
      const heads = [c.heads.pretrainHead && 'pretrain', c.heads.ctcHead && 'ctc'].filter(Boolean);
      expect(heads).toEqual(m.heads);
      for (const t of c.params.values()) expect(t.data.every(Number.isFinite)).toBe(true);
      const card = readFileSync(join(DIR, m.card), 'utf8');
      expect(card).toContain(`--preset ${c.config.kind}-${c.config.size}`);
      expect(card).toMatch(/corpus build/);
    });
  }
});
