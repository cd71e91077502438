// Streaming inference of a causal model (mamba, causal-transformer: their presets use the per-frame 'layer'
// extractor norm and the 'causal' positional conv): the state carries the extractor's conv tails, the positional
// conv's tail and each layer's mixer state (Mamba: conv and SSM state; attention: the KV cache). Feeding a
// file's audio in chunks of any number of samples gives the offline forward's frames.
import { LabError, ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import type { Conv1dState } from '../nn/conv1d.ts';
import type { FeatureExtractorState } from '../nn/feature-extractor.ts';
import type { MixerState } from '../nn/mixer.ts';
import type { Pass } from '../nn/module.ts';
import { isCausal } from './config.ts';
import type { HubertModel } from './hubert.ts';

export class HubertStreamState {
  constructor(
    readonly batch: number,
    readonly extractor: FeatureExtractorState,
    readonly posConv: Conv1dState,
    readonly layers: MixerState[],
  ) {}

  /** Give the carried tensors back; only once no unsubmitted encoder uses them. */
  release(): void {
    this.extractor.release();
    this.posConv.release();
    for (const s of this.layers) s.release();
  }
}

export interface StreamOutput {
  /** (b, n, d_model): the final outputs of the n frames that became complete with this chunk (n >= 0). */
  out: Tensor;
  /** With allLayers: n_layers + 1 tensors (b, n, d_model) as HubertOutput.layers (the last is `out`). */
  layers?: Tensor[];
}

/** An empty stream of `batch` utterances for a causal model. */
export function startStream(model: HubertModel, batch: number): HubertStreamState {
  const { kind, extractor, pos_conv } = model.config;
  if (!isCausal(kind) || extractor.norm !== 'layer' || pos_conv.padding !== 'causal') {
    throw new LabError(
      'bad-input',
      `streaming needs a causal model (mamba or causal-transformer with extractor norm 'layer' and a causal positional conv); ` +
        `this one is ${kind} with extractor norm '${extractor.norm}' and pos_conv padding '${pos_conv.padding}'`,
    );
  }
  const gpu = model.gpu;
  return new HubertStreamState(
    batch,
    model.extractor.startState(gpu, batch),
    model.posConv.startState(gpu, batch),
    model.layers.map((l) => l.startState(gpu, batch)),
  );
}

/** New audio (b, m) of any m >= 0 samples -> the frames that became complete. Inference only; state is updated. */
export function streamStep(model: HubertModel, pass: Pass, audio: Tensor, state: HubertStreamState, opts: { allLayers?: boolean } = {}): StreamOutput {
  if (pass.train) throw new LabError('bad-input', 'streaming is for inference (pass.train must be false)');
  if (audio.shape.length !== 2 || audio.shape[0] !== state.batch) {
    throw new ShapeError(`streamStep: audio ${audio.name}${shapeString(audio.shape)} must be (b=${state.batch}, samples)`);
  }
  const { enc } = pass;
  const b = state.batch;
  const d = model.config.d_model;
  const features = model.extractor.step(pass, audio, state.extractor); // (b, n, C)
  const n = features.shape[1];
  if (n === 0) {
    enc.releaseAfter(features);
    const out = enc.gpu.tensor([b, 0, d], 'f32', undefined, 'stream.out');
    return { out, layers: opts.allLayers ? [...model.layers.map(() => enc.gpu.tensor([b, 0, d], 'f32', undefined, 'stream.layer')), out] : undefined };
  }
  const f = model.featureNorm.forward(pass, features);
  const x = model.postExtractProj.forward(pass, f);
  let h = model.posConv.step(pass, x, state.posConv);
  enc.releaseAfter(features, f, x);
  const hidden = [h];
  model.layers.forEach((layer, i) => {
    const next = layer.step(pass, h, state.layers[i]);
    if (!opts.allLayers) enc.releaseAfter(h);
    h = next;
    hidden.push(h);
  });
  return { out: h, layers: opts.allLayers ? hidden : undefined };
}
