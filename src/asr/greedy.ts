// Greedy CTC decoding: the most likely label per frame, repeats merged, blanks dropped. The model's head may
// have more outputs than the vocabulary (the checkpoint format keeps a 30th, never a target): only the
// vocabulary's labels are candidates. Word times come from the CTC spikes of the best path (the frames each emitted
// character occupies).
import { BLANK, ctcCollapse, decodeIds, VOCAB, VOCAB_SIZE } from '../speech/vocab.ts';

/** The label id of `|`, the word boundary. */
const WORD_BOUNDARY = VOCAB.indexOf('|');

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

/** A word of a greedy transcript with its time span in seconds, from the CTC spikes. */
export interface TimedWord {
  word: string;
  /** The first frame of the word's first character, as time: frame * frameSeconds. */
  start: number;
  /** The end of the last frame of its last character: (frame + 1) * frameSeconds. */
  end: number;
}

/** A run of frames carrying the same non-blank label: one emitted character of the collapsed path. */
export interface Spike {
  id: number;
  first: number;
  last: number;
}

/** The characters a best path emits (repeats merged, blanks dropped), each with its first and last frame. */
export function ctcSpikes(frameIds: ArrayLike<number>): Spike[] {
  const out: Spike[] = [];
  let prev = BLANK;
  for (let t = 0; t < frameIds.length; t++) {
    const id = frameIds[t];
    if (id !== BLANK) {
      if (id === prev) out[out.length - 1].last = t;
      else out.push({ id, first: t, last: t });
    }
    prev = id;
  }
  return out;
}

/**
 * Words of a best path with their times: characters between word boundaries (`|`) form a word, spanning its first
 * character's first frame to its last character's last frame. The words joined by spaces equal ctcCollapse(frameIds).
 */
export function timedWords(frameIds: ArrayLike<number>, frameSeconds: number): TimedWord[] {
  const words: TimedWord[] = [];
  let chars: Spike[] = [];
  const flush = () => {
    if (chars.length) {
      words.push({ word: decodeIds(chars.map((c) => c.id)), start: chars[0].first * frameSeconds, end: (chars[chars.length - 1].last + 1) * frameSeconds });
    }
    chars = [];
  };
  for (const s of ctcSpikes(frameIds)) {
    if (s.id === WORD_BOUNDARY) flush();
    else chars.push(s);
  }
  flush();
  return words;
}

/** Greedy transcript of log-probabilities (T, V) row-major: the text and its words with times. */
export function greedyTranscript(logProbs: ArrayLike<number>, V: number, frames: number, frameSeconds: number): { text: string; words: TimedWord[] } {
  const words = timedWords(bestPath(logProbs, V, frames), frameSeconds);
  return { text: words.map((w) => w.word).join(' '), words };
}
