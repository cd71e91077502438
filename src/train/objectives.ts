// One micro-batch of each training objective, recorded into one Encoder and submitted: forward, loss, and (when
// training) backward, which accumulates every parameter's gradient. The same functions score the dev split
// (train = false: no backward, nothing saved).
//   masked prediction (HuBERT pre-training): span-masked frames -> encoder -> final_proj + cosine logits / 0.1
//     against the label embeddings -> cross-entropy on the masked frames inside each utterance's length;
//   CTC (fine-tuning, or from scratch): encoder (optionally span-masked, with mask_emb) -> ctc_proj ->
//     log-softmax -> CTC against the characters, each utterance over its own frame count; optionally plus an
//     auxiliary loss, the masked-prediction head's cross-entropy on every frame inside each utterance.
import type { Gpu } from '../gpu/device.ts';
import { LabError } from '../gpu/errors.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { accumulate } from '../kernels/elementwise.ts';
import { readCrossEntropy } from '../kernels/loss.ts';
import { framesFor } from '../models/config.ts';
import type { HubertModel } from '../models/hubert.ts';
import { ctcTargets, type AudioBatch } from './data.ts';
import { spanMask, type MaskOptions } from './masking.ts';

export interface MicroResult {
  /** The batch's loss (mean over masked frames, or over utterances for CTC). */
  loss: number;
  /** CTC with the auxiliary loss: its mean cross-entropy per frame. */
  auxLoss?: number;
  /** Masked prediction (or the auxiliary loss): frames scored and those predicted right. */
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

/** (b, l) frame targets of a batch's utterances, padded frames 0; an utterance's last target repeats if it is short. */
function frameTargets(gpu: Gpu, batch: AudioBatch, targets: ReadonlyMap<string, Uint16Array>, lengths: number[], l: number): Tensor {
  const t = new Int32Array(lengths.length * l);
  batch.entries.forEach((e, i) => {
    const ids = targets.get(e.id);
    if (!ids) throw new LabError('bad-input', `frame targets: utterance ${e.id} has none`);
    for (let j = 0; j < lengths[i]; j++) t[i * l + j] = ids[Math.min(j, ids.length - 1)];
  });
  return gpu.tensor([lengths.length, l], 'i32', t, 'targets');
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
  const targetsT = frameTargets(gpu, batch, targets, lengths, l);
  const audio = upload(gpu, batch);
  const maskT = gpu.tensor([b, l], 'f32', m, 'mask');
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
  /**
   * The auxiliary loss (needs the masked-prediction head): weight * the cross-entropy of every frame against its
   * target, summed over an utterance's frames and averaged over the batch's utterances, added to the CTC loss.
   */
  aux?: { targets: ReadonlyMap<string, Uint16Array>; weight: number };
}

/**
 * CTC on one batch (plus the auxiliary frame loss with o.aux); with train, backward runs too. Returns the mean CTC
 * loss over utterances and, with aux, the mean cross-entropy per frame.
 */
export async function ctcObjective(model: HubertModel, batch: AudioBatch, train: boolean, o: CtcStepOptions = {}): Promise<MicroResult> {
  const { gpu } = model;
  const head = model.ctcHead;
  if (!head) throw new LabError('bad-input', 'CTC training needs a model with the CTC head');
  const auxHead = o.aux && model.maskedHead;
  if (o.aux && !auxHead) throw new LabError('bad-input', 'the auxiliary frame loss needs a model with the masked-prediction head');
  const { lengths, l } = frameLengths(model, batch);
  const b = lengths.length;
  const { targets, targetLengths, S } = ctcTargets(batch.entries);
  const audio = upload(gpu, batch);
  const maskT = train && o.mask && o.rand && model.maskEmb ? gpu.tensor([b, l], 'f32', spanMask(lengths, l, o.mask, o.rand), 'mask') : undefined;
  const enc = gpu.encoder();
  const encoderTrains = train && !o.encoderFrozen;
  const out = model.forward({ enc, train: encoderTrains }, audio, { mask: maskT, lengths: batch.lengths, freezeExtractor: o.extractorFrozen });
  const { loss, nll } = head.forward({ enc, train }, out.out, { targets, inputLengths: lengths, targetLengths, S });
  let aux: { stats: Tensor; loss: Tensor; inputs: Tensor[]; gscale: number } | undefined;
  if (o.aux && auxHead) {
    const valid = new Float32Array(b * l);
    lengths.forEach((n, i) => valid.fill(1, i * l, i * l + n));
    const inputs = [frameTargets(gpu, batch, o.aux.targets, lengths, l), gpu.tensor([b, l], 'f32', valid, 'frames')];
    const r = auxHead.forward({ enc, train }, out.out, inputs[0], inputs[1]);
    // The head's loss is a mean over the frames; weight * sum over frames / b is that mean times frames / b.
    const frames = lengths.reduce((a, n) => a + n, 0);
    aux = { ...r, inputs, gscale: (o.aux.weight * frames) / b };
  }
  if (train) {
    const dx = head.backward({ enc, train }, 1);
    if (aux) {
      const dAux = auxHead!.backward({ enc, train }, aux.gscale);
      accumulate(enc, dx, dAux);
      enc.releaseAfter(dAux);
    }
    if (encoderTrains) model.backward({ enc, train }, dx);
    enc.releaseAfter(dx);
  }
  enc.releaseAfter(out.out, audio, nll);
  if (maskT) enc.releaseAfter(maskT);
  if (aux) enc.releaseAfter(aux.loss, ...aux.inputs);
  enc.submit();
  const value = (await loss.read())[0];
  loss.release();
  if (!aux) return { loss: value };
  const s = readCrossEntropy(await aux.stats.read(), model.config.targets);
  aux.stats.release();
  return { loss: value, auxLoss: s.loss, frames: s.count, correct: s.correct };
}
