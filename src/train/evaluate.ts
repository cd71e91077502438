// Scores on the dev split during training: masked-frame loss and accuracy for pre-training (masks drawn from a
// fixed seed, so every evaluation sees the same masks), greedy-decoding WER and CER for CTC.
import { greedyDecode } from '../asr/greedy.ts';
import { errorRates } from '../asr/wer.ts';
import type { HubertModel } from '../models/hubert.ts';
import type { ManifestEntry } from '../speech/manifest.ts';
import { hash32, rng } from '../speech/rng.ts';
import { throwIfAborted } from '../speech/store.ts';
import type { TrainingCorpus } from './data.ts';
import type { MaskOptions } from './masking.ts';
import { frameLengths, maskedPrediction } from './objectives.ts';

export interface DevScore {
  utterances: number;
  /** Pre-training: mean cross-entropy over the masked frames, and their accuracy. */
  loss?: number;
  accuracy?: number;
  /** CTC: corpus-level error rates (fractions). */
  wer?: number;
  cer?: number;
}

/** Consecutive groups of entries whose padded audio stays within `capacity` samples. */
function groups(entries: readonly ManifestEntry[], capacity: number): ManifestEntry[][] {
  const sorted = [...entries].sort((a, b) => b.samples - a.samples);
  const out: ManifestEntry[][] = [];
  for (const e of sorted) {
    const g = out[out.length - 1];
    if (g && (g.length + 1) * g[0].samples <= capacity) g.push(e);
    else out.push([e]);
  }
  return out;
}

export async function devMaskedPrediction(
  model: HubertModel,
  corpus: TrainingCorpus,
  entries: readonly ManifestEntry[],
  targets: ReadonlyMap<string, Uint16Array>,
  mask: MaskOptions,
  capacity: number,
  signal?: AbortSignal,
): Promise<DevScore> {
  let lossSum = 0, frames = 0, correct = 0, utterances = 0;
  for (const [i, g] of groups(entries, capacity).entries()) {
    throwIfAborted(signal);
    const batch = await corpus.batch(g);
    if (!batch) continue;
    const r = await maskedPrediction(model, batch, targets, mask, rng(hash32('dev-mask', i)), false);
    lossSum += r.loss * (r.frames ?? 0);
    frames += r.frames ?? 0;
    correct += r.correct ?? 0;
    utterances += batch.entries.length;
  }
  return { utterances, loss: frames ? lossSum / frames : NaN, accuracy: frames ? correct / frames : NaN };
}

/** Greedy transcripts of entries, batched within `capacity` samples. */
export async function transcribeEntries(
  model: HubertModel,
  corpus: TrainingCorpus,
  entries: readonly ManifestEntry[],
  capacity: number,
  signal?: AbortSignal,
): Promise<{ entry: ManifestEntry; text: string }[]> {
  const { gpu } = model;
  const head = model.ctcHead;
  if (!head) throw new Error('transcription needs a model with the CTC head');
  const out: { entry: ManifestEntry; text: string }[] = [];
  for (const g of groups(entries, capacity)) {
    throwIfAborted(signal);
    const batch = await corpus.batch(g);
    if (!batch) continue;
    const audio = gpu.tensor([batch.entries.length, batch.samples], 'f32', batch.audio, 'audio');
    const lp = gpu.run((enc) => {
      const r = model.forward({ enc, train: false }, audio, { lengths: batch.lengths });
      const y = head.logProbs({ enc, train: false }, r.out);
      enc.releaseAfter(r.out, audio);
      return y;
    });
    const texts = greedyDecode((await lp.read()) as Float32Array, lp.shape, frameLengths(model, batch).lengths);
    lp.release();
    batch.entries.forEach((entry, i) => out.push({ entry, text: texts[i] }));
  }
  return out;
}

export async function devCtc(model: HubertModel, corpus: TrainingCorpus, entries: readonly ManifestEntry[], capacity: number, signal?: AbortSignal): Promise<DevScore> {
  const hyps = await transcribeEntries(model, corpus, entries, capacity, signal);
  const { wer, cer } = errorRates(hyps.map((h) => ({ ref: h.entry.text, hyp: h.text })));
  return { utterances: hyps.length, wer, cer };
}
