import shader from '../../shaders/elementwise.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';

const PER_WORKGROUP = 256 * 4;

/** Workgroups for a flat kernel over n elements, 4 per invocation. */
export function flatGrid(n: number): [number, number] {
  return grid(Math.ceil(n / PER_WORKGROUP));
}

/** out = x (same number of elements). */
export function copy(enc: Encoder, x: Tensor, out?: Tensor): Tensor {
  const y = out ?? enc.gpu.tensor(x.shape, 'f32', undefined, `${x.name}.copy`);
  if (y.size !== x.size) throw new ShapeError(`copy: ${x.name}${shapeString(x.shape)} into ${y.name}${shapeString(y.shape)}`);
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'copy'),
    params: params().u32(x.size),
    buffers: [x, y],
    workgroups: flatGrid(x.size),
  });
  return y;
}
