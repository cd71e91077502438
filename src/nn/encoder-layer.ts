// One encoder block, post-LN as in fairseq's TransformerEncoderLayer with layer_norm_first = False and the
// paper's Mamba blocks: x = LN(x + Mixer(x)), then, when dims.ffn > 0, x = LN(x + FFN(x)). No dropout: the
// lab trains without it, so Dropout(Mixer(x)) of the paper's code is the identity here. Each residual add is
// fused into its norm (residualLayerNorm). Norm names: `encoder.layers.{i}.self_attn_layer_norm` (Transformer
// kinds) or `.norm` (Mamba kinds), and `.final_layer_norm` after the FFN (`.fc1`, `.fc2`).
import type { Gpu } from '../gpu/device.ts';
import { LabError, ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { accumulate } from '../kernels/elementwise.ts';
import { FeedForward } from './feed-forward.ts';
import type { Mixer, MixerState } from './mixer.ts';
import { Saved, type ParameterSet, type Pass } from './module.ts';
import { LayerNorm } from './norms.ts';

/** An encoder block's sizes, and the name its first norm has in the checkpoint schema. */
export interface EncoderLayerDims {
  d_model: number;
  /** Feed-forward width after the mixer; 0 for none. */
  ffn: number;
  /** The norm after the mixer: `self_attn_layer_norm` (fairseq's Transformer layers) or `norm` (mamba_ssm's blocks). */
  mixerNorm: 'self_attn_layer_norm' | 'norm';
}

export class EncoderLayer<S extends MixerState = MixerState> {
  readonly prefix: string;
  readonly mixerNorm: LayerNorm;
  readonly ffn: FeedForward | undefined;
  readonly finalNorm: LayerNorm | undefined;
  private saved = new Saved<{ m: Tensor; x1: Tensor | undefined; f: Tensor | undefined }>();

  constructor(
    params: ParameterSet,
    readonly dims: EncoderLayerDims,
    readonly index: number,
    readonly mixer: Mixer<S>,
  ) {
    this.prefix = `encoder.layers.${index}`;
    const d = dims.d_model;
    this.mixerNorm = new LayerNorm(params, `${this.prefix}.${dims.mixerNorm}`, d);
    if (dims.ffn > 0) {
      this.ffn = new FeedForward(params, this.prefix, d, dims.ffn);
      this.finalNorm = new LayerNorm(params, `${this.prefix}.final_layer_norm`, d);
    }
  }

  private check(x: Tensor): void {
    if (x.shape.length !== 3 || x.shape[2] !== this.dims.d_model) {
      throw new ShapeError(`${this.prefix}: input ${x.name}${shapeString(x.shape)} must be (b, l, ${this.dims.d_model})`);
    }
  }

  /** x (b, l, d_model), lengths (b) i32 of a padded batch (see Mixer) -> (b, l, d_model). */
  forward(pass: Pass, x: Tensor, lengths?: Tensor): Tensor {
    this.check(x);
    const m = this.mixer.forward(pass, x, lengths);
    const x1 = this.mixerNorm.forward(pass, x, m); // LN(x + Mixer(x))
    let y = x1;
    let f: Tensor | undefined;
    if (this.ffn && this.finalNorm) {
      f = this.ffn.forward(pass, x1);
      y = this.finalNorm.forward(pass, x1, f); // LN(x1 + FFN(x1))
    }
    // x1 is an inner tensor only when the FFN block follows; otherwise it is the output.
    const inner = { m, x1: f ? x1 : undefined, f };
    if (pass.train) this.saved.set(inner, ['m', 'x1', 'f']);
    else pass.enc.releaseAfter(...Object.values(inner).filter((t): t is Tensor => t !== undefined));
    return y;
  }

  /** dy (b, l, d_model) -> dx; accumulates the gradients of the mixer, the norms and the FFN. */
  backward(pass: Pass, dy: Tensor): Tensor {
    const { enc } = pass;
    this.saved.take(enc, this.prefix);
    let dx1 = dy;
    if (this.ffn && this.finalNorm) {
      const ds = this.finalNorm.backward(pass, dy); // the gradient of x1 + f, for both terms
      dx1 = this.ffn.backward(pass, ds);
      accumulate(enc, dx1, ds);
      enc.releaseAfter(ds);
    }
    const ds = this.mixerNorm.backward(pass, dx1); // the gradient of x + m, for both terms
    if (dx1 !== dy) enc.releaseAfter(dx1);
    const dx = this.mixer.backward(pass, ds);
    accumulate(enc, dx, ds);
    enc.releaseAfter(ds);
    return dx;
  }

  /** An empty stream for `batch` sequences: the mixer's state (causal mixers only). */
  startState(gpu: Gpu, batch: number): S {
    if (!this.mixer.startState) throw new LabError('bad-input', `${this.prefix}: mixer ${this.mixer.name} cannot stream`);
    return this.mixer.startState(gpu, batch);
  }

  /** New frames x (b, m, d_model) -> their outputs (b, m, d_model), the state updated. Inference only. */
  step(pass: Pass, x: Tensor, state: S): Tensor {
    if (!this.mixer.step) throw new LabError('bad-input', `${this.prefix}: mixer ${this.mixer.name} cannot stream`);
    this.check(x);
    const inference = { enc: pass.enc, train: false };
    const m = this.mixer.step(inference, x, state);
    const x1 = this.mixerNorm.forward(inference, x, m);
    pass.enc.releaseAfter(m);
    if (!this.ffn || !this.finalNorm) return x1;
    const f = this.ffn.forward(inference, x1);
    const y = this.finalNorm.forward(inference, x1, f);
    pass.enc.releaseAfter(x1, f);
    return y;
  }
}
