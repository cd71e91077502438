import type { Gpu } from './device.ts';
import { LabError, ShapeError } from './errors.ts';

export type DType = 'f32' | 'i32' | 'u32';
export type TypedArrayOf<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * A dense, row-major array on the GPU: (b, l, channels) by the glossary's convention.
 * The buffer may be larger than the tensor (pool buckets); kernels only touch the first `size` elements.
 */
export class Tensor<D extends DType = DType> {
  private released = false;

  constructor(
    readonly gpu: Gpu,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: D,
    readonly name: string,
    /** Set for a view: the tensor that owns the buffer (a view's release does nothing). */
    readonly base?: Tensor<D>,
  ) {}

  /** The same buffer seen with another shape of the same size: no copy; releasing the view is a no-op. */
  view(shape: readonly number[], name = this.name): Tensor<D> {
    if (numel(shape) !== this.size) {
      throw new LabError('shape', `${this.name}: cannot view ${shapeString(this.shape)} as ${shapeString(shape)}`);
    }
    return new Tensor(this.gpu, this.buffer, [...shape], this.dtype, name, this.base ?? this);
  }

  get size(): number {
    return numel(this.shape);
  }

  get bytes(): number {
    return this.size * 4;
  }

  /** Copy back to the CPU (waits for all submitted work). */
  read(): Promise<TypedArrayOf<D>> {
    return this.gpu.read(this);
  }

  /**
   * Give the buffer back to the pool; the tensor must not be used afterwards. Only when no unsubmitted
   * Encoder still reads it: an upload into the recycled buffer would run before that encoder's kernels.
   * Inside a recording, use `enc.releaseAfter(t)`.
   */
  release(): void {
    if (this.released || this.base) return;
    this.released = true;
    this.gpu.pool.release(this.buffer);
  }

  get isReleased(): boolean {
    return this.released;
  }

  toString(): string {
    return `${this.name}${shapeString(this.shape)}:${this.dtype}`;
  }
}

/** Throws a ShapeError naming `what`, the tensor and its shape unless t's shape is exactly `want`. */
export function assertShape(t: Tensor, want: readonly number[], what: string): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`${what} ${t.name}${shapeString(t.shape)} should be ${shapeString(want)}`);
  }
}

/**
 * Release tensors, and the tensors held in arrays or in the fields of objects (inputs, results, gradients);
 * anything else (undefined, numbers) is skipped. Releasing a tensor twice, or a view, does nothing.
 */
export function releaseAll(...items: unknown[]): void {
  for (const it of items) {
    if (it instanceof Tensor) it.release();
    else if (it && typeof it === 'object') for (const v of Object.values(it)) if (v instanceof Tensor) v.release();
  }
}
