// The HuBERT model around the encoder modules, as fairseq's HubertModel with layer_norm_first = False:
//   audio (b, samples) -> FeatureExtractor (b, l, C) -> layer_norm (C) -> post_extract_proj (d_model)
//   -> [pre-training: masked frames replaced by mask_emb] -> PositionalConv (LN(x + GELU(pos_conv(x))),
//   the encoder's input norm) -> encoder layers (b, l, d_model).
// Options: every layer's output (index 0 = the encoder input after the pos conv and its norm, i = layer i's
// output), early exit after layer k, the attention form. Backward goes through everything and accumulates every
// parameter's gradient in the ParameterSet. The heads (heads.ts) sit on top; streaming is in streaming.ts and
// checkpoints in load.ts.
import type { Gpu } from '../gpu/device.ts';
import { LabError, ShapeError, TooLargeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { framesConcat } from '../kernels/layout.ts';
import { accumulate, add } from '../kernels/elementwise.ts';
import { maskFrames } from '../kernels/heads.ts';
import { matmul } from '../kernels/matmul.ts';
import type { ScanForm } from '../kernels/scan.ts';
import { ExtBiMamba, InnBiMamba } from '../nn/bimamba.ts';
import { EncoderLayer } from '../nn/encoder-layer.ts';
import { FeatureExtractor, type ExtractorDims } from '../nn/feature-extractor.ts';
import { Linear } from '../nn/linear.ts';
import { MambaMixer } from '../nn/mamba.ts';
import type { Mixer } from '../nn/mixer.ts';
import { Parameter, ParameterSet, Saved, type Pass } from '../nn/module.ts';
import { LayerNorm } from '../nn/norms.ts';
import { PositionalConv } from '../nn/positional-conv.ts';
import { SelfAttention, type AttentionForm } from '../nn/self-attention.ts';
import { framesFor, isMamba, type ModelConfig } from './config.ts';
import { CtcHead, MaskedPredictionHead } from './heads.ts';
import { initialValues } from './init.ts';
import { parameterSpecs, type ParameterOptions } from './parameters.ts';

export interface HubertOptions {
  /** Which heads' parameters the model holds (parameters.ts); default the pre-training head. */
  heads?: ParameterOptions;
  /** Attention form of the Transformer kinds (default: SelfAttention's choice, 'tiled' where the head width allows). */
  attention?: AttentionForm;
  /** Selective-scan form of the Mamba kinds (default 'chunked'). */
  scanForm?: ScanForm;
  /**
   * Inference: run the feature extractor over time in segments of at most this many samples (exact: the convs are
   * local). By default it segments only when an intermediate would exceed the device's largest storage binding.
   */
  extractorSegment?: number;
}

export interface ForwardOptions {
  /** (b, l) f32 frame mask for pre-training: 1 = replaced by mask_emb, 0 = kept (borrowed until backward). */
  mask?: Tensor;
  /** Also return every layer's output (index 0 = the encoder input after pos conv and norm, i = layer i). */
  allLayers?: boolean;
  /** Stop after this many layers (0 .. n_layers; default all): `out` is then layer k's output. */
  exitAfter?: number;
  /**
   * A padded batch: each utterance's samples (b), its audio zero-padded to the batch's. Frames past an
   * utterance's own framesFor(length) are padding that no valid frame's output depends on, so its valid frames
   * (and, with a loss over them only, its gradients) equal those of the utterance run alone.
   */
  lengths?: readonly number[];
  /**
   * Training: run the feature extractor as in inference and give it no gradients (fine-tuning never trains it;
   * its backward is about a third of a step).
   */
  freezeExtractor?: boolean;
}

export interface HubertOutput {
  /** (b, l, d_model), owned by the caller. */
  out: Tensor;
  /**
   * With allLayers: k + 1 tensors (b, l, d_model), the last being `out`. In inference they are owned by the caller;
   * in training they are views of the model's saved activations (alive until backward; releasing them does nothing).
   */
  layers?: Tensor[];
}

function mixerFor(params: ParameterSet, config: ModelConfig, i: number, opts: HubertOptions): Mixer {
  const p = `encoder.layers.${i}`;
  const scan = { scanForm: opts.scanForm };
  switch (config.kind) {
    case 'transformer':
    case 'causal-transformer':
      return new SelfAttention(params, `${p}.self_attn`, {
        dModel: config.d_model,
        heads: config.h,
        causal: config.kind === 'causal-transformer',
        form: opts.attention,
      });
    case 'extbimamba':
      return new ExtBiMamba(params, `${p}.mixer`, config, scan);
    case 'innbimamba':
      return new InnBiMamba(params, `${p}.mixer`, config, scan);
    default:
      return new MambaMixer(params, `${p}.mixer`, config, scan);
  }
}

export class HubertModel {
  readonly extractor: FeatureExtractor;
  /** `layer_norm` over the extractor's channels. */
  readonly featureNorm: LayerNorm;
  readonly postExtractProj: Linear;
  readonly posConv: PositionalConv;
  readonly layers: EncoderLayer[];
  readonly maskEmb: Parameter | undefined;
  readonly maskedHead: MaskedPredictionHead | undefined;
  readonly ctcHead: CtcHead | undefined;
  readonly heads: ParameterOptions;
  private saved = new Saved<Record<string, Tensor | undefined>>();
  /** Of the last training forward: layers run, and the hidden states (index 0 .. k - 1) kept for backward. */
  private trained: { k: number; hidden: Tensor[]; mask: Tensor | undefined; extractorTrained: boolean } | undefined;

  /** Use `create` (seeded initial values) or load.ts (a checkpoint); `params` must follow parameterSpecs(config, heads). */
  constructor(
    readonly gpu: Gpu,
    readonly config: ModelConfig,
    readonly params: ParameterSet,
    readonly options: HubertOptions = {},
  ) {
    this.heads = options.heads ?? { pretrainHead: true };
    const c = config;
    this.extractor = new FeatureExtractor(params, c.extractor);
    this.featureNorm = new LayerNorm(params, 'layer_norm', this.extractor.channels);
    this.postExtractProj = new Linear(params, 'post_extract_proj', this.extractor.channels, c.d_model);
    this.posConv = new PositionalConv(params, { d_model: c.d_model, ...c.pos_conv });
    const layer = { d_model: c.d_model, ffn: c.ffn, mixerNorm: isMamba(c.kind) ? 'norm' : 'self_attn_layer_norm' } as const;
    this.layers = Array.from({ length: c.n_layers }, (_, i) => new EncoderLayer(params, layer, i, mixerFor(params, c, i, options)));
    if (this.heads.pretrainHead) {
      this.maskEmb = params.get('mask_emb', [c.d_model]);
      this.maskedHead = new MaskedPredictionHead(params, c);
    }
    if (this.heads.ctcHead) this.ctcHead = new CtcHead(params, c);
  }

  /** A model with fairseq's / mamba_ssm's initial values (init.ts), seeded. */
  static create(gpu: Gpu, config: ModelConfig, seed: number, options: HubertOptions = {}): HubertModel {
    const specs = parameterSpecs(config, options.heads ?? { pretrainHead: true });
    return HubertModel.fromValues(gpu, config, initialValues(specs, config, seed), options);
  }

  /** A model from every parameter's values by name (all of parameterSpecs(config, heads), checked before any upload). */
  static fromValues(gpu: Gpu, config: ModelConfig, values: Map<string, Float32Array>, options: HubertOptions = {}): HubertModel {
    const specs = parameterSpecs(config, options.heads ?? { pretrainHead: true });
    for (const s of specs) {
      const v = values.get(s.name);
      const n = s.shape.reduce((a, b) => a * b, 1);
      if (!v || v.length !== n) throw new LabError('bad-input', `model: parameter ${s.name} [${s.shape}] needs ${n} values, got ${v?.length ?? 'none'}`);
    }
    const params = new ParameterSet();
    try {
      for (const s of specs) params.add(new Parameter(s.name, gpu.tensor(s.shape, 'f32', values.get(s.name), s.name), s.decay));
      return new HubertModel(gpu, config, params, options);
    } catch (e) {
      params.release();
      throw e;
    }
  }

  /** Frames of audio (b, samples) as the encoder sees them, (b, l, d_model) before masking, with the tensors backward needs. */
  private frontEnd(pass: Pass, audio: Tensor, lengths: readonly number[] | undefined, extractorTrains: boolean): { features: Tensor; f: Tensor; x: Tensor } {
    const features = extractorTrains
      ? this.extractor.forward(pass, audio, lengths)
      : extractFeatures({ enc: pass.enc, train: false }, this.extractor, audio, this.options.extractorSegment, lengths);
    const f = this.featureNorm.forward(pass, features);
    const x = this.postExtractProj.forward(pass, f);
    if (!pass.train) pass.enc.releaseAfter(features, f);
    return { features, f, x };
  }

  /** audio (b, samples) -> the encoder's output (and, on request, every layer's). */
  forward(pass: Pass, audio: Tensor, opts: ForwardOptions = {}): HubertOutput {
    const { enc, train } = pass;
    const n = this.config.n_layers;
    const k = opts.exitAfter ?? n;
    if (!Number.isInteger(k) || k < 0 || k > n) throw new ShapeError(`model: exitAfter ${k} must be an integer in [0, ${n}]`);
    if (audio.shape.length !== 2 || audio.dtype !== 'f32') throw new ShapeError(`model: audio ${audio.name}${shapeString(audio.shape)}:${audio.dtype} must be (b, samples) f32`);
    const { mask } = opts;
    if (mask && !this.maskEmb) throw new LabError('bad-input', 'model: a frame mask needs the pre-training head (mask_emb); build the model with heads.pretrainHead');
    const [b, l] = [audio.shape[0], framesFor(this.config, audio.shape[1])];
    if (mask && (mask.dtype !== 'f32' || mask.size !== b * l)) {
      throw new ShapeError(`model: mask ${mask.name}${shapeString(mask.shape)}:${mask.dtype} must be (b, l) = [${b}, ${l}] f32 for audio ${audio.name}${shapeString(audio.shape)}`);
    }
    const { lengths } = opts;
    if (lengths && (lengths.length !== b || lengths.some((n) => !Number.isInteger(n) || n < 1 || n > audio.shape[1]))) {
      throw new ShapeError(`model: lengths [${lengths.join(', ')}] must be ${b} sample counts in [1, ${audio.shape[1]}] for audio ${audio.name}${shapeString(audio.shape)}`);
    }
    const { frames, padding } = lengths ? this.paddingOf(lengths, l) : { frames: undefined, padding: undefined };
    const extractorTrained = train && !opts.freezeExtractor;
    const { features, f, x } = this.frontEnd(pass, audio, lengths, extractorTrained); // x (b, l, d_model)
    const xm = mask && this.maskEmb ? maskFrames(enc, x, mask.view([x.shape[0] * x.shape[1]]), this.maskEmb.value) : x;
    if (xm !== x) enc.releaseAfter(x);
    let h = this.posConv.forward(pass, xm, padding);
    const kept = { xm, frames, padding };
    if (train) this.saved.set({ features, f, ...kept }, ['features', 'f', 'xm', 'frames', 'padding']);
    else enc.releaseAfter(...Object.values(kept).filter((t): t is Tensor => t !== undefined));
    const hidden: Tensor[] = [h];
    for (let i = 0; i < k; i++) {
      const next = this.layers[i].forward(pass, h, frames);
      if (!train && !opts.allLayers) enc.releaseAfter(h);
      h = next;
      hidden.push(h);
    }
    if (train) this.trained = { k, hidden: hidden.slice(0, k), mask, extractorTrained };
    const layers = opts.allLayers ? hidden.map((t, i) => (train && i < k ? t.view(t.shape) : t)) : undefined;
    return { out: h, layers };
  }

  /** A padded batch's frames per utterance, (b) i32, and its padded frames, (b * l) f32 1 = padding. */
  private paddingOf(lengths: readonly number[], l: number): { frames: Tensor; padding: Tensor } {
    const counts = lengths.map((n) => framesFor(this.config, n));
    const pad = new Float32Array(lengths.length * l);
    counts.forEach((n, i) => pad.fill(1, i * l + n, (i + 1) * l));
    return {
      frames: this.gpu.tensor([lengths.length], 'i32', Int32Array.from(counts), 'model.frames'),
      padding: this.gpu.tensor([lengths.length * l], 'f32', pad, 'model.padding'),
    };
  }

  /**
   * The backward of the last training forward: dOut (b, l, d_model) is dL/d(out); dLayers[i], when given, adds
   * dL/d(layer i's output) (index as HubertOutput.layers). Accumulates every parameter's gradient; the audio
   * gets none. Borrows dOut and dLayers.
   */
  backward(pass: Pass, dOut: Tensor, dLayers: readonly (Tensor | undefined)[] = []): void {
    const { enc } = pass;
    const gpu = enc.gpu;
    const t = this.trained;
    if (!t) throw new LabError('bad-input', 'model: backward without a training forward');
    this.trained = undefined;
    const { k, hidden, mask, extractorTrained } = t;
    const shape = hidden[0].shape;
    for (const [i, g] of [[k, dOut] as const, ...dLayers.map((g, i) => [i, g] as const)]) {
      if (g && g.size !== hidden[0].size) throw new ShapeError(`model: gradient ${g.name}${shapeString(g.shape)} of layer ${i} must be ${shapeString(shape)}`);
    }
    if (dLayers.length > k + 1) throw new ShapeError(`model: ${dLayers.length} layer gradients given, the forward made ${k + 1} layer outputs`);
    let d = dLayers[k] ? add(enc, dOut, dLayers[k]) : dOut;
    for (let j = k; j >= 1; j--) {
      const prev = this.layers[j - 1].backward(pass, d.view(shape));
      if (d !== dOut) enc.releaseAfter(d);
      const extra = dLayers[j - 1];
      if (extra) accumulate(enc, prev, extra);
      d = prev;
    }
    enc.releaseAfter(...hidden);
    let dx = this.posConv.backward(pass, d.view(shape));
    if (d !== dOut) enc.releaseAfter(d);
    this.saved.take(enc, 'model');
    if (mask && this.maskEmb) {
      // x_masked = mask ? mask_emb : x: masked frames send their gradient to mask_emb, the others to x.
      const rows = shape[0] * shape[1];
      const m = mask.view([rows]);
      matmul(enc, m.view([1, rows]), dx.view([rows, this.config.d_model]), { out: this.maskEmb.gradient(gpu).view([1, this.config.d_model]), accumulate: true });
      const kept = maskFrames(enc, dx, m);
      enc.releaseAfter(dx);
      dx = kept;
    }
    const df = this.postExtractProj.backward(pass, dx);
    const dfeat = this.featureNorm.backward(pass, df);
    if (extractorTrained) this.extractor.backward(pass, dfeat);
    enc.releaseAfter(dx, df, dfeat);
  }

  /** Give the parameters (and their gradients) back to the pool; the model must not be used afterwards. */
  release(): void {
    this.params.release();
  }
}

/** The largest tensor the extractor makes for audio (b, samples): bytes and a description. */
function largestIntermediate(config: ExtractorDims, b: number, samples: number): { bytes: number; what: string } {
  let l = samples;
  let worst = { bytes: 0, what: '' };
  config.layers.forEach(([c, k, s], i) => {
    l = l < k ? 0 : Math.floor((l - k) / s) + 1;
    if (b * l * c * 4 > worst.bytes) worst = { bytes: b * l * c * 4, what: `feature_extractor.conv_layers.${i} output [${b}, ${l}, ${c}] f32` };
  });
  return worst;
}

/** parts (b, l_i, c) -> (b, sum l_i, c), concatenated pairwise (each frame copied log2(parts) times). */
function concatFrames(pass: Pass, parts: Tensor[], name: string): Tensor {
  let level = parts;
  while (level.length > 1) {
    const next: Tensor[] = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 === level.length) {
        next.push(level[i]);
        continue;
      }
      const [a, b] = [level[i], level[i + 1]];
      next.push(framesConcat(pass.enc, a, b, 0, a.shape[1] + b.shape[1], name));
      pass.enc.releaseAfter(a, b);
    }
    level = next;
  }
  return level[0];
}

/**
 * Inference: the extractor's frames of audio (b, samples), in segments of `segment` samples when given or when
 * an intermediate would not fit one storage binding. Segments run through the extractor's streaming path, so the
 * frames equal the unsegmented forward's. The group-norm extractor needs whole-utterance statistics and cannot
 * be segmented: too long an input raises TooLargeError there.
 */
function extractFeatures(pass: Pass, extractor: FeatureExtractor, audio: Tensor, segment: number | undefined, lengths: readonly number[] | undefined): Tensor {
  const gpu = pass.enc.gpu;
  const limit = gpu.maxBindingBytes;
  if (audio.shape.length !== 2) throw new ShapeError(`feature_extractor: audio ${audio.name}${shapeString(audio.shape)} must be (b, samples)`);
  const [b, samples] = audio.shape;
  const worst = largestIntermediate(extractor.dims, b, samples);
  if (segment === undefined && worst.bytes <= limit) return extractor.forward(pass, audio, lengths);
  if (extractor.dims.norm === 'group') {
    if (worst.bytes <= limit) return extractor.forward(pass, audio, lengths);
    throw new TooLargeError(`${worst.what} (the group-norm extractor normalises over the whole utterance, so it cannot run in segments)`, worst.bytes, limit, 'maxStorageBufferBindingSize');
  }
  const [c0, , s0] = extractor.dims.layers[0];
  // By default a quarter of the limit for the first layer's output, so that the segment's other tensors fit beside it.
  const fit = Math.floor(limit / 4 / (b * c0 * 4)) * s0;
  const step = Math.max(1, Math.floor(segment ?? fit));
  const state = extractor.startState(gpu, b);
  const wave = audio.view([b, samples, 1]);
  const none = gpu.tensor([b, 0, 1], 'f32', undefined, 'no audio');
  const parts: Tensor[] = [];
  for (let start = 0; start < samples; start += step) {
    const chunk = framesConcat(pass.enc, wave, none, start, Math.min(step, samples - start), 'audio segment');
    const y = extractor.step(pass, chunk.view([b, chunk.shape[1]]), state);
    pass.enc.releaseAfter(chunk);
    if (y.shape[1] > 0) parts.push(y);
    else pass.enc.releaseAfter(y);
  }
  pass.enc.releaseAfter(none, ...state.convs.map((s) => s.tail));
  if (parts.length === 0) throw new ShapeError(`feature_extractor: audio ${audio.name}${shapeString(audio.shape)} makes no frame: it is shorter than the extractor's receptive field`);
  return concatFrames(pass, parts, 'feature_extractor.out');
}
