// What a phone-purity analysis reports, and its flat rows for tables and CSV. Plain data (JSON-safe, kept by the
// page across reloads and cached by the workflow); no GPU and no DOM here, so the page imports it too.
import type { Split } from '../speech/manifest.ts';

export { ENCODER_KINDS, SIZES, type EncoderKind, type Size } from '../models/config.ts';

/** Bumped whenever the numbers a cached result holds would come out differently. */
export const ANALYSIS_VERSION = 1;

export interface LayerScore {
  /** 0-based position on the chart's x axis. */
  index: number;
  /** 'cnn', 'proj', 'pos', '1' .. 'n', or 'mfcc'. */
  key: string;
  label: string;
  phonePurity: number;
  clusterPurity: number;
  /** null when the evaluated frames hold a single phone. */
  pnmi: number | null;
  /** Evaluated (labelled) frames. */
  frames: number;
  /** Clusters that received at least one evaluated frame. */
  clustersUsed: number;
  /** k-means' last mean squared distance on the fitting sample (standardised features). */
  inertia: number | null;
  /** Phone-by-cluster frame counts, non-zero cells only: [phone index, cluster, frames]. */
  table?: [number, number, number][];
}

export interface ModelScores {
  /** As asked for: 'random:mamba-tiny', a checkpoint's name, or 'mfcc'. */
  id: string;
  /** '<kind>-<size>' of the model, or 'mfcc'. */
  model: string;
  source: 'random' | 'checkpoint' | 'mfcc';
  /** SHA-256 (first 16 hex digits) of the checkpoint file, or of the random model's preset and seed. */
  checksum: string;
  /** The cache key: (analysis version, model checksum, set checksum, K, seed, splits, sample sizes). */
  key: string;
  layers: LayerScore[];
  /** Frames the k-means of each layer was fitted on. */
  fitFrames: number;
  /** Utterances left out for this model (too long for the device, say), with the reason. */
  skipped: { id: string; reason: string }[];
  seconds: number;
  /** Whether this came from the cache. */
  cached: boolean;
  /** Why the result could not be kept in the cache (a full or refused store): it is computed again next time. */
  notCached?: string;
}

export interface SplitUse {
  split: Split;
  /** 'all' of the split, or one seeded half of it (when the set has no utterance of the fitting split). */
  part: 'all' | 'half A' | 'half B';
  utterances: number;
  seconds: number;
}

export interface SetSummary {
  label: string;
  /** SHA-256 (first 16 hex digits) of the manifest. */
  checksum: string;
  utterances: number;
  /** Utterances whose phone intervals label frames. */
  labelled: number;
  fit: SplitUse;
  eval: SplitUse;
  /** Entries left out of every model: without phone intervals, with labels outside the inventory, unreadable audio, shorter than one frame. */
  skipped: { noPhones: number; badPhones: number; unreadable: number; tooShort: number; examples: { id: string; reason: string }[] };
}

export interface PurityReport {
  version: number;
  set: SetSummary;
  K: number;
  seed: number;
  iterations: number;
  maxFitFrames: number;
  /** The phone inventory: row y of every table is phones[y]. */
  phones: readonly string[];
  models: ModelScores[];
  notes: string[];
  seconds: number;
}

export interface PurityRow {
  model: string;
  layer: string;
  index: number;
  phonePurity: number;
  clusterPurity: number;
  pnmi: number | null;
  frames: number;
  clustersUsed: number;
}

/** One row per model and layer (no tables), in the report's order. */
export function purityRows(models: readonly ModelScores[]): PurityRow[] {
  return models.flatMap((m) =>
    m.layers.map((l) => ({
      model: m.id,
      layer: l.label,
      index: l.index,
      phonePurity: l.phonePurity,
      clusterPurity: l.clusterPurity,
      pnmi: l.pnmi,
      frames: l.frames,
      clustersUsed: l.clustersUsed,
    })),
  );
}

/** The layer with the highest PNMI. */
export function bestLayer(m: ModelScores): LayerScore | undefined {
  return m.layers.reduce<LayerScore | undefined>((best, l) => (l.pnmi !== null && (best?.pnmi == null || l.pnmi > best.pnmi) ? l : best), undefined);
}

/** Results without their phone-by-cluster tables (for --json without --tables, say). */
export function withoutTables(m: ModelScores): ModelScores {
  return { ...m, layers: m.layers.map(({ table: _table, ...l }) => l) };
}

/** The notice after a run: its time, how many came from the cache, and any result the cache could not keep. */
export function doneNotice(seconds: number, models: readonly ModelScores[]): string {
  const cached = models.filter((m) => m.cached).length;
  const lost = models.filter((m) => m.notCached);
  const kept = lost.length ? ` ${lost.map((m) => m.id).join(', ')} could not be kept for next time (${lost[0].notCached}); the results shown are complete.` : '';
  return `Done in ${seconds.toFixed(0)} s${cached ? ` (${cached} from the cache)` : ''}.${kept}`;
}
