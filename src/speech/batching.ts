// Length-bucketed batches with a cap on padded frames, a deterministic shuffle, and padding masks.
//
// Per epoch: shuffle all utterances with a generator seeded by (seed, epoch); cut the shuffled list into
// buckets of `bucket` utterances; sort each bucket by length and fill batches greedily while
// (batch size) x (longest length in the batch) <= maxFrames (and size <= maxBatch); finally shuffle the batch
// order. Similar lengths share a batch (little padding) while batches still differ from epoch to epoch.
// An utterance longer than maxFrames (or of length 0) cannot be batched under the cap and is returned in
// `dropped`.
import { hash32, rng, shuffle } from './rng.ts';

export interface BatchOptions {
  /** Cap on b x l (padded frames) per batch. */
  maxFrames: number;
  seed: number;
  epoch?: number;
  /** Utterances per sorting bucket (default 256). */
  bucket?: number;
  /** Cap on utterances per batch (default unlimited). */
  maxBatch?: number;
}

export interface Batch {
  /** Utterance indices, longest first. */
  indices: number[];
  /** Their lengths (frames), same order. */
  lengths: number[];
  /** Padded length l of the batch (the longest). */
  maxLen: number;
}

export function makeBatches(lengths: readonly number[], opts: BatchOptions): { batches: Batch[]; dropped: number[] } {
  const { maxFrames } = opts;
  if (!(maxFrames > 0)) throw new RangeError(`makeBatches: maxFrames must be positive, got ${maxFrames}`);
  const rand = rng(hash32(opts.seed, opts.epoch ?? 0, 'batches'));
  const bucket = Math.max(1, opts.bucket ?? 256);
  const maxBatch = opts.maxBatch ?? Infinity;
  const dropped: number[] = [];
  const ok: number[] = [];
  lengths.forEach((l, i) => (l > 0 && l <= maxFrames ? ok.push(i) : dropped.push(i)));
  shuffle(rand, ok);
  const batches: Batch[] = [];
  for (let s = 0; s < ok.length; s += bucket) {
    const group = ok.slice(s, s + bucket).sort((a, b) => lengths[b] - lengths[a] || a - b);
    let cur: Batch | null = null;
    for (const i of group) {
      const l = lengths[i];
      if (cur && cur.indices.length < maxBatch && (cur.indices.length + 1) * cur.maxLen <= maxFrames) {
        cur.indices.push(i);
        cur.lengths.push(l);
      } else {
        cur = { indices: [i], lengths: [l], maxLen: l };
        batches.push(cur);
      }
    }
  }
  shuffle(rand, batches);
  return { batches, dropped };
}

/** Pad (l_i, dim) sequences into (b, l, dim) with a (b, l) mask: 1 for real frames, 0 for padding. */
export function padBatch(seqs: readonly Float32Array[], dim: number, padTo?: number): { data: Float32Array; mask: Uint8Array; lengths: Int32Array; b: number; l: number } {
  const lens = seqs.map((s) => {
    if (s.length % dim !== 0) throw new RangeError(`padBatch: a sequence of ${s.length} values is not a whole number of ${dim}-wide frames`);
    return s.length / dim;
  });
  const l = padTo ?? Math.max(0, ...lens);
  const b = seqs.length;
  const data = new Float32Array(b * l * dim);
  const mask = new Uint8Array(b * l);
  seqs.forEach((s, i) => {
    const n = Math.min(lens[i], l);
    data.set(s.subarray(0, n * dim), i * l * dim);
    mask.fill(1, i * l, i * l + n);
  });
  return { data, mask, lengths: Int32Array.from(lens, (x) => Math.min(x, l)), b, l };
}

/** Pad integer sequences (e.g. CTC label ids) into (b, s) with `pad`, plus their lengths. */
export function padLabels(seqs: readonly Int32Array[], pad = 0): { data: Int32Array; lengths: Int32Array; b: number; s: number } {
  const s = Math.max(0, ...seqs.map((x) => x.length));
  const data = new Int32Array(seqs.length * s).fill(pad);
  seqs.forEach((x, i) => data.set(x, i * s));
  return { data, lengths: Int32Array.from(seqs, (x) => x.length), b: seqs.length, s };
}
