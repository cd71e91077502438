// The paper's two bidirectional Mamba mixers (not causal, so no streaming step):
// - ExtBiMamba: two whole Mambas, `mixer` on x and `mixer_backward` on x reversed along time; the second's output
//   is reversed back and the two are summed.
// - InnBiMamba (Vision Mamba's bimamba v2): in_proj and out_proj shared; a forward branch on (x_in, z) and a
//   backward branch (conv1d_b, x_proj_b, dt_proj_b, A_b_log, D_b) on (x_in, z) reversed; y = y_fwd + reverse(y_bwd),
//   then out_proj.
// Both take optional per-utterance lengths (b) so that the reversal keeps padded frames at the end: the valid
// frames' outputs then do not depend on the padding. Without lengths the whole l frames are reversed.
import { ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { accumulate } from '../kernels/elementwise.ts';
import { channelConcat, reverseFrames } from '../kernels/layout.ts';
import { Linear } from './linear.ts';
import { checkMixerInput, MambaBranch, MambaMixer, type MambaDims, type MambaOptions } from './mamba.ts';
import type { Mixer } from './mixer.ts';
import { Saved, type ParameterSet, type Pass } from './module.ts';

/** x (b, l, d_model) and the optional lengths (b), checked before any work is recorded. */
function checkInputs(name: string, x: Tensor, dModel: number, lengths: Tensor | undefined): void {
  checkMixerInput(name, x, dModel);
  if (lengths && (lengths.dtype === 'f32' || lengths.shape.length !== 1 || lengths.shape[0] !== x.shape[0])) {
    throw new ShapeError(
      `${name}: lengths ${lengths.name}${shapeString(lengths.shape)}:${lengths.dtype} must be (b=${x.shape[0]}) integers for input ${x.name}${shapeString(x.shape)}`,
    );
  }
}

/** x + reverse(r) into x (in place), releasing the reversed copy after the work. */
function addReversed(pass: Pass, x: Tensor, r: Tensor, lengths: Tensor | undefined): Tensor {
  const back = reverseFrames(pass.enc, r, lengths);
  accumulate(pass.enc, x, back);
  pass.enc.releaseAfter(back);
  return x;
}

/** Two Mambas: `<name>` on x and `<name>_backward` on x reversed; parameters as two plain Mamba mixers. */
export class ExtBiMamba implements Mixer {
  readonly forwardMixer: MambaMixer;
  readonly backwardMixer: MambaMixer;
  private saved = new Saved<{ xr: Tensor; lengths: Tensor | undefined }>();

  /** `name`: the forward mixer's parameter prefix, e.g. `encoder.layers.3.mixer` (the other is `..._backward`). */
  constructor(
    params: ParameterSet,
    readonly name: string,
    readonly dims: MambaDims,
    opts: MambaOptions = {},
  ) {
    this.forwardMixer = new MambaMixer(params, name, dims, opts);
    this.backwardMixer = new MambaMixer(params, `${name}_backward`, dims, opts);
  }

  /** x (b, l, d_model), lengths (b) i32 optional -> y (b, l, d_model). */
  forward(pass: Pass, x: Tensor, lengths?: Tensor): Tensor {
    checkInputs(this.name, x, this.dims.d_model, lengths);
    const y = this.forwardMixer.forward(pass, x);
    const xr = reverseFrames(pass.enc, x, lengths);
    const yr = this.backwardMixer.forward(pass, xr);
    addReversed(pass, y, yr, lengths);
    pass.enc.releaseAfter(yr);
    if (pass.train) this.saved.set({ xr, lengths }, ['xr']);
    else pass.enc.releaseAfter(xr);
    return y;
  }

  backward(pass: Pass, dy: Tensor): Tensor {
    const { lengths } = this.saved.take(pass.enc, this.name);
    const dx = this.forwardMixer.backward(pass, dy);
    const dyr = reverseFrames(pass.enc, dy, lengths);
    const dxr = this.backwardMixer.backward(pass, dyr);
    addReversed(pass, dx, dxr, lengths);
    pass.enc.releaseAfter(dyr, dxr);
    return dx;
  }
}

/** Shared in_proj and out_proj around a forward and a backward (`_b`) SSM branch. */
export class InnBiMamba implements Mixer {
  readonly inProj: Linear;
  readonly forwardBranch: MambaBranch;
  readonly backwardBranch: MambaBranch;
  readonly outProj: Linear;
  private saved = new Saved<{ xIn: Tensor; z: Tensor; xInR: Tensor; zR: Tensor; y: Tensor; lengths: Tensor | undefined }>();

  /** `name`: the parameter prefix, e.g. `encoder.layers.3.mixer`. */
  constructor(
    params: ParameterSet,
    readonly name: string,
    readonly dims: MambaDims,
    opts: MambaOptions = {},
  ) {
    const di = dims.expand * dims.d_model;
    this.inProj = new Linear(params, `${name}.in_proj`, dims.d_model, 2 * di, { bias: false });
    this.forwardBranch = new MambaBranch(params, name, dims, '', opts);
    this.backwardBranch = new MambaBranch(params, name, dims, '_b', opts);
    this.outProj = new Linear(params, `${name}.out_proj`, di, dims.d_model, { bias: false });
  }

  /** x (b, l, d_model), lengths (b) i32 optional -> y (b, l, d_model). */
  forward(pass: Pass, x: Tensor, lengths?: Tensor): Tensor {
    checkInputs(this.name, x, this.dims.d_model, lengths);
    const { enc } = pass;
    const di = this.forwardBranch.dInner;
    const [xIn, z] = this.inProj.forwardSplit(pass, x, [di, di]);
    const xInR = reverseFrames(enc, xIn, lengths);
    const zR = reverseFrames(enc, z, lengths);
    const y = this.forwardBranch.forward(pass, xIn, z);
    const yR = this.backwardBranch.forward(pass, xInR, zR);
    addReversed(pass, y, yR, lengths);
    enc.releaseAfter(yR);
    const out = this.outProj.forward(pass, y);
    if (pass.train) this.saved.set({ xIn, z, xInR, zR, y, lengths }, ['xIn', 'z', 'xInR', 'zR', 'y']);
    else enc.releaseAfter(xIn, z, xInR, zR, y);
    return out;
  }

  backward(pass: Pass, dy: Tensor): Tensor {
    const { enc } = pass;
    const { lengths } = this.saved.take(enc, this.name);
    const dY = this.outProj.backward(pass, dy);
    const dYR = reverseFrames(enc, dY, lengths);
    const f = this.forwardBranch.backward(pass, dY);
    const b = this.backwardBranch.backward(pass, dYR);
    addReversed(pass, f.dxIn, b.dxIn, lengths);
    addReversed(pass, f.dz, b.dz, lengths);
    const dxz = channelConcat(enc, [f.dxIn, f.dz], `${this.name}.dxz`);
    const dx = this.inProj.backward(pass, dxz);
    enc.releaseAfter(dY, dYR, f.dxIn, f.dz, b.dxIn, b.dz, dxz);
    return dx;
  }
}
