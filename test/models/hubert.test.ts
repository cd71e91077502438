import { describe, expect, it, vi } from 'vitest';
import { LabError, ShapeError, TooLargeError } from '../../src/gpu/errors.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { crossEntropyRef, logSoftmaxRef, ctcRef } from '../../src/kernels/reference/loss.ts';
import { l2NormalizeRef } from '../../src/kernels/reference/heads.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { readCrossEntropy } from '../../src/kernels/loss.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { ENCODER_KINDS, framesFor, type EncoderKind } from '../../src/models/config.ts';
import { CtcHead, LOGIT_TEMPERATURE, MaskedPredictionHead } from '../../src/models/heads.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { modelGrad, toyConfig } from '../../src/models/checks.ts';
import { loadModel, saveModel } from '../../src/models/load.ts';
import { preset } from '../../src/models/presets.ts';
import { GRAD_TOLERANCE } from '../../src/nn/gradcheck.ts';
import { RandomParameters } from '../../src/nn/random-parameters.ts';
import { testGpu } from '../gpu.ts';

async function run(model: HubertModel, audio: Tensor, opts: Parameters<HubertModel['forward']>[2] = {}) {
  return model.gpu.run((enc) => model.forward({ enc, train: false }, audio, opts));
}

function audioOf(gpu: Awaited<ReturnType<typeof testGpu>>, b: number, samples: number, seed: number): Tensor {
  return gpu.tensor([b, samples], 'f32', randomNormal(b * samples, seeded(seed)), 'audio');
}

describe('HubertModel', () => {
  it('forward gives (b, l, d_model) for all six kinds, and every layer output on request', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    for (const kind of ENCODER_KINDS) {
      const c = toyConfig(kind);
      const model = HubertModel.create(gpu, c, seed);
      const audio = audioOf(gpu, 2, 300, seed);
      const l = framesFor(c, 300);
      const { out, layers } = await run(model, audio, { allLayers: true });
      expect(out.shape, kind).toEqual([2, l, c.d_model]);
      expect(layers!.length, kind).toBe(c.n_layers + 1);
      expect(layers![c.n_layers], kind).toBe(out);
      const v = await out.read();
      expect(v.every(Number.isFinite), `${kind} seed ${seed}`).toBe(true);
      layers!.forEach((t) => t.release());
      audio.release();
      model.release();
    }
  });

  it('early exit after layer k equals layer k of the full forward; k = 0 is the encoder input', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    for (const kind of ['mamba', 'transformer'] as EncoderKind[]) {
      const c = toyConfig(kind, { layers: 3 });
      const model = HubertModel.create(gpu, c, seed);
      const audio = audioOf(gpu, 2, 400, seed);
      const { layers } = await run(model, audio, { allLayers: true });
      const all = await Promise.all(layers!.map((t) => t.read()));
      for (const k of [0, 1, 2, 3]) {
        const { out } = await run(model, audio, { exitAfter: k });
        expect(maxRelError(await out.read(), all[k]), `${kind} k ${k} seed ${seed}`).toBe(0);
        out.release();
      }
      layers!.forEach((t) => t.release());
      audio.release();
      model.release();
    }
  });

  it('a training forward equals the inference forward, and masked frames change only through mask_emb', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const c = toyConfig('mamba');
    const model = HubertModel.create(gpu, c, seed);
    const audio = audioOf(gpu, 2, 300, seed);
    const l = framesFor(c, 300);
    const { out } = await run(model, audio);
    const want = await out.read();
    // An all-zero mask replaces nothing.
    const none = gpu.tensor([2, l], 'f32', new Float32Array(2 * l), 'mask');
    const enc = gpu.encoder();
    const t = model.forward({ enc, train: true }, audio, { mask: none });
    const dy = gpu.zeros(t.out.shape, 'f32', 'dy');
    model.backward({ enc, train: true }, dy);
    enc.submit();
    expect(maxRelError(await t.out.read(), want), `seed ${seed}`).toBeLessThan(1e-6);
    // Masking every frame makes the output independent of the audio.
    const all = gpu.tensor([2, l], 'f32', new Float32Array(2 * l).fill(1), 'mask');
    const other = audioOf(gpu, 2, 300, seed + 7);
    const [a, b] = [await run(model, audio, { mask: all }), await run(model, other, { mask: all })];
    expect(maxRelError(await a.out.read(), await b.out.read()), `seed ${seed}`).toBe(0);
    [out, none, t.out, dy, all, other, a.out, b.out, audio].forEach((x) => x.release());
    model.release();
  });

  it('backward of the whole model matches finite differences (transformer: group norm, same-padded pos conv)', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    expect(await modelGrad(gpu, seed, 'transformer', false), `seed ${seed}`).toBeLessThan(GRAD_TOLERANCE);
  });

  it('the long-input path (extractor in segments) equals the unsegmented forward', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const c = toyConfig('mamba', { hubertStrides: true });
    const whole = HubertModel.create(gpu, c, seed);
    const audio = audioOf(gpu, 2, 7777, seed);
    const { out } = await run(whole, audio);
    const want = await out.read();
    for (const segment of [777, 320, 5000]) {
      const model = new HubertModel(gpu, c, whole.params, { extractorSegment: segment });
      const { out: got } = await run(model, audio);
      expect(maxRelError(await got.read(), want), `segment ${segment} seed ${seed}`).toBeLessThan(1e-5);
      got.release();
    }
    [out, audio].forEach((t) => t.release());
    whole.release();
  });

  it('an extractor intermediate larger than a storage binding raises TooLargeError naming it (group norm)', async () => {
    const gpu = await testGpu();
    const c = toyConfig('transformer');
    const model = HubertModel.create(gpu, c, 1);
    // conv_layers.0 makes 8 channels per 5 samples: 4 bytes * 8 / 5 per sample.
    const samples = Math.ceil((gpu.maxBindingBytes / 32) * 5) + 100;
    const audio = gpu.tensor([1, samples], 'f32', undefined, 'audio');
    const enc = gpu.encoder();
    expect(() => model.forward({ enc, train: false }, audio)).toThrow(TooLargeError);
    expect(() => model.forward({ enc, train: false }, audio)).toThrow(/feature_extractor\.conv_layers\.0 output \[1, \d+, 8\] f32 .* needs .* at most .* \(maxStorageBufferBindingSize\)/);
    expect(enc.length).toBe(0);
    audio.release();
    model.release();
  });

  it('rejects bad input, naming the tensor and its shape', async () => {
    const gpu = await testGpu();
    const c = toyConfig('mamba');
    const model = HubertModel.create(gpu, c, 1);
    const ctcOnly = HubertModel.create(gpu, c, 1, { heads: { ctcHead: true } });
    const audio3 = gpu.tensor([2, 300, 1], 'f32', undefined, 'audio');
    const audio = gpu.tensor([2, 300], 'f32', undefined, 'audio');
    const mask = gpu.tensor([2, 5], 'f32', undefined, 'mask');
    const enc = gpu.encoder();
    expect(() => model.forward({ enc, train: false }, audio3)).toThrow(ShapeError);
    expect(() => model.forward({ enc, train: false }, audio3)).toThrow(/audio audio\[2, 300, 1\]:f32 must be \(b, samples\)/);
    expect(() => model.forward({ enc, train: false }, audio, { exitAfter: 3 })).toThrow(/exitAfter 3 must be an integer in \[0, 2\]/);
    expect(() => model.forward({ enc, train: false }, audio, { mask })).toThrow(/mask mask\[2, 5\]:f32 must be \(b, l\) = \[2, 14\] f32/);
    expect(() => ctcOnly.forward({ enc, train: false }, audio, { mask })).toThrow(/needs the pre-training head/);
    expect(() => model.backward({ enc, train: true }, audio)).toThrow(/backward without a training forward/);
    expect(enc.length).toBe(0);
    expect(() => HubertModel.fromValues(gpu, c, new Map())).toThrow(/parameter feature_extractor\.conv_layers\.0\.0\.weight \[8,1,10\] needs 80 values, got none/);
    [audio3, audio, mask].forEach((t) => t.release());
    model.release();
    ctcOnly.release();
  });
});

describe('heads', () => {
  it('masked prediction: loss equals the CPU cosine-similarity cross-entropy over masked frames', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const rand = seeded(seed);
    const c = toyConfig('mamba');
    const params = new RandomParameters(gpu, seeded(seed + 1));
    const head = new MaskedPredictionHead(params, c);
    const [b, l, rows] = [2, 6, 12];
    const xData = randomNormal(rows * c.d_model, rand);
    const tData = Array.from({ length: rows }, () => Math.floor(rand() * c.targets));
    const mData = Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const x = gpu.tensor([b, l, c.d_model], 'f32', xData, 'x');
    const targets = gpu.tensor([b, l], 'i32', tData, 'targets');
    const mask = gpu.tensor([b, l], 'f32', mData, 'mask');
    const { loss, stats } = gpu.run((enc) => head.forward({ enc, train: false }, x, targets, mask));
    const W = await params.get('final_proj.weight').value.read();
    const bias = await params.get('final_proj.bias').value.read();
    const E = await params.get('label_embs_concat').value.read();
    const proj = matmulRef(xData, W, { batch: 1, M: rows, N: c.final_dim, K: c.d_model, transB: true }, bias);
    const logits = matmulRef(l2NormalizeRef(proj, rows, c.final_dim, 1 / LOGIT_TEMPERATURE), l2NormalizeRef(E, c.targets, c.final_dim), {
      batch: 1,
      M: rows,
      N: c.targets,
      K: c.final_dim,
      transB: true,
    });
    const want = crossEntropyRef(logits, tData, mData, rows, c.targets);
    const got = readCrossEntropy(await stats.read(), c.targets);
    expect(got.count).toBe(4);
    expect(Math.abs((await loss.read())[0] - want.loss) / want.loss, `seed ${seed}`).toBeLessThan(1e-5);
    expect(Math.abs(got.loss - want.loss) / want.loss, `seed ${seed}`).toBeLessThan(1e-5);
    [x, targets, mask, loss, stats].forEach((t) => t.release());
    params.release();
  });

  it('ctc: loss equals the CPU CTC of the log-softmax of ctc_proj, averaged over utterances', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const c = toyConfig('mamba');
    const params = new RandomParameters(gpu, seeded(seed + 1));
    const head = new CtcHead(params, c);
    const [b, T] = [2, 9];
    const xData = randomNormal(b * T * c.d_model, seeded(seed));
    const x = gpu.tensor([b, T, c.d_model], 'f32', xData, 'x');
    const inputs = { targets: [1, 2, 2, 3, 4, 6, 0, 0], inputLengths: [9, 7], targetLengths: [4, 2], S: 4 };
    const { loss, nll } = gpu.run((enc) => head.forward({ enc, train: false }, x, inputs));
    const W = await params.get('ctc_proj.weight').value.read();
    const bias = await params.get('ctc_proj.bias').value.read();
    const lp = logSoftmaxRef(matmulRef(xData, W, { batch: 1, M: b * T, N: c.vocab, K: c.d_model, transB: true }, bias), b * T, c.vocab);
    const want = ctcRef(lp, inputs.targets, inputs.inputLengths, inputs.targetLengths, { b, T, V: c.vocab, S: 4 });
    expect(maxRelError(await nll.read(), want.nll), `seed ${seed}`).toBeLessThan(1e-4);
    expect(Math.abs((await loss.read())[0] - (want.nll[0] + want.nll[1]) / 2) / want.nll[0], `seed ${seed}`).toBeLessThan(1e-4);
    const lpGpu = gpu.run((enc) => head.logProbs({ enc, train: false }, x));
    expect(maxRelError(await lpGpu.read(), lp), `seed ${seed}`).toBeLessThan(1e-4);
    [x, loss, nll, lpGpu].forEach((t) => t.release());
    params.release();
  });

  it('heads reject misshapen input', async () => {
    const gpu = await testGpu();
    const c = toyConfig('mamba');
    const params = new RandomParameters(gpu, seeded(1));
    const x = gpu.tensor([2, 6, 5], 'f32', undefined, 'x');
    const targets = gpu.tensor([12], 'i32', undefined, 'targets');
    const enc = gpu.encoder();
    expect(() => new MaskedPredictionHead(params, c).forward({ enc, train: false }, x, targets)).toThrow(/masked prediction head: input x\[2, 6, 5\] must be \(b, l, d_model=8\)/);
    expect(() => new CtcHead(params, c).logProbs({ enc, train: false }, x)).toThrow(/ctc head: input x\[2, 6, 5\] must be \(b, l, d_model=8\)/);
    expect(() => new MaskedPredictionHead(params, { ...c, targets: 9 })).toThrow(/label_embs_concat is \[5, 6\], the module needs \[9, 6\]/);
    [x, targets].forEach((t) => t.release());
    params.release();
  });
});

describe('checkpoints of a model', () => {
  it('round-trip bit-exactly through safetensors, with extra tensors and metadata', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const c = toyConfig('innbimamba');
    const model = HubertModel.create(gpu, c, seed, { heads: { pretrainHead: true, ctcHead: true } });
    const extra = new Map([['optim.m.mask_emb', { shape: [8], data: randomNormal(8, seeded(seed)) }]]);
    const bytes = await saveModel(model, { extra, metadata: { step: '42' } });
    const { model: back, checkpoint } = loadModel(gpu, bytes, { expected: c });
    expect(back.config).toEqual(c);
    expect(back.heads).toEqual({ pretrainHead: true, ctcHead: true });
    expect(checkpoint.metadata.step).toBe('42');
    expect(Array.from(checkpoint.extra.get('optim.m.mask_emb')!.data)).toEqual(Array.from(extra.get('optim.m.mask_emb')!.data));
    expect(back.params.all().map((p) => p.name)).toEqual(model.params.all().map((p) => p.name));
    for (const p of model.params.all()) {
      const a = new Uint32Array((await p.value.read()).buffer);
      const b = new Uint32Array((await back.params.get(p.name).value.read()).buffer);
      expect(b.findIndex((v, i) => v !== a[i]), `${p.name} seed ${seed}`).toBe(-1);
    }
    model.release();
    back.release();
  });

  it('refuses a damaged or mismatched file before creating anything on the GPU', async () => {
    const gpu = await testGpu();
    const c = toyConfig('mamba');
    const model = HubertModel.create(gpu, c, 3);
    const bytes = await saveModel(model);
    model.release();
    const spy = vi.spyOn(gpu, 'tensor');
    try {
      expect(() => loadModel(gpu, bytes.subarray(0, bytes.length - 9))).toThrow(LabError);
      expect(() => loadModel(gpu, bytes.subarray(0, bytes.length - 9))).toThrow(/tensor .+: data ends at byte \d+ .* truncated/);
      expect(() => loadModel(gpu, bytes, { expected: preset('mamba', 'tiny') })).toThrow(/checkpoint: extractor is .* in the file but the model expects/);
      const bad = bytes.slice();
      bad[20] = 0x00; // inside the JSON header
      expect(() => loadModel(gpu, bad)).toThrow(/not valid JSON|corrupt/);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
