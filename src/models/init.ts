// Initial values of every parameter, by name, seeded. Follows the paper's code: fairseq's HuBERT
// (init_bert_params: Linear weights N(0, 0.02), biases 0; extractor convs Kaiming-normal; the positional conv
// N(0, sqrt(4 / (k * d_model))); norms 1 and 0; mask_emb and label embeddings uniform) and mamba_ssm's Mamba
// (A_log = log(1..n) per channel, D = 1, dt_proj.weight ~ U(+-dt_rank^-0.5), dt_proj.bias = softplus^-1(dt) with
// dt ~ logUniform[1e-3, 0.1] clamped at 1e-4; in_proj, x_proj, out_proj, conv1d with PyTorch's default
// U(+-1/sqrt(fan_in))).
import { randomNormal, randomUniform, seeded } from '../kernels/random.ts';
import type { ModelConfig } from './config.ts';
import type { ParameterSpec } from './parameters.ts';

const DT_MIN = 1e-3;
const DT_MAX = 0.1;
const DT_FLOOR = 1e-4;

function fanIn(shape: number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** The initial values of one parameter (float32, row-major in its shape). */
export function initialValue(spec: ParameterSpec, c: ModelConfig, rand: () => number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const name = spec.name;
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  const isMamba = /\.mixer(_backward)?\./.test(name);
  if (/(^|\.)(A_log|A_b_log)$/.test(name)) {
    const [di, nState] = spec.shape;
    const out = new Float32Array(n);
    for (let d = 0; d < di; d++) for (let s = 0; s < nState; s++) out[d * nState + s] = Math.log(s + 1);
    return out;
  }
  if (/(^|\.)(D|D_b)$/.test(name)) return new Float32Array(n).fill(1);
  if (/\.dt_proj(_b)?\.weight$/.test(name)) {
    const bound = c.dt_rank ** -0.5;
    return randomUniform(n, rand, -bound, bound);
  }
  if (/\.dt_proj(_b)?\.bias$/.test(name)) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const dt = Math.max(Math.exp(rand() * (Math.log(DT_MAX) - Math.log(DT_MIN)) + Math.log(DT_MIN)), DT_FLOOR);
      out[i] = dt + Math.log(-Math.expm1(-dt)); // softplus^-1(dt)
    }
    return out;
  }
  if (/norm|layer_norm|conv_layers\.0\.2/.test(name)) return new Float32Array(n).fill(leaf === 'weight' ? 1 : 0);
  if (name === 'mask_emb' || name === 'label_embs_concat') return randomUniform(n, rand, 0, 1);
  if (/^feature_extractor\.conv_layers\.\d+\.0\.weight$/.test(name)) return randomNormal(n, rand, Math.sqrt(2 / fanIn(spec.shape)));
  if (name === 'encoder.pos_conv.0.weight') return randomNormal(n, rand, Math.sqrt(4 / (c.pos_conv.kernel * c.d_model)));
  if (isMamba) {
    const bound = 1 / Math.sqrt(fanIn(spec.shape));
    return randomUniform(n, rand, -bound, bound);
  }
  if (leaf === 'bias') return new Float32Array(n);
  return randomNormal(n, rand, 0.02);
}

export function initialValues(specs: ParameterSpec[], c: ModelConfig, seed: number): Map<string, Float32Array> {
  const rand = seeded(seed);
  return new Map(specs.map((s) => [s.name, initialValue(s, c, rand)]));
}
