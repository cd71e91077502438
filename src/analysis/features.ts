// Every layer's output frames of one utterance, in inference, one utterance at a time:
//   cnn   the conv feature extractor's output (the model's public `extractor`), C channels
//   proj  layer_norm + post_extract_proj of it (`featureNorm`, `postExtractProj`), d_model
//   pos   the encoder's input after the positional conv and its norm (HubertModel.forward's allLayers[0])
//   1..n  each encoder layer's output (allLayers[i])
// The extractor runs twice (once here for `cnn`/`proj`, once inside forward) so that forward stays as it is;
// both are recorded into one command encoder. The MFCC reference row uses speech/mfcc.ts through
// train/targets.ts's frameFeatures, on the same 25 ms / 20 ms frames.
import type { Gpu } from '../gpu/device.ts';
import { TooLargeError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { framesFor, type ModelConfig } from '../models/config.ts';
import type { HubertModel } from '../models/hubert.ts';
import { FRAME_HOP, FRAME_WINDOW, MFCC_DIM } from '../speech/mfcc.ts';
import { frameFeatures } from '../train/targets.ts';
import { extractorGeometry, type FrameGeometry } from './labels.ts';

export interface LayerInfo {
  /** Stable key: 'cnn', 'proj', 'pos', '1' .. 'n', or 'mfcc'. */
  key: string;
  /** For charts and tables. */
  label: string;
  /** Feature width. */
  D: number;
}

/** What gives the frames: a model, or the MFCC reference. */
export interface FeatureSourceInfo {
  layers: LayerInfo[];
  geometry: FrameGeometry;
  frames(samples: number): number;
}

export function modelLayers(config: ModelConfig): LayerInfo[] {
  const C = config.extractor.layers[config.extractor.layers.length - 1][0];
  return [
    { key: 'cnn', label: 'CNN', D: C },
    { key: 'proj', label: 'proj', D: config.d_model },
    { key: 'pos', label: 'pos conv', D: config.d_model },
    ...Array.from({ length: config.n_layers }, (_, i) => ({ key: String(i + 1), label: `layer ${i + 1}`, D: config.d_model })),
  ];
}

export function modelSource(config: ModelConfig): FeatureSourceInfo {
  return { layers: modelLayers(config), geometry: extractorGeometry(config.extractor.layers), frames: (s) => framesFor(config, s) };
}

export const MFCC_SOURCE: FeatureSourceInfo = {
  layers: [{ key: 'mfcc', label: 'MFCC', D: MFCC_DIM }],
  geometry: { field: FRAME_WINDOW, hop: FRAME_HOP },
  frames: (s) => (s < FRAME_WINDOW ? 0 : Math.floor((s - FRAME_WINDOW) / FRAME_HOP) + 1),
};

/** The largest tensor one utterance's forward makes, to refuse it (with the limit) before anything is allocated. */
function largestTensor(config: ModelConfig, samples: number): { bytes: number; what: string } {
  let l = samples;
  let worst = { bytes: samples * 4, what: `audio [1, ${samples}]` };
  config.extractor.layers.forEach(([c, k, s], i) => {
    l = l < k ? 0 : Math.floor((l - k) / s) + 1;
    if (l * c * 4 > worst.bytes) worst = { bytes: l * c * 4, what: `feature_extractor.conv_layers.${i} output [1, ${l}, ${c}] f32` };
  });
  const width = Math.max(2 * config.expand * config.d_model, config.ffn, 3 * config.d_model);
  if (l * width * 4 > worst.bytes) worst = { bytes: l * width * 4, what: `an encoder layer's [1, ${l}, ${width}] f32 activations` };
  return worst;
}

/** Each layer's frames (l, D) of one utterance, in the order of modelLayers(model.config). */
export async function modelLayerFeatures(gpu: Gpu, model: HubertModel, samples: Float32Array): Promise<Float32Array[]> {
  const worst = largestTensor(model.config, samples.length);
  if (worst.bytes > gpu.maxBindingBytes) {
    throw new TooLargeError(`${worst.what} (an utterance of ${(samples.length / 16000).toFixed(1)} s)`, worst.bytes, gpu.maxBindingBytes, 'maxStorageBufferBindingSize');
  }
  const audio = gpu.tensor([1, samples.length], 'f32', samples, 'audio');
  let outs: Tensor[] = [];
  try {
    outs = gpu.run((enc) => {
      const pass = { enc, train: false };
      const cnn = model.extractor.forward(pass, audio);
      const f = model.featureNorm.forward(pass, cnn);
      const proj = model.postExtractProj.forward(pass, f);
      enc.releaseAfter(f);
      const { layers } = model.forward(pass, audio, { allLayers: true });
      return [cnn, proj, ...layers!];
    });
    const data: Float32Array[] = [];
    for (const t of outs) data.push((await t.read()) as Float32Array);
    return data;
  } finally {
    for (const t of outs) t.release();
    audio.release();
  }
}

/** The 39-d MFCC frames of one utterance, (l, 39), l = MFCC_SOURCE.frames(samples). */
export async function mfccFeatures(gpu: Gpu, samples: Float32Array): Promise<Float32Array[]> {
  const f = await frameFeatures(gpu, { kind: 'mfcc' }, samples, MFCC_SOURCE.frames(samples.length));
  return [f.data];
}
