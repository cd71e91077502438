// Conv1d module over the conv1d kernel: x (b, l, c_in) -> y (b, l_out, c_out), weight (c_out, c_in / groups, k)
// as in PyTorch, optional bias (c_out), stride, groups, padding; chunk-incremental streaming when the padding
// does not look ahead ('valid' or 'causal').
import type { Gpu } from '../gpu/device.ts';
import { ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { conv1d, conv1dBackward, conv1dStreamStart, conv1dStreamStep, type ConvPadding } from '../kernels/conv.ts';
import { Saved, type Parameter, type ParameterSet, type Pass } from './module.ts';

export interface Conv1dSettings {
  cIn: number;
  cOut: number;
  k: number;
  stride?: number;
  groups?: number;
  padding?: ConvPadding;
  bias?: boolean;
}

/** A stream's carried input tail (b, frames, c_in), replaced by each step, and the weight packed by the first. */
export class Conv1dState {
  // The packed weight is a copy of the model's, not carried state: private, so that what sums a state's tensors by
  // walking its fields (streamStateBytes) does not count it.
  #packed: Tensor | undefined;

  constructor(public tail: Tensor) {}

  get packed(): Tensor | undefined {
    return this.#packed;
  }

  set packed(t: Tensor | undefined) {
    this.#packed = t;
  }

  release(): void {
    this.tail.release();
    this.#packed?.release();
  }
}

export class Conv1d {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;
  readonly stride: number;
  readonly groups: number;
  readonly padding: ConvPadding;
  private saved = new Saved<{ x: Tensor }>();

  constructor(
    params: ParameterSet,
    readonly name: string,
    readonly settings: Conv1dSettings,
  ) {
    const { cIn, cOut, k } = settings;
    this.stride = settings.stride ?? 1;
    this.groups = settings.groups ?? 1;
    this.padding = settings.padding ?? 'valid';
    if (cIn % this.groups !== 0 || cOut % this.groups !== 0) {
      throw new ShapeError(`${name}: groups ${this.groups} must divide c_in ${cIn} and c_out ${cOut}`);
    }
    this.weight = params.get(`${name}.weight`, [cOut, cIn / this.groups, k]);
    this.bias = settings.bias === false ? undefined : params.get(`${name}.bias`, [cOut]);
  }

  private check(x: Tensor): void {
    if (x.shape.length !== 3 || x.shape[2] !== this.settings.cIn) {
      throw new ShapeError(`${this.name}: input ${x.name}${shapeString(x.shape)} must be (b, l, ${this.settings.cIn})`);
    }
  }

  private get options() {
    return { stride: this.stride, groups: this.groups, padding: this.padding, bias: this.bias?.value };
  }

  /** x -> y; `gelu` fuses GELU into the conv (inference only: training keeps the pre-activation for its backward). */
  forward({ enc, train }: Pass, x: Tensor, gelu = false): Tensor {
    this.check(x);
    if (gelu && train) throw new ShapeError(`${this.name}: the fused GELU is for inference; apply it as a module when training`);
    const y = conv1d(enc, x, this.weight.value, { ...this.options, gelu });
    if (train) this.saved.set({ x });
    return y;
  }

  /** dy (b, l_out, c_out) -> dx (b, l, c_in) (none when needDx is false); accumulates dweight, dbias. */
  backward(pass: Pass, dy: Tensor): Tensor;
  backward(pass: Pass, dy: Tensor, needDx: boolean): Tensor | undefined;
  backward({ enc }: Pass, dy: Tensor, needDx = true): Tensor | undefined {
    const { x } = this.saved.take(enc, this.name);
    const gpu = enc.gpu;
    const { dx } = conv1dBackward(enc, x, this.weight.value, dy, {
      ...this.options,
      needDx,
      dweight: this.weight.gradient(gpu),
      dbias: this.bias?.gradient(gpu),
      accumulate: true,
    });
    return dx;
  }

  /** An empty stream for `batch` sequences (needs a padding without look-ahead). */
  startState(gpu: Gpu, batch: number): Conv1dState {
    return new Conv1dState(conv1dStreamStart(gpu, this.weight.value, batch, this.options).tail);
  }

  /**
   * New input frames x (b, m, c_in), m >= 0 -> the output frames that became final (b, n, c_out), n >= 0,
   * GELU fused when asked; the state's tail is replaced (the old one is released after the encoder's work).
   * Inference only.
   */
  step({ enc }: Pass, x: Tensor, state: Conv1dState, gelu = false): Tensor {
    this.check(x);
    const { y, stream } = conv1dStreamStep(enc, state, x, this.weight.value, { ...this.options, gelu });
    state.tail = stream.tail;
    state.packed = stream.packed;
    return y;
  }
}
