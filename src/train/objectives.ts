// One micro-batch of each training objective, recorded into one Encoder and submitted: forward, loss, and (when
// training) backward, which accumulates every parameter's gradient. The same functions score the dev split
// (train = false: no backward, nothing saved).
//   masked prediction (HuBERT pre-training): span-masked frames -> encoder -> final_proj + cosine logits / 0.1
//     against the label embeddings -> cross-entropy on the masked frames inside each utterance's length;
//   CTC (fine-tuning, or from scratch): encoder (optionally span-masked, with mask_emb) -> ctc_proj ->
//     log-softmax -> CTC against the characters, each utterance over its own frame count.
import type { Gpu } from '../gpu/device.ts';
import { LabError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { readCrossEntropy } from '../kernels/loss.ts';
import { framesFor } from '../models/config.ts';
import type { HubertModel } from '../models/hubert.ts';
import { ctcTargets, type AudioBatch } from './data.ts';
import { spanMask, type MaskOptions } from './masking.ts';

export interface MicroResult {
  /** The batch's loss (mean over masked frames, or over utterances for CTC). */
  loss: number;
  /** Masked prediction: masked frames scored and those predicted right. */
  frames?: number;
  correct?: number;
}

/** Frames of each utterance of a batch and the padded frame count l. */
export function frameLengths(model: HubertModel, batch: AudioBatch): { lengths: number[]; l: number } {
  return { lengths: batch.lengths.map((n) => framesFor(model.config, n)), l: framesFor(model.config, batch.samples) };
}

function upload(gpu: Gpu, batch: AudioBatch): Tensor {
  return gpu.tensor([batch.entries.length, batch.samples], 'f32', batch.audio, 'audio');
}

/**
 * Masked prediction on one batch. `targets` holds each entry's frame targets (by id); `rand` draws the masks.
 * With train, backward runs too and the parameters' gradients accumulate.
 */
export async function maskedPrediction(
  model: HubertModel,
  batch: AudioBatch,
  targets: ReadonlyMap<string, Uint16Array>,
  mask: MaskOptions,
  rand: () => number,
  train: boolean,
): Promise<MicroResult> {
  const { gpu } = model;
  const head = model.maskedHead;
  if (!head) throw new LabError('bad-input', 'pre-training needs a model with the pre-training head');
  const { lengths, l } = frameLengths(model, batch);
  const b = lengths.length;
  const m = spanMask(lengths, l, mask, rand);
  const t = new Int32Array(b * l);
  batch.entries.forEach((e, i) => {
    const ids = targets.get(e.id);
    if (!ids) throw new LabError('bad-input', `pre-training: utterance ${e.id} has no targets`);
    for (let j = 0; j < lengths[i]; j++) t[i * l + j] = ids[Math.min(j, ids.length - 1)];
  });
  const audio = upload(gpu, batch);
  const maskT = gpu.tensor([b, l], 'f32', m, 'mask');
  const targetsT = gpu.tensor([b, l], 'i32', t, 'targets');
  const enc = gpu.encoder();
  const pass = { enc, train };
  const out = model.forward(pass, audio, { mask: maskT, lengths: batch.lengths });
  const { loss, stats } = head.forward(pass, out.out, targetsT, maskT);
  if (train) {
    const dx = head.backward(pass, 1);
    model.backward(pass, dx);
    enc.releaseAfter(dx);
  }
  enc.releaseAfter(out.out, audio, maskT, targetsT, loss);
  enc.submit();
  const s = readCrossEntropy(await stats.read(), model.config.targets);
  stats.release();
  return { loss: s.loss, frames: s.count, correct: s.correct };
}

export interface CtcStepOptions {
  /** Span masking with mask_emb (fine-tuning); none when absent or when the model has no mask_emb. */
  mask?: MaskOptions;
  rand?: () => number;
  /** Train only the CTC head this step: the encoder runs as in inference (fine-tuning's first updates). */
  encoderFrozen?: boolean;
  /** The feature extractor runs as in inference and gets no gradient (fine-tuning). */
  extractorFrozen?: boolean;
}

/** CTC on one batch; with train, backward runs too. Returns the mean loss over utterances. */
export async function ctcObjective(model: HubertModel, batch: AudioBatch, train: boolean, o: CtcStepOptions = {}): Promise<MicroResult> {
  const { gpu } = model;
  const head = model.ctcHead;
  if (!head) throw new LabError('bad-input', 'CTC training needs a model with the CTC head');
  const { lengths, l } = frameLengths(model, batch);
  const b = lengths.length;
  const { targets, targetLengths, S } = ctcTargets(batch.entries);
  const audio = upload(gpu, batch);
  const maskT = train && o.mask && o.rand && model.maskEmb ? gpu.tensor([b, l], 'f32', spanMask(lengths, l, o.mask, o.rand), 'mask') : undefined;
  const enc = gpu.encoder();
  const encoderTrains = train && !o.encoderFrozen;
  const out = model.forward({ enc, train: encoderTrains }, audio, { mask: maskT, lengths: batch.lengths, freezeExtractor: o.extractorFrozen });
  const { loss, nll } = head.forward({ enc, train }, out.out, { targets, inputLengths: lengths, targetLengths, S });
  if (train) {
    const dx = head.backward({ enc, train }, 1);
    if (encoderTrains) model.backward({ enc, train }, dx);
    enc.releaseAfter(dx);
  }
  enc.releaseAfter(out.out, audio, nll);
  if (maskT) enc.releaseAfter(maskT);
  enc.submit();
  const value = (await loss.read())[0];
  loss.release();
  return { loss: value };
}
