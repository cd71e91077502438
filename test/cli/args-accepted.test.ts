// The other side of the shared parser (test/cli/hardening.test.ts): every command's documented options are
// accepted and reach the point where the device opens (stubbed here to fail with a marker), so the specs refuse
// nothing a user may write.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lab } from '../../src/cli/lab.ts';
import { LabError } from '../../src/gpu/errors.ts';
import { saveCheckpoint } from '../../src/models/checkpoint.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { smallConfig } from '../train/fixtures.ts';

vi.mock('../../src/gpu/dawn.ts', () => ({
  openDawnDevice: async () => {
    throw new LabError('no-webgpu', 'device stub reached');
  },
}));

let dir: string;
let corpus: string;
let ckpt: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-args-'));
  corpus = join(dir, 'corpus');
  await mkdir(corpus);
  await writeFile(join(corpus, 'manifest.jsonl'), '');
  const config = smallConfig('mamba');
  const heads = { pretrainHead: true };
  const params = new Map(parameterSpecs(config, heads).map((p) => [p.name, { shape: [...p.shape], data: new Float32Array(p.shape.reduce((a, b) => a * b, 1)) }]));
  ckpt = join(dir, 'pre.safetensors');
  await writeFile(ckpt, saveCheckpoint({ config, heads, params, extra: new Map(), metadata: {} }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function reaches(...argv: string[]): Promise<void> {
  let err = '';
  const code = await lab(argv, { out: () => undefined, err: (s) => void (err += s) });
  expect([code, err.trim()], argv.join(' ')).toEqual([1, 'lab: device stub reached']);
}

describe('documented options are accepted', () => {
  it('bench, bench train, device, kernels, selftest', async () => {
    await reaches('bench', '--json', '--models', 'mamba,causal-transformer', '--preset', 'tiny', '--lengths', '10,20,40', '--attention', 'tiled', '--batch', '1', '--reps', '3');
    await reaches('bench', 'train', '--models', 'mamba', '--preset', 'tiny', '--batch', '8', '--seconds', '4', '--reps', '3', '--warmup', '1', '--attention', 'materialised', '--no-profile');
    await reaches('device', '--no-bench', '--no-selftest', '--json');
    await reaches('kernels', '--families', 'matmul,scan', '--json');
    await reaches('selftest', '--json');
  });

  it('train pretrain, finetune and ctc with their options', async () => {
    const out = join(dir, 'run');
    await reaches('train', 'pretrain', '--preset', 'mamba-tiny', '--corpus', corpus, '--out', out, '--steps', '10', '--batch-seconds', '8', '--accumulate', '2',
      '--lr', '5e-4', '--warmup', '2', '--schedule', 'linear', '--clusters', '50', '--mask-prob', '0.65', '--mask-span', '10', '--eval-every', '5', '--save-every', '5',
      '--keep', '2', '--seed', '3', '--max-batch', '4', '--weight-decay', '0.01', '--clip', '10', '--dev-limit', '0', '--kmeans-frames', '1000', '--kmeans-iterations', '5');
    await reaches('train', 'pretrain', '--iteration', '2', '--targets-from', ckpt, '--layer', '1', '--corpus', corpus, '--out', out);
    await reaches('train', 'finetune', '--from', ckpt, '--corpus', corpus, '--out', out, '--freeze-encoder-steps', '0', '--schedule', 'tri-stage', '--hold', '5');
    await reaches('train', 'ctc', '--preset', 'mamba-tiny', '--corpus', corpus, '--out', out, '--resume', '--steps=20', '--json');
    await reaches('train', 'ctc', '--preset', 'mamba-tiny', '--corpus', corpus, '--out', out, '--aux-weight', '0.3', '--clusters', '50', '--kmeans-frames', '1000', '--kmeans-iterations', '5');
    await reaches('train', 'finetune', '--from', ckpt, '--corpus', corpus, '--out', out, '--aux-weight', '0.3');
  });

  it('purity', async () => {
    await reaches('purity', '--models', `${ckpt},random:mamba-tiny:3,mfcc`, '--set', corpus, '--k', '10', '--seed', '1', '--fit-split', 'train', '--eval-split', 'test',
      '--max-frames', '5000', '--iterations', '5', '--utterances', '4', '--no-mfcc', '--cache', join(dir, 'cache'), '--tables');
  });
});
