// AdamW over a model's ParameterSet, on our kernel: weight decay on matrices only (Parameter.decay), gradient
// clipping by the global norm, gradient accumulation (the micro-batches' gradients add up in place; the update
// divides by their count), and a non-finite check that names the first bad parameter before anything changes.
//
// The global norm is summed on the GPU and read back once per update (one small readback; the clipping factor
// and the check are then plain host arithmetic).
import type { Gpu } from '../gpu/device.ts';
import { LabError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { fill } from '../kernels/elementwise.ts';
import { adamw, ADAMW_DEFAULTS } from '../kernels/optim.ts';
import { sumSquares } from '../kernels/reduce.ts';
import type { Parameter, ParameterSet } from '../nn/module.ts';
import type { NamedTensor } from '../models/safetensors.ts';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay of the parameters with `decay` (matrices); the others get none. */
  weightDecay?: number;
  /** Clip the global gradient norm to this (0 or Infinity: no clipping). */
  maxGradNorm?: number;
}

export interface UpdateOptions {
  /** The update's number in the run (for messages). */
  step: number;
  lr: number;
  /** Micro-batches whose gradients were summed (the update uses their mean). */
  microBatches?: number;
  /** Parameters left as they are this update (their gradients are still cleared). */
  frozen?: (name: string) => boolean;
}

export interface UpdateReport {
  /** Global norm of the mean gradient, before clipping (frozen parameters excluded). */
  gradNorm: number;
  /** The factor the gradients were multiplied by (1 when not clipped). */
  clip: number;
}

/** The moment tensors' names in a checkpoint. */
export const MOMENT_PREFIX = { m: 'optim.m.', v: 'optim.v.' } as const;

export class NonFiniteError extends LabError {
  constructor(message: string) {
    super('non-finite', message);
  }
}

export class AdamW {
  private moments = new Map<string, { m: Tensor; v: Tensor }>();
  /**
   * Updates each parameter has had (AdamW's bias correction counts per parameter, as PyTorch's per-parameter
   * state: a parameter frozen for the first updates of a fine-tuning starts its own count when it thaws).
   */
  private counts = new Map<string, number>();
  private total: Tensor;

  constructor(
    readonly gpu: Gpu,
    readonly params: ParameterSet,
    readonly options: AdamWOptions = {},
  ) {
    this.total = gpu.tensor([1], 'f32', undefined, 'optim.gradNormSquared');
  }

  private momentsOf(p: Parameter): { m: Tensor; v: Tensor } {
    let s = this.moments.get(p.name);
    if (!s) {
      s = { m: this.gpu.zeros(p.value.shape, 'f32', `${MOMENT_PREFIX.m}${p.name}`), v: this.gpu.zeros(p.value.shape, 'f32', `${MOMENT_PREFIX.v}${p.name}`) };
      this.moments.set(p.name, s);
    }
    return s;
  }

  /** Clip, check and apply one update from the accumulated gradients, then clear every gradient. */
  async update(o: UpdateOptions): Promise<UpdateReport> {
    const { gpu } = this;
    const mean = 1 / (o.microBatches ?? 1);
    const trained = this.params.all().filter((p) => p.grad && !o.frozen?.(p.name));
    const enc = gpu.encoder();
    fill(enc, this.total, 0);
    for (const p of trained) sumSquares(enc, p.grad!, { out: this.total, accumulate: true });
    enc.submit();
    const gradNorm = Math.sqrt((await this.total.read())[0]) * mean;
    if (!Number.isFinite(gradNorm)) throw new NonFiniteError(`update ${o.step}: ${await this.firstNonFinite(trained)}`);
    const max = this.options.maxGradNorm ?? 0;
    const clip = max > 0 && gradNorm > max ? max / gradNorm : 1;
    const upd = gpu.encoder();
    for (const p of trained) {
      const { m, v } = this.momentsOf(p);
      const step = (this.counts.get(p.name) ?? 0) + 1;
      this.counts.set(p.name, step);
      adamw(
        upd,
        { param: p.value, grad: p.grad!, m, v },
        {
          lr: o.lr,
          step,
          beta1: this.options.beta1,
          beta2: this.options.beta2,
          eps: this.options.eps,
          weightDecay: p.decay ? (this.options.weightDecay ?? ADAMW_DEFAULTS.weightDecay) : 0,
          gradScale: mean * clip,
        },
      );
    }
    this.params.zeroGrads(upd);
    upd.submit();
    return { gradNorm, clip };
  }

  /** Which gradient holds a NaN or an infinity, for the error message. */
  private async firstNonFinite(trained: Parameter[]): Promise<string> {
    for (const p of trained) {
      const g = await p.grad!.read();
      const i = g.findIndex((x) => !Number.isFinite(x));
      if (i >= 0) return `the gradient of ${p.name} holds ${g[i]} (element ${i}); nothing was updated`;
    }
    return 'the global gradient norm overflowed float32; nothing was updated';
  }

  /** Updates per parameter, for the checkpoint's metadata. */
  stepCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** The moments as checkpoint tensors (names under MOMENT_PREFIX). */
  async state(): Promise<Map<string, NamedTensor>> {
    const out = new Map<string, NamedTensor>();
    for (const [name, { m, v }] of this.moments) {
      out.set(MOMENT_PREFIX.m + name, { shape: [...m.shape], data: (await m.read()) as Float32Array });
      out.set(MOMENT_PREFIX.v + name, { shape: [...v.shape], data: (await v.read()) as Float32Array });
    }
    return out;
  }

  /** Restore moments saved by `state` and counts from `stepCounts` (a moment of an unknown parameter or of another size is refused). */
  restore(tensors: Map<string, NamedTensor>, counts: Record<string, number>): void {
    this.counts = new Map(Object.entries(counts));
    for (const [key, t] of tensors) {
      const which = key.startsWith(MOMENT_PREFIX.m) ? 'm' : key.startsWith(MOMENT_PREFIX.v) ? 'v' : undefined;
      if (!which) continue;
      const name = key.slice(MOMENT_PREFIX[which].length);
      if (!this.params.has(name)) throw new LabError('bad-input', `checkpoint: optimizer moment ${key} belongs to no parameter of this model`);
      const p = this.params.get(name);
      if (t.data.length !== p.value.size) throw new LabError('bad-input', `checkpoint: optimizer moment ${key} has ${t.data.length} values, ${name} has ${p.value.size}`);
      this.gpu.upload(this.momentsOf(p)[which], t.data);
    }
  }

  release(): void {
    for (const { m, v } of this.moments.values()) [m, v].forEach((t) => t.release());
    this.moments.clear();
    this.total.release();
  }
}
