// A training corpus as the trainer sees it: the manifest's utterances by split, their audio decoded on demand,
// length-bucketed batches in a seeded order per epoch, and a cursor (epoch, batch) that a checkpoint stores so
// that a resumed run reads the same batches as an uninterrupted one.
//
// A file that fails to decode is skipped and reported (once), never fatal: its batch goes on without it.
import { LabError } from '../gpu/errors.ts';
import { decodeTo16k } from '../speech/audio.ts';
import { makeBatches, type Batch } from '../speech/batching.ts';
import { MANIFEST_FILE, parseManifest, type ManifestEntry, type Split } from '../speech/manifest.ts';
import { gaussian } from '../speech/rng.ts';
import { textOf, type CorpusStore } from '../speech/store.ts';
import { encodeText } from '../speech/vocab.ts';

export interface Cursor {
  epoch: number;
  /** The next batch of the epoch. */
  batch: number;
}

/** One padded batch of audio ready for the model. */
export interface AudioBatch {
  entries: ManifestEntry[];
  /** (b, samples) row-major, zero-padded. */
  audio: Float32Array;
  /** Samples of each utterance. */
  lengths: number[];
  samples: number;
}

/**
 * Dither added to training audio: Gaussian noise of this standard deviation (about -80 dBFS, three times 16-bit
 * quantisation's step). Synthesis engines write digital silence, and exact zeros are where the layer-norm extractor's
 * gradient breaks down: its first conv gives an all-zero frame, each layer norm after it sees a row of equal values
 * and multiplies the gradient by 1/sqrt(eps) ~ 316, and the first update's global norm reached 1e12 (the clip then
 * scaled every other gradient to nothing). Real recordings are never exactly zero; this makes ours so too.
 */
export const DITHER = 1e-4;

/** Adds the dither to each utterance's own samples (the padding stays zero), drawn from `rand`. */
export function dither(batch: AudioBatch, rand: () => number, std = DITHER): void {
  batch.lengths.forEach((n, i) => {
    const row = batch.audio.subarray(i * batch.samples, i * batch.samples + n);
    for (let j = 0; j < n; j++) row[j] += std * gaussian(rand);
  });
}

export class TrainingCorpus {
  /** Entries that failed to decode, with the reason (reported once each). */
  readonly skipped = new Map<string, string>();

  private constructor(
    readonly store: CorpusStore,
    readonly entries: ManifestEntry[],
  ) {}

  /** Read and check the manifest; refuses an empty corpus with a message saying what is needed. */
  static async open(store: CorpusStore): Promise<{ corpus: TrainingCorpus; problems: string[] }> {
    const text = textOf(await store.read(MANIFEST_FILE));
    if (text === undefined) throw new LabError('bad-input', `corpus: no ${MANIFEST_FILE} here; build one with \`lab corpus build\` or import one with \`lab corpus import\``);
    const { entries, problems } = parseManifest(text);
    if (entries.length === 0) throw new LabError('bad-input', `corpus: ${MANIFEST_FILE} lists no utterance${problems.length ? ` (${problems[0]})` : ''}`);
    return { corpus: new TrainingCorpus(store, entries), problems };
  }

  /** The utterances of a split; with `fallback`, every utterance when the corpus has none of that split. */
  split(split: Split, fallback = false): ManifestEntry[] {
    const chosen = this.entries.filter((e) => e.split === split);
    return chosen.length === 0 && fallback ? this.entries : chosen;
  }

  /** 16 kHz mono samples of an entry, or undefined when the file is missing or does not decode (then reported). */
  async audio(e: ManifestEntry): Promise<Float32Array | undefined> {
    if (this.skipped.has(e.id)) return undefined;
    try {
      const bytes = await this.store.read(e.audio);
      if (!bytes) throw new Error(`${e.audio} is missing`);
      const samples = decodeTo16k(bytes);
      if (samples.length === 0) throw new Error('no samples');
      return samples;
    } catch (err) {
      this.skipped.set(e.id, `${e.audio}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /** The padded audio of these entries (skipping those that fail to decode); undefined when none is left. */
  async batch(entries: readonly ManifestEntry[]): Promise<AudioBatch | undefined> {
    const ok: ManifestEntry[] = [];
    const waves: Float32Array[] = [];
    for (const e of entries) {
      const w = await this.audio(e);
      if (w) {
        ok.push(e);
        waves.push(w);
      }
    }
    if (ok.length === 0) return undefined;
    const samples = Math.max(...waves.map((w) => w.length));
    const audio = new Float32Array(ok.length * samples);
    waves.forEach((w, i) => audio.set(w, i * samples));
    return { entries: ok, audio, lengths: waves.map((w) => w.length), samples };
  }
}

export interface BatchPlanOptions {
  /** Padded audio per micro-batch, in seconds (b x longest). */
  batchSeconds: number;
  maxBatch?: number;
  seed: number;
}

/** Seeded, length-bucketed batches of a list of entries, epoch after epoch. */
export class BatchPlan {
  private epochBatches: { epoch: number; batches: Batch[] } | undefined;
  /** Entries longer than one batch may hold (never trained on). */
  readonly tooLong: ManifestEntry[];

  constructor(
    readonly entries: readonly ManifestEntry[],
    readonly o: BatchPlanOptions,
  ) {
    const { dropped } = makeBatches(entries.map((e) => e.samples), { maxFrames: this.capacity, seed: o.seed });
    this.tooLong = dropped.map((i) => entries[i]);
    if (this.tooLong.length === entries.length) {
      const longest = Math.max(...entries.map((e) => e.samples)) / 16000;
      throw new LabError('bad-input', `corpus: every utterance is longer than --batch-seconds ${o.batchSeconds} (the longest lasts ${longest.toFixed(1)} s); raise it`);
    }
  }

  /** Padded samples a batch may hold. */
  get capacity(): number {
    return Math.round(this.o.batchSeconds * 16000);
  }

  private batchesOf(epoch: number): Batch[] {
    if (this.epochBatches?.epoch !== epoch) {
      const { batches } = makeBatches(this.entries.map((e) => e.samples), { maxFrames: this.capacity, seed: this.o.seed, epoch, maxBatch: this.o.maxBatch });
      this.epochBatches = { epoch, batches };
    }
    return this.epochBatches.batches;
  }

  /** The batch at the cursor and the cursor after it. */
  next(c: Cursor): { entries: ManifestEntry[]; cursor: Cursor } {
    let { epoch, batch } = c;
    if (batch >= this.batchesOf(epoch).length) [epoch, batch] = [epoch + 1, 0];
    const b = this.batchesOf(epoch)[batch];
    return { entries: b.indices.map((i) => this.entries[i]), cursor: { epoch, batch: batch + 1 } };
  }
}

/** CTC targets of a batch: padded label ids (b, S) and their lengths. */
export function ctcTargets(entries: readonly ManifestEntry[]): { targets: Int32Array; targetLengths: number[]; S: number } {
  const ids = entries.map((e) => encodeText(e.text));
  const S = Math.max(1, ...ids.map((x) => x.length));
  const targets = new Int32Array(entries.length * S);
  ids.forEach((x, i) => targets.set(x, i * S));
  return { targets, targetLengths: ids.map((x) => x.length), S };
}
