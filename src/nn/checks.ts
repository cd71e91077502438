// Every module's hand-written backward against finite differences of its forward (gradcheck.ts's policy), on
// random parameters (random-parameters.ts) and inputs at toy sizes: a few channels and frames, so that the
// checks stay quick on a CPU driver and in the browser. Parameter names follow the checkpoint schema only where a
// module fixes them itself.
import type { Gpu } from '../gpu/device.ts';
import { numel, type Tensor } from '../gpu/tensor.ts';
import type { Check } from '../kernels/check.ts';
import { randomNormal, seeded } from '../kernels/random.ts';
import { ExtBiMamba, InnBiMamba } from './bimamba.ts';
import { Conv1d } from './conv1d.ts';
import { EncoderLayer } from './encoder-layer.ts';
import { FeatureExtractor, type ExtractorDims } from './feature-extractor.ts';
import { FeedForward } from './feed-forward.ts';
import { DEFAULT_STEPS, GRAD_TOLERANCE, SMALL_GRADIENT_STEPS, worstGradError, type GradCheckSubject } from './gradcheck.ts';
import { Linear } from './linear.ts';
import { MambaMixer, type MambaDims } from './mamba.ts';
import type { ParameterSet, Pass } from './module.ts';
import { GroupNorm, LayerNorm } from './norms.ts';
import { PositionalConv } from './positional-conv.ts';
import { RandomParameters } from './random-parameters.ts';
import { SelfAttention } from './self-attention.ts';

const D_MODEL = 8;
const MAMBA: MambaDims = { d_model: D_MODEL, d_state: 3, d_conv: 4, expand: 2, dt_rank: 2 };
const HEADS = 2;
/** Three convs with hop 20: 90 samples make 4 frames. */
const EXTRACTOR: ExtractorDims['layers'] = [
  [8, 10, 5],
  [8, 3, 2],
  [8, 2, 2],
];
const L0 = 'encoder.layers.0';

/** A tensor of shape `shape` with N(0, 1) entries. */
export function randomTensor(gpu: Gpu, shape: number[], rand: () => number, name: string): Tensor {
  return gpu.tensor(shape, 'f32', randomNormal(numel(shape), rand), name);
}

/** What a module with one differentiable input offers a gradient check. */
interface UnaryModule {
  forward(pass: Pass, x: Tensor): Tensor;
  backward(pass: Pass, dy: Tensor): Tensor;
}

/**
 * A check of `name`'s backward: the module built on random parameters, x of `shape` N(0, 1); the worst error
 * over x and every parameter.
 */
function gradCheckOf(name: string, shape: number[], build: (params: ParameterSet) => UnaryModule, steps = DEFAULT_STEPS): Check {
  return {
    family: 'nn',
    name: `gradCheck ${name}`,
    tolerance: GRAD_TOLERANCE,
    async run(gpu, seed) {
      const params = new RandomParameters(gpu, seeded(seed));
      const x = randomTensor(gpu, shape, seeded(seed + 1), 'x');
      try {
        const m = build(params);
        const subject: GradCheckSubject = { params, inputs: [x], forward: (pass, [input]) => m.forward(pass, input), backward: (pass, dy) => [m.backward(pass, dy)] };
        return await worstGradError(gpu, subject, seed, steps);
      } finally {
        params.release();
        x.release();
      }
    },
  };
}

/** The feature extractor's parameters only: the audio takes no gradient. */
function extractorCheck(norm: ExtractorDims['norm']): Check {
  return {
    family: 'nn',
    name: `gradCheck FeatureExtractor ${norm} norm`,
    tolerance: GRAD_TOLERANCE,
    async run(gpu, seed) {
      const params = new RandomParameters(gpu, seeded(seed));
      const audio = randomTensor(gpu, [2, 90], seeded(seed + 1), 'audio');
      try {
        const fe = new FeatureExtractor(params, { layers: EXTRACTOR, norm });
        const backward = (pass: Pass, dy: Tensor) => {
          fe.backward(pass, dy);
          return [];
        };
        return await worstGradError(gpu, { params, inputs: [], forward: (pass) => fe.forward(pass, audio), backward }, seed);
      } finally {
        params.release();
        audio.release();
      }
    },
  };
}

const attention = (params: ParameterSet, causal: boolean) => new SelfAttention(params, `${L0}.self_attn`, { dModel: D_MODEL, heads: HEADS, causal });

export const moduleChecks: Check[] = [
  gradCheckOf('Linear', [2, 3, 8], (p) => new Linear(p, 'post_extract_proj', 8, D_MODEL)),
  gradCheckOf('LayerNorm', [2, 3, 8], (p) => new LayerNorm(p, 'layer_norm', 8)),
  gradCheckOf('GroupNorm', [2, 5, 8], (p) => new GroupNorm(p, 'feature_extractor.conv_layers.0.2', 8, 8)),
  gradCheckOf('FeedForward', [2, 3, 8], (p) => new FeedForward(p, L0, D_MODEL, 12)),
  gradCheckOf('Conv1d grouped causal', [2, 7, 8], (p) => new Conv1d(p, 'encoder.pos_conv.0', { cIn: 8, cOut: 8, k: 4, groups: 2, padding: 'causal' })),
  extractorCheck('group'),
  extractorCheck('layer'),
  gradCheckOf('PositionalConv same', [2, 7, 8], (p) => new PositionalConv(p, { d_model: D_MODEL, kernel: 4, groups: 2, padding: 'same' })),
  gradCheckOf('SelfAttention bidirectional', [2, 7, 8], (p) => attention(p, false)),
  gradCheckOf('SelfAttention causal', [2, 7, 8], (p) => attention(p, true)),
  gradCheckOf('MambaMixer', [2, 7, 8], (p) => new MambaMixer(p, `${L0}.mixer`, MAMBA), SMALL_GRADIENT_STEPS),
  gradCheckOf('ExtBiMamba', [2, 7, 8], (p) => new ExtBiMamba(p, `${L0}.mixer`, MAMBA), SMALL_GRADIENT_STEPS),
  gradCheckOf('InnBiMamba', [2, 7, 8], (p) => new InnBiMamba(p, `${L0}.mixer`, MAMBA), SMALL_GRADIENT_STEPS),
  gradCheckOf('EncoderLayer with FFN (transformer)', [2, 7, 8], (p) =>
    new EncoderLayer(p, { d_model: D_MODEL, ffn: 12, mixerNorm: 'self_attn_layer_norm' }, 0, attention(p, false)),
  ),
  gradCheckOf(
    'EncoderLayer without FFN (mamba)',
    [2, 7, 8],
    (p) => new EncoderLayer(p, { d_model: D_MODEL, ffn: 0, mixerNorm: 'norm' }, 0, new MambaMixer(p, `${L0}.mixer`, MAMBA)),
    SMALL_GRADIENT_STEPS,
  ),
];
