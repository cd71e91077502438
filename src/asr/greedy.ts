// Greedy CTC decoding: the most likely label per frame, repeats merged, blanks dropped. The model's head may
// have more outputs than the vocabulary (the checkpoint format keeps a 30th, never a target): only the
// vocabulary's labels are candidates.
import { ctcCollapse, VOCAB_SIZE } from '../speech/vocab.ts';

/** Best label per frame of log-probabilities (T, V) row-major, over the first `frames` frames. */
export function bestPath(logProbs: ArrayLike<number>, V: number, frames: number): Int32Array {
  const ids = new Int32Array(frames);
  const candidates = Math.min(V, VOCAB_SIZE);
  for (let t = 0; t < frames; t++) {
    let best = 0;
    for (let v = 1; v < candidates; v++) if (logProbs[t * V + v] > logProbs[t * V + best]) best = v;
    ids[t] = best;
  }
  return ids;
}

/** Text of each utterance of a batch of log-probabilities (b, T, V), utterance i using its first lengths[i] frames. */
export function greedyDecode(logProbs: Float32Array, shape: readonly number[], lengths: readonly number[]): string[] {
  const [b, T, V] = shape;
  return Array.from({ length: b }, (_, i) => ctcCollapse(bestPath(logProbs.subarray(i * T * V, (i + 1) * T * V), V, Math.min(lengths[i], T))));
}
