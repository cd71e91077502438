// Mamba's mixer (mamba_ssm's Mamba, without biases on in_proj, x_proj, out_proj):
//   xz = in_proj(x) (b, l, 2 d_inner) -> x_in, z -> u = SiLU(causal depthwise conv1d(x_in) + bias)
//   -> x_proj(u) = [dt_low (dt_rank), B (n), C (n)] -> dt = dt_proj.weight dt_low
//   -> selective scan (delta = softplus(dt + dt_proj.bias) inside, A = -exp(A_log), D, gated by SiLU(z))
//   -> out_proj.
// MambaBranch is the part between the split and out_proj; InnBiMamba (bimamba.ts) runs two of them.
import type { Gpu } from '../gpu/device.ts';
import { LabError, ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { depthwiseConv, depthwiseConvBackward, depthwiseConvState, depthwiseConvStep } from '../kernels/depthwise.ts';
import { accumulate } from '../kernels/elementwise.ts';
import { channelConcat } from '../kernels/layout.ts';
import { SCAN_DEFAULT_CHUNK, scanBackward, scanForward, scanStep, type ScanForm, type ScanInputs } from '../kernels/scan.ts';
import { Linear } from './linear.ts';
import type { Mixer, MixerState } from './mixer.ts';
import { Saved, type Parameter, type ParameterSet, type Pass } from './module.ts';

/** A Mamba mixer's sizes, by the glossary's names (a ModelConfig has them all). */
export interface MambaDims {
  d_model: number;
  /** n */
  d_state: number;
  d_conv: number;
  /** d_inner = expand * d_model */
  expand: number;
  dt_rank: number;
}

export interface MambaOptions {
  /** The selective scan's form: 'chunked' (parallel over chunks), 'sequential', or 'auto' (the default: the scan's choice per adapter). */
  scanForm?: ScanForm | 'auto';
  /** Frames per scan chunk (also the granularity of the states saved for backward). */
  scanChunk?: number;
}

/** x must be (b, l, d_model). */
export function checkMixerInput(name: string, x: Tensor, dModel: number): void {
  if (x.shape.length !== 3 || x.shape[2] !== dModel || x.shape[0] < 1 || x.shape[1] < 1) {
    throw new ShapeError(`${name}: input ${x.name}${shapeString(x.shape)} should be (b, l, d_model=${dModel})`);
  }
}

/** The carried state of a streaming Mamba: the last d_conv - 1 conv inputs and the SSM state. */
export class MambaState implements MixerState {
  constructor(
    /** (b, d_conv - 1, d_inner) */
    public conv: Tensor,
    /** (b, d_inner, n) */
    readonly ssm: Tensor,
  ) {}

  release(): void {
    this.conv.release();
    this.ssm.release();
  }
}

/**
 * The selective-SSM branch of a Mamba block: (x_in, z) (b, l, d_inner) each -> y (b, l, d_inner) through
 * conv1d + SiLU, x_proj, dt_proj and the z-gated scan. `suffix` '_b' names the backward branch of InnBiMamba
 * (conv1d_b, x_proj_b, dt_proj_b, A_b_log, D_b).
 */
export class MambaBranch {
  readonly name: string;
  readonly convWeight: Parameter;
  readonly convBias: Parameter;
  readonly xProj: Linear;
  readonly dtProj: Linear;
  readonly dtBias: Parameter;
  readonly aLog: Parameter;
  readonly D: Parameter;
  readonly dInner: number;
  private readonly form: ScanForm | 'auto';
  private readonly chunk: number;
  private saved = new Saved<{ xIn: Tensor; z: Tensor; u: Tensor; dtLow: Tensor; dt: Tensor; B: Tensor; C: Tensor; states: Tensor }>();

  constructor(
    params: ParameterSet,
    prefix: string,
    readonly dims: MambaDims,
    suffix: '' | '_b' = '',
    opts: MambaOptions = {},
  ) {
    const di = dims.expand * dims.d_model;
    const n = dims.d_state;
    this.name = `${prefix}${suffix ? ` (${suffix} branch)` : ''}`;
    this.dInner = di;
    this.convWeight = params.get(`${prefix}.conv1d${suffix}.weight`, [di, 1, dims.d_conv]);
    this.convBias = params.get(`${prefix}.conv1d${suffix}.bias`, [di]);
    this.xProj = new Linear(params, `${prefix}.x_proj${suffix}`, di, dims.dt_rank + 2 * n, { bias: false });
    this.dtProj = new Linear(params, `${prefix}.dt_proj${suffix}`, dims.dt_rank, di, { bias: false });
    this.dtBias = params.get(`${prefix}.dt_proj${suffix}.bias`, [di]);
    this.aLog = params.get(`${prefix}.${suffix ? 'A_b_log' : 'A_log'}`, [di, n]);
    this.D = params.get(`${prefix}.${suffix ? 'D_b' : 'D'}`, [di]);
    this.form = opts.scanForm ?? 'auto';
    this.chunk = opts.scanChunk ?? SCAN_DEFAULT_CHUNK;
  }

  /** x_proj's output split into dt_low, B, C; dt = dt_proj.weight dt_low. All (b, l, .) and owned by the caller. */
  private project(pass: Pass, u: Tensor): { dtLow: Tensor; dt: Tensor; B: Tensor; C: Tensor } {
    const { dt_rank: r, d_state: n } = this.dims;
    const [dtLow, B, C] = this.xProj.forwardSplit(pass, u, [r, n, n]); // x_proj's (b, l, dt_rank + 2n) in parts
    const dt = this.dtProj.forward(pass, dtLow); // (b, l, d_inner)
    return { dtLow, dt, B, C };
  }

  private scanInputs(u: Tensor, dt: Tensor, B: Tensor, C: Tensor, z: Tensor): ScanInputs {
    return { u, dt, dtBias: this.dtBias.value, aLog: this.aLog.value, B, C, D: this.D.value, z };
  }

  /** xIn, z (b, l, d_inner), borrowed (kept alive by the caller until backward) -> y (b, l, d_inner). */
  forward(pass: Pass, xIn: Tensor, z: Tensor): Tensor {
    const { enc, train } = pass;
    const u = depthwiseConv(enc, xIn, this.convWeight.value, { bias: this.convBias.value, silu: true });
    const { dtLow, dt, B, C } = this.project(pass, u);
    const r = scanForward(enc, this.scanInputs(u, dt, B, C, z), { form: this.form, chunk: this.chunk });
    enc.releaseAfter(r.hT, r.nonFinite);
    if (train) this.saved.set({ xIn, z, u, dtLow, dt, B, C, states: r.states }, ['u', 'dtLow', 'dt', 'B', 'C', 'states']);
    else enc.releaseAfter(u, dtLow, dt, B, C, r.states);
    return r.out;
  }

  /** dy (b, l, d_inner) -> dxIn, dz (owned by the caller); accumulates every parameter gradient of the branch. */
  backward(pass: Pass, dy: Tensor): { dxIn: Tensor; dz: Tensor } {
    const { enc } = pass;
    const gpu = enc.gpu;
    const s = this.saved.take(enc, this.name);
    const g = scanBackward(enc, this.scanInputs(s.u, s.dt, s.B, s.C, s.z), { states: s.states, chunk: this.chunk }, dy);
    accumulate(enc, this.aLog.gradient(gpu), g.dALog);
    accumulate(enc, this.D.gradient(gpu), g.dD);
    accumulate(enc, this.dtBias.gradient(gpu), g.dDtBias);
    const dDtLow = this.dtProj.backward(pass, g.ddt);
    const dXdbl = channelConcat(enc, [dDtLow, g.dB, g.dC], `${this.name}.dx_proj`);
    const du = this.xProj.backward(pass, dXdbl);
    accumulate(enc, du, g.du);
    const { dx: dxIn } = depthwiseConvBackward(enc, s.xIn, this.convWeight.value, du, {
      bias: this.convBias.value,
      silu: true,
      dweight: this.convWeight.gradient(gpu),
      dbias: this.convBias.gradient(gpu),
      accumulate: true,
    });
    enc.releaseAfter(g.du, g.ddt, g.dALog, g.dB, g.dC, g.dD, g.dDtBias, g.dh0, dDtLow, dXdbl, du);
    return { dxIn, dz: g.dz! };
  }

  startState(gpu: Gpu, batch: number): MambaState {
    return new MambaState(depthwiseConvState(gpu, batch, this.dInner, this.dims.d_conv), gpu.zeros([batch, this.dInner, this.dims.d_state], 'f32', `${this.name}.ssm_state`));
  }

  /** New frames xIn, z (b, m, d_inner) -> y (b, m, d_inner); `state` is advanced (the conv tail replaced, its old tensor released after the work; the SSM state in place). */
  step(pass: Pass, xIn: Tensor, z: Tensor, state: MambaState): Tensor {
    const { enc } = pass;
    const conv = depthwiseConvStep(enc, state.conv, xIn, this.convWeight.value, { bias: this.convBias.value, silu: true });
    state.conv = conv.state;
    const u = conv.y;
    const { dtLow, dt, B, C } = this.project(pass, u);
    const y = scanStep(enc, this.scanInputs(u, dt, B, C, z), state.ssm); // advances state.ssm in place
    enc.releaseAfter(u, dtLow, dt, B, C);
    return y;
  }
}

/** The Mamba mixer: x (b, l, d_model) -> y (b, l, d_model); causal, so it also streams. */
export class MambaMixer implements Mixer<MambaState> {
  readonly inProj: Linear;
  readonly branch: MambaBranch;
  readonly outProj: Linear;
  private saved = new Saved<{ xIn: Tensor; z: Tensor; y: Tensor }>();

  /** `name`: the parameter prefix, e.g. `encoder.layers.3.mixer`. */
  constructor(
    params: ParameterSet,
    readonly name: string,
    readonly dims: MambaDims,
    opts: MambaOptions = {},
  ) {
    const di = dims.expand * dims.d_model;
    this.inProj = new Linear(params, `${name}.in_proj`, dims.d_model, 2 * di, { bias: false });
    this.branch = new MambaBranch(params, name, dims, '', opts);
    this.outProj = new Linear(params, `${name}.out_proj`, di, dims.d_model, { bias: false });
  }

  /** in_proj and the split into x_in, z (b, l, d_inner) each, owned by the caller. */
  private split(pass: Pass, x: Tensor): { xIn: Tensor; z: Tensor } {
    const di = this.branch.dInner;
    const [xIn, z] = this.inProj.forwardSplit(pass, x, [di, di]);
    return { xIn, z };
  }

  forward(pass: Pass, x: Tensor): Tensor {
    checkMixerInput(this.name, x, this.dims.d_model);
    const { xIn, z } = this.split(pass, x);
    const y = this.branch.forward(pass, xIn, z);
    const out = this.outProj.forward(pass, y);
    if (pass.train) this.saved.set({ xIn, z, y }, ['xIn', 'z', 'y']);
    else pass.enc.releaseAfter(xIn, z, y);
    return out;
  }

  backward(pass: Pass, dy: Tensor): Tensor {
    const { enc } = pass;
    this.saved.take(enc, this.name);
    const dY = this.outProj.backward(pass, dy);
    const { dxIn, dz } = this.branch.backward(pass, dY);
    const dxz = channelConcat(enc, [dxIn, dz], `${this.name}.dxz`);
    const dx = this.inProj.backward(pass, dxz);
    enc.releaseAfter(dY, dxIn, dz, dxz);
    return dx;
  }

  startState(gpu: Gpu, batch: number): MambaState {
    return this.branch.startState(gpu, batch);
  }

  step(pass: Pass, x: Tensor, state: MambaState): Tensor {
    if (pass.train) throw new LabError('bad-input', `${this.name}: step is for inference (pass.train must be false)`);
    checkMixerInput(this.name, x, this.dims.d_model);
    const [b] = x.shape;
    const want = [b, this.dims.d_conv - 1, this.branch.dInner];
    if (state.conv.shape.join() !== want.join() || state.ssm.shape.join() !== [b, this.branch.dInner, this.dims.d_state].join()) {
      throw new ShapeError(
        `${this.name}: state ${state.conv.name}${shapeString(state.conv.shape)} / ${state.ssm.name}${shapeString(state.ssm.shape)} ` +
          `does not fit input ${x.name}${shapeString(x.shape)}: expected ${shapeString(want)} and [${b}, ${this.branch.dInner}, ${this.dims.d_state}]`,
      );
    }
    const { xIn, z } = this.split(pass, x);
    const y = this.branch.step(pass, xIn, z, state);
    const out = this.outProj.forward(pass, y);
    pass.enc.releaseAfter(xIn, z, y);
    return out;
  }
}
