// Modules own their forward and backward (as in llm.c): `forward` saves what `backward` needs, `backward`
// returns the input gradient and accumulates parameter gradients. No autograd graph.
import type { Encoder } from '../gpu/encoder.ts';
import type { Gpu } from '../gpu/device.ts';
import { LabError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { fill } from '../kernels/elementwise.ts';

/** A trainable tensor with its gradient (allocated at the first backward, zeroed by `zeroGrads`). */
export class Parameter {
  grad: Tensor | undefined;

  constructor(
    readonly name: string,
    readonly value: Tensor,
    /** Whether AdamW's weight decay applies. */
    readonly decay: boolean,
  ) {}

  /** The gradient tensor, created as zeros on first use. */
  gradient(gpu: Gpu): Tensor {
    this.grad ??= gpu.zeros(this.value.shape, 'f32', `${this.name}.grad`);
    return this.grad;
  }
}

/** The model's parameters by name (names as in models/parameters.ts, the checkpoint schema). */
export class ParameterSet {
  private byName = new Map<string, Parameter>();

  add(p: Parameter): void {
    if (this.byName.has(p.name)) throw new LabError('bad-input', `parameter ${p.name} defined twice`);
    this.byName.set(p.name, p);
  }

  get(name: string, shape?: readonly number[]): Parameter {
    const p = this.byName.get(name);
    if (!p) throw new LabError('bad-input', `parameter ${name} does not exist in this model`);
    if (shape && shape.join(',') !== p.value.shape.join(',')) {
      throw new LabError('shape', `parameter ${name} is ${shapeString(p.value.shape)}, the module needs ${shapeString(shape)}`);
    }
    return p;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  all(): Parameter[] {
    return [...this.byName.values()];
  }

  /**
   * Zero every allocated gradient, recorded into `enc` so that it runs in order with the encoder's other work
   * (after an optimizer step that reads them, before the next backward that accumulates into them).
   */
  zeroGrads(enc: Encoder): void {
    for (const p of this.all()) if (p.grad) fill(enc, p.grad, 0);
  }

  get count(): number {
    return this.all().reduce((s, p) => s + p.value.size, 0);
  }

  release(): void {
    for (const p of this.all()) {
      p.value.release();
      p.grad?.release();
    }
    this.byName.clear();
  }
}

/** What a forward needs besides its input: the encoder to record into, and whether backward will follow. */
export interface Pass {
  enc: Encoder;
  /** Save activations for backward (training); otherwise temporaries are released at once. */
  train: boolean;
}

/**
 * Saved activations of one forward, for its backward. Inputs are borrowed (their producer's owner keeps them
 * alive until backward); tensors the module made itself are owned and released after the backward's work.
 */
export class Saved<T extends Record<string, Tensor | undefined>> {
  private value: T | undefined;
  private owned: Tensor[] = [];

  set(v: T, owned: (keyof T)[] = []): void {
    if (this.value) throw new LabError('bad-input', 'forward called twice in training mode before backward');
    this.value = v;
    this.owned = owned.map((k) => v[k]).filter((t): t is NonNullable<T[keyof T]> => t !== undefined) as Tensor[];
  }

  /** Take the saved tensors for backward; owned ones are released after the encoder's work. */
  take(enc: Encoder, module: string): T {
    const v = this.value;
    if (!v) throw new LabError('bad-input', `${module}: backward without a training forward`);
    enc.releaseAfter(...this.owned);
    this.value = undefined;
    this.owned = [];
    return v;
  }

  /** Forget a training forward that will have no backward (an evaluation pass, an aborted step). */
  drop(enc: Encoder): void {
    enc.releaseAfter(...this.owned);
    this.value = undefined;
    this.owned = [];
  }
}
