// Model-level checks on toy configurations: each head's backward, every encoder kind's whole backward through
// each head's loss, a padded batch == its utterances alone for every kind, and streaming == offline for the causal kinds, against finite differences (nn/gradcheck.ts's
// policy) or the offline forward. With the module checks (nn/checks.ts) they make the registry that runs after
// the kernel checks: in vitest, `lab selftest` and on the Device page.
import type { Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { Check } from '../kernels/check.ts';
import { maxRelError } from '../kernels/compare.ts';
import { add } from '../kernels/elementwise.ts';
import type { CtcInputs } from '../kernels/loss.ts';
import { randomNormal, seeded } from '../kernels/random.ts';
import { moduleChecks, randomTensor } from '../nn/checks.ts';
import { GRAD_TOLERANCE, WHOLE_MODEL_STEPS, worstGradError } from '../nn/gradcheck.ts';
import { ParameterSet, type Pass } from '../nn/module.ts';
import { RandomParameters } from '../nn/random-parameters.ts';
import { ENCODER_KINDS, framesFor, isCausal, type EncoderKind, type ModelConfig } from './config.ts';
import { CtcHead, MaskedPredictionHead } from './heads.ts';
import { HubertModel } from './hubert.ts';
import { startStream, streamStep } from './streaming.ts';

/**
 * A toy configuration of `kind`: 8 channels, d_model 8, 2 layers. `hubertStrides`: HuBERT's extractor strides
 * (hop 320, as the presets); otherwise 3 layers with hop 20, so that a few hundred samples make several frames.
 */
export function toyConfig(kind: EncoderKind, opts: { hubertStrides?: boolean; layers?: number } = {}): ModelConfig {
  const c = 8;
  const transformer = kind === 'transformer' || kind === 'causal-transformer';
  return {
    kind,
    size: 'tiny',
    extractor: {
      layers: opts.hubertStrides
        ? [[c, 10, 5], [c, 3, 2], [c, 3, 2], [c, 3, 2], [c, 3, 2], [c, 2, 2], [c, 2, 2]]
        : [[c, 10, 5], [c, 3, 2], [c, 2, 2]],
      norm: isCausal(kind) ? 'layer' : 'group',
    },
    d_model: 8,
    n_layers: opts.layers ?? 2,
    ffn: transformer ? 12 : kind === 'mamba-mlp' ? 6 : 0,
    h: 2,
    d_state: 3,
    d_conv: 4,
    expand: 2,
    dt_rank: 2,
    pos_conv: { kernel: 4, groups: 2, padding: isCausal(kind) ? 'causal' : 'same' },
    final_dim: 6,
    targets: 5,
    vocab: 7,
  };
}

/**
 * Finite differences through a whole model: behind two post-LN Mamba blocks the A_log and dt gradients can be
 * ~1e-3, at the floor of the error's scale, where the float32 noise of the loss (through the cosine logits'
 * temperature) still leaves a few tenths of a percent at the best step of WHOLE_MODEL_STEPS: up to 6.2e-3 seen
 * over 7 seeds of every kind and head (10 for mamba-mlp); the encoder-only check saw 1.3e-2 once, with the
 * initialisation's near-zero dt. A wrong backward is off by tens of percent.
 */
const MODEL_GRAD_TOLERANCE = 3e-2;
/** Streaming vs offline: the same kernels on differently cut inputs; float32 reassociation only. */
export const STREAM_TOLERANCE = 1e-4;

/** A (rows) 0/1 frame mask with about 40% masked, at least one frame masked. */
function randomMask(rows: number, rand: () => number): number[] {
  const m = Array.from({ length: rows }, () => (rand() < 0.4 ? 1 : 0));
  m[0] = 1;
  return m;
}

/** The output weighting r that gradCheck draws for a 1-element output (its first draw from the seed): a loss head's dy. */
function lossDirection(seed: number): number {
  return randomNormal(1, seeded(seed))[0];
}

type HeadKind = 'pretrain' | 'ctc';

/** A head with its training inputs for frames (b = 2, l): the loss of x and its backward. */
interface LossHead {
  /** The pre-training head's frame mask, for the model's mask_emb too. */
  mask?: Tensor;
  loss(pass: Pass, x: Tensor): Tensor;
  backward(pass: Pass, gscale: number): Tensor;
  release(): void;
}

/**
 * 'pretrain': the masked-prediction head, a random frame mask and k-means targets, the masked cross-entropy;
 * 'ctc': the CTC head, the CTC loss of 4 characters with a repeat (a blank between) over l frames and of 2 over
 * l - 2 frames.
 */
function lossHead(gpu: Gpu, params: ParameterSet, c: ModelConfig, kind: HeadKind, l: number, rand: () => number): LossHead {
  const b = 2;
  if (kind === 'ctc') {
    const head = new CtcHead(params, c);
    const inputs: CtcInputs = { targets: [1, 2, 2, 3, 4, 6, 0, 0], inputLengths: [l, l - 2], targetLengths: [4, 2], S: 4 };
    return {
      loss(pass, x) {
        const { loss, nll } = head.forward(pass, x, inputs);
        pass.enc.releaseAfter(nll);
        return loss;
      },
      backward: (pass, gscale) => head.backward(pass, gscale),
      release: () => undefined,
    };
  }
  const head = new MaskedPredictionHead(params, c);
  const mask = gpu.tensor([b, l], 'f32', randomMask(b * l, rand), 'mask');
  const targets = gpu.tensor([b, l], 'i32', Array.from({ length: b * l }, () => Math.floor(rand() * c.targets)), 'targets');
  return {
    mask,
    loss(pass, x) {
      const { loss, stats } = head.forward(pass, x, targets, mask);
      pass.enc.releaseAfter(stats);
      return loss;
    },
    backward: (pass, gscale) => head.backward(pass, gscale),
    release: () => [mask, targets].forEach((t) => t.release()),
  };
}

/** Gradient check of a head alone: x (2, 9, d_model) and the head's parameters, through its loss. */
async function headGrad(gpu: Gpu, seed: number, kind: HeadKind): Promise<number> {
  const c = toyConfig('mamba');
  const rand = seeded(seed + 1);
  const params = new RandomParameters(gpu, seeded(seed));
  const x = randomTensor(gpu, [2, 9, c.d_model], rand, 'x');
  const head = lossHead(gpu, params, c, kind, 9, rand);
  try {
    return await worstGradError(
      gpu,
      { params, inputs: [x], forward: (pass, [input]) => head.loss(pass, input), backward: (pass) => [head.backward(pass, lossDirection(seed))] },
      seed,
    );
  } finally {
    head.release();
    x.release();
    params.release();
  }
}

/**
 * Gradient check of the encoder alone on a toy config: L = <out + layer 1's output, r>, so backward gets dOut and a
 * layer gradient; with `masked`, a frame mask (mask_emb's gradient). Every parameter of the encoder.
 */
export async function modelGrad(gpu: Gpu, seed: number, kind: EncoderKind, masked: boolean): Promise<number> {
  const c = toyConfig(kind);
  const rand = seeded(seed + 1);
  const model = new HubertModel(gpu, c, new RandomParameters(gpu, seeded(seed)), { heads: { pretrainHead: true } });
  const [b, samples] = [2, 150];
  const audio = randomTensor(gpu, [b, samples], rand, 'audio');
  const l = framesFor(c, samples);
  const mask = masked ? gpu.tensor([b, l], 'f32', randomMask(b * l, rand), 'mask') : undefined;
  // The head's parameters take no part in the encoder's output: check the encoder's own.
  const encoderParams = new ParameterSet();
  for (const p of model.params.all()) if (!/^(final_proj\.|label_embs_concat$)/.test(p.name)) encoderParams.add(p);
  try {
    return await worstGradError(
      gpu,
      {
        params: encoderParams,
        inputs: [],
        forward: (pass) => {
          const r = model.forward(pass, audio, { mask, allLayers: true });
          const y = add(pass.enc, r.out, r.layers![1]);
          pass.enc.releaseAfter(...r.layers!);
          return y;
        },
        backward: (pass, dy) => {
          model.backward(pass, dy, [undefined, dy]);
          return [];
        },
      },
      seed,
      WHOLE_MODEL_STEPS,
    );
  } finally {
    [audio, mask].forEach((t) => t?.release());
    model.release();
  }
}

/**
 * Gradient check of a whole model with a head as training runs it: audio (2, 150) through the encoder (with the
 * pre-training head's frame mask) into the head's loss; every parameter.
 */
async function modelHeadGrad(gpu: Gpu, seed: number, kind: EncoderKind, head: HeadKind): Promise<number> {
  const c = toyConfig(kind);
  const rand = seeded(seed + 1);
  const model = new HubertModel(gpu, c, new RandomParameters(gpu, seeded(seed)), { heads: head === 'pretrain' ? { pretrainHead: true } : { ctcHead: true } });
  const samples = 150;
  const audio = randomTensor(gpu, [2, samples], rand, 'audio');
  const loss = lossHead(gpu, model.params, c, head, framesFor(c, samples), rand);
  let out: Tensor | undefined; // the encoder's output, kept from a training forward until the head's backward
  try {
    return await worstGradError(
      gpu,
      {
        params: model.params,
        inputs: [],
        forward(pass) {
          const x = model.forward(pass, audio, { mask: loss.mask }).out;
          if (pass.train) out = x;
          else pass.enc.releaseAfter(x);
          return loss.loss(pass, x);
        },
        backward(pass) {
          const dx = loss.backward(pass, lossDirection(seed));
          model.backward(pass, dx);
          pass.enc.releaseAfter(dx, out!);
          return [];
        },
      },
      seed,
      WHOLE_MODEL_STEPS,
    );
  } finally {
    loss.release();
    audio.release();
    model.release();
  }
}

/** Chunk sizes (samples) cycled over the audio: one sample at a time at first, then uneven sizes. */
const STREAM_CHUNKINGS: number[][] = [[1234], [320], [4000], [1, 1, 1, 317, 2, 5000, 17, 640, 333]];

/**
 * Streaming == offline for a causal model: audio (2, samples) fed in each chunking; the largest relative error of
 * any layer's output (index 0 = the encoder input) over all chunkings.
 */
export async function streamingError(gpu: Gpu, config: ModelConfig, seed: number, samples = 9000, chunkings = STREAM_CHUNKINGS): Promise<number> {
  const model = HubertModel.create(gpu, config, seed);
  const b = 2;
  const data = randomNormal(b * samples, seeded(seed + 1));
  const audio = gpu.tensor([b, samples], 'f32', data, 'audio');
  try {
    const offline = gpu.run((enc) => model.forward({ enc, train: false }, audio, { allLayers: true })).layers!;
    const want = await Promise.all(offline.map((t) => t.read()));
    offline.forEach((t) => t.release());
    const [l, d] = [offline[0].shape[1], config.d_model];
    let worst = 0;
    for (const sizes of chunkings) {
      const state = startStream(model, b);
      const steps: Tensor[][] = [];
      for (let start = 0, i = 0; start < samples; i++) {
        const m = Math.min(sizes[i % sizes.length], samples - start);
        const chunk = new Float32Array(b * m);
        for (let bi = 0; bi < b; bi++) chunk.set(data.subarray(bi * samples + start, bi * samples + start + m), bi * m);
        const x = gpu.tensor([b, m], 'f32', chunk, 'chunk');
        steps.push(gpu.run((enc) => streamStep(model, { enc, train: false }, x, state, { allLayers: true }).layers!));
        x.release();
        start += m;
      }
      for (let j = 0; j < want.length; j++) {
        const got = new Float32Array(b * l * d);
        let t0 = 0;
        for (const s of steps) {
          const n = s[j].shape[1];
          const v = await s[j].read();
          for (let bi = 0; bi < b; bi++) got.set(v.subarray(bi * n * d, (bi + 1) * n * d), (bi * l + t0) * d);
          t0 += n;
        }
        if (t0 !== l) return Infinity;
        worst = Math.max(worst, maxRelError(got, want[j]));
      }
      steps.flat().forEach((t) => t.release());
      state.release();
    }
    return worst;
  } finally {
    audio.release();
    model.release();
  }
}

/** Sample counts of the utterances of the padded-batch check: the longest sets the batch's length. */
const PADDED_LENGTHS = [150, 97, 131];

/**
 * A padded batch == each utterance alone, for a toy model of `kind` with random parameters: the audio of three
 * utterances of different lengths, zero-padded into one batch with `lengths`, through a training forward and a
 * backward of L = sum over valid frames of <out, r>. Worst relative error of the valid frames' outputs against
 * each utterance's own, and of every parameter's gradient against the sum of the utterances' gradients.
 */
export async function paddedBatchError(gpu: Gpu, seed: number, kind: EncoderKind): Promise<number> {
  const c = toyConfig(kind);
  const rand = seeded(seed + 1);
  const model = new HubertModel(gpu, c, new RandomParameters(gpu, seeded(seed)), { heads: { pretrainHead: true } });
  const d = c.d_model;
  const samples = Math.max(...PADDED_LENGTHS);
  const waves = PADDED_LENGTHS.map((n) => randomNormal(n, rand));
  const directions = PADDED_LENGTHS.map((n) => randomNormal(framesFor(c, n) * d, rand));
  /** Output (frames, d) of each utterance and every parameter's gradient, of a batch of `items`. */
  const run = async (items: number[]) => {
    const width = items.length === 1 ? PADDED_LENGTHS[items[0]] : samples;
    const frames = framesFor(c, width);
    const audio = new Float32Array(items.length * width);
    const dOut = new Float32Array(items.length * frames * d);
    items.forEach((u, i) => {
      audio.set(waves[u], i * width);
      dOut.set(directions[u], i * frames * d);
    });
    const a = gpu.tensor([items.length, width], 'f32', audio, 'audio');
    const dy = gpu.tensor([items.length, frames, d], 'f32', dOut, 'dOut');
    const out = gpu.run((enc) => {
      model.params.zeroGrads(enc);
      const lengths = items.length === 1 ? undefined : items.map((u) => PADDED_LENGTHS[u]);
      const y = model.forward({ enc, train: true }, a, { lengths }).out;
      model.backward({ enc, train: true }, dy);
      return y;
    });
    const o = await out.read();
    const grads = await Promise.all(model.params.all().map((p) => (p.grad ? p.grad.read() : Promise.resolve(new Float32Array(p.value.size)))));
    [a, dy, out].forEach((t) => t.release());
    return { outputs: items.map((u, i) => o.subarray(i * frames * d, (i * frames + framesFor(c, PADDED_LENGTHS[u])) * d)), grads };
  };
  try {
    const batch = await run(PADDED_LENGTHS.map((_, u) => u));
    let worst = 0;
    const sum = batch.grads.map((g) => new Float32Array(g.length));
    for (let u = 0; u < PADDED_LENGTHS.length; u++) {
      const alone = await run([u]);
      worst = Math.max(worst, maxRelError(batch.outputs[u], alone.outputs[0]));
      alone.grads.forEach((g, i) => g.forEach((v, j) => (sum[i][j] += v)));
    }
    // Each gradient relative to its own scale, or to a thousandth of the largest one's where that is larger: some
    // are zero up to rounding (the key bias's: softmax ignores a score shift common to a row).
    const largest = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const floor = 1e-3 * Math.max(...sum.map(largest));
    batch.grads.forEach((g, i) => {
      let diff = 0;
      g.forEach((v, j) => (diff = Math.max(diff, Math.abs(v - sum[i][j]))));
      worst = Math.max(worst, diff / Math.max(largest(sum[i]), floor, Number.MIN_VALUE));
    });
    return worst;
  } finally {
    model.release();
  }
}

/** Padded batch vs alone: the same kernels over differently laid-out inputs, and float32 sums in another order. */
const PADDED_TOLERANCE = 1e-3;

const HEAD_NAMES: Record<HeadKind, string> = { pretrain: 'pretrain head', ctc: 'CTC head' };

const modelChecks: Check[] = [
  { family: 'models', name: 'gradCheck MaskedPredictionHead', tolerance: GRAD_TOLERANCE, run: (gpu, seed) => headGrad(gpu, seed, 'pretrain') },
  { family: 'models', name: 'gradCheck CtcHead', tolerance: GRAD_TOLERANCE, run: (gpu, seed) => headGrad(gpu, seed, 'ctc') },
  { family: 'models', name: 'gradCheck HubertModel mamba, masked', tolerance: MODEL_GRAD_TOLERANCE, run: (gpu, seed) => modelGrad(gpu, seed, 'mamba', true) },
  ...ENCODER_KINDS.flatMap((kind) =>
    (['pretrain', 'ctc'] as const).map(
      (head): Check => ({
        family: 'models',
        name: `gradCheck HubertModel ${kind} + ${HEAD_NAMES[head]}`,
        tolerance: MODEL_GRAD_TOLERANCE,
        run: (gpu, seed) => modelHeadGrad(gpu, seed, kind, head),
      }),
    ),
  ),
  ...ENCODER_KINDS.map(
    (kind): Check => ({
      family: 'models',
      name: `padded batch == alone ${kind}`,
      tolerance: PADDED_TOLERANCE,
      run: (gpu, seed) => paddedBatchError(gpu, seed, kind),
    }),
  ),
  ...(['mamba', 'causal-transformer'] as const).map(
    (kind): Check => ({
      family: 'models',
      name: `streaming == offline ${kind}`,
      tolerance: STREAM_TOLERANCE,
      run: (gpu, seed) => streamingError(gpu, toyConfig(kind, { hubertStrides: true }), seed),
    }),
  ),
];

/** The registry after the kernel checks: every module's checks, then the models'. */
export const moduleAndModelChecks: Check[] = [...moduleChecks, ...modelChecks];
