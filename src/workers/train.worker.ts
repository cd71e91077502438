// The Train page's worker: runs the training workflow (src/train/run.ts) on this thread's own device, with each
// run kept in OPFS (`runs/<name>/`: run.json, log.jsonl, step-*.safetensors, best.safetensors, targets), corpora
// in OPFS (`corpora/<name>/`, imported from dropped folders) or read over HTTP (the shipped eval set), and
// uploaded checkpoints in OPFS (`uploads/`). Pause stops after the update in flight and saves a checkpoint;
// cancel stops without saving one more. A run that a reload or a lost device interrupted resumes from its newest
// checkpoint exactly.
import * as Comlink from 'comlink';
import { LabError } from '../gpu/errors.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { ENCODER_KINDS, SIZES, type EncoderKind, type Size } from '../models/config.ts';
import { countParameters } from '../models/parameters.ts';
import { preset } from '../models/presets.ts';
import { importCorpus, type ImportFormat, type ImportSummary, type SourceFile } from '../speech/import.ts';
import { MANIFEST_FILE, parseManifest } from '../speech/manifest.ts';
import { bytesOf, textOf, type CorpusStore } from '../speech/store.ts';
import { BEST, LOG, checkpointName, listCheckpoints, type RunStore } from '../train/checkpoints.ts';
import { train, type TrainEvent, type TrainSummary } from '../train/run.ts';
import type { Stage, TrainSettings } from '../train/settings.ts';
import { workerGpu } from './gpu.ts';
import { checkpointBytes, CORPORA, keepUpload, readUpload, RUNS, safeName, shippedEvalSet, UPLOADS } from './checkpoints.ts';
import type { CheckpointRef as AnyCheckpointRef } from './refs.ts';
import { cancelJob, job, type Progress } from './job.ts';
import { OpfsStore, opfsFolder, opfsFolders, removeOpfsFolder } from './opfs.ts';
import { withRunLock } from './run-lock.ts';

export interface PresetInfo {
  kind: EncoderKind;
  size: Size;
  /** Parameters with the pre-training head. */
  parameters: number;
}

export interface CorpusInfo {
  /** 'eval' (shipped, read over HTTP) or 'opfs:<name>'. */
  id: string;
  label: string;
  utterances: number;
  seconds: number;
  readOnly: boolean;
}

/** A checkpoint to start from: one of a run's, or an uploaded file (both in OPFS). */
export type CheckpointRef = Exclude<AnyCheckpointRef, { shipped: string }>;

/** What a checkpoint file holds, read from its header and checked against the model's schema. */
export interface CheckpointInfo {
  model: string;
  pretrainHead: boolean;
  ctcHead: boolean;
  /** Written by a training run: holds the optimizer state, the update number and the settings. */
  training?: { stage: Stage; iteration: 1 | 2; step: number; steps: number };
}

export interface UploadInfo extends CheckpointInfo {
  name: string;
  bytes: number;
}

/** A run's record (run.json), written when it starts. */
export interface RunMeta {
  name: string;
  created: string;
  stage: Stage;
  iteration: 1 | 2;
  model: string;
  corpus: string;
  corpusLabel: string;
  from?: CheckpointRef;
  settings: TrainSettings;
}

export interface RunInfo {
  name: string;
  meta?: RunMeta;
  checkpoints: { name: string; step: number; bytes: number }[];
  best?: { bytes: number };
  /** The last update the log records, and the run's length. */
  step: number;
  steps: number;
  modified: number;
}

export interface StartRequest {
  corpus: string;
  settings: TrainSettings;
  /** Pre-training iteration 1 and CTC from scratch: the preset. */
  kind?: EncoderKind;
  size?: Size;
  /** Fine-tuning: the pre-trained checkpoint; iteration 2: the iteration-1 checkpoint. */
  from?: CheckpointRef;
}

export interface RunResult {
  run: string;
  summary: TrainSummary;
}

/** A run's events as they come, with the run's folder name. */
export type RunEvents = (e: TrainEvent, run: string) => void;

export type ImportRequestFormat = ImportFormat | 'auto';

const META = 'run.json';
const EVAL_ID = 'eval';

const runStore = (name: string) => new OpfsStore(`${RUNS}/${safeName(name)}`);
const uploads = () => new OpfsStore(UPLOADS);

function corpusStore(id: string): { store: CorpusStore; label: string } {
  if (id === EVAL_ID) {
    return { store: shippedEvalSet(), label: 'evaluation set (shipped)' };
  }
  if (id.startsWith('opfs:')) {
    const name = id.slice(5);
    return { store: new OpfsStore(`${CORPORA}/${safeName(name)}`), label: name };
  }
  throw new LabError('bad-input', `unknown corpus "${id}"`);
}

async function describeCorpus(id: string): Promise<CorpusInfo> {
  const { store, label } = corpusStore(id);
  const text = textOf(await store.read(MANIFEST_FILE));
  const { entries } = parseManifest(text ?? '');
  return { id, label, utterances: entries.length, seconds: entries.reduce((a, e) => a + e.duration, 0), readOnly: id === EVAL_ID };
}

/** What a checkpoint holds; throws with the reason when it is damaged or not this lab's. */
function inspect(bytes: Uint8Array): CheckpointInfo & { settings?: TrainSettings } {
  const ck = loadCheckpoint(bytes);
  const info: CheckpointInfo & { settings?: TrainSettings } = { model: `${ck.config.kind}-${ck.config.size}`, pretrainHead: !!ck.heads.pretrainHead, ctcHead: !!ck.heads.ctcHead };
  if (ck.metadata.train) {
    const state = JSON.parse(ck.metadata.train) as { settings: TrainSettings; step: number };
    info.settings = state.settings;
    info.training = { stage: state.settings.stage, iteration: state.settings.iteration, step: state.step, steps: state.settings.steps };
  }
  return info;
}

/** Events in a run's log, in order; a line cut short by a kill is left out. */
async function readLog(store: RunStore): Promise<TrainEvent[]> {
  const events: TrainEvent[] = [];
  for (const line of (textOf(await store.read(LOG)) ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as TrainEvent);
    } catch {
      /* an unfinished line */
    }
  }
  return events;
}

/** The format of a dropped folder, from the files in it. */
function guessFormat(paths: string[]): ImportFormat {
  if (paths.some((p) => /\.trans\.txt$/i.test(p))) return 'librispeech';
  if (paths.some((p) => /\.phn$/i.test(p))) return 'timit';
  return 'folder';
}

async function newRunName(stage: Stage, iteration: 1 | 2, model: string): Promise<string> {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
  const base = `${stage === 'pretrain' ? `pretrain${iteration}` : stage}-${model}-${stamp}`;
  const taken = new Set(await opfsFolders(RUNS));
  let name = base;
  for (let k = 2; taken.has(name); k++) name = `${base}-${k}`;
  return name;
}

// Cancel (unlike pause) keeps no more checkpoints: the run store refuses writes once it is set.
let discarding = false;
function guarded(store: OpfsStore): RunStore {
  const refuse = () => {
    throw new DOMException('cancelled', 'AbortError');
  };
  return {
    read: (n) => store.read(n),
    write: (n, b) => (discarding ? refuse() : store.write(n, b)),
    append: (n, t) => store.append(n, t),
    list: () => store.list(),
    remove: (n) => (discarding ? refuse() : store.remove(n)),
  };
}

async function runTraining(
  name: string,
  meta: RunMeta,
  request: Parameters<typeof train>[3],
  onEvent: RunEvents,
  hooks: { signal: AbortSignal; onProgress?: Progress },
): Promise<RunResult> {
  discarding = false;
  const store = runStore(name);
  await store.sweep();
  const gpu = await workerGpu();
  const summary = await train(gpu, corpusStore(meta.corpus).store, guarded(store), request, {
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    onEvent: (e) => void onEvent(e, name),
  });
  return { run: name, summary };
}

const api = {
  /** Six encoder kinds at three sizes, with their parameter counts. */
  presets: (): PresetInfo[] =>
    ENCODER_KINDS.flatMap((kind) => SIZES.map((size) => ({ kind, size, parameters: countParameters(preset(kind, size), { pretrainHead: true }) }))),

  async corpora(): Promise<CorpusInfo[]> {
    const names = await opfsFolders(CORPORA);
    const shipped = await describeCorpus(EVAL_ID).catch(() => undefined);
    const kept = await Promise.all(names.map((n) => describeCorpus(`opfs:${n}`)));
    return [...(shipped ? [shipped] : []), ...kept];
  },

  importCorpus: (name: string, format: ImportRequestFormat, files: { path: string; file: File }[], onProgress: Progress) =>
    job(async (hooks): Promise<ImportSummary & { corpus: string }> => {
      const folder = safeName(name);
      const chosen = format === 'auto' ? guessFormat(files.map((f) => f.path)) : format;
      const source: SourceFile[] = files.map(({ path, file }) => ({ path, read: async () => new Uint8Array(await file.arrayBuffer()) }));
      const store = new OpfsStore(`${CORPORA}/${folder}`);
      const existed = !!(await opfsFolder(`${CORPORA}/${folder}`, false));
      try {
        const summary = await importCorpus(source, chosen, store, hooks);
        if (summary.imported === 0) {
          const why = summary.problems[0] ? `${summary.problems[0].problem}${summary.problems[0].file === '(source)' ? '' : ` (${summary.problems[0].file})`}` : 'no audio files';
          throw new LabError('bad-input', `Nothing imported from "${name}" as ${chosen}: ${why}.`);
        }
        return { ...summary, corpus: `opfs:${folder}` };
      } catch (e) {
        // A failed import into a new folder leaves nothing behind; one into a kept corpus leaves that corpus as it was.
        if (!existed) await removeOpfsFolder(`${CORPORA}/${folder}`);
        throw e;
      }
    }, onProgress),

  removeCorpus: async (id: string) => {
    if (!id.startsWith('opfs:')) throw new LabError('bad-input', 'only corpora kept in this browser can be removed');
    await removeOpfsFolder(`${CORPORA}/${safeName(id.slice(5))}`);
  },

  /** Runs kept in OPFS, newest first, with their checkpoints and how far they got. */
  async runs(): Promise<RunInfo[]> {
    const out: RunInfo[] = [];
    for (const name of await opfsFolders(RUNS)) {
      const store = runStore(name);
      const files = await store.entries();
      const size = new Map(files.map((f) => [f.name, f.bytes]));
      const metaText = textOf(await store.read(META));
      const meta = metaText ? (JSON.parse(metaText) as RunMeta) : undefined;
      const steps = (await readLog(store)).filter((e) => e.kind === 'step');
      const last = steps[steps.length - 1];
      out.push({
        name,
        meta,
        checkpoints: (await listCheckpoints(store)).map((c) => ({ ...c, bytes: size.get(c.name) ?? 0 })),
        best: size.has(BEST) ? { bytes: size.get(BEST)! } : undefined,
        step: last?.step ?? 0,
        steps: last?.steps ?? meta?.settings.steps ?? 0,
        modified: Math.max(0, ...files.map((f) => f.modified)),
      });
    }
    return out.sort((a, b) => (b.meta?.created ?? '').localeCompare(a.meta?.created ?? '') || b.modified - a.modified);
  },

  /** Every event the run logged (steps, dev scores, checkpoints, notes), to redraw its curves. */
  runLog: (run: string) => readLog(runStore(run)),

  removeRun: (run: string) => withRunLock(run, 'pause or cancel it there before removing it', () => removeOpfsFolder(`${RUNS}/${safeName(run)}`)),

  /** A checkpoint as a File (OPFS-backed: no copy), for download. */
  async checkpointFile(run: string, name: string): Promise<File> {
    const f = await runStore(run).file(name);
    if (!f) throw new LabError('bad-input', `${run}/${name} is gone`);
    return f;
  },

  /** Check an uploaded .safetensors and keep it (uploads/) to start from; a damaged file is refused with the reason. */
  async upload(file: File): Promise<UploadInfo> {
    const { bytes } = await readUpload(file);
    const { model, pretrainHead, ctcHead, training } = inspect(bytes);
    const info: CheckpointInfo = { model, pretrainHead, ctcHead, training };
    const name = await keepUpload(file.name, bytes, info);
    return { ...info, name, bytes: bytes.length };
  },

  async uploads(): Promise<UploadInfo[]> {
    const out: UploadInfo[] = [];
    const files = await uploads().entries();
    for (const f of files.filter((x) => x.name.endsWith('.safetensors'))) {
      const info = textOf(await uploads().read(`${f.name}.json`));
      if (info) out.push({ ...(JSON.parse(info) as CheckpointInfo), name: f.name, bytes: f.bytes });
    }
    return out;
  },

  removeUpload: async (name: string) => {
    await uploads().remove(safeName(name));
    await uploads().remove(`${safeName(name)}.json`);
  },

  /** Start a new run in a new OPFS folder. */
  start: (req: StartRequest, onEvent: RunEvents, onProgress: Progress) =>
    job(async (hooks) => {
      const s = req.settings;
      const from = req.from ? await checkpointBytes(req.from) : undefined;
      const model = from && (s.stage === 'finetune' || s.iteration === 2) ? inspect(from).model : `${req.kind}-${req.size}`;
      if (!from && (s.stage === 'finetune' || (s.stage === 'pretrain' && s.iteration === 2))) {
        throw new LabError('bad-input', s.stage === 'finetune' ? 'Fine-tuning needs a pre-trained checkpoint.' : 'Pre-training iteration 2 needs an iteration-1 checkpoint.');
      }
      if (!from && (!req.kind || !req.size)) throw new LabError('bad-input', 'Choose a model kind and size.');
      const name = await newRunName(s.stage, s.iteration, model);
      return withRunLock(name, 'open the lab in that tab to follow it', async () => {
        const meta: RunMeta = { name, created: new Date().toISOString(), stage: s.stage, iteration: s.iteration, model, corpus: req.corpus, corpusLabel: corpusStore(req.corpus).label, from: req.from, settings: s };
        const config = req.kind && req.size && !from ? preset(req.kind, req.size) : undefined;
        try {
          await runStore(name).write(META, bytesOf(JSON.stringify(meta, null, 2)));
          return await runTraining(name, meta, { settings: s, config, from }, onEvent, hooks);
        } catch (e) {
          // A run that failed or was cancelled before its first checkpoint leaves nothing to resume.
          if ((await listCheckpoints(runStore(name))).length === 0) await removeOpfsFolder(`${RUNS}/${name}`);
          throw e;
        }
      });
    }, onProgress),

  /** Continue a run from its newest checkpoint (optionally to a new number of updates). */
  resume: (run: string, steps: number | undefined, onEvent: RunEvents, onProgress: Progress) =>
    job((hooks) =>
      withRunLock(run, 'pause it there to go on with it here', async () => {
        const store = runStore(run);
        const metaText = textOf(await store.read(META));
        if (!metaText) throw new LabError('bad-input', `run ${run} has no ${META}: it cannot be resumed here`);
        const meta = JSON.parse(metaText) as RunMeta;
        const from = meta.from ? await checkpointBytes(meta.from).catch(() => undefined) : undefined;
        return runTraining(run, meta, { settings: meta.settings, resume: true, steps, from }, onEvent, hooks);
      }),
    onProgress),

  /** A new run folder holding an uploaded checkpoint that carries training state, ready to resume on `corpus`. */
  async adoptUpload(upload: string, corpus: string): Promise<string> {
    const bytes = await checkpointBytes({ upload });
    const { settings, training, model } = inspect(bytes);
    if (!settings || !training) throw new LabError('bad-input', `${upload} holds no training state: fine-tune from it instead`);
    const name = await newRunName(settings.stage, settings.iteration, model);
    const meta: RunMeta = { name, created: new Date().toISOString(), stage: settings.stage, iteration: settings.iteration, model, corpus, corpusLabel: corpusStore(corpus).label, settings };
    await runStore(name).write(checkpointName(training.step), bytes);
    await runStore(name).write(META, bytesOf(JSON.stringify(meta, null, 2)));
    return name;
  },

  /** Stop after the update in flight and save a checkpoint (the run stays resumable). */
  pause: cancelJob,
  /** Stop without saving another checkpoint. */
  cancel: () => {
    discarding = true;
    cancelJob();
  },
};

export type TrainApi = typeof api;

Comlink.expose(api);
