import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import type { ModelConfig } from '../../src/models/config.ts';
import { initialValues } from '../../src/models/init.ts';
import { parameterSpecs, type ParameterOptions } from '../../src/models/parameters.ts';
import { MANIFEST_FILE, parseManifest, formatManifest } from '../../src/speech/manifest.ts';
import { smallConfig } from '../train/fixtures.ts';

const ROOT = join(import.meta.dirname, '../..');
const EVAL = join(ROOT, 'public/eval');

/** `lab ...` as the npm script runs it; status, stdout, stderr. */
function lab(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/lab.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one `lab: ...` line of a failure (Dawn's warnings aside); no stack trace. */
function errorLine(r: { stderr: string }): string {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('lab: '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0];
}

function checkpoint(config: ModelConfig, heads: ParameterOptions): Uint8Array {
  const specs = parameterSpecs(config, heads);
  const values = initialValues(specs, config, 5);
  return saveCheckpoint({ config, heads, params: new Map(specs.map((s) => [s.name, { shape: [...s.shape], data: values.get(s.name)! }])), extra: new Map(), metadata: {} });
}

let dir: string;
let ctc: string, pre: string, broken: string, wavA: string, wavB: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-asr-'));
  [ctc, pre, broken] = ['ctc', 'pre', 'broken'].map((n) => join(dir, `${n}.safetensors`));
  await writeFile(ctc, checkpoint(smallConfig('mamba'), { ctcHead: true }));
  await writeFile(pre, checkpoint(smallConfig('mamba'), { pretrainHead: true }));
  await writeFile(broken, (await readFile(ctc)).subarray(0, 5000));
  const { entries } = parseManifest(await readFile(join(EVAL, MANIFEST_FILE), 'utf8'));
  const chosen = [...entries].sort((a, b) => a.samples - b.samples).slice(0, 3);
  [wavA, wavB] = chosen.slice(0, 2).map((e) => join(EVAL, e.audio));
  // A corpus-style set (manifest.jsonl) and a plain folder (manifest.tsv) of the same 3 utterances.
  await mkdir(join(dir, 'jsonl/wav'), { recursive: true });
  await mkdir(join(dir, 'tsv/clips'), { recursive: true });
  for (const e of chosen) {
    await copyFile(join(EVAL, e.audio), join(dir, 'jsonl', e.audio));
    await copyFile(join(EVAL, e.audio), join(dir, 'tsv/clips', `${e.id}.wav`));
  }
  await writeFile(join(dir, 'jsonl', MANIFEST_FILE), formatManifest(chosen));
  await writeFile(join(dir, 'tsv/manifest.tsv'), ['id\twav_relative_path\ttranscript', ...chosen.map((e) => `${e.id}\tclips/${e.id}.wav\t${e.text}`)].join('\n') + '\n');
  await mkdir(join(dir, 'empty'));
  await mkdir(join(dir, 'none'));
  await writeFile(join(dir, 'empty/manifest.tsv'), 'id\twav_relative_path\ttranscript\n');
  await writeFile(join(dir, 'bad.wav'), 'RIFF1234WAVEnothing here');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lab transcribe', () => {
  it('prints each file\'s text, and in JSON its words with times from the CTC spikes', () => {
    const r = lab('transcribe', wavA, wavB, '--model', ctc, '--json', '--chunk-ms', '80');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toMatchObject({ kind: 'mamba', streams: true });
    expect(out.files).toHaveLength(2);
    for (const f of out.files) {
      expect(f.method).toMatchObject({ mode: 'stream', chunkSamples: 1280 });
      expect(f.words.map((w: { word: string }) => w.word).join(' ')).toBe(f.text);
      for (const w of f.words) expect(0 <= w.start && w.start < w.end && w.end <= f.seconds + 0.02).toBe(true);
      expect(f.input).toMatchObject({ sampleRate: 16000, channels: 1 });
    }
    const text = lab('transcribe', wavA, wavB, '--model', ctc, '--offline');
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout.trim().split('\n')).toEqual(out.files.map((f: { file: string; text: string }) => `${f.file}: ${f.text}`));
  });

  it('usage errors exit 2; missing or broken inputs exit 1 with one line naming them', () => {
    let r = lab('transcribe', '--model', ctc);
    expect([r.status, errorLine(r)]).toEqual([2, expect.stringMatching(/^lab: transcribe needs at least one audio file/)]);
    r = lab('transcribe', wavA);
    expect([r.status, errorLine(r)]).toEqual([2, expect.stringMatching(/^lab: --model CKPT is needed/)]);
    r = lab('transcribe', wavA, '--model', ctc, '--chunk-ms', '0');
    expect([r.status, errorLine(r)]).toEqual([2, 'lab: --chunk-ms must be positive']);
    r = lab('transcribe', join(dir, 'nope.wav'), '--model', ctc);
    expect([r.status, errorLine(r)]).toEqual([1, `lab: ${join(dir, 'nope.wav')}: no such file`]);
    r = lab('transcribe', join(dir, 'bad.wav'), '--model', ctc);
    expect([r.status, errorLine(r)]).toEqual([1, expect.stringMatching(new RegExp(`^lab: ${join(dir, 'bad.wav')}: `))]);
    r = lab('transcribe', wavA, '--model', join(dir, 'nope.safetensors'));
    expect([r.status, errorLine(r)]).toEqual([1, `lab: --model ${join(dir, 'nope.safetensors')}: no such file`]);
    r = lab('transcribe', wavA, '--model', broken);
    expect([r.status, errorLine(r)]).toEqual([1, expect.stringMatching(new RegExp(`^lab: --model ${broken}: .*truncated`))]);
    r = lab('transcribe', wavA, '--model', pre);
    expect([r.status, errorLine(r)]).toEqual([1, `lab: --model ${pre}: this is a pre-trained model (no CTC head); fine-tune it first (\`lab train finetune --from CKPT ...\`)`]);
  });
});

describe('lab eval', () => {
  it('scores a corpus folder and a manifest.tsv folder alike: WER, CER, S/D/I, RTF, speakers, worst', () => {
    const a = lab('eval', '--model', ctc, '--set', join(dir, 'jsonl'), '--json', '--worst', '2');
    expect(a.status, a.stderr).toBe(0);
    const j = JSON.parse(a.stdout);
    expect(j.set).toMatchObject({ dir: join(dir, 'jsonl'), file: 'manifest.jsonl', utterances: 3 });
    expect(j.words.substitutions + j.words.deletions + j.words.insertions).toBe(Math.round(j.wer * j.words.length));
    expect(j.rtf).toBeGreaterThan(0);
    expect(j.speakers.reduce((s: number, r: { utterances: number }) => s + r.utterances, 0)).toBe(3);
    expect(j.worst).toHaveLength(2);
    const b = lab('eval', '--model', ctc, '--set', join(dir, 'tsv'), '--limit', '2');
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/: 2 of 3 utterances, /);
    expect(b.stdout).toMatch(/^WER \d+\.\d% +\(\d+ substitutions, \d+ deletions, \d+ insertions in \d+ words\)$/m);
    expect(b.stdout).toMatch(/^RTF \d+\.\d+ /m);
    expect(b.stdout).toMatch(/per speaker:\n\s+speaker +utts/);
  });

  it('usage errors exit 2; a missing, empty or unrecognised set exits 1 with one line', () => {
    let r = lab('eval', '--model', ctc);
    expect([r.status, errorLine(r)]).toEqual([2, expect.stringMatching(/^lab: --set DIR is needed/)]);
    r = lab('eval', '--model', ctc, '--set', join(dir, 'tsv'), '--limit', '0');
    expect([r.status, errorLine(r)]).toEqual([2, 'lab: --limit must be a whole number of at least 1']);
    r = lab('eval', '--model', ctc, '--set', join(dir, 'nowhere'));
    expect([r.status, errorLine(r)]).toEqual([1, `lab: --set ${join(dir, 'nowhere')}: no such folder`]);
    r = lab('eval', '--model', ctc, '--set', join(dir, 'none'));
    expect([r.status, errorLine(r)]).toEqual([1, expect.stringMatching(new RegExp(`^lab: ${join(dir, 'none')}: neither manifest\\.jsonl nor manifest\\.tsv here`))]);
    r = lab('eval', '--model', ctc, '--set', join(dir, 'empty'));
    expect([r.status, errorLine(r)]).toEqual([1, `lab: ${join(dir, 'empty')}/manifest.tsv lists no utterance: the set is empty`]);
    r = lab('eval', '--model', pre, '--set', join(dir, 'tsv'));
    expect([r.status, errorLine(r)]).toEqual([1, expect.stringMatching(/this is a pre-trained model \(no CTC head\); fine-tune it first/)]);
  });
});
