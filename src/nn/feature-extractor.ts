// HuBERT's convolutional feature extractor: raw audio (b, samples) -> frames (b, l, c). Each layer is a conv1d
// without bias ('valid', dims.layers[i] = (c, k, stride)) then GELU; after the FIRST conv a norm:
// 'group' = GroupNorm(c groups, c) over the whole utterance (the paper's, not causal), 'layer' = a per-frame
// LayerNorm over channels (a causal front that streams exactly). Parameters
// `feature_extractor.conv_layers.{i}.0.weight` (c, c_in, k) and `feature_extractor.conv_layers.0.2.{weight,bias}`.
import type { Gpu } from '../gpu/device.ts';
import { LabError, ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { unary, unaryBackward } from '../kernels/elementwise.ts';
import { Conv1d, type Conv1dState } from './conv1d.ts';
import { Saved, type ParameterSet, type Pass } from './module.ts';
import { GroupNorm, LayerNorm } from './norms.ts';

/** One conv layer of the feature extractor: channels out, kernel, stride. */
export type ConvLayer = readonly [channels: number, kernel: number, stride: number];

export interface ExtractorDims {
  layers: readonly ConvLayer[];
  /**
   * 'group': GroupNorm over the whole utterance after the first conv (the paper's, HuBERT's);
   * 'layer': a per-frame LayerNorm over channels instead, so the front is causal and streams exactly.
   */
  norm: 'group' | 'layer';
}

/** The streaming state: each conv layer's carried input tail. */
export class FeatureExtractorState {
  constructor(readonly convs: Conv1dState[]) {}

  release(): void {
    for (const s of this.convs) s.release();
  }
}

export class FeatureExtractor {
  readonly convs: Conv1d[];
  readonly norm: GroupNorm | LayerNorm;
  /** Channels of the output frames. */
  readonly channels: number;
  /** Per layer: the GELU input (`pre{i}`), the layer's output when another layer reads it (`act{i}`), `conv0`. */
  private saved = new Saved<Record<string, Tensor>>();

  constructor(
    params: ParameterSet,
    readonly dims: ExtractorDims,
  ) {
    if (dims.layers.length < 1) throw new ShapeError('feature_extractor: needs at least one conv layer');
    let cIn = 1;
    this.convs = dims.layers.map(([c, k, stride], i) => {
      const conv = new Conv1d(params, `feature_extractor.conv_layers.${i}.0`, { cIn, cOut: c, k, stride, bias: false });
      cIn = c;
      return conv;
    });
    const c0 = dims.layers[0][0];
    const normName = 'feature_extractor.conv_layers.0.2';
    this.norm = dims.norm === 'group' ? new GroupNorm(params, normName, c0, c0) : new LayerNorm(params, normName, c0);
    this.channels = cIn;
  }

  /** Audio (b, samples) seen as (b, samples, 1). */
  private frames(audio: Tensor): Tensor {
    if (audio.shape.length !== 2) throw new ShapeError(`feature_extractor: audio ${audio.name}${shapeString(audio.shape)} must be (b, samples)`);
    return audio.view([audio.shape[0], audio.shape[1], 1]);
  }

  /**
   * The first layer's valid frames of each utterance of a padded batch, lengths (b) in samples: the frames
   * the group norm's statistics cover (every later layer's valid frames read only valid frames).
   */
  private firstLayerFrames(pass: Pass, lengths: readonly number[]): Tensor {
    const [, k, stride] = this.dims.layers[0];
    const frames = Int32Array.from(lengths, (n) => (n < k ? 1 : Math.floor((n - k) / stride) + 1));
    return pass.enc.gpu.tensor([lengths.length], 'i32', frames, 'feature_extractor.frames');
  }

  /**
   * audio (b, samples) -> (b, l, channels), l: floor((l_in - k) / stride) + 1 per layer. lengths (b): each
   * utterance's samples in a padded batch; the group norm then takes each utterance's statistics over its own
   * frames, so that its valid frames equal the utterance's alone.
   */
  forward(pass: Pass, audio: Tensor, lengths?: readonly number[]): Tensor {
    const { enc, train } = pass;
    const saved: Record<string, Tensor> = {};
    const groupNorm = this.norm instanceof GroupNorm ? this.norm : undefined;
    if (lengths && lengths.length !== audio.shape[0]) throw new ShapeError(`feature_extractor: ${lengths.length} lengths for audio ${audio.name}${shapeString(audio.shape)}`);
    const frames0 = groupNorm && lengths ? this.firstLayerFrames(pass, lengths) : undefined;
    let x = this.frames(audio);
    this.convs.forEach((conv, i) => {
      if (!train && i > 0) {
        // Inference: the conv applies the GELU itself (nothing is kept for a backward).
        const a = conv.forward(pass, x, true);
        enc.releaseAfter(x);
        x = a;
        return;
      }
      const c = conv.forward(pass, x); // (b, l_i, c_i)
      const pre = i > 0 ? c : groupNorm ? groupNorm.forward(pass, c, frames0) : this.norm.forward(pass, c);
      const last = i === this.convs.length - 1;
      if (train) {
        if (i === 0) saved.conv0 = c;
        const a = unary(enc, 'gelu', pre);
        saved[`pre${i}`] = pre;
        if (!last) saved[`act${i}`] = a;
        x = a;
      } else {
        enc.releaseAfter(pre, c);
        x = unary(enc, 'gelu', pre);
      }
    });
    if (frames0 && train) saved.frames0 = frames0;
    else if (frames0) enc.releaseAfter(frames0);
    if (train) this.saved.set(saved, Object.keys(saved));
    return x;
  }

  /** dy (b, l, channels): accumulates every parameter's gradient (the audio needs none). */
  backward(pass: Pass, dy: Tensor): void {
    const { enc } = pass;
    const saved = this.saved.take(enc, 'feature_extractor');
    let d = dy;
    for (let i = this.convs.length - 1; i >= 0; i--) {
      const dpre = unaryBackward(enc, 'gelu', saved[`pre${i}`], d);
      if (d !== dy) enc.releaseAfter(d);
      const dc = i === 0 ? this.norm.backward(pass, dpre) : dpre;
      if (dc !== dpre) enc.releaseAfter(dpre);
      const dx = this.convs[i].backward(pass, dc, i > 0);
      enc.releaseAfter(dc);
      if (dx) d = dx;
    }
  }

  /** An empty stream for `batch` utterances ('layer' norm only: the group norm needs the whole utterance). */
  startState(gpu: Gpu, batch: number): FeatureExtractorState {
    if (this.norm instanceof GroupNorm) {
      throw new LabError('bad-input', 'feature_extractor: the group-norm extractor sees the whole utterance and cannot stream; use extractor.norm = "layer"');
    }
    return new FeatureExtractorState(this.convs.map((c) => c.startState(gpu, batch)));
  }

  /**
   * New audio (b, m) of any m >= 0 samples -> the frames that became final (b, n, channels), n >= 0, equal to
   * the matching frames of the offline forward. Inference only.
   */
  step(pass: Pass, audio: Tensor, state: FeatureExtractorState): Tensor {
    const { enc } = pass;
    if (this.norm instanceof GroupNorm) throw new LabError('bad-input', 'feature_extractor: the group-norm extractor cannot stream');
    const b = audio.shape[0];
    let x = this.frames(audio);
    for (let i = 0; i < this.convs.length; i++) {
      // Layers after the first apply their GELU in the conv; the first has its norm in between.
      const c = this.convs[i].step(pass, x, state.convs[i], i > 0);
      if (i > 0) enc.releaseAfter(x);
      if (c.shape[1] === 0) {
        // No new frame at this layer: the later layers have nothing to do.
        enc.releaseAfter(c);
        return enc.gpu.tensor([b, 0, this.channels], 'f32', undefined, 'feature_extractor.out');
      }
      if (i > 0) {
        x = c;
        continue;
      }
      const pre = this.norm.forward(pass, c);
      enc.releaseAfter(pre, c);
      x = unary(enc, 'gelu', pre);
    }
    return x;
  }
}
