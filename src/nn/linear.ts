import { matmul, matmulSplit } from '../kernels/matmul.ts';
import { sumRows } from '../kernels/reduce.ts';
import type { Activation } from '../kernels/reference/matmul.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { ShapeError } from '../gpu/errors.ts';
import { Saved, type ParameterSet, type Pass, type Parameter } from './module.ts';

/** y = x W^T + b over the last dimension: x (..., in) -> y (..., out); W (out, in) as in PyTorch. */
export class Linear {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;
  private saved = new Saved<{ x: Tensor }>();

  constructor(
    params: ParameterSet,
    readonly name: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean } = {},
  ) {
    this.weight = params.get(`${name}.weight`, [outFeatures, inFeatures]);
    this.bias = opts.bias === false ? undefined : params.get(`${name}.bias`, [outFeatures]);
  }

  /** Rows of x viewed as a matrix (rows, in). */
  private rows(x: Tensor): number {
    const inF = x.shape[x.shape.length - 1];
    if (inF !== this.inFeatures) {
      throw new ShapeError(`${this.name}: input ${x.name}[${x.shape.join(', ')}] has ${inF} features, expected ${this.inFeatures}`);
    }
    return x.size / inF;
  }

  forward({ enc, train }: Pass, x: Tensor, act: Activation = 'none'): Tensor {
    if (act !== 'none' && train) throw new ShapeError(`${this.name}: fused activations are for inference; apply them as modules when training`);
    const rows = this.rows(x);
    const out = enc.gpu.tensor([...x.shape.slice(0, -1), this.outFeatures], 'f32', undefined, `${this.name}.out`);
    matmul(enc, x.view([rows, this.inFeatures]), this.weight.value, { transB: true, bias: this.bias?.value, act, out: out.view([rows, this.outFeatures]) });
    if (train) this.saved.set({ x });
    return out;
  }

  /**
   * forward whose output features come as parts of their own, `widths` (2 or 3) summing to `out`: each
   * (..., width), as forward's output sliced by channels but without the slices. backward takes dy whole.
   */
  forwardSplit({ enc, train }: Pass, x: Tensor, widths: readonly number[]): Tensor[] {
    const rows = this.rows(x);
    const parts = widths.map((w) => enc.gpu.tensor([...x.shape.slice(0, -1), w], 'f32', undefined, `${this.name}.out`));
    const outs = parts.map((p, i) => p.view([rows, widths[i]]));
    matmulSplit(enc, x.view([rows, this.inFeatures]), this.weight.value, widths, { transB: true, bias: this.bias?.value, outs });
    if (train) this.saved.set({ x });
    return parts;
  }

  /** dy (..., out) -> dx (..., in); accumulates dW += dy^T x and db += sum of dy's rows. */
  backward({ enc }: Pass, dy: Tensor): Tensor {
    const { x } = this.saved.take(enc, this.name);
    const rows = this.rows(x);
    const gpu = enc.gpu;
    const dy2 = dy.view([rows, this.outFeatures]);
    const dx = gpu.tensor(x.shape, 'f32', undefined, `${this.name}.dx`);
    matmul(enc, dy2, this.weight.value, { out: dx.view([rows, this.inFeatures]) });
    matmul(enc, dy2, x.view([rows, this.inFeatures]), { transA: true, out: this.weight.gradient(gpu), accumulate: true });
    if (this.bias) sumRows(enc, dy2, { out: this.bias.gradient(gpu), accumulate: true });
    return dx;
  }
}
