// lab lm, lab transcribe --stream / --beam / --lm, lab eval --lm, lab stream-cost: end to end through the CLI.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import type { ModelConfig } from '../../src/models/config.ts';
import { initialValues } from '../../src/models/init.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { formatManifest, MANIFEST_FILE, parseManifest } from '../../src/speech/manifest.ts';
import { smallConfig } from '../train/fixtures.ts';

const ROOT = join(import.meta.dirname, '../..');
const EVAL = join(ROOT, 'public/eval');

function lab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/lab.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const errorLine = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.startsWith('lab: ')).join('\n');

function checkpoint(config: ModelConfig): Uint8Array {
  const heads = { ctcHead: true };
  const specs = parameterSpecs(config, heads);
  const values = initialValues(specs, config, 5);
  return saveCheckpoint({ config, heads, params: new Map(specs.map((s) => [s.name, { shape: [...s.shape], data: values.get(s.name)! }])), extra: new Map(), metadata: {} });
}

let dir: string, mamba: string, bi: string, wav: string, text: string, lmFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-asr-stream-'));
  mamba = join(dir, 'mamba.safetensors');
  bi = join(dir, 'bi.safetensors');
  await writeFile(mamba, checkpoint(smallConfig('mamba')));
  await writeFile(bi, checkpoint(smallConfig('extbimamba')));
  const { entries } = parseManifest(await readFile(join(EVAL, MANIFEST_FILE), 'utf8'));
  const chosen = [...entries].sort((a, b) => a.samples - b.samples).slice(0, 2);
  wav = join(EVAL, chosen[0].audio);
  await mkdir(join(dir, 'set/wav'), { recursive: true });
  for (const e of chosen) await copyFile(join(EVAL, e.audio), join(dir, 'set', e.audio));
  await writeFile(join(dir, 'set', MANIFEST_FILE), formatManifest(chosen));
  text = join(dir, 'text.txt');
  await writeFile(text, 'The cat sat on the mat. The dog sat on the log!\nA cat and a dog\n');
  lmFile = join(dir, 'lm.json');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lab lm', () => {
  it('builds from a text file or a corpus, scores sentences, refuses bad usage', async () => {
    const r = lab('lm', 'build', '--text', text, '--out', lmFile, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ order: 3, smoothing: 'witten-bell', sentences: 3, tokens: 17, vocabulary: 9 });
    expect(JSON.parse(await readFile(lmFile, 'utf8'))).toMatchObject({ format: 'lab-ngram', version: 1 });
    const s = lab('lm', 'score', '--lm', lmFile, 'the cat sat on the mat', 'mat the on sat cat the', '--json');
    expect(s.status, s.stderr).toBe(0);
    const [good, bad] = JSON.parse(s.stdout).sentences;
    expect(good.logProb).toBeGreaterThan(bad.logProb);
    const c = lab('lm', 'build', '--corpus', EVAL, '--out', join(dir, 'eval-lm.json'), '--order', '2');
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/order 2, \d+ words/);
    // --split keeps to one split's transcripts: public/eval is all test split.
    const t = lab('lm', 'build', '--corpus', EVAL, '--split', 'test', '--out', join(dir, 'test-lm.json'), '--json');
    expect(t.status, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout).sentences).toBe(100);
    let e = lab('lm', 'build', '--corpus', EVAL, '--split', 'train', '--out', join(dir, 'train-lm.json'));
    expect([e.status, errorLine(e)]).toEqual([1, `lab: --corpus ${EVAL}: no utterance in the train split`]);
    // The named texts split as corpus build splits them: kjv by line number, a tenth each for test and dev.
    const k = lab('lm', 'build', '--text', 'kjv', '--split', 'train', '--out', join(dir, 'kjv-lm.json'), '--json');
    expect(k.status, k.stderr).toBe(0);
    const lines = (await readFile('data/kjv-sentences.txt', 'utf8')).split('\n').filter((l) => l.trim());
    expect(JSON.parse(k.stdout)).toMatchObject({ source: 'kjv (train split)', sentences: lines.filter((_, i) => i % 10 > 1).length });
    e = lab('lm', 'build', '--out', join(dir, 'x.json'));
    expect([e.status, errorLine(e)]).toEqual([2, expect.stringMatching(/one of --text kjv,austen,everyday,FILE or --corpus DIR/)]);
    e = lab('lm', 'build', '--text', text);
    expect([e.status, errorLine(e)]).toEqual([2, expect.stringMatching(/--out/)]);
    e = lab('lm', 'build', '--text', text, '--out', join(dir, 'x.json'), '--order', '0');
    expect(e.status).toBe(2);
    e = lab('transcribe', wav, '--model', mamba, '--lm', text);
    expect([e.status, errorLine(e)]).toEqual([1, `lab: --lm ${text}: not JSON`]);
  });
});

describe('lab transcribe --stream, --beam, --lm', () => {
  it('streams with the live recognizer: greedy finals equal the file transcript; chunk stats; refuses a bidirectional model', () => {
    const file = lab('transcribe', wav, '--model', mamba, '--json');
    expect(file.status, file.stderr).toBe(0);
    const f = JSON.parse(file.stdout).files[0];
    const r = lab('transcribe', wav, '--model', mamba, '--stream', '--no-endpoint', '--chunk-ms', '80', '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const s = j.files[0];
    expect(s.text).toBe(f.text);
    expect(s.words).toEqual(f.words);
    expect(s.segments).toHaveLength(s.text ? 1 : 0);
    expect(s.chunks).toMatchObject({ count: Math.ceil((s.seconds * 16000) / 1280), chunkMs: 80, stateBytes: { first: expect.any(Number), last: expect.any(Number) } });
    expect(s.chunks.stateBytes.first).toBe(s.chunks.stateBytes.last);
    expect(s.chunks.latencyMs.mean).toBeGreaterThan(s.chunks.computeMs.mean);
    expect(s.partials.length).toBeGreaterThan(0);
    // Endpointing on (the default) and text output: segments with times and a stats line.
    const t = lab('transcribe', wav, '--model', mamba, '--stream', '--endpoint-ms', '100');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^\[\d+\.\d\d-\d+\.\d\d\] \S/m);
    expect(t.stdout).toMatch(/chunks of 160 ms: compute .* ms mean.*RTF .*state \d+ -> \d+ bytes/);
    const b = lab('transcribe', wav, '--model', bi, '--stream');
    expect([b.status, errorLine(b)]).toEqual([1, expect.stringMatching(/streaming needs a causal model/)]);
    const o = lab('transcribe', wav, '--model', mamba, '--stream', '--offline');
    expect(o.status).toBe(2);
  });

  it('beam search and LM in file transcription and eval; the decoder is reported', async () => {
    expect(lab('lm', 'build', '--text', text, '--out', lmFile).status).toBe(0);
    const r = lab('transcribe', wav, '--model', mamba, '--beam', '4', '--lm', lmFile, '--lm-weight', '0.8', '--word-bonus', '1', '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.decoder).toEqual({ beam: 4, lm: lmFile, lmWeight: 0.8, wordBonus: 1, lexicon: false });
    expect(j.files[0].words.map((w: { word: string }) => w.word).join(' ')).toBe(j.files[0].text);
    const g = lab('eval', '--model', mamba, '--set', join(dir, 'set'), '--lm', lmFile, '--json');
    expect(g.status, g.stderr).toBe(0);
    const e = JSON.parse(g.stdout);
    expect(e.options.decoder).toEqual({ beam: 8, lm: lmFile, lmWeight: 0.5, wordBonus: 0, lexicon: false });
    expect(e.set.utterances).toBe(2);
    expect(e.greedy).toMatchObject({ wer: expect.any(Number), cer: expect.any(Number) });
    expect(e.greedy.words.length).toBe(e.words.length);
    const x = lab('transcribe', wav, '--model', mamba, '--lm-weight', '2');
    expect([x.status, errorLine(x)]).toEqual([2, expect.stringMatching(/act in the beam search/)]);
    // --lexicon: every word written is one of the LM's.
    const k = lab('transcribe', wav, '--model', mamba, '--lm', lmFile, '--lexicon', '--json');
    expect(k.status, k.stderr).toBe(0);
    const kj = JSON.parse(k.stdout);
    expect(kj.decoder).toMatchObject({ beam: 8, lexicon: true });
    const known = new Set(['THE', 'CAT', 'SAT', 'ON', 'MAT', 'DOG', 'LOG', 'A', 'AND']); // the LM's 9 words
    for (const w of kj.files[0].words) expect(known.has(w.word), w.word).toBe(true);
    const n = lab('transcribe', wav, '--model', mamba, '--lexicon');
    expect([n.status, errorLine(n)]).toEqual([2, expect.stringMatching(/--lexicon spells only the words of a language model: give --lm FILE/)]);
  });
});

describe('lab stream-cost', () => {
  it("random mamba and causal transformer: Mamba's state flat, the KV cache growing", () => {
    const r = lab('stream-cost', '--models', 'random:mamba-tiny,random:causal-transformer-tiny', '--minutes', '0.05', '--rows', '3', '--json');
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.models.map((m: { kind: string }) => m.kind)).toEqual(['mamba', 'causal-transformer']);
    const [m, t] = j.models;
    expect(m.rows).toHaveLength(3);
    expect(new Set(m.rows.map((x: { stateBytes: number }) => x.stateBytes)).size).toBe(1);
    expect(t.rows[2].stateBytes).toBeGreaterThan(t.rows[0].stateBytes);
    expect(m.streamSeconds).toBeCloseTo(3.04, 6);
    const e = lab('stream-cost', '--models', 'random:nope-tiny', '--minutes', '0.01');
    expect(e.status).toBe(1);
    expect(errorLine(e)).toMatch(/unknown preset "nope-tiny"/);
  });
});
