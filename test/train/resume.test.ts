import { describe, expect, it } from 'vitest';
import { MemoryRunStore } from '../../src/train/checkpoints.ts';
import { train, type StepEvent, type TrainEvent } from '../../src/train/run.ts';
import { defaultSettings, type Stage } from '../../src/train/settings.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from './fixtures.ts';

/** Losses by update of a run, stopping (as Ctrl-C does) after update `stopAfter` when given. */
async function run(stage: Stage, store: MemoryRunStore, steps: number, opts: { stopAfter?: number; resume?: boolean } = {}) {
  const gpu = await testGpu();
  const corpus = await evalCorpus(6);
  const settings = { ...defaultSettings(stage), steps, batchSeconds: 6, warmup: 2, evalEvery: 1000, saveEvery: 1000, clusters: 8, kmeansIterations: 3, seed: 11 };
  const losses = new Map<number, number>();
  const controller = new AbortController();
  const onEvent = (e: TrainEvent) => {
    if (e.kind !== 'step') return;
    losses.set(e.step, (e as StepEvent).loss);
    if (e.step === opts.stopAfter) controller.abort();
  };
  const summary = await train(gpu, corpus, store, { settings, config: smallConfig(), resume: opts.resume }, { onEvent, signal: controller.signal });
  return { losses, summary };
}

describe('a killed run resumes as if it had never stopped', () => {
  for (const stage of ['ctc', 'pretrain'] as const) {
    it(`${stage}: stop after update 2, resume, and the losses of updates 3-5 equal the uninterrupted run's`, async () => {
      const whole = await run(stage, new MemoryRunStore(), 5);
      const store = new MemoryRunStore();
      const first = await run(stage, store, 5, { stopAfter: 2 });
      expect(first.summary.stopped).toBe(true);
      expect(first.summary.step).toBe(2);
      expect(await store.list()).toContain('step-0000002.safetensors');
      const rest = await run(stage, store, 5, { resume: true });
      expect(rest.summary.step).toBe(5);
      expect([...rest.losses.keys()]).toEqual([3, 4, 5]);
      for (const [step, loss] of rest.losses) expect(Math.abs(loss - whole.losses.get(step)!), `update ${step}`).toBeLessThan(1e-4 * Math.abs(loss));
      expect(first.losses.get(2)).toBeCloseTo(whole.losses.get(2)!, 5);
    });
  }

  it('refuses to start a new run over a folder that holds checkpoints, and to resume from an empty one', async () => {
    const store = new MemoryRunStore();
    await run('ctc', store, 1);
    await expect(run('ctc', store, 2)).rejects.toThrow(/already holds checkpoints: pass --resume/);
    await expect(run('ctc', new MemoryRunStore(), 2, { resume: true })).rejects.toThrow(/holds no checkpoint/);
  });
});
