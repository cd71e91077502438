// The checkpoints in public/models: each listed in index.json loads (validated, finite), holds the heads the index
// says, and has its card beside it naming how it was made; a model that transcribes scores on the shipped sets what
// its entry (and card) says, as `lab eval` measured it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { evaluateSet } from '../../src/asr/evaluate.ts';
import { lmFromText } from '../../src/asr/ngram.ts';
import { audioForModel, loadRecognizer, transcribeSamples } from '../../src/asr/transcribe.ts';
import { parseManifest } from '../../src/speech/manifest.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import type { SetScore } from '../../src/workers/checkpoints.ts';
import { testGpu } from '../gpu.ts';

const DIR = join(import.meta.dirname, '../../public/models');
const PUBLIC = join(DIR, '..');

// A set's scores are greedy decoding's as `lab eval --set public/<set>` printed them (the page shows them too).
/** The utterance each transcribing model reads exactly (see the test). */
const EXACT_READS: Record<string, { set: string; id: string }> = {
  'mamba-tiny-ctc.safetensors': { set: 'eval', id: 'eval-000052' }, // AND I DENIED HIM NOT (streamed)
  'mamba-tiny-ctc-long.safetensors': { set: 'eval', id: 'eval-000010' }, // AND THEY DID IT THE SECOND TIME (streamed)
  'extbimamba-tiny-ctc.safetensors': { set: 'heldout', id: 'heldout-000007' }, // AND HE DID IT NOT (SVOX Pico)
};

const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { file: string; card: string; heads: string[]; scores?: Record<string, SetScore> }[];

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

  // The shipped language models (lms.json): each parses as the page reads it, with its card naming how it was built.
  const lms = JSON.parse(readFileSync(join(DIR, 'lms.json'), 'utf8')) as { file: string; card: string; about: string }[];
  for (const l of lms) {
    it(`${l.file} is a language model of this lab, with its card`, () => {
      const lm = lmFromText(readFileSync(join(DIR, l.file), 'utf8'), l.file);
      expect(lm.vocabulary.length).toBeGreaterThan(1000);
      expect(l.about).toContain(lm.vocabulary.length.toLocaleString('en-US'));
      expect(readFileSync(join(DIR, l.card), 'utf8')).toMatch(/lab -- lm build/);
    });
  }

  // A transcribing model reads one utterance of a shipped set exactly, as `lab transcribe FILE --beam 16 --lm
  // public/models/lm-3gram.json --lexicon` reads it (weight 0.5). The utterances are held out (voices, or the engine,
  // never trained on); each is one of the 4 the model reads exactly among the 170 of public/eval and public/heldout,
  // the rest it misreads (its card has the rates). causal-transformer-tiny-ctc reads none exactly, so it has no
  // entry. What must not break is loading, streaming or whole-file transcription, the beam search and the LM.
  const lm = lmFromText(readFileSync(join(DIR, 'lm-3gram.json'), 'utf8'), 'lm-3gram.json');
  for (const [file, read] of Object.entries(EXACT_READS)) {
    it(`${file} reads ${read.id} exactly (beam 16, lm-3gram, its words only)`, { timeout: 120_000 }, async () => {
      expect(index.find((m) => m.file === file)?.heads, 'a shipped transcribing model').toContain('ctc');
      const entry = parseManifest(readFileSync(join(PUBLIC, read.set, 'manifest.jsonl'), 'utf8')).entries.find((e) => e.id === read.id)!;
      const samples = audioForModel(new Uint8Array(readFileSync(join(PUBLIC, read.set, entry.audio)))).samples;
      const { model } = loadRecognizer(await testGpu(), new Uint8Array(readFileSync(join(DIR, file))));
      try {
        const t = await transcribeSamples(model, samples, { decode: { beam: 16, lm, lmWeight: 0.5, lexicon: true } });
        expect(t.text).toBe(entry.text);
      } finally {
        model.release();
      }
    });
  }

  for (const m of index.filter((m) => m.heads.includes('ctc'))) {
    it(`${m.file} scores what its entry says on the shipped sets (greedy, as lab eval runs it)`, { timeout: 600_000 }, async () => {
      expect(Object.keys(m.scores ?? {}).sort(), 'a transcribing model states its scores on eval and heldout').toEqual(['eval', 'heldout']);
      const { model } = loadRecognizer(await testGpu(), new Uint8Array(readFileSync(join(DIR, m.file))));
      try {
        for (const [set, want] of Object.entries(m.scores!)) {
          const dir = join(PUBLIC, set);
          const r = await evaluateSet(model, { name: dir, read: (p) => readFile(join(dir, p)).then((b) => new Uint8Array(b)).catch(() => undefined) });
          expect(r.set.utterances, set).toBe(want.utterances);
          // Within a tenth of a percent: the same frames' argmax can flip on another driver's rounding.
          expect(Math.abs(r.wer - want.wer), `${set} WER ${r.wer}`).toBeLessThan(1e-3);
          expect(Math.abs(r.cer - want.cer), `${set} CER ${r.cer}`).toBeLessThan(1e-3);
          const card = readFileSync(join(DIR, m.card), 'utf8');
          expect(card, `the card gives ${set}'s WER`).toContain(`${(100 * want.wer).toFixed(1)}%`);
          expect(card, `the card gives ${set}'s CER`).toContain(`${(100 * want.cer).toFixed(1)}%`);
        }
      } finally {
        model.release();
      }
    });
  }
});
