// HuBERT's convolutional positional embedding with the encoder's input norm that follows it:
// y = LN(x + GELU(conv(x))) (fairseq's TransformerEncoder with layer_norm_first = False: pos_conv, the
// residual add, then encoder.layer_norm). conv: d_model -> d_model with bias, its kernel, groups and padding
// from PositionalConvDims. Parameters `encoder.pos_conv.0.{weight,bias}`, `encoder.layer_norm.{weight,bias}`.
import type { Gpu } from '../gpu/device.ts';
import { LabError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { accumulate, unary, unaryBackward } from '../kernels/elementwise.ts';
import { maskFrames } from '../kernels/heads.ts';
import { Conv1d, type Conv1dState } from './conv1d.ts';
import { Saved, type ParameterSet, type Pass } from './module.ts';
import { LayerNorm } from './norms.ts';

export interface PositionalConvDims {
  d_model: number;
  kernel: number;
  groups: number;
  /** 'same': the paper's, about 1.28 s of look-ahead at base size; 'causal': streams exactly. */
  padding: 'same' | 'causal';
}

export class PositionalConv {
  readonly conv: Conv1d;
  readonly norm: LayerNorm;
  private saved = new Saved<{ pre: Tensor; a: Tensor; xz: Tensor | undefined; padding: Tensor | undefined }>();

  constructor(
    params: ParameterSet,
    readonly dims: PositionalConvDims,
  ) {
    const { d_model, kernel, groups, padding } = dims;
    this.conv = new Conv1d(params, 'encoder.pos_conv.0', { cIn: d_model, cOut: d_model, k: kernel, groups, padding });
    this.norm = new LayerNorm(params, 'encoder.layer_norm', d_model);
  }

  /**
   * x (b, l, d_model) -> LN(x + GELU(conv(x))) (b, l, d_model). padding (b * l) f32, borrowed, 1 on the padded
   * frames of a padded batch: the 'same' conv reads zeros there, as it does past an utterance's end alone.
   */
  forward(pass: Pass, x: Tensor, padding?: Tensor): Tensor {
    const { enc, train } = pass;
    // The conv's input (kept for its backward); a causal conv never reads past a frame, so needs no zeros.
    const xz = padding && this.dims.padding === 'same' ? maskFrames(enc, x, padding) : undefined;
    if (!train) {
      // Inference: the conv applies the GELU itself.
      const a = this.conv.forward(pass, xz ?? x, true);
      const y = this.norm.forward(pass, x, a);
      enc.releaseAfter(a, ...(xz ? [xz] : []));
      return y;
    }
    const pre = this.conv.forward(pass, xz ?? x);
    const a = unary(enc, 'gelu', pre);
    const y = this.norm.forward(pass, x, a);
    this.saved.set({ pre, a, xz, padding }, ['pre', 'a', 'xz']);
    return y;
  }

  backward(pass: Pass, dy: Tensor): Tensor {
    const { enc } = pass;
    const { pre, padding } = this.saved.take(enc, 'encoder.pos_conv');
    const ds = this.norm.backward(pass, dy); // the gradient of x + a, for both terms
    const dpre = unaryBackward(enc, 'gelu', pre, ds);
    const dxz = this.conv.backward(pass, dpre);
    const dx = padding && this.dims.padding === 'same' ? maskFrames(enc, dxz, padding) : dxz;
    if (dx !== dxz) enc.releaseAfter(dxz);
    accumulate(enc, dx, ds);
    enc.releaseAfter(ds, dpre);
    return dx;
  }

  /** An empty stream for `batch` sequences ('causal' padding only). */
  startState(gpu: Gpu, batch: number): Conv1dState {
    if (this.dims.padding !== 'causal') {
      throw new LabError('bad-input', `encoder.pos_conv: padding '${this.dims.padding}' looks ahead and cannot stream; use 'causal'`);
    }
    return this.conv.startState(gpu, batch);
  }

  /** New frames x (b, m, d_model) -> their outputs (b, m, d_model), the state updated. Inference only. */
  step(pass: Pass, x: Tensor, state: Conv1dState): Tensor {
    const { enc } = pass;
    const a = this.conv.step(pass, x, state, true);
    const y = this.norm.forward({ enc, train: false }, x, a);
    enc.releaseAfter(a);
    return y;
  }
}
