import shader from '../../shaders/optim.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { flatGrid } from './elementwise.ts';
import { ADAMW_DEFAULTS, type AdamWSettings } from './reference/optim.ts';

export { ADAMW_DEFAULTS, type AdamWSettings };

export interface AdamWState {
  param: Tensor;
  grad: Tensor;
  /** First moment, same size as param (zeros at step 1). */
  m: Tensor;
  /** Second moment, same size as param (zeros at step 1). */
  v: Tensor;
}

/**
 * One AdamW step in place on param, m and v (one tensor; call once per parameter tensor, all in one
 * Encoder). Decoupled weight decay as PyTorch's AdamW: p -= lr * wd * p, then the Adam step with bias
 * correction for `step` (from 1). Pass weightDecay 0 for biases and norms. The gradient is multiplied
 * first by `gradScale`: a number, or a 1-element tensor computed on the GPU (a clipping factor).
 */
export function adamw(enc: Encoder, state: AdamWState, s: AdamWSettings, gradScale?: Tensor): void {
  const { param, grad, m, v } = state;
  for (const t of [param, grad, m, v]) {
    if (t.dtype !== 'f32') throw new ShapeError(`adamw: ${t.name}${shapeString(t.shape)} must be f32, not ${t.dtype}`);
  }
  for (const t of [grad, m, v]) {
    if (t.size !== param.size) {
      throw new ShapeError(`adamw: ${t.name}${shapeString(t.shape)} must have as many elements as ${param.name}${shapeString(param.shape)} (${param.size})`);
    }
  }
  if (gradScale && gradScale.size !== 1) throw new ShapeError(`adamw: gradScale ${gradScale.name}${shapeString(gradScale.shape)} must hold 1 value`);
  if (!Number.isInteger(s.step) || s.step < 1) throw new ShapeError(`adamw: step ${s.step} must be an integer >= 1`);
  const b1 = s.beta1 ?? ADAMW_DEFAULTS.beta1;
  const b2 = s.beta2 ?? ADAMW_DEFAULTS.beta2;
  const bc1 = 1 - b1 ** s.step;
  const bc2 = 1 - b2 ** s.step;
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'adamw', { SCALE_TENSOR: !!gradScale }),
    params: params()
      .u32(param.size)
      .f32(s.lr, b1, b2, s.eps ?? ADAMW_DEFAULTS.eps, s.weightDecay ?? ADAMW_DEFAULTS.weightDecay, s.lr / bc1, Math.sqrt(bc2), s.gradScale ?? 1),
    buffers: [param, grad, m, v, gradScale ?? enc.gpu.empty],
    workgroups: flatGrid(param.size),
  });
}
