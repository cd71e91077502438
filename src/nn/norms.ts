// Normalisation modules over the norm kernels: LayerNorm (over the last dimension, optionally of x + residual,
// the post-LN block) and GroupNorm (over time, per (b, group)). Parameters `<name>.weight`, `<name>.bias` (c).
import { ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { groupNorm, groupNormBackward, layerNorm, layerNormBackward } from '../kernels/norm.ts';
import { Saved, type Parameter, type ParameterSet, type Pass } from './module.ts';

const EPS = 1e-5;

/** y = LN(x) or LN(x + residual) over the last dimension: x (..., c) -> y (..., c). */
export class LayerNorm {
  readonly weight: Parameter;
  readonly bias: Parameter;
  private saved = new Saved<{ x: Tensor; residual: Tensor | undefined; mean: Tensor; rstd: Tensor }>();

  constructor(
    params: ParameterSet,
    readonly name: string,
    readonly c: number,
  ) {
    this.weight = params.get(`${name}.weight`, [c]);
    this.bias = params.get(`${name}.bias`, [c]);
  }

  private check(t: Tensor, what: string): void {
    const c = t.shape[t.shape.length - 1];
    if (t.shape.length < 1 || c !== this.c) {
      throw new ShapeError(`${this.name}: ${what} ${t.name}${shapeString(t.shape)} has ${c} channels in its last dimension, expected ${this.c}`);
    }
  }

  /** The residual (same shape as x) is added before normalising: the fused LN(x + Mixer(x)). */
  forward({ enc, train }: Pass, x: Tensor, residual?: Tensor): Tensor {
    this.check(x, 'input');
    if (residual) {
      this.check(residual, 'residual');
      if (residual.shape.join(',') !== x.shape.join(',')) {
        throw new ShapeError(`${this.name}: residual ${residual.name}${shapeString(residual.shape)} must have the shape of input ${x.name}${shapeString(x.shape)}`);
      }
    }
    const { y, mean, rstd } = layerNorm(enc, x, this.weight.value, this.bias.value, { eps: EPS, residual });
    if (train) this.saved.set({ x, residual, mean, rstd }, ['mean', 'rstd']);
    else enc.releaseAfter(mean, rstd);
    return y;
  }

  /** dy (..., c) -> dx, which is also the residual's gradient; accumulates the weight and bias gradients. */
  backward({ enc }: Pass, dy: Tensor): Tensor {
    const { x, residual, mean, rstd } = this.saved.take(enc, this.name);
    if (dy.size !== x.size) throw new ShapeError(`${this.name}: dy ${dy.name}${shapeString(dy.shape)} must match the input ${shapeString(x.shape)}`);
    const gpu = enc.gpu;
    const { dx } = layerNormBackward(enc, dy.view(x.shape), x, this.weight.value, { mean, rstd }, {
      residual,
      dgamma: this.weight.gradient(gpu),
      dbeta: this.bias.gradient(gpu),
      accumulate: true,
    });
    return dx;
  }
}

/**
 * GroupNorm over time: x (b, l, c) -> y (b, l, c), statistics per (b, group) over all l frames and the group's
 * c / groups channels (HuBERT's first extractor layer: groups = c, one statistic per channel and utterance).
 */
export class GroupNorm {
  readonly weight: Parameter;
  readonly bias: Parameter;
  private saved = new Saved<{ x: Tensor; mean: Tensor; rstd: Tensor; frames: Tensor | undefined }>();

  constructor(
    params: ParameterSet,
    readonly name: string,
    readonly c: number,
    readonly groups: number,
  ) {
    if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) throw new ShapeError(`${name}: ${groups} groups must divide ${c} channels`);
    this.weight = params.get(`${name}.weight`, [c]);
    this.bias = params.get(`${name}.bias`, [c]);
  }

  private check(x: Tensor): void {
    if (x.shape.length !== 3 || x.shape[2] !== this.c || x.shape[1] < 1) {
      throw new ShapeError(`${this.name}: input ${x.name}${shapeString(x.shape)} must be (b, l >= 1, ${this.c})`);
    }
  }

  /** x (b, l, c), frames (b) i32 of a padded batch (borrowed): statistics over those frames, 0 past them. */
  forward({ enc, train }: Pass, x: Tensor, frames?: Tensor): Tensor {
    this.check(x);
    const { y, mean, rstd } = groupNorm(enc, x, this.weight.value, this.bias.value, this.groups, { eps: EPS, frames });
    if (train) this.saved.set({ x, mean, rstd, frames }, ['mean', 'rstd']);
    else enc.releaseAfter(mean, rstd);
    return y;
  }

  backward({ enc }: Pass, dy: Tensor): Tensor {
    const { x, mean, rstd, frames } = this.saved.take(enc, this.name);
    if (dy.size !== x.size) throw new ShapeError(`${this.name}: dy ${dy.name}${shapeString(dy.shape)} must match the input ${shapeString(x.shape)}`);
    const gpu = enc.gpu;
    const { dx } = groupNormBackward(enc, dy.view(x.shape), x, this.weight.value, this.groups, { mean, rstd }, {
      dgamma: this.weight.gradient(gpu),
      dbeta: this.bias.gradient(gpu),
      accumulate: true,
      frames,
    });
    return dx;
  }
}
