// Multiply-accumulates of one forward pass at batch 1, per module, from the configuration alone.
// Conventions (the same the kernels report per dispatch): a matmul (l, a) x (a, b) is l*a*b; a conv is
// l_out * c_out * (c_in / groups) * k; attention is 2 * l * l * d_model (QK^T and PV over all heads), half of
// that when causal (the kernels skip the masked half); the selective scan is l * d_inner * (3n + 1) (dA*h, delta*B*u and <h, C> per state, D*u
// per channel); norms, activations and the softmax are not counted.
import { d_inner, framesFor, type ModelConfig } from '../models/config.ts';

export interface MacBreakdown {
  extractor: number;
  projection: number;
  posConv: number;
  layers: number;
  total: number;
  frames: number;
}

export function mambaMacs(c: ModelConfig, l: number, bidirectional: 'none' | 'external' | 'inner' = 'none'): number {
  const di = d_inner(c);
  const core = l * di * c.d_conv + l * di * (c.dt_rank + 2 * c.d_state) + l * c.dt_rank * di + l * di * (3 * c.d_state + 1);
  const proj = l * c.d_model * 2 * di + l * di * c.d_model;
  if (bidirectional === 'external') return 2 * (proj + core);
  if (bidirectional === 'inner') return proj + 2 * core;
  return proj + core;
}

export function attentionMacs(c: ModelConfig, l: number): number {
  const scores = 2 * l * l * c.d_model * (c.kind === 'causal-transformer' ? 0.5 : 1);
  return 4 * l * c.d_model * c.d_model + scores;
}

export function layerMacs(c: ModelConfig, l: number): number {
  const ffn = c.ffn > 0 ? 2 * l * c.d_model * c.ffn : 0;
  switch (c.kind) {
    case 'transformer':
    case 'causal-transformer':
      return attentionMacs(c, l) + ffn;
    case 'extbimamba':
      return mambaMacs(c, l, 'external') + ffn;
    case 'innbimamba':
      return mambaMacs(c, l, 'inner') + ffn;
    default:
      return mambaMacs(c, l) + ffn;
  }
}

export function extractorMacs(c: ModelConfig, samples: number): number {
  let l = samples;
  let cin = 1;
  let macs = 0;
  for (const [ch, k, s] of c.extractor.layers) {
    l = l < k ? 0 : Math.floor((l - k) / s) + 1;
    macs += l * ch * cin * k;
    cin = ch;
  }
  return macs;
}

export function forwardMacs(c: ModelConfig, samples: number): MacBreakdown {
  const frames = framesFor(c, samples);
  const cnnOut = c.extractor.layers[c.extractor.layers.length - 1][0];
  const extractor = extractorMacs(c, samples);
  const projection = frames * cnnOut * c.d_model;
  const posConv = frames * c.d_model * (c.d_model / c.pos_conv.groups) * c.pos_conv.kernel;
  const layers = c.n_layers * layerMacs(c, frames);
  return { extractor, projection, posConv, layers, total: extractor + projection + posConv + layers, frames };
}
