// The position-wise feed-forward block of fairseq's TransformerEncoderLayer: fc2(GELU(fc1(x))), no dropout.
import { ShapeError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { unary, unaryBackward } from '../kernels/elementwise.ts';
import { Linear } from './linear.ts';
import { Saved, type ParameterSet, type Pass } from './module.ts';

/** x (..., d_model) -> fc1 (..., ffn) -> GELU -> fc2 (..., d_model). Parameters `<prefix>.fc1`, `<prefix>.fc2`. */
export class FeedForward {
  readonly fc1: Linear;
  readonly fc2: Linear;
  private saved = new Saved<{ h: Tensor; a: Tensor }>();

  constructor(
    params: ParameterSet,
    readonly prefix: string,
    dModel: number,
    ffn: number,
  ) {
    if (ffn < 1) throw new ShapeError(`${prefix}: feed-forward width ${ffn} must be at least 1`);
    this.fc1 = new Linear(params, `${prefix}.fc1`, dModel, ffn);
    this.fc2 = new Linear(params, `${prefix}.fc2`, ffn, dModel);
  }

  forward(pass: Pass, x: Tensor): Tensor {
    const { enc, train } = pass;
    if (!train) {
      // GELU fused into fc1's matmul.
      const a = this.fc1.forward(pass, x, 'gelu');
      const y = this.fc2.forward(pass, a);
      enc.releaseAfter(a);
      return y;
    }
    const h = this.fc1.forward(pass, x); // (..., ffn)
    const a = unary(enc, 'gelu', h);
    const y = this.fc2.forward(pass, a);
    this.saved.set({ h, a }, ['h', 'a']);
    return y;
  }

  backward(pass: Pass, dy: Tensor): Tensor {
    const { enc } = pass;
    const { h } = this.saved.take(enc, this.prefix);
    const da = this.fc2.backward(pass, dy);
    const dh = unaryBackward(enc, 'gelu', h, da);
    const dx = this.fc1.backward(pass, dh);
    enc.releaseAfter(da, dh);
    return dx;
  }
}
