// Faults during training: each gets a clear message and no good checkpoint is lost.
import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../../src/train/optimizer.ts';
import { MemoryRunStore } from '../../src/train/checkpoints.ts';
import { train, type TrainEvent } from '../../src/train/run.ts';
import { defaultSettings } from '../../src/train/settings.ts';
import { formatManifest, MANIFEST_FILE, parseManifest } from '../../src/speech/manifest.ts';
import { encodeWav16 } from '../../src/speech/wav.ts';
import { bytesOf, MemoryStore, textOf } from '../../src/speech/store.ts';
import { preset } from '../../src/models/presets.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from './fixtures.ts';

const quick = { ...defaultSettings('ctc'), steps: 2, batchSeconds: 4, warmup: 1, evalEvery: 1000, saveEvery: 1 };

describe('training refuses bad input clearly and loses nothing', () => {
  it('skips and reports an utterance whose audio does not decode, and trains on the rest', async () => {
    const corpus = await evalCorpus(4);
    const { entries } = parseManifest(textOf(await corpus.read(MANIFEST_FILE))!);
    await corpus.write(entries[1].audio, bytesOf('RIFF, but not really'));
    const notes: string[] = [];
    const s = await train(await testGpu(), corpus, new MemoryRunStore(), { settings: quick, config: smallConfig() }, { onEvent: (e: TrainEvent) => e.kind === 'note' && notes.push(e.message) });
    expect(s.step).toBe(2);
    expect(s.skipped.map((x) => x.id)).toEqual([entries[1].id]);
    expect(notes.some((n) => n.startsWith(`skipped ${entries[1].id}: ${entries[1].audio}:`))).toBe(true);
  });

  it('says what a corpus lacks', async () => {
    const gpu = await testGpu();
    const run = (store: MemoryStore) => train(gpu, store, new MemoryRunStore(), { settings: quick, config: smallConfig() });
    await expect(run(new MemoryStore())).rejects.toThrow(/no manifest.jsonl here/);
    const empty = new MemoryStore();
    await empty.write(MANIFEST_FILE, bytesOf('\n'));
    await expect(run(empty)).rejects.toThrow(/lists no utterance/);
  });

  it('names the tensor, the limit and a batch size that fits when a batch is too large for the device', async () => {
    const gpu = await testGpu();
    const store = new MemoryStore();
    // Long enough that the first conv layer's output (3200 frames x 32 channels per second, f32) exceeds the device's binding limit.
    const seconds = Math.ceil(gpu.maxBindingBytes / (3200 * 32 * 4)) + 1;
    const samples = new Float32Array(16000 * seconds).map((_, i) => 0.1 * Math.sin(i / 7));
    await store.write('long.wav', encodeWav16(samples, 16000));
    const entry = { id: 'long', audio: 'long.wav', samples: samples.length, duration: seconds, sample_rate: 16000, speaker: 's', text: 'A' };
    await store.write(MANIFEST_FILE, bytesOf(formatManifest([entry])));
    const settings = { ...quick, batchSeconds: seconds + 1 };
    const err = await train(gpu, store, new MemoryRunStore(), { settings, config: smallConfig() }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      new RegExp(`conv1d.out \\[1, \\d+, 32\\] f32, for a batch of 1 x ${seconds}\\.0 s \\(an utterance this long does not fit: .*\\) needs .* but this device allows at most`),
    );
  });

  it('stops on a non-finite loss naming the update, and keeps the last good checkpoint', async () => {
    const store = new MemoryRunStore();
    const settings = { ...quick, steps: 4, lr: 1e30, maxGradNorm: 0 };
    const err = await train(await testGpu(), await evalCorpus(4), store, { settings, config: smallConfig() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    const step = Number(/update (\d+)/.exec((err as Error).message)?.[1]);
    expect(step).toBeGreaterThan(1);
    const saved = (await store.list()).filter((n) => n.startsWith('step-'));
    expect(saved).toContain(`step-${String(step - 1).padStart(7, '0')}.safetensors`);
    expect(saved).not.toContain(`step-${String(step).padStart(7, '0')}.safetensors`);
  });

  it('refuses a corrupt checkpoint to fine-tune from, and a resume with another preset', async () => {
    const gpu = await testGpu();
    const corpus = await evalCorpus(2);
    const ft = { ...defaultSettings('finetune'), steps: 1, batchSeconds: 4 };
    await expect(train(gpu, corpus, new MemoryRunStore(), { settings: ft, from: bytesOf('not a checkpoint at all') })).rejects.toThrow(/safetensors|checkpoint/);
    const store = new MemoryRunStore();
    await train(gpu, corpus, store, { settings: { ...quick, steps: 1 }, config: smallConfig() });
    await expect(train(gpu, corpus, store, { settings: quick, config: preset('transformer', 'tiny'), resume: true })).rejects.toThrow(
      /holds a mamba-tiny run, not transformer-tiny/,
    );
  });
});
