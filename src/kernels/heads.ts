// Kernels of the masked-prediction head: L2 row normalisation (cosine-similarity logits) with its backward, and
// frame masking (masked frames replaced by mask_emb). The WGSL is shaders/heads.wgsl; the CPU twin is
// reference/heads.ts.
import shader from '../../shaders/heads.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { L2_EPS } from './reference/heads.ts';

export { L2_EPS };

const ROWS_WG = 64;
const FLAT_WG = 256;

const desc = (t: Tensor) => `${t.name}${shapeString(t.shape)}`;

/** Rows and channels of x (..., c), f32, at least 1-D. */
function rowsOf(op: string, x: Tensor): { rows: number; c: number } {
  if (x.shape.length < 1 || x.dtype !== 'f32') throw new ShapeError(`${op}: ${desc(x)}:${x.dtype} must be f32 with a channel dimension`);
  const c = x.shape[x.shape.length - 1];
  return { rows: c === 0 ? 0 : x.size / c, c };
}

/** y (..., c) = alpha * x / max(||x||, eps) per row of x (..., c). */
export function l2Normalize(enc: Encoder, x: Tensor, alpha = 1, out?: Tensor): Tensor {
  const { rows, c } = rowsOf('l2Normalize', x);
  const y = out ?? enc.gpu.tensor(x.shape, 'f32', undefined, `${x.name}.normalized`);
  if (y.size !== x.size) throw new ShapeError(`l2Normalize: out ${desc(y)} should hold ${desc(x)}`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'l2_normalize'),
    params: params().u32(rows, c).f32(alpha, L2_EPS),
    buffers: [x, y],
    workgroups: grid(Math.ceil(rows / ROWS_WG)),
  });
  return y;
}

/** dx (..., c): the backward of l2Normalize (same alpha) given its input x and dy. */
export function l2NormalizeBackward(enc: Encoder, x: Tensor, dy: Tensor, alpha = 1): Tensor {
  const { rows, c } = rowsOf('l2NormalizeBackward', x);
  if (dy.size !== x.size) throw new ShapeError(`l2NormalizeBackward: dy ${desc(dy)} must match x ${desc(x)}`);
  const dx = enc.gpu.tensor(x.shape, 'f32', undefined, `${x.name}.dx`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'l2_normalize_backward'),
    params: params().u32(rows, c).f32(alpha, L2_EPS),
    buffers: [x, dy, dx],
    workgroups: grid(Math.ceil(rows / ROWS_WG)),
  });
  return dx;
}

/**
 * y (..., c): the rows of x (..., c) where mask (rows) f32 is non-zero replaced by emb (c), or by zeros without
 * emb (the input gradient of the masking: masked frames do not reach x).
 */
export function maskFrames(enc: Encoder, x: Tensor, mask: Tensor, emb?: Tensor): Tensor {
  const { rows, c } = rowsOf('maskFrames', x);
  if (mask.dtype !== 'f32' || mask.size !== rows) {
    throw new ShapeError(`maskFrames: mask ${desc(mask)}:${mask.dtype} must hold ${rows} f32, one per frame of ${desc(x)}`);
  }
  if (emb && emb.size !== c) throw new ShapeError(`maskFrames: mask_emb ${desc(emb)} must hold the ${c} channels of ${desc(x)}`);
  const y = enc.gpu.tensor(x.shape, 'f32', undefined, `${x.name}.masked`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'mask_frames', { HAS_EMB: !!emb }),
    params: params().u32(rows, c).f32(1, L2_EPS),
    buffers: [x, mask, emb ?? enc.gpu.empty, y],
    workgroups: grid(Math.ceil((rows * c) / FLAT_WG)),
  });
  return y;
}
