// Layer-wise phone purity, cluster purity and PNMI (HuBERT paper, section IV-F) of one or several models on an
// aligned set, with the MFCC frames as a reference row.
//
// Per model: pass 1 runs the model over the fitting utterances one at a time and keeps a seeded sample of frames
// (the same frames for every layer and every model of the run); each layer's sample is clustered by k-means on
// the GPU (kmeans.ts). Pass 2 runs the model over the evaluated utterances, assigns each layer's frames to that
// layer's clusters (train/targets.ts's assignFrames) and counts (phone, cluster) pairs, phones taken at the frame
// centres (labels.ts). measures.ts turns the counts into the three numbers. Nothing but the fitting sample and the
// count tables stays in memory.
//
// Deterministic for a seed: random initial values, the frame sample and k-means++ are seeded and the kernels
// reduce in a fixed order. A model's result is cached under (analysis version, model checksum, set checksum, K,
// seed, splits, sample size, iterations) when the host gives a cache.
import type { Gpu } from '../gpu/device.ts';
import { LabError, TooLargeError } from '../gpu/errors.ts';
import { MANIFEST_FILE, type ManifestEntry, type Split } from '../speech/manifest.ts';
import { PHONE_COUNT, PHONES } from '../speech/phones.ts';
import { hash32, rng } from '../speech/rng.ts';
import { textOf, throwIfAborted, type CorpusStore, type WorkflowOptions } from '../speech/store.ts';
import { TrainingCorpus } from '../train/data.ts';
import { assignFrames, type Codebook } from '../train/targets.ts';
import { MFCC_SOURCE, mfccFeatures, modelLayerFeatures, modelSource, type FeatureSourceInfo } from './features.ts';
import { fitKmeans } from './kmeans.ts';
import { frameLabels, phoneProblem } from './labels.ts';
import { Contingency, measures } from './measures.ts';
import { ANALYSIS_VERSION, type LayerScore, type ModelScores, type PurityReport, type SetSummary, type SplitUse } from './report.ts';
import { buildModel, checksum, describeSource, sourceId, type ModelSource } from './sources.ts';

/** Where results are kept between runs (OPFS in the browser, a folder in the CLI). */
export interface ResultCache {
  read(key: string): Promise<ModelScores | undefined>;
  write(key: string, scores: ModelScores): Promise<void>;
}

/** A cache over a store's read/write: one JSON file per result, `purity-<key>.json`. */
export function storeCache(store: Pick<CorpusStore, 'read' | 'write'>): ResultCache {
  return {
    async read(key) {
      const text = textOf(await store.read(`purity-${key}.json`).catch(() => undefined));
      if (!text) return undefined;
      try {
        const m = JSON.parse(text) as ModelScores;
        return m.key === key ? m : undefined;
      } catch {
        return undefined;
      }
    },
    write: (key, scores) => store.write(`purity-${key}.json`, new TextEncoder().encode(JSON.stringify(scores))),
  };
}

export interface PurityOptions extends WorkflowOptions {
  /** Clusters per layer (default 100). */
  K?: number;
  seed?: number;
  /** k-means is fitted on this split and scored on the other (defaults train and test; see chooseSplits). */
  fitSplit?: Split;
  evalSplit?: Split;
  /** Frames sampled for each layer's k-means (default 50,000). */
  maxFitFrames?: number;
  /** Memory the fitting sample of all layers together may take (default 512 MiB); fewer frames are sampled beyond it. */
  maxFitBytes?: number;
  /** Lloyd iterations (default 20). */
  iterations?: number;
  /** At most this many utterances of each of the fitting and the evaluated lists (default all): quick looks. */
  maxUtterances?: number;
  /** Shown in the report (default "the set"). */
  setLabel?: string;
  cache?: ResultCache;
  /** Keep the phone-by-cluster tables in the results (default true). */
  tables?: boolean;
  /** Each model's scores as soon as they are done (or read from the cache). */
  onModel?: (m: ModelScores) => void;
}

export const NO_ALIGNMENTS_HELP =
  'Phone purity needs frame labels: each manifest line (manifest.jsonl, format in src/speech/manifest.ts) needs ' +
  '"phones": [["sil",0,0.1425],["ae",0.1425,0.21],...], intervals in seconds that tile [0, duration] with labels from ' +
  'the 41-label inventory (src/speech/phones.ts). `lab corpus build` writes them from espeak-ng, and ' +
  '`lab corpus import --format timit` converts TIMIT .PHN files.';

interface Labelled {
  entries: ManifestEntry[];
  summary: Omit<SetSummary, 'fit' | 'eval'>;
}

async function labelledEntries(corpus: TrainingCorpus, manifest: string, label: string): Promise<Labelled> {
  const skipped: SetSummary['skipped'] = { noPhones: 0, badPhones: 0, unreadable: 0, tooShort: 0, examples: [] };
  const entries: ManifestEntry[] = [];
  for (const e of corpus.entries) {
    const problem = phoneProblem(e.phones);
    if (!problem) entries.push(e);
    else {
      if (problem === 'no phone intervals') skipped.noPhones++;
      else skipped.badPhones++;
      if (skipped.examples.length < 5) skipped.examples.push({ id: e.id, reason: problem });
    }
  }
  if (entries.length === 0) {
    const why =
      skipped.badPhones === 0
        ? `none of its ${corpus.entries.length} utterances has phone intervals`
        : `none of its ${corpus.entries.length} utterances has usable phone intervals (${skipped.examples.find((x) => x.reason !== 'no phone intervals')?.reason})`;
    throw new LabError('bad-input', `purity: ${label} cannot be scored: ${why}. ${NO_ALIGNMENTS_HELP}`);
  }
  return { entries, summary: { label, checksum: await checksum(manifest), utterances: corpus.entries.length, labelled: entries.length, skipped } };
}

const seconds = (es: readonly ManifestEntry[]) => es.reduce((s, e) => s + e.samples / 16000, 0);

/**
 * The utterances to fit on and to score on. When the set has none of the fitting split (the shipped eval set is
 * all "test"), a seeded half of the evaluated split is fitted on and the other half scored; asking for the same
 * split twice fits and scores on the same utterances.
 */
export function chooseSplits(entries: readonly ManifestEntry[], fitSplit: Split, evalSplit: Split, seed: number): { fit: ManifestEntry[]; evaluated: ManifestEntry[]; fitUse: SplitUse; evalUse: SplitUse; note?: string } {
  // A set without split markings is all of the evaluated split.
  const marked = entries.some((e) => e.split !== undefined);
  const of = (s: Split) => entries.filter((e) => (marked ? e.split : evalSplit) === s);
  const evaluated = of(evalSplit);
  if (evaluated.length === 0) {
    const have = (['train', 'dev', 'test'] as const).map((s) => `${s} ${of(s).length}`).join(', ');
    throw new LabError('bad-input', `purity: no labelled utterance of split "${evalSplit}" to score on (labelled utterances per split: ${have}); choose another evaluation split`);
  }
  const use = (split: Split, part: SplitUse['part'], es: ManifestEntry[]): SplitUse => ({ split, part, utterances: es.length, seconds: seconds(es) });
  const fit = of(fitSplit);
  if (fitSplit === evalSplit) {
    return { fit, evaluated, fitUse: use(fitSplit, 'all', fit), evalUse: use(evalSplit, 'all', evaluated), note: `k-means is fitted and scored on the same ${evaluated.length} utterances (split "${evalSplit}")` };
  }
  if (fit.length > 0) return { fit, evaluated, fitUse: use(fitSplit, 'all', fit), evalUse: use(evalSplit, 'all', evaluated) };
  if (evaluated.length < 2) throw new LabError('bad-input', `purity: no labelled utterance of split "${fitSplit}" to fit on, and only one of "${evalSplit}" to split in two`);
  const order = [...evaluated].sort((a, b) => hash32(seed, 'purity-half', a.id) - hash32(seed, 'purity-half', b.id) || (a.id < b.id ? -1 : 1));
  const half = Math.ceil(order.length / 2);
  const a = order.slice(0, half);
  const b = order.slice(half);
  return {
    fit: a,
    evaluated: b,
    fitUse: use(evalSplit, 'half A', a),
    evalUse: use(evalSplit, 'half B', b),
    note: `the set has no labelled "${fitSplit}" utterance: k-means is fitted on a seeded half of "${evalSplit}" (${a.length} utterances) and scored on the other half (${b.length})`,
  };
}

/** The frames a source makes of one utterance, per layer. */
type Features = (samples: Float32Array) => Promise<Float32Array[]>;

interface Prepared {
  id: string;
  model: string;
  source: ModelScores['source'];
  checksum: string;
  info: FeatureSourceInfo;
  /** Opens the model on the GPU; returns the features function and a release. */
  open(): { features: Features; release(): void };
}

async function prepare(gpu: Gpu, s: ModelSource, seed: number): Promise<Prepared> {
  if (s.kind === 'mfcc') {
    return { id: 'mfcc', model: 'mfcc', source: 'mfcc', checksum: 'mfcc', info: MFCC_SOURCE, open: () => ({ features: (x) => mfccFeatures(gpu, x), release: () => undefined }) };
  }
  const d = await describeSource(s, seed);
  return {
    id: sourceId(s),
    model: d.model,
    source: s.kind,
    checksum: d.checksum,
    info: modelSource(d.config),
    open() {
      const model = buildModel(gpu, s, seed);
      return { features: (x) => modelLayerFeatures(gpu, model, x), release: () => model.release() };
    },
  };
}

/** Phone purity, cluster purity and PNMI per layer of each source, in the order given (MFCC where asked). */
export async function analysePurity(gpu: Gpu, store: CorpusStore, sources: readonly ModelSource[], o: PurityOptions = {}): Promise<PurityReport> {
  const started = performance.now();
  const K = o.K ?? 100;
  const seed = o.seed ?? 1;
  const iterations = o.iterations ?? 20;
  const maxFitFrames = o.maxFitFrames ?? 50_000;
  if (!Number.isInteger(K) || K < 2) throw new LabError('bad-input', `purity: K must be a whole number of clusters >= 2, got ${K}`);
  if (K > 65535) throw new LabError('bad-input', `purity: K = ${K} is more clusters than frame ids hold (65535)`);
  if (!(maxFitFrames >= 1) || !(iterations >= 1)) throw new LabError('bad-input', 'purity: the fitting sample and the k-means iterations must be positive');
  if (sources.length === 0) throw new LabError('bad-input', 'purity: no model to analyse');
  const label = o.setLabel ?? 'the set';
  const manifest = textOf(await store.read(MANIFEST_FILE));
  const { corpus } = await TrainingCorpus.open(store);
  const { entries, summary } = await labelledEntries(corpus, manifest ?? '', label);
  const chosen = chooseSplits(entries, o.fitSplit ?? 'train', o.evalSplit ?? 'test', seed);
  const notes: string[] = chosen.note ? [chosen.note] : [];
  const limit = o.maxUtterances;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new LabError('bad-input', `purity: the utterance limit must be a whole number >= 1, got ${limit}`);
  const trim = (es: ManifestEntry[], u: SplitUse): [ManifestEntry[], SplitUse] => {
    if (limit === undefined || es.length <= limit) return [es, u];
    const kept = es.slice(0, limit);
    return [kept, { ...u, utterances: kept.length, seconds: seconds(kept) }];
  };
  const [fit, fitUse] = trim(chosen.fit, chosen.fitUse);
  const [evaluated, evalUse] = trim(chosen.evaluated, chosen.evalUse);
  if (limit !== undefined && (fit.length < chosen.fit.length || evaluated.length < chosen.evaluated.length)) {
    notes.push(`limited to the first ${limit} utterances of each list: fitted on ${fit.length} of ${chosen.fit.length}, scored on ${evaluated.length} of ${chosen.evaluated.length}`);
  }

  // Everything is checked (checkpoints parsed, K against the frames there are) before the first model runs.
  const prepared: Prepared[] = [];
  for (const s of sources) prepared.push(await prepare(gpu, s, seed));
  for (const p of prepared) {
    const frames = fit.reduce((n, e) => n + p.info.frames(e.samples), 0);
    if (frames < K) {
      throw new LabError('bad-input', `purity: K = ${K} clusters, but the fitting utterances (${fitUse.split}${fitUse.part === 'all' ? '' : `, ${fitUse.part}`}: ${fit.length}) hold only ${frames} frames of ${p.id}; use K <= ${frames} or a larger set`);
    }
  }

  const units = prepared.length * (fit.length + evaluated.length) + prepared.reduce((n, p) => n + p.info.layers.length, 0);
  let done = 0;
  const progress = (label: string) => o.onProgress?.(done, units, label);
  const models: ModelScores[] = [];
  const setKey = { set: summary.checksum, fit: { split: fitUse.split, part: fitUse.part, n: fit.length }, eval: { split: evalUse.split, part: evalUse.part, n: evaluated.length } };
  const unreadable = new Set<string>();
  const tooShort = new Set<string>();

  for (const p of prepared) {
    throwIfAborted(o.signal);
    const key = await checksum(JSON.stringify({ v: ANALYSIS_VERSION, model: p.checksum, ...setKey, K, seed, maxFitFrames, maxFitBytes: o.maxFitBytes ?? null, iterations }));
    const hit = await o.cache?.read(key);
    if (hit) {
      const scores: ModelScores = { ...hit, id: p.id, cached: true };
      if (o.tables === false) scores.layers = scores.layers.map(({ table: _t, ...l }) => l);
      models.push(scores);
      o.onModel?.(scores);
      done += fit.length + evaluated.length + p.info.layers.length;
      progress(`${p.id}: from the cache`);
      continue;
    }
    const t0 = performance.now();
    const skipped: { id: string; reason: string }[] = [];
    const { layers } = p.info;
    const totalFrames = fit.reduce((n, e) => n + p.info.frames(e.samples), 0);
    // The sample's size: at most maxFitFrames, within the memory budget, and each layer's within one GPU binding.
    const widest = Math.max(...layers.map((l) => l.D));
    const allD = layers.reduce((n, l) => n + l.D, 0);
    const budget = o.maxFitBytes ?? 512 * 2 ** 20;
    const cap = Math.min(maxFitFrames, Math.floor(budget / (4 * allD)), Math.floor(gpu.maxBindingBytes / (4 * widest)));
    if (cap < maxFitFrames && cap < totalFrames) notes.push(`${p.id}: k-means fitted on at most ${cap} frames per layer (memory for ${layers.length} layers of up to ${widest} values)`);
    const keep = Math.min(1, cap / Math.max(1, totalFrames));
    const rand = rng(hash32(seed, 'purity-sample'));

    const opened = p.open();
    try {
      const features = async (e: ManifestEntry): Promise<Float32Array[] | undefined> => {
        const samples = await corpus.audio(e);
        if (!samples) {
          unreadable.add(e.id);
          return undefined;
        }
        if (p.info.frames(samples.length) === 0) {
          tooShort.add(e.id);
          return undefined;
        }
        try {
          return await opened.features(samples);
        } catch (err) {
          if (!(err instanceof TooLargeError)) throw err;
          skipped.push({ id: e.id, reason: err.message });
          return undefined;
        }
      };

      // Pass 1: the fitting sample, the same frames for every layer.
      const chunks: Float32Array[][] = layers.map(() => []);
      let N = 0;
      for (const e of fit) {
        throwIfAborted(o.signal);
        progress(`${p.id}: features of ${e.id}`);
        const f = await features(e);
        done++;
        if (!f) continue;
        const l = f[0].length / layers[0].D;
        const chosen: number[] = [];
        for (let t = 0; t < l; t++) if (rand() < keep && N + chosen.length < cap) chosen.push(t);
        layers.forEach((layer, i) => {
          const D = layer.D;
          const c = new Float32Array(chosen.length * D);
          chosen.forEach((t, r) => c.set(f[i].subarray(t * D, (t + 1) * D), r * D));
          chunks[i].push(c);
        });
        N += chosen.length;
      }
      if (N < K) {
        const why = skipped.length ? `; ${skipped.length} utterance(s) did not fit the device, e.g. ${skipped[0].id}: ${skipped[0].reason}` : '';
        throw new LabError('bad-input', `purity: ${p.id}: ${N} frames to fit k-means on, fewer than K = ${K}${why}`);
      }

      // Each layer's k-means.
      const books: Codebook[] = [];
      for (const [i, layer] of layers.entries()) {
        throwIfAborted(o.signal);
        progress(`${p.id}: k-means of ${layer.label}`);
        const x = new Float32Array(N * layer.D);
        let at = 0;
        for (const c of chunks[i]) {
          x.set(c, at);
          at += c.length;
        }
        chunks[i] = [];
        books.push(await fitKmeans(gpu, x, N, layer.D, { K, seed: hash32(seed, layer.key), iterations, signal: o.signal }));
        done++;
      }

      // Pass 2: count (phone, cluster) over the evaluated frames.
      const tables = layers.map(() => new Contingency(PHONE_COUNT, K));
      for (const e of evaluated) {
        throwIfAborted(o.signal);
        progress(`${p.id}: clusters of ${e.id}`);
        const f = await features(e);
        done++;
        if (!f) continue;
        const l = f[0].length / layers[0].D;
        const labels = frameLabels(e.phones!, l, p.info.geometry);
        for (const [i, book] of books.entries()) tables[i].add(labels, await assignFrames(gpu, book, f[i]));
      }
      if (tables[0].total === 0) {
        const why = skipped.length ? `: ${skipped[0].reason}` : '';
        throw new LabError('bad-input', `purity: ${p.id}: no evaluated frame${why}`);
      }

      const scores: LayerScore[] = layers.map((layer, i) => {
        const m = measures(tables[i].counts, PHONE_COUNT, K);
        const s: LayerScore = {
          index: i,
          key: layer.key,
          label: layer.label,
          phonePurity: m.phonePurity,
          clusterPurity: m.clusterPurity,
          pnmi: m.pnmi,
          frames: m.frames,
          clustersUsed: m.clustersUsed,
          inertia: books[i].inertia[books[i].inertia.length - 1] ?? null,
        };
        s.table = tables[i].sparse();
        return s;
      });
      const result: ModelScores = { id: p.id, model: p.model, source: p.source, checksum: p.checksum, key, layers: scores, fitFrames: N, skipped, seconds: (performance.now() - t0) / 1000, cached: false };
      const notCached = await o.cache?.write(key, result).then(
        () => undefined,
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      if (notCached) result.notCached = notCached;
      const shown = o.tables === false ? { ...result, layers: scores.map(({ table: _t, ...l }) => l) } : result;
      models.push(shown);
      o.onModel?.(shown);
    } finally {
      opened.release();
    }
  }
  summary.skipped.unreadable = unreadable.size;
  summary.skipped.tooShort = tooShort.size;
  for (const id of [...unreadable].slice(0, 5)) summary.skipped.examples.push({ id, reason: corpus.skipped.get(id) ?? 'audio did not decode' });
  for (const id of [...tooShort].slice(0, 5)) summary.skipped.examples.push({ id, reason: 'shorter than one frame' });
  return {
    version: ANALYSIS_VERSION,
    set: { ...summary, fit: fitUse, eval: evalUse },
    K,
    seed,
    iterations,
    maxFitFrames,
    phones: PHONES,
    models,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
