// The training workflow: HuBERT pre-training (iteration 1 on MFCC k-means targets, iteration 2 on k-means of
// a layer of an iteration-1 model), CTC fine-tuning of a pre-trained model, and CTC from scratch, the last two
// optionally with an auxiliary frame loss on MFCC k-means targets (settings.auxWeight). No DOM, no
// fs: the corpus and the run folder come in as stores, progress goes out as events, an AbortSignal stops it.
//
// A run is resumable: every checkpoint holds the parameters, AdamW's moments and step counts, the update
// number, the data cursor and the settings (the masks are drawn from generators seeded by (seed, update), so
// nothing else is needed), and the k-means targets are kept beside them. Resuming after a kill reads the same
// batches and masks as an uninterrupted run.
import type { Gpu } from '../gpu/device.ts';
import { LabError, TooLargeError } from '../gpu/errors.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { framesFor, type ModelConfig } from '../models/config.ts';
import { HubertModel } from '../models/hubert.ts';
import { initialValues } from '../models/init.ts';
import { saveModel } from '../models/load.ts';
import { parameterSpecs, type ParameterOptions } from '../models/parameters.ts';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '../models/safetensors.ts';
import type { ManifestEntry } from '../speech/manifest.ts';
import { hash32, rng } from '../speech/rng.ts';
import type { CorpusStore } from '../speech/store.ts';
import { BEST, LOG, latestCheckpoint, listCheckpoints, saveCheckpointFile, type RunStore } from './checkpoints.ts';
import { BatchPlan, dither, TrainingCorpus, type AudioBatch, type Cursor } from './data.ts';
import { devCtc, devMaskedPrediction, type DevScore } from './evaluate.ts';
import { ctcObjective, maskedPrediction, type MicroResult } from './objectives.ts';
import { AdamW, NonFiniteError } from './optimizer.ts';
import { learningRate } from './schedule.ts';
import { checkSettings, defaultSettings, type TrainSettings } from './settings.ts';
import { codebookFromTensors, codebookTensors, fitCodebook, labelCorpus, type Codebook, type FeatureSource } from './targets.ts';

export interface TrainRequest {
  settings: TrainSettings;
  /** A new pre-training or CTC run: the model's configuration. Iteration 2 defaults to the iteration-1 model's. */
  config?: ModelConfig;
  /**
   * finetune: the pre-trained checkpoint; ctc: optionally, a checkpoint whose weights it goes on from (every part
   * trains, with a new optimizer and schedule); pretrain iteration 2: the iteration-1 checkpoint giving the targets.
   */
  from?: Uint8Array;
  /** Continue from the run folder's newest checkpoint with the settings stored there. */
  resume?: boolean;
  /** With resume: run to this many updates instead of the stored count. */
  steps?: number;
}

export interface StepEvent {
  kind: 'step';
  step: number;
  steps: number;
  loss: number;
  /** Pre-training: accuracy on the masked frames of this update's batches (with the auxiliary loss: on every frame). */
  accuracy?: number;
  /** CTC with the auxiliary loss: its mean cross-entropy per frame (loss is then the CTC loss alone). */
  auxLoss?: number;
  lr: number;
  gradNorm: number;
  clip: number;
  /** Audio trained on in this update, and per wall second since the run (or its resumption) began. */
  audioSeconds: number;
  rate: number;
  /** Seconds to the last update at the current rate. */
  eta: number;
  /** GPU memory held by tensors, bytes. */
  gpuBytes: number;
}

export type TrainEvent =
  | StepEvent
  | ({ kind: 'eval'; step: number } & DevScore)
  | { kind: 'checkpoint'; step: number; name: string; best: boolean }
  | { kind: 'note'; message: string };

export interface TrainHooks {
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  /** Preparation progress (features, k-means, targets). */
  onProgress?: (done: number, total: number, label: string) => void;
}

export interface TrainSummary {
  stage: TrainSettings['stage'];
  /** Updates done in all (including before a resume). */
  step: number;
  steps: number;
  /** Stopped by the signal before the last update (a checkpoint was saved). */
  stopped: boolean;
  lastCheckpoint?: string;
  best?: { step: number; score: number };
  dev?: DevScore;
  /** Wall seconds and audio seconds trained in this session. */
  seconds: number;
  audioSeconds: number;
  /** Utterances skipped because their audio did not decode, with the reason. */
  skipped: { id: string; reason: string }[];
}

/** What a checkpoint's "train" metadata holds besides the model. */
interface RunState {
  settings: TrainSettings;
  step: number;
  cursor: Cursor;
  best: { step: number; score: number } | null;
  counts: Record<string, number>;
}

const TARGETS = 'targets.safetensors';

/** Whether a run trains on frame targets: pre-training, and CTC with the auxiliary loss. */
function usesFrameTargets(s: TrainSettings): boolean {
  return s.stage === 'pretrain' || s.auxWeight > 0;
}

function headsOf(settings: TrainSettings, fromHeads?: ParameterOptions): ParameterOptions {
  if (settings.stage === 'pretrain') return { pretrainHead: true };
  // The auxiliary loss scores frames with the masked-prediction head; fine-tuning keeps mask_emb (and with it
  // that head) for the masking it applies.
  const pretrainHead = settings.auxWeight > 0 || (settings.stage === 'finetune' && (fromHeads?.pretrainHead ?? false));
  return pretrainHead ? { pretrainHead, ctcHead: true } : { ctcHead: true };
}

/** The masked-prediction head's parameters that start fresh when a run's own k-means targets give their meaning. */
const TARGET_HEAD = /^(final_proj\.|label_embs_concat$)/;

/** The model a new run starts from. */
function startModel(gpu: Gpu, req: TrainRequest): HubertModel {
  const s = req.settings;
  if (s.stage === 'finetune' || (s.stage === 'ctc' && req.from)) {
    if (!req.from) throw new LabError('bad-input', 'fine-tuning needs a pre-trained checkpoint (--from)');
    const ck = loadCheckpoint(req.from);
    const heads = headsOf(s, ck.heads);
    const config = s.auxWeight > 0 ? { ...ck.config, targets: s.clusters } : ck.config;
    const specs = parameterSpecs(config, heads);
    const fresh = (name: string) => !ck.params.has(name) || (s.auxWeight > 0 && TARGET_HEAD.test(name));
    const init = initialValues(specs.filter((p) => fresh(p.name)), config, s.seed);
    const values = new Map(specs.map((p) => [p.name, fresh(p.name) ? init.get(p.name)! : ck.params.get(p.name)!.data]));
    return HubertModel.fromValues(gpu, config, values, { heads });
  }
  let config = req.config;
  if (!config && s.stage === 'pretrain' && s.iteration === 2 && req.from) config = loadCheckpoint(req.from).config;
  if (!config) throw new LabError('bad-input', `a new ${s.stage} run needs a model configuration (--preset)`);
  if (usesFrameTargets(s)) config = { ...config, targets: s.clusters };
  return HubertModel.create(gpu, config, s.seed, { heads: headsOf(s) });
}

/** Frame targets of train and dev entries: from the run folder when it has them, else fitted and saved there. */
async function frameTargetsOf(
  gpu: Gpu,
  req: TrainRequest,
  model: HubertModel,
  corpus: TrainingCorpus,
  split: { train: ManifestEntry[]; dev: ManifestEntry[] },
  runStore: RunStore,
  hooks: TrainHooks,
): Promise<{ book: Codebook; targets: Map<string, Uint16Array> }> {
  const entries = [...split.train, ...split.dev];
  const s = req.settings;
  const cached = await runStore.read(TARGETS);
  if (cached) {
    const file = decodeSafetensors(cached);
    const meta = JSON.parse(file.metadata.codebook ?? '{}');
    const book = codebookFromTensors(file.tensors, meta);
    const targets = new Map<string, Uint16Array>();
    for (const [name, t] of file.tensors) if (name.startsWith('utt.')) targets.set(name.slice(4), Uint16Array.from(t.data));
    const missing = entries.find((e) => !targets.has(e.id));
    if (book && !missing) return { book, targets };
    if (book && missing) throw new LabError('bad-input', `${TARGETS} in the run folder has no targets for utterance ${missing.id}: the corpus changed since the run began`);
  }
  let source: FeatureSource = { kind: 'mfcc' };
  let release = () => {};
  if (s.stage === 'pretrain' && s.iteration === 2) {
    if (!req.from) throw new LabError('bad-input', 'pre-training iteration 2 needs the iteration-1 checkpoint (--targets-from) for its layer features');
    const ck = loadCheckpoint(req.from);
    if (s.layer > ck.config.n_layers) throw new LabError('bad-input', `--layer ${s.layer}: the iteration-1 model has ${ck.config.n_layers} layers`);
    const values = new Map([...ck.params].map(([k, t]) => [k, t.data]));
    const teacher = HubertModel.fromValues(gpu, ck.config, values, { heads: ck.heads });
    source = { kind: 'layer', model: teacher, layer: s.layer };
    release = () => teacher.release();
  }
  try {
    const framesOf = (n: number) => framesFor(model.config, n);
    hooks.onEvent?.({ kind: 'note', message: `targets: k-means with K = ${s.clusters} on ${source.kind === 'mfcc' ? '39-d MFCC' : `layer ${s.layer}`} features` });
    const book = await fitCodebook(gpu, corpus, split.train, source, { K: s.clusters, seed: s.seed, maxFrames: s.kmeansFrames, iterations: s.kmeansIterations, framesOf, ...hooks });
    const targets = await labelCorpus(gpu, corpus, entries, source, book, { framesOf, ...hooks });
    const tensors = codebookTensors(book);
    for (const [id, t] of targets) tensors.set(`utt.${id}`, { shape: [t.length], data: Float32Array.from(t) });
    await runStore.write(TARGETS, encodeSafetensors(tensors, { codebook: JSON.stringify({ source: book.source, layer: book.layer, inertia: book.inertia }) }));
    return { book, targets };
  } finally {
    release();
  }
}

/** Run a micro-batch; a tensor too large for the device is reported with the batch and a batch size that fits. */
async function adviseOnSize<T>(settings: TrainSettings, batch: AudioBatch, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (!(e instanceof TooLargeError)) throw e;
    // Activations grow at least linearly with the padded audio; attention's scores grow with its square.
    const fits = Math.floor(10 * settings.batchSeconds * Math.min(1, (0.8 * e.limit) / e.bytes)) / 10;
    const what = `${e.what}, for a batch of ${batch.entries.length} x ${(batch.samples / 16000).toFixed(1)} s`;
    const advice = fits >= batch.samples / 16000 ? ` (try --batch-seconds ${fits})` : ' (an utterance this long does not fit: drop it from the corpus or cut it)';
    throw new TooLargeError(what + advice, e.bytes, e.limit, e.limitName);
  }
}

export async function train(gpu: Gpu, corpusStore: CorpusStore, runStore: RunStore, req: TrainRequest, hooks: TrainHooks = {}): Promise<TrainSummary> {
  // The log is appended in event order (one write at a time) and flushed before the run returns.
  let logged: Promise<void> = Promise.resolve();
  const emit = (e: TrainEvent) => {
    hooks.onEvent?.(e);
    logged = logged.then(() => runStore.append(LOG, `${JSON.stringify(e)}\n`));
  };
  let settings = req.settings;
  let state: RunState = { settings, step: 0, cursor: { epoch: 0, batch: 0 }, best: null, counts: {} };
  let model: HubertModel;
  let moments = new Map<string, NamedTensor>();
  if (req.resume) {
    const last = await latestCheckpoint(runStore);
    const ck = loadCheckpoint(last.bytes);
    if (!ck.metadata.train) throw new LabError('bad-input', `resume: ${last.name} holds no training state (not written by lab train)`);
    state = JSON.parse(ck.metadata.train) as RunState;
    const asked = req.config && `${req.config.kind}-${req.config.size}`;
    if (asked && asked !== `${ck.config.kind}-${ck.config.size}`) {
      throw new LabError('bad-input', `resume: the run folder holds a ${ck.config.kind}-${ck.config.size} run, not ${asked}`);
    }
    // Settings added since the run began take their defaults.
    settings = { ...defaultSettings(state.settings.stage), ...state.settings, steps: req.steps ?? state.settings.steps };
    state.settings = settings;
    model = HubertModel.fromValues(gpu, ck.config, new Map([...ck.params].map(([k, t]) => [k, t.data])), { heads: ck.heads });
    moments = ck.extra;
    emit({ kind: 'note', message: `resumed from ${last.name} at update ${state.step}` });
  } else {
    checkSettings(settings);
    if ((await listCheckpoints(runStore)).length > 0) {
      throw new LabError('bad-input', 'the run folder already holds checkpoints: pass --resume to continue that run, or choose another folder');
    }
    model = startModel(gpu, req);
  }
  const opt = new AdamW(gpu, model.params, { weightDecay: settings.weightDecay, maxGradNorm: settings.maxGradNorm });
  try {
    opt.restore(moments, state.counts);
    const { corpus, problems } = await TrainingCorpus.open(corpusStore);
    for (const p of problems) emit({ kind: 'note', message: `manifest: ${p}` });
    const trainEntries = corpus.split('train', true);
    const dev = (corpus.split('dev').length ? corpus.split('dev') : corpus.split('test')).slice(0, settings.devLimit || undefined);
    if (trainEntries.length === corpus.entries.length && corpus.split('train').length === 0) emit({ kind: 'note', message: 'the corpus has no train split: training on every utterance' });
    const plan = new BatchPlan(trainEntries, { batchSeconds: settings.batchSeconds, maxBatch: settings.maxBatch, seed: settings.seed });
    if (plan.tooLong.length) emit({ kind: 'note', message: `${plan.tooLong.length} utterance(s) longer than --batch-seconds ${settings.batchSeconds} are left out` });
    const targets = usesFrameTargets(settings) ? (await frameTargetsOf(gpu, req, model, corpus, { train: trainEntries, dev }, runStore, hooks)).targets : undefined;
    const aux = settings.auxWeight > 0 ? { targets: targets!, weight: settings.auxWeight } : undefined;

    const runState = (): string => JSON.stringify({ ...state, counts: opt.stepCounts() } satisfies RunState);
    const checkpointBytes = async (): Promise<Uint8Array> => saveModel(model, { extra: await opt.state(), metadata: { train: runState() } });
    let lastCheckpoint: string | undefined;
    const save = async () => {
      lastCheckpoint = await saveCheckpointFile(runStore, state.step, await checkpointBytes(), settings.keep);
      emit({ kind: 'checkpoint', step: state.step, name: lastCheckpoint, best: false });
    };
    let devScore: DevScore | undefined;
    const evaluate = async () => {
      const capacity = Math.round(settings.batchSeconds * 16000);
      devScore =
        settings.stage === 'pretrain'
          ? await devMaskedPrediction(model, corpus, dev, targets!, settings.mask!, capacity, hooks.signal)
          : await devCtc(model, corpus, dev, capacity, hooks.signal);
      emit({ kind: 'eval', step: state.step, ...devScore });
      // Lower is better: the masked-prediction loss, or WER + CER (the CER still ranks a model that gets few
      // words right, where the WER sits near or above 100% and says little).
      const score = settings.stage === 'pretrain' ? devScore.loss! : devScore.wer! + devScore.cer!;
      if (devScore.utterances > 0 && Number.isFinite(score) && (!state.best || score < state.best.score)) {
        state.best = { step: state.step, score };
        await runStore.write(BEST, await checkpointBytes());
        emit({ kind: 'checkpoint', step: state.step, name: BEST, best: true });
      }
    };

    const schedule = { kind: settings.schedule, lr: settings.lr, total: settings.steps, warmup: settings.warmup, hold: settings.hold };
    const frozenExtractor = settings.stage === 'finetune';
    const start = performance.now();
    let audioTotal = 0;
    let stopped = false;
    let lastSaved = state.step;
    const startStep = state.step;
    const reported = new Set<string>();
    while (state.step < settings.steps) {
      if (hooks.signal?.aborted) {
        stopped = true;
        break;
      }
      const step = state.step + 1;
      const lr = learningRate(schedule, step);
      const encoderFrozen = settings.stage === 'finetune' && step <= settings.freezeEncoderSteps;
      let lossSum = 0, auxSum = 0, frames = 0, correct = 0, audio = 0, micro = 0;
      while (micro < settings.accumulate) {
        const { entries, cursor } = plan.next(state.cursor);
        state.cursor = cursor;
        const batch = await corpus.batch(entries);
        if (!batch) continue;
        dither(batch, rng(hash32(settings.seed, 'dither', step, micro)));
        const rand = rng(hash32(settings.seed, 'mask', step, micro));
        const r: MicroResult = await adviseOnSize(settings, batch, () =>
          settings.stage === 'pretrain'
            ? maskedPrediction(model, batch, targets!, settings.mask!, rand, true)
            : ctcObjective(model, batch, true, { mask: settings.mask ?? undefined, rand, encoderFrozen, extractorFrozen: frozenExtractor, aux }),
        );
        if (!Number.isFinite(r.loss)) {
          throw new NonFiniteError(
            `update ${step}: the loss is ${r.loss} on utterances ${batch.entries.map((e) => e.id).join(', ')}; nothing was saved` +
              (lastCheckpoint ? `, ${lastCheckpoint} is the last good checkpoint` : ''),
          );
        }
        lossSum += r.loss;
        auxSum += (r.auxLoss ?? 0) * (r.frames ?? 0);
        frames += r.frames ?? 0;
        correct += r.correct ?? 0;
        audio += batch.lengths.reduce((a, b) => a + b, 0) / 16000;
        micro++;
      }
      for (const [id, reason] of corpus.skipped) {
        if (!reported.has(id)) emit({ kind: 'note', message: `skipped ${id}: ${reason}` });
        reported.add(id);
      }
      const { gradNorm, clip } = await opt.update({
        step,
        lr,
        microBatches: micro,
        frozen: (name) => (frozenExtractor && name.startsWith('feature_extractor.')) || (encoderFrozen && !name.startsWith('ctc_proj.') && !TARGET_HEAD.test(name)),
      });
      state.step = step;
      audioTotal += audio;
      const seconds = (performance.now() - start) / 1000;
      const rate = audioTotal / seconds;
      emit({
        kind: 'step',
        step,
        steps: settings.steps,
        loss: lossSum / micro,
        accuracy: frames ? correct / frames : undefined,
        auxLoss: aux && frames ? auxSum / frames : undefined,
        lr,
        gradNorm,
        clip,
        audioSeconds: audio,
        rate,
        eta: ((settings.steps - step) * seconds) / (step - startStep),
        gpuBytes: gpu.pool.liveBytes,
      });
      try {
        if (dev.length && (step % settings.evalEvery === 0 || step === settings.steps)) await evaluate();
      } catch (e) {
        if (!hooks.signal?.aborted) throw e;
      }
      if (step % settings.saveEvery === 0 || step === settings.steps) {
        await save();
        lastSaved = step;
      }
    }
    if (state.step > lastSaved) await save();
    return {
      stage: settings.stage,
      step: state.step,
      steps: settings.steps,
      stopped,
      lastCheckpoint,
      best: state.best ?? undefined,
      dev: devScore,
      seconds: (performance.now() - start) / 1000,
      audioSeconds: audioTotal,
      skipped: [...corpus.skipped].map(([id, reason]) => ({ id, reason })),
    };
  } finally {
    await logged.catch(() => undefined);
    opt.release();
    model.release();
  }
}
