// transcribe, eval, lm and stream-cost: every documented option is accepted up to the device (stubbed), and a
// misspelt one is a usage error.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NgramLm } from '../../src/asr/ngram.ts';
import { lab } from '../../src/cli/lab.ts';
import { LabError } from '../../src/gpu/errors.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { MANIFEST_FILE, parseManifest } from '../../src/speech/manifest.ts';
import { smallConfig } from '../train/fixtures.ts';

vi.mock('../../src/gpu/dawn.ts', () => ({
  openDawnDevice: async () => {
    throw new LabError('no-webgpu', 'device stub reached');
  },
}));

const EVAL = join(import.meta.dirname, '../../public/eval');
let dir: string, ckpt: string, lmFile: string, wav: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-asr-args-'));
  const config = smallConfig('mamba');
  const heads = { ctcHead: true };
  const params = new Map(parameterSpecs(config, heads).map((p) => [p.name, { shape: [...p.shape], data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) }]));
  ckpt = join(dir, 'ctc.safetensors');
  await writeFile(ckpt, saveCheckpoint({ config, heads, params, extra: new Map(), metadata: {} }));
  lmFile = join(dir, 'lm.json');
  await writeFile(lmFile, JSON.stringify(NgramLm.build(['a cat sat']).toJSON()));
  const { entries } = parseManifest(await readFile(join(EVAL, MANIFEST_FILE), 'utf8'));
  wav = join(EVAL, entries[0].audio);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<[number, string]> {
  let err = '';
  const code = await lab(argv, { out: () => undefined, err: (s) => void (err += s) });
  return [code, err.trim()];
}

describe('asr options', () => {
  it('transcribe, eval and stream-cost accept their documented options', async () => {
    const stub = [1, 'lab: device stub reached'];
    expect(await run('transcribe', wav, '--model', ckpt, '--json', '--stream', '--chunk-ms', '80', '--beam', '8', '--lm', lmFile, '--lm-weight', '0.5', '--word-bonus', '1', '--endpoint-ms', '500')).toEqual(stub);
    expect(await run('transcribe', wav, wav, '--model', ckpt, '--stream', '--no-endpoint')).toEqual(stub);
    expect(await run('transcribe', wav, '--model', ckpt, '--offline', '--window', '10', '--overlap', '2', '--beam', '4')).toEqual(stub);
    expect(await run('eval', '--model', ckpt, '--set', EVAL, '--limit', '2', '--worst', '1', '--chunk-ms', '160', '--beam', '8', '--lm', lmFile, '--lm-weight', '0.7', '--word-bonus', '0.5', '--no-warmup', '--json')).toEqual(stub);
    expect(await run('stream-cost', '--models', `random:mamba-tiny,${ckpt}`, '--minutes', '0.1', '--chunk-ms', '160', '--file', wav, '--state-limit-mb', '8', '--max-wall-s', '30', '--rows', '5', '--points', '--seed', '2', '--json')).toEqual(stub);
  });

  it('misspelt options and bad values are usage errors (exit 2)', async () => {
    const [code, line] = await run('transcribe', wav, '--model', ckpt, '--bem', '8');
    expect([code, line]).toEqual([2, expect.stringMatching(/unknown option --bem \(did you mean --beam\?\)/)]);
    expect((await run('eval', '--model', ckpt, '--set', EVAL, '--lm-wieght', '1'))[0]).toBe(2);
    expect(await run('transcribe', wav, '--model', ckpt, '--beam', '2.5')).toEqual([2, expect.stringMatching(/--beam must be a whole number/)]);
    expect((await run('transcribe', wav, '--model', ckpt, '--stream', 'yes'))[0]).toBe(1); // "yes" is a second file: no such file
    expect(await run('stream-cost', '--minutes', '0')).toEqual([2, expect.stringMatching(/--minutes needs a number > 0/)]);
    expect(await run('lm', 'build', '--text', join(dir, 'none.txt'), '--out', join(dir, 'x.json'))).toEqual([1, expect.stringContaining(join(dir, 'none.txt'))]);
    expect((await run('lm', 'score', '--out', 'x'))[0]).toBe(2);
  });
});
