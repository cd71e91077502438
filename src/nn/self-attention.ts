// Multi-head self-attention as fairseq's MultiheadAttention: q, k, v projections (with bias) of x, scaled
// dot-product attention over h heads (causal or bidirectional), the output projection. Parameters
// `<name>.{q,k,v,out}_proj.{weight,bias}` with name `encoder.layers.{i}.self_attn`.
// Two attention forms: 'tiled' (online softmax, memory linear in l; the default where the head width allows)
// and 'materialised' (stores the (b, h, l, l) probabilities; runs out of memory on long inputs as in the paper).
import type { Gpu } from '../gpu/device.ts';
import { LabError, ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import {
  attentionDecode,
  attentionMaterialised,
  attentionMaterialisedBackward,
  attentionTiled,
  attentionTiledBackward,
  createKvCache,
  KvCache,
  TILED_MAX_DH,
} from '../kernels/attention.ts';
import { framesConcat } from '../kernels/layout.ts';
import { accumulate } from '../kernels/elementwise.ts';
import { Linear } from './linear.ts';
import type { Mixer, MixerState } from './mixer.ts';
import { Saved, type ParameterSet, type Pass } from './module.ts';

export type AttentionForm = 'materialised' | 'tiled';

export interface SelfAttentionSettings {
  dModel: number;
  heads: number;
  causal: boolean;
  /** Default: 'tiled' when d_model / h <= TILED_MAX_DH, else 'materialised'. */
  form?: AttentionForm;
}

/** Frames a fresh KV cache holds before it grows. */
const INITIAL_CACHE_FRAMES = 256;

/** The streaming state of causal attention: the keys and values seen so far (the cache grows as needed). */
export class AttentionState implements MixerState {
  constructor(public cache: KvCache) {}

  release(): void {
    this.cache.release();
  }
}

export class SelfAttention implements Mixer<AttentionState> {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly heads: number;
  readonly causal: boolean;
  readonly form: AttentionForm;
  private saved = new Saved<{
    q: Tensor;
    k: Tensor;
    v: Tensor;
    attn: Tensor;
    probs: Tensor | undefined;
    lse: Tensor | undefined;
    lengths: Tensor | undefined;
  }>();

  constructor(
    params: ParameterSet,
    readonly name: string,
    settings: SelfAttentionSettings,
  ) {
    const { dModel, heads } = settings;
    if (!Number.isInteger(heads) || heads < 1 || dModel % heads !== 0) throw new ShapeError(`${name}: d_model ${dModel} is not a multiple of h = ${heads}`);
    this.heads = heads;
    this.causal = settings.causal;
    this.form = settings.form ?? (dModel / heads <= TILED_MAX_DH ? 'tiled' : 'materialised');
    this.q = new Linear(params, `${name}.q_proj`, dModel, dModel);
    this.k = new Linear(params, `${name}.k_proj`, dModel, dModel);
    this.v = new Linear(params, `${name}.v_proj`, dModel, dModel);
    this.out = new Linear(params, `${name}.out_proj`, dModel, dModel);
  }

  private check(x: Tensor): void {
    if (x.shape.length !== 3 || x.shape[2] !== this.q.inFeatures || x.shape[1] < 1) {
      throw new ShapeError(`${this.name}: input ${x.name}${shapeString(x.shape)} must be (b, l >= 1, ${this.q.inFeatures})`);
    }
  }

  /** x (b, l, d_model), lengths (b) i32 optional (keys past them are hidden) -> (b, l, d_model). */
  forward(pass: Pass, x: Tensor, lengths?: Tensor): Tensor {
    this.check(x);
    const { enc, train } = pass;
    const q = this.q.forward(pass, x);
    const k = this.k.forward(pass, x);
    const v = this.v.forward(pass, x);
    const opts = { heads: this.heads, causal: this.causal, keyLengths: lengths };
    let attn: Tensor;
    let probs: Tensor | undefined;
    let lse: Tensor | undefined;
    try {
      if (this.form === 'materialised') ({ out: attn, probs } = attentionMaterialised(enc, q, k, v, opts));
      else ({ out: attn, lse } = attentionTiled(enc, q, k, v, opts));
    } catch (e) {
      // The materialised scores did not fit (TooLargeError): give the projections back with the encoder.
      enc.releaseAfter(q, k, v);
      throw e;
    }
    const y = this.out.forward(pass, attn);
    const kept = { q, k, v, attn, probs, lse };
    if (train) this.saved.set({ ...kept, lengths }, ['q', 'k', 'v', 'attn', 'probs', 'lse']);
    else enc.releaseAfter(...Object.values(kept).filter((t): t is Tensor => t !== undefined));
    return y;
  }

  /** dy (b, l, d_model) -> dx; accumulates the four projections' gradients. */
  backward(pass: Pass, dy: Tensor): Tensor {
    const { enc } = pass;
    const { q, k, v, attn, probs, lse, lengths } = this.saved.take(enc, this.name);
    const opts = { heads: this.heads, causal: this.causal, keyLengths: lengths };
    const dattn = this.out.backward(pass, dy);
    const g = probs
      ? attentionMaterialisedBackward(enc, q, k, v, probs, dattn, opts)
      : attentionTiledBackward(enc, q, k, v, attn, lse as Tensor, dattn, opts);
    const dx = this.q.backward(pass, g.dq);
    const dxk = this.k.backward(pass, g.dk);
    const dxv = this.v.backward(pass, g.dv);
    accumulate(enc, dx, dxk);
    accumulate(enc, dx, dxv);
    enc.releaseAfter(dattn, g.dq, g.dk, g.dv, dxk, dxv);
    return dx;
  }

  /** Causal attention only: an empty KV cache for `batch` streams (it grows when a step needs more frames). */
  startState(gpu: Gpu, batch: number, frames = INITIAL_CACHE_FRAMES): AttentionState {
    this.assertCausal();
    return new AttentionState(createKvCache(gpu, batch, frames, this.q.inFeatures));
  }

  /** Causal attention only (inference): new frames x (b, m, d_model) -> (b, m, d_model), attending to the cache. */
  step(pass: Pass, x: Tensor, state: AttentionState): Tensor {
    this.assertCausal();
    this.check(x);
    const { enc } = pass;
    const inference = { enc, train: false };
    const m = x.shape[1];
    if (state.cache.length + m > state.cache.capacity) state.cache = this.grow(pass, state.cache, state.cache.length + m);
    const q = this.q.forward(inference, x);
    const k = this.k.forward(inference, x);
    const v = this.v.forward(inference, x);
    const attn = attentionDecode(enc, state.cache, q, k, v, { heads: this.heads });
    const y = this.out.forward(inference, attn);
    enc.releaseAfter(q, k, v, attn);
    return y;
  }

  /** A cache of at least `frames` (doubling), holding the old one's frames; the old one is released. */
  private grow({ enc }: Pass, cache: KvCache, frames: number): KvCache {
    const capacity = Math.max(frames, 2 * cache.capacity);
    const filler = enc.gpu.tensor([cache.b, capacity - cache.capacity, cache.dModel], 'f32', undefined, 'kv cache filler');
    const grown = new KvCache(
      framesConcat(enc, cache.k, filler, 0, capacity, 'kv cache k'),
      framesConcat(enc, cache.v, filler, 0, capacity, 'kv cache v'),
    );
    grown.length = cache.length;
    enc.releaseAfter(filler, cache.k, cache.v);
    return grown;
  }

  private assertCausal(): void {
    if (!this.causal) throw new LabError('bad-input', `${this.name}: bidirectional attention sees future frames and cannot stream`);
  }
}
