// The module self-test: every kernel family against its CPU twin (kernels/suite.ts), then every module's
// hand-written backward against finite differences of its forward on toy shapes (nn/gradcheck.ts), the heads,
// the whole model, and streaming == offline for each causal kind. `lab selftest` runs it; the Device page can too.
import type { Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { maxRelError } from '../kernels/compare.ts';
import { add } from '../kernels/elementwise.ts';
import { freshSeed, randomNormal, seeded } from '../kernels/random.ts';
import type { CheckResult } from '../kernels/suite-types.ts';
import { runChecks, type RunHooks } from '../kernels/suite.ts';
import { ExtBiMamba, InnBiMamba } from '../nn/bimamba.ts';
import { Conv1d } from '../nn/conv1d.ts';
import { EncoderLayer } from '../nn/encoder-layer.ts';
import { FeatureExtractor } from '../nn/feature-extractor.ts';
import { FeedForward } from '../nn/feed-forward.ts';
import { gradCheck, type GradCheckResult, type GradCheckSubject } from '../nn/gradcheck.ts';
import { Linear } from '../nn/linear.ts';
import { MambaMixer } from '../nn/mamba.ts';
import { Parameter, ParameterSet, type Pass } from '../nn/module.ts';
import { GroupNorm, LayerNorm } from '../nn/norms.ts';
import { PositionalConv } from '../nn/positional-conv.ts';
import { SelfAttention } from '../nn/self-attention.ts';
import { framesFor, isCausal, type EncoderKind, type ModelConfig } from '../models/config.ts';
import { CtcHead, MaskedPredictionHead } from '../models/heads.ts';
import { HubertModel } from '../models/hubert.ts';
import { initialValues } from '../models/init.ts';
import { parameterSpecs, type ParameterOptions } from '../models/parameters.ts';
import { startStream, streamStep } from '../models/streaming.ts';

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
 * The model's parameters (or those under `prefixes`) with random values of unit-scale activations: weights
 * N(0, 1 / fan_in), norm weights 1 + N(0, 0.3), biases and embeddings N(0, 0.3); Mamba's A_log, D and dt bias
 * keep their initial values (init.ts) so that the scan stays stable.
 */
export function randomParameters(gpu: Gpu, config: ModelConfig, seed: number, heads: ParameterOptions = { pretrainHead: true, ctcHead: true }, prefixes?: string[]): ParameterSet {
  const rand = seeded(seed);
  const specs = parameterSpecs(config, heads).filter((s) => !prefixes || prefixes.some((p) => s.name.startsWith(p)));
  const init = initialValues(specs, config, seed);
  const params = new ParameterSet();
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const fanIn = s.shape.length > 1 ? n / s.shape[0] : 1;
    let v: Float32Array;
    if (/(A_log|A_b_log|\.D|\.D_b|dt_proj(_b)?\.bias)$/.test(s.name)) v = init.get(s.name)!;
    else if (/norm.*\.weight$|conv_layers\.0\.2\.weight$/.test(s.name)) v = randomNormal(n, rand, 0.3).map((x) => 1 + x);
    else if (s.shape.length === 1 || s.name === 'label_embs_concat') v = randomNormal(n, rand, 0.3);
    else v = randomNormal(n, rand, 1 / Math.sqrt(fanIn));
    params.add(new Parameter(s.name, gpu.tensor(s.shape, 'f32', v, s.name), s.decay));
  }
  return params;
}

/** The output weighting r that gradCheck draws for a 1-element output (its first draw from the seed): a loss head's dy. */
export function lossDirection(seed: number): number {
  return randomNormal(1, seeded(seed))[0];
}

/**
 * The worst relative error of a gradient check: gradCheck at each step h and h / 2, and their Richardson
 * extrapolation (the norms' and GELU's curvature make the truncation error grow as h^2), measured against
 * max(|analytic|, |numeric|, ||gradient||, 1e-3) so that a direction nearly orthogonal to a parameter's gradient
 * is not judged by float32 noise alone (as the module tests do). Attention's k_proj.bias has an exactly zero
 * gradient (a shift of every key moves each score row by a constant, which softmax ignores): there the analytic
 * value must be float32 noise. `steps`: the coarse steps h (each also run at h / 2); behind a post-LN block the
 * Mamba parameters' gradients are small (~1e-2) against the float32 noise of the loss over h, so the encoder-layer
 * and model checks add a larger h, while the extractor's weights need a small one.
 */
export async function worstGradError(gpu: Gpu, subject: GradCheckSubject, seed: number, steps: readonly number[] = [1e-2]): Promise<number> {
  const runs: [GradCheckResult[], GradCheckResult[]][] = [];
  for (const h of steps) runs.push([await gradCheck(gpu, subject, seed, h), await gradCheck(gpu, subject, seed, h / 2)]);
  const norms = [
    ...subject.inputs.map(() => 0),
    ...(await Promise.all(subject.params.all().map(async (p) => (p.grad ? Math.hypot(...(await p.grad.read())) : 0)))),
  ];
  let worst = 0;
  runs[0][0].forEach((r, i) => {
    if (r.tensor.endsWith('k_proj.bias')) {
      if (!(Math.abs(r.analytic) < 1e-4)) worst = Infinity;
      return;
    }
    // Each estimate (h, h / 2, extrapolated) against the analytic value; the best counts, since float32 noise of the
    // loss over h can spoil the small steps where the directional derivative is small, and curvature the large ones.
    const estimates = runs.flatMap(([coarse, fine]) => [coarse[i].numeric, fine[i].numeric, (4 * fine[i].numeric - coarse[i].numeric) / 3]);
    const err = Math.min(...estimates.map((numeric) => Math.abs(r.analytic - numeric) / Math.max(Math.abs(r.analytic), Math.abs(numeric), norms[i], 1e-3)));
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  });
  return worst;
}

function frames(gpu: Gpu, shape: number[], rand: () => number, name = 'x'): Tensor {
  return gpu.tensor(shape, 'f32', randomNormal(shape.reduce((a, b) => a * b, 1), rand), name);
}

/** A subject of a module with forward(pass, x) and backward(pass, dy) -> dx on one random input. */
function unarySubject(params: ParameterSet, x: Tensor, m: { forward(p: Pass, x: Tensor): Tensor; backward(p: Pass, dy: Tensor): Tensor }): GradCheckSubject {
  return { params, inputs: [x], forward: (pass, [input]) => m.forward(pass, input), backward: (pass, dy) => [m.backward(pass, dy)] };
}

/** Gradient check of one module built on the toy config's parameters under `prefixes`; x (b, l, c). */
async function moduleGrad(
  gpu: Gpu,
  seed: number,
  kind: EncoderKind,
  prefixes: string[],
  shape: number[],
  build: (params: ParameterSet, c: ModelConfig) => { forward(p: Pass, x: Tensor): Tensor; backward(p: Pass, dy: Tensor): Tensor },
  steps?: readonly number[],
): Promise<number> {
  const c = toyConfig(kind);
  const params = randomParameters(gpu, c, seed, undefined, prefixes);
  const x = frames(gpu, shape, seeded(seed + 1));
  try {
    return await worstGradError(gpu, unarySubject(params, x, build(params, c)), seed, steps);
  } finally {
    params.release();
    x.release();
  }
}

const L0 = 'encoder.layers.0';

function mixerCheck(
  kind: EncoderKind,
  make: (params: ParameterSet, c: ModelConfig) => { forward(p: Pass, x: Tensor): Tensor; backward(p: Pass, dy: Tensor): Tensor },
  steps?: readonly number[],
): (gpu: Gpu, seed: number) => Promise<number> {
  return (gpu, seed) => moduleGrad(gpu, seed, kind, [`${L0}.`], [2, 7, 8], make, steps);
}

/** Gradient check of the feature extractor (its parameters only: the audio takes no gradient). */
async function extractorGrad(gpu: Gpu, seed: number, kind: EncoderKind): Promise<number> {
  const c = toyConfig(kind);
  const params = randomParameters(gpu, c, seed, undefined, ['feature_extractor.']);
  const audio = frames(gpu, [2, 90], seeded(seed + 1), 'audio');
  const fe = new FeatureExtractor(params, c.extractor);
  try {
    return await worstGradError(
      gpu,
      {
        params,
        inputs: [],
        forward: (pass) => fe.forward(pass, audio),
        backward: (pass, dy) => {
          fe.backward(pass, dy);
          return [];
        },
      },
      seed,
    );
  } finally {
    params.release();
    audio.release();
  }
}

/** A (rows) 0/1 frame mask with about 40% masked, at least one frame masked. */
export function randomMask(rows: number, rand: () => number): number[] {
  const m = Array.from({ length: rows }, () => (rand() < 0.4 ? 1 : 0));
  m[0] = 1;
  return m;
}

/** Gradient check of the masked-prediction head: x, final_proj, label_embs_concat, through the masked cross-entropy. */
export async function maskedHeadGrad(gpu: Gpu, seed: number): Promise<number> {
  const c = toyConfig('mamba');
  const rand = seeded(seed + 1);
  const params = randomParameters(gpu, c, seed, { pretrainHead: true }, ['final_proj', 'label_embs_concat']);
  const [b, l] = [2, 5];
  const x = frames(gpu, [b, l, c.d_model], rand);
  const targets = gpu.tensor([b, l], 'i32', Array.from({ length: b * l }, () => Math.floor(rand() * c.targets)), 'targets');
  const mask = gpu.tensor([b, l], 'f32', randomMask(b * l, rand), 'mask');
  const head = new MaskedPredictionHead(params, c);
  try {
    return await worstGradError(
      gpu,
      {
        params,
        inputs: [x],
        forward: (pass, [input]) => {
          const { loss, stats } = head.forward(pass, input, targets, mask);
          pass.enc.releaseAfter(stats);
          return loss;
        },
        backward: (pass) => [head.backward(pass, lossDirection(seed))],
      },
      seed,
    );
  } finally {
    [x, targets, mask].forEach((t) => t.release());
    params.release();
  }
}

/** Gradient check of the CTC head: x and ctc_proj through log-softmax and the CTC loss. */
export async function ctcHeadGrad(gpu: Gpu, seed: number): Promise<number> {
  const c = toyConfig('mamba');
  const rand = seeded(seed + 1);
  const params = randomParameters(gpu, c, seed, { ctcHead: true }, ['ctc_proj']);
  const [b, T] = [2, 9];
  const x = frames(gpu, [b, T, c.d_model], rand);
  const inputs = { targets: [1, 2, 2, 3, 4, 6, 0, 0], inputLengths: [9, 7], targetLengths: [4, 2], S: 4 };
  const head = new CtcHead(params, c);
  try {
    return await worstGradError(
      gpu,
      {
        params,
        inputs: [x],
        forward: (pass, [input]) => {
          const { loss, nll } = head.forward(pass, input, inputs);
          pass.enc.releaseAfter(nll);
          return loss;
        },
        backward: (pass) => [head.backward(pass, lossDirection(seed))],
      },
      seed,
    );
  } finally {
    x.release();
    params.release();
  }
}

/**
 * Gradient check of the whole model on a toy config: L = <out + layer 1's output, r>, so backward gets dOut and a
 * layer gradient; with `masked`, a frame mask (mask_emb's gradient). Every parameter of the model and its head.
 */
export async function modelGrad(gpu: Gpu, seed: number, kind: EncoderKind, masked: boolean): Promise<number> {
  const c = toyConfig(kind);
  const rand = seeded(seed + 1);
  const params = randomParameters(gpu, c, seed, { pretrainHead: true });
  const model = new HubertModel(gpu, c, params, { heads: { pretrainHead: true } });
  const [b, samples] = [2, 150];
  const audio = frames(gpu, [b, samples], rand, 'audio');
  const l = framesFor(c, samples);
  const mask = masked ? gpu.tensor([b, l], 'f32', randomMask(b * l, rand), 'mask') : undefined;
  // The heads' parameters take no part in the encoder's output: check the encoder's own.
  const encoderParams = new ParameterSet();
  for (const p of params.all()) if (p.name !== 'final_proj.weight' && p.name !== 'final_proj.bias' && p.name !== 'label_embs_concat') encoderParams.add(p);
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
      POST_LN_STEPS,
    );
  } finally {
    [audio, mask].forEach((t) => t?.release());
    model.release();
  }
}

/** Chunk sizes (samples) cycled over the audio: one sample at a time at first, then uneven sizes. */
export const STREAM_CHUNKINGS: number[][] = [[1234], [320], [4000], [1, 1, 1, 317, 2, 5000, 17, 640, 333]];

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

export interface ModuleCheck {
  name: string;
  tolerance: number;
  run(gpu: Gpu, seed: number): Promise<number>;
}

export interface ModuleCheckResult {
  name: string;
  passed: boolean;
  maxRelError: number;
  tolerance: number;
  seed: number;
  error?: string;
}

/** Finite differences in float32 against the analytic gradient (relative to max(|analytic|, |numeric|, 1e-3)). */
export const GRAD_TOLERANCE = 1e-2;
/**
 * The whole model: behind two post-LN Mamba blocks the A_log and dt gradients are ~1e-3 to 1e-2, where the
 * float32 noise of the loss over the step is a few percent of the directional derivative at any step that
 * the extractor's curvature allows (seen up to 1.3e-2 over 8 seeds).
 */
export const MODEL_GRAD_TOLERANCE = 3e-2;
/** Streaming vs offline: the same kernels on differently cut inputs; float32 reassociation only. */
export const STREAM_TOLERANCE = 1e-4;

/** Finite-difference steps behind post-LN blocks (see worstGradError). */
export const POST_LN_STEPS = [4e-2, 1e-2];
/** The Mamba mixers' A_log and dt gradients are small at toy sizes: a larger step as well (see worstGradError). */
export const MAMBA_STEPS = [1e-2, 4e-2];

const grad = (name: string, run: ModuleCheck['run']): ModuleCheck => ({ name: `gradCheck ${name}`, tolerance: GRAD_TOLERANCE, run });

export const moduleChecks: ModuleCheck[] = [
  grad('Linear', (gpu, seed) => moduleGrad(gpu, seed, 'mamba', ['post_extract_proj'], [2, 3, 8], (p, c) => new Linear(p, 'post_extract_proj', 8, c.d_model))),
  grad('LayerNorm', (gpu, seed) => moduleGrad(gpu, seed, 'mamba', ['layer_norm'], [2, 3, 8], (p) => new LayerNorm(p, 'layer_norm', 8))),
  grad('GroupNorm', (gpu, seed) => moduleGrad(gpu, seed, 'transformer', ['feature_extractor.conv_layers.0.2'], [2, 5, 8], (p) => new GroupNorm(p, 'feature_extractor.conv_layers.0.2', 8, 8))),
  grad('FeedForward', (gpu, seed) => moduleGrad(gpu, seed, 'transformer', [`${L0}.fc`], [2, 3, 8], (p, c) => new FeedForward(p, L0, c.d_model, c.ffn))),
  grad('Conv1d grouped causal', (gpu, seed) =>
    moduleGrad(gpu, seed, 'mamba', ['encoder.pos_conv.0'], [2, 7, 8], (p, c) => new Conv1d(p, 'encoder.pos_conv.0', { cIn: 8, cOut: 8, k: c.pos_conv.kernel, groups: c.pos_conv.groups, padding: 'causal' })),
  ),
  grad('FeatureExtractor group norm', (gpu, seed) => extractorGrad(gpu, seed, 'transformer')),
  grad('FeatureExtractor layer norm', (gpu, seed) => extractorGrad(gpu, seed, 'mamba')),
  grad('PositionalConv same', (gpu, seed) => moduleGrad(gpu, seed, 'transformer', ['encoder.pos_conv', 'encoder.layer_norm'], [2, 7, 8], (p, c) => new PositionalConv(p, c))),
  grad('SelfAttention bidirectional', mixerCheck('transformer', (p, c) => new SelfAttention(p, `${L0}.self_attn`, { dModel: c.d_model, heads: c.h, causal: false }))),
  grad('SelfAttention causal', mixerCheck('causal-transformer', (p, c) => new SelfAttention(p, `${L0}.self_attn`, { dModel: c.d_model, heads: c.h, causal: true }))),
  grad('MambaMixer', mixerCheck('mamba', (p, c) => new MambaMixer(p, `${L0}.mixer`, c), MAMBA_STEPS)),
  grad('ExtBiMamba', mixerCheck('extbimamba', (p, c) => new ExtBiMamba(p, `${L0}.mixer`, c), MAMBA_STEPS)),
  grad('InnBiMamba', mixerCheck('innbimamba', (p, c) => new InnBiMamba(p, `${L0}.mixer`, c), MAMBA_STEPS)),
  grad('EncoderLayer with FFN (transformer)', mixerCheck('transformer', (p, c) => new EncoderLayer(p, c, 0, new SelfAttention(p, `${L0}.self_attn`, { dModel: c.d_model, heads: c.h, causal: false })))),
  grad('EncoderLayer without FFN (mamba)', mixerCheck('mamba', (p, c) => new EncoderLayer(p, c, 0, new MambaMixer(p, `${L0}.mixer`, c)), POST_LN_STEPS)),
  grad('MaskedPredictionHead', maskedHeadGrad),
  grad('CtcHead', ctcHeadGrad),
  { name: 'gradCheck HubertModel mamba, masked', tolerance: MODEL_GRAD_TOLERANCE, run: (gpu, seed) => modelGrad(gpu, seed, 'mamba', true) },
  { name: 'streaming == offline mamba', tolerance: STREAM_TOLERANCE, run: (gpu, seed) => streamingError(gpu, toyConfig('mamba', { hubertStrides: true }), seed) },
  {
    name: 'streaming == offline causal-transformer',
    tolerance: STREAM_TOLERANCE,
    run: (gpu, seed) => streamingError(gpu, toyConfig('causal-transformer', { hubertStrides: true }), seed),
  },
];

export async function runModuleChecks(gpu: Gpu, checks: ModuleCheck[] = moduleChecks, hooks: RunHooks = {}): Promise<ModuleCheckResult[]> {
  const out: ModuleCheckResult[] = [];
  for (const c of checks) {
    hooks.signal?.throwIfAborted();
    hooks.onProgress?.(out.length, checks.length, c.name);
    const seed = freshSeed();
    try {
      const err = await c.run(gpu, seed);
      out.push({ name: c.name, passed: err <= c.tolerance, maxRelError: err, tolerance: c.tolerance, seed });
    } catch (e) {
      out.push({ name: c.name, passed: false, maxRelError: Infinity, tolerance: c.tolerance, seed, error: (e as Error).message });
    }
  }
  return out;
}

export interface SelfTestReport {
  kernels: CheckResult[];
  modules: ModuleCheckResult[];
  passed: boolean;
}

/** The kernel self-test, then the module checks. */
export async function runSelfTest(gpu: Gpu, hooks: RunHooks = {}): Promise<SelfTestReport> {
  const kernels = await runChecks(gpu, undefined, hooks);
  const modules = await runModuleChecks(gpu, moduleChecks, hooks);
  return { kernels, modules, passed: [...kernels, ...modules].every((c) => c.passed) };
}
