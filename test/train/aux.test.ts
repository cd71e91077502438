// CTC with the auxiliary frame loss: the objective is CTC + weight * (the cross-entropy of every frame inside its
// utterance, summed over frames) / utterances. Its gradients are checked against central differences of that
// objective along random directions, on a padded batch of three utterances of different lengths; the CTC head
// takes no gradient from the auxiliary loss; and a run trains, saves and resumes with its k-means targets.
import { describe, expect, it } from 'vitest';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { loadCheckpoint } from '../../src/models/checkpoint.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { decodeSafetensors } from '../../src/models/safetensors.ts';
import { MemoryRunStore } from '../../src/train/checkpoints.ts';
import { TrainingCorpus } from '../../src/train/data.ts';
import { ctcObjective, frameLengths } from '../../src/train/objectives.ts';
import { train, type StepEvent } from '../../src/train/run.ts';
import { checkSettings, defaultSettings } from '../../src/train/settings.ts';
import { testGpu } from '../gpu.ts';
import { evalCorpus, smallConfig } from './fixtures.ts';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('CTC with the auxiliary frame loss', () => {
  it('gradients match central differences of CTC + weight * frame cross-entropy summed per utterance', { timeout: 180_000 }, async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const { corpus } = await TrainingCorpus.open(await evalCorpus(3));
    const batch = (await corpus.batch(corpus.entries))!;
    const config = { ...smallConfig('mamba'), targets: 6 };
    const model = HubertModel.create(gpu, config, seed, { heads: { pretrainHead: true, ctcHead: true } });
    const { lengths } = frameLengths(model, batch);
    expect(new Set(lengths).size).toBe(3); // padding in play
    const rand = seeded(seed);
    const targets = new Map(batch.entries.map((e, i) => [e.id, Uint16Array.from({ length: lengths[i] }, () => Math.floor(rand() * 6))]));
    const weight = 0.7;
    const aux = { targets, weight };
    const objective = async () => {
      const r = await ctcObjective(model, batch, false, { aux });
      expect(r.frames).toBe(lengths.reduce((a, n) => a + n, 0));
      return r.loss + (weight * r.auxLoss! * r.frames!) / lengths.length;
    };
    const gradsOf = async (o: Parameters<typeof ctcObjective>[3]) => {
      gpu.run((enc) => model.params.zeroGrads(enc));
      await ctcObjective(model, batch, true, o);
      return new Map(await Promise.all(model.params.all().map(async (p) => [p.name, p.grad ? await p.grad.read() : new Float32Array(p.value.size)] as const)));
    };
    try {
      const grads = await gradsOf({ aux });
      // ctc_proj sees the CTC loss only: its gradient is the same without the auxiliary loss.
      const ctcOnly = await gradsOf({});
      const g0 = ctcOnly.get('ctc_proj.weight')!;
      const g1 = grads.get('ctc_proj.weight')!;
      const scale = Math.max(...g0.map(Math.abs));
      expect(Math.max(...g1.map((v, i) => Math.abs(v - g0[i]))) / scale, `seed ${seed}`).toBeLessThan(1e-5);
      // The encoder's gradient does change.
      const e0 = ctcOnly.get('encoder.layers.1.mixer.in_proj.weight')!;
      const e1 = grads.get('encoder.layers.1.mixer.in_proj.weight')!;
      expect(Math.max(...e1.map((v, i) => Math.abs(v - e0[i]))) / Math.max(...e0.map(Math.abs)), `seed ${seed}`).toBeGreaterThan(1e-2);

      const names = ['ctc_proj.weight', 'final_proj.weight', 'label_embs_concat', 'encoder.layers.1.mixer.in_proj.weight', 'post_extract_proj.weight', 'feature_extractor.conv_layers.6.0.weight'];
      for (const [k, name] of names.entries()) {
        const p = model.params.all().find((q) => q.name === name)!;
        const base = (await p.value.read()) as Float32Array;
        const v = randomNormal(base.length, seeded(seed + k + 1));
        const analytic = dot(grads.get(name)!, v);
        const central = async (h: number) => {
          gpu.upload(p.value, base.map((x, i) => x + h * v[i]));
          const up = await objective();
          gpu.upload(p.value, base.map((x, i) => x - h * v[i]));
          const down = await objective();
          return (up - down) / (2 * h);
        };
        // Richardson: the central difference's h^2 error cancels between h and h / 2.
        const [a, b] = [await central(2e-3), await central(1e-3)];
        const numeric = (4 * b - a) / 3;
        gpu.upload(p.value, base);
        const norm = Math.sqrt(dot(grads.get(name)!, grads.get(name)!));
        const err = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), norm, 1e-3);
        expect(err, `${name}: analytic ${analytic} vs finite difference ${numeric} (seed ${seed})`).toBeLessThan(3e-2);
      }
    } finally {
      model.release();
    }
  });

  it('a CTC run with the auxiliary loss fits MFCC k-means targets, reports frame accuracy, and resumes with them', { timeout: 180_000 }, async () => {
    const gpu = await testGpu();
    const corpus = await evalCorpus(6);
    const settings = { ...defaultSettings('ctc'), batchSeconds: 6, warmup: 1, evalEvery: 1000, saveEvery: 1000, clusters: 8, kmeansIterations: 3, auxWeight: 0.3 };
    const run = new MemoryRunStore();
    const events: StepEvent[] = [];
    const s1 = await train(gpu, corpus, run, { settings: { ...settings, steps: 2 }, config: smallConfig() }, { onEvent: (e) => e.kind === 'step' && events.push(e) });
    const ck = loadCheckpoint((await run.read(s1.lastCheckpoint!))!);
    expect(ck.heads).toEqual({ pretrainHead: true, ctcHead: true });
    expect(ck.config.targets).toBe(8);
    expect(ck.params.get('label_embs_concat')!.shape).toEqual([8, smallConfig().final_dim]);
    const book = decodeSafetensors((await run.read('targets.safetensors'))!);
    expect(JSON.parse(book.metadata.codebook).source).toBe('mfcc');
    for (const e of events) {
      expect(e.auxLoss!).toBeGreaterThan(0);
      expect(e.auxLoss!).toBeLessThan(Math.log(8) + 1); // near chance at the start: ln 8
      expect(e.accuracy!).toBeGreaterThanOrEqual(0);
      expect(e.accuracy!).toBeLessThanOrEqual(1);
    }
    const targetsBefore = await run.read('targets.safetensors');
    const s2 = await train(gpu, corpus, run, { settings, resume: true, steps: 3 });
    expect(s2.step).toBe(3);
    expect(await run.read('targets.safetensors')).toEqual(targetsBefore); // kept, not refitted

    // CTC --from that checkpoint with the auxiliary loss: the encoder carries over, the frame head starts afresh
    // (its targets are the new run's own k-means clusters).
    const next = new MemoryRunStore();
    const s3 = await train(gpu, corpus, next, { settings: { ...settings, clusters: 5, steps: 1 }, from: (await run.read(s2.lastCheckpoint!))! });
    const after = loadCheckpoint((await next.read(s3.lastCheckpoint!))!);
    expect(after.config.targets).toBe(5);
    expect(after.params.get('label_embs_concat')!.shape).toEqual([5, smallConfig().final_dim]);
  });

  it('refuses the auxiliary loss in pre-training and a negative weight', () => {
    expect(() => checkSettings({ ...defaultSettings('pretrain'), auxWeight: 0.3 })).toThrow(/auxWeight\) belongs to the ctc and finetune stages/);
    expect(() => checkSettings({ ...defaultSettings('ctc'), auxWeight: -1 })).toThrow(/auxWeight must be 0 or more, got -1/);
  });
});
