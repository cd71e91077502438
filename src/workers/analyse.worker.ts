// The Analyse page's worker: layer-wise phone purity (src/analysis) on this thread's own device. Models are random
// initial values of any preset, checkpoints of training runs kept in OPFS (`runs/<name>/`), uploaded checkpoints
// (`uploads/`, shared with the Train page) and shipped ones (`models/` on the lab's own server, when listed in
// `models/index.json`); sets are the shipped eval set (over HTTP) and corpora kept in OPFS (`corpora/<name>/`).
// Results are cached in OPFS (`analyses/`) by (model checksum, set, K, seed, ...), so asking again is instant.
import * as Comlink from 'comlink';
import { analysePurity, storeCache, type PurityOptions } from '../analysis/purity.ts';
import type { ModelScores, PurityReport } from '../analysis/report.ts';
import type { ModelSource } from '../analysis/sources.ts';
import { LabError } from '../gpu/errors.ts';
import { ENCODER_KINDS, SIZES, type EncoderKind, type Size } from '../models/config.ts';
import { MANIFEST_FILE, parseManifest, type Split } from '../speech/manifest.ts';
import { textOf, type CorpusStore } from '../speech/store.ts';
import { workerGpu } from './gpu.ts';
import { checkpointBytes, CORPORA, keepUpload, readUpload, RUNS, safeName, shippedEvalSet, shippedIndex, UPLOADS } from './checkpoints.ts';
import { cancelJob, job, type Progress } from './job.ts';
import { refLabel, type ModelRef } from './refs.ts';
import { OpfsStore, opfsFolders } from './opfs.ts';

export type { ModelRef };

export interface ModelChoice {
  ref: ModelRef;
  /** The id results carry: 'random:mamba-tiny', 'run/step-0000100.safetensors', 'upload:x.safetensors', ... */
  label: string;
  /** '<kind>-<size>' when known. */
  model?: string;
  group: 'run' | 'upload' | 'shipped';
}

export interface SetInfo {
  /** 'eval' (shipped, over HTTP) or 'opfs:<name>'. */
  id: string;
  label: string;
  utterances: number;
  /** Utterances with phone intervals, per split. */
  labelled: Record<Split, number>;
}

export interface AnalyseRequest {
  set: string;
  models: ModelRef[];
  K: number;
  seed: number;
  fitSplit: Split;
  evalSplit: Split;
  iterations: number;
  /** 0: all. */
  utterances: number;
}

const EVAL_ID = 'eval';

function setStore(id: string): { store: CorpusStore; label: string } {
  if (id === EVAL_ID) return { store: shippedEvalSet(), label: 'evaluation set (shipped)' };
  if (id.startsWith('opfs:')) return { store: new OpfsStore(`${CORPORA}/${safeName(id.slice(5))}`), label: id.slice(5) };
  throw new LabError('bad-input', `unknown set "${id}"`);
}

async function describeSet(id: string): Promise<SetInfo> {
  const { store, label } = setStore(id);
  const { entries } = parseManifest(textOf(await store.read(MANIFEST_FILE)) ?? '');
  const labelled: Record<Split, number> = { train: 0, dev: 0, test: 0 };
  for (const e of entries) if (e.phones?.length) labelled[e.split ?? 'train']++;
  return { id, label, utterances: entries.length, labelled };
}

async function sourceOf(ref: ModelRef): Promise<ModelSource> {
  if ('mfcc' in ref) return { kind: 'mfcc' };
  if ('random' in ref) return { kind: 'random', preset: ref.random, seed: ref.seed };
  return { kind: 'checkpoint', name: refLabel(ref), bytes: await checkpointBytes(ref) };
}

/** Every shipped model, pre-trained ones too (their layers are what the analysis is about). */
async function shipped(): Promise<ModelChoice[]> {
  return (await shippedIndex()).map((m) => ({ ref: { shipped: m.file }, label: `shipped:${m.file}`, group: 'shipped' as const }));
}

const api = {
  presets: (): { kind: EncoderKind; size: Size }[] => ENCODER_KINDS.flatMap((kind) => SIZES.map((size) => ({ kind, size }))),

  async sets(): Promise<SetInfo[]> {
    const shippedSet = await describeSet(EVAL_ID).catch(() => undefined);
    const kept = await Promise.all((await opfsFolders(CORPORA)).map((n) => describeSet(`opfs:${n}`)));
    return [...(shippedSet ? [shippedSet] : []), ...kept];
  },

  /** Checkpoints there are: every training run's, every upload, the shipped ones. */
  async checkpoints(): Promise<ModelChoice[]> {
    const out: ModelChoice[] = [];
    for (const run of await opfsFolders(RUNS)) {
      for (const name of await new OpfsStore(`${RUNS}/${run}`).list()) {
        if (name.endsWith('.safetensors') && name !== 'targets.safetensors') out.push({ ref: { run, name }, label: `${run}/${name}`, group: 'run' });
      }
    }
    for (const name of await new OpfsStore(UPLOADS).list()) if (name.endsWith('.safetensors')) out.push({ ref: { upload: name }, label: `upload:${name}`, group: 'upload' });
    return [...out, ...(await shipped())];
  },

  /** Check a .safetensors and keep it in uploads/ (the Train page lists it too); refused with the reason when it is not usable. */
  async upload(file: File): Promise<ModelChoice> {
    const { bytes, checkpoint: ck } = await readUpload(file);
    const model = `${ck.config.kind}-${ck.config.size}`;
    const name = await keepUpload(file.name, bytes, { model, pretrainHead: !!ck.heads.pretrainHead, ctcHead: !!ck.heads.ctcHead });
    return { ref: { upload: name }, label: `upload:${name}`, model, group: 'upload' };
  },

  analyse: (req: AnalyseRequest, onModel: (m: ModelScores) => void, onProgress: Progress) =>
    job(async (hooks): Promise<PurityReport> => {
      const { store, label } = setStore(req.set);
      const sources: ModelSource[] = [];
      for (const ref of req.models) sources.push(await sourceOf(ref));
      const options: PurityOptions = {
        K: req.K,
        seed: req.seed,
        fitSplit: req.fitSplit,
        evalSplit: req.evalSplit,
        iterations: req.iterations,
        maxUtterances: req.utterances > 0 ? req.utterances : undefined,
        setLabel: label,
        cache: storeCache(new OpfsStore('analyses')),
        onModel: (m) => void onModel(m),
        ...hooks,
      };
      return analysePurity(await workerGpu(), store, sources, options);
    }, onProgress),

  cancel: cancelJob,
};

export type AnalyseApi = typeof api;

Comlink.expose(api);
