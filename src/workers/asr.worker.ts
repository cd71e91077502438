// The Transcribe page's worker: speech recognition on this thread's own device.
// - Live: reads the microphone's SharedArrayBuffer ring (src/audio/ring.ts, written by the AudioWorklet), resamples
//   to 16 kHz with the lab's band-limited resampler as the samples come, and feeds the streaming recognizer
//   (src/asr/recognizer.ts) one chunk (80/160/320 ms) at a time; every chunk's partial text, new final segments and
//   costs go back to the page. The main thread never handles samples.
// - Files: any model kind, any length (src/asr/transcribe.ts), with progress and cancel.
// - Long stream: a file looped (or generated audio) fed as fast as it goes through Mamba and the Causal
//   Transformer, compute time and carried-state size per chunk against stream time, until the end or out of memory.
// Models: shipped checkpoints (`models/index.json` on the lab's own server), training runs' checkpoints and uploads
// in OPFS (as the Train and Analyse pages keep them), and random initial values of a causal preset. Decoding: greedy,
// or the CTC prefix beam search with a language model (src/workers/lms.ts), live and for files alike.
import * as Comlink from 'comlink';
import { RingReader } from '../audio/ring.ts';
import { Recognizer, type RecognizerUpdate } from '../asr/recognizer.ts';
import { audioForModel, canStream, loadRecognizer, type Method } from '../asr/transcribe.ts';
import { transcribeSamples } from '../asr/transcribe.ts';
import type { TimedWord } from '../asr/greedy.ts';
import { LabError, TooLargeError } from '../gpu/errors.ts';
import { loadCheckpoint } from '../models/checkpoint.ts';
import { isCausal, type EncoderKind } from '../models/config.ts';
import { HubertModel } from '../models/hubert.ts';
import { presetByName } from '../models/presets.ts';
import { SAMPLE_RATE } from '../speech/audio.ts';
import { MANIFEST_FILE, parseManifest } from '../speech/manifest.ts';
import { Resampler } from '../speech/resample.ts';
import { textOf } from '../speech/store.ts';
import { workerGpu } from './gpu.ts';
import { checkpointBytes, keepUpload, readUpload, RUNS, shippedEvalSet, shippedIndex, UPLOADS, type SetScore } from './checkpoints.ts';
import { busy, cancelJob, job, type Progress } from './job.ts';
import { cannotStream, noCtcHead, refLabel, type CheckpointRef, type RandomRef } from './refs.ts';
import { OpfsStore, opfsFolders } from './opfs.ts';
import { decoderOptions, keepLm, lmChoices, type DecodeSettings, type LmChoice } from './lms.ts';

/** A model as the page names it. */
export type AsrModelRef = CheckpointRef | RandomRef;

export interface AsrModelChoice {
  ref: AsrModelRef;
  label: string;
  group: 'random' | 'run' | 'upload' | 'shipped';
  /** '<kind>-<size>' when known without reading the file. */
  model?: string;
  /** Known from the file's header or sidecar: false for a pre-trained checkpoint. */
  ctcHead?: boolean;
  /** A shipped model's greedy scores on the shipped sets (models/index.json). */
  scores?: Record<string, SetScore>;
}

export interface ModelList {
  choices: AsrModelChoice[];
  /** Shipped checkpoints found on the server (public/models/index.json). */
  shipped: number;
}

export interface LoadedInfo {
  label: string;
  kind: EncoderKind;
  model: string;
  /** True when the model can run live (a causal kind with a per-frame front). */
  streams: boolean;
  parameters: number;
}

export interface LiveSettings extends DecodeSettings {
  chunkMs: number;
  endpointMs?: number;
}

/** What each chunk of live audio sends to the page. */
/**
 * A live chunk's update. Its chunk.latencyMs is capture -> text for the chunk's last sample, including the time that
 * sample waited in the ring and the worker's queue before its push began (the audio captured after it by then).
 */
export interface LiveUpdate extends RecognizerUpdate {
  /** Audio read from the ring but not yet transcribed, plus what waits in the ring, in ms. */
  backlogMs: number;
  /** Samples the worklet had to drop because the worker fell behind. */
  dropped: number;
}

export interface FileResult {
  name: string;
  model: string;
  text: string;
  words: TimedWord[];
  seconds: number;
  computeSeconds: number;
  method: Method;
  input: { sampleRate: number; channels: number; seconds: number };
}

export interface LongStreamRequest {
  /** Presets compared (default mamba-tiny against causal-transformer-tiny), random initial values with a CTC head. */
  presets: string[];
  /** Stream time to run each model for. */
  seconds: number;
  chunkMs: number;
}

export interface StreamPoint {
  /** Stream time at the end of the chunk, s. */
  t: number;
  computeMs: number;
  stateBytes: number;
}

export interface LongStreamModel {
  preset: string;
  points: StreamPoint[];
  /** Where it ran out of memory (stream time) and the device's message. */
  oom?: { t: number; message: string };
}


/** Random initial values offered for streaming (no words: they show the mechanics and the costs). */
const RANDOM_PRESETS = ['mamba-tiny', 'causal-transformer-tiny', 'mamba-small', 'causal-transformer-small'];

/** Shipped models that can transcribe: an index entry whose heads are listed without "ctc" is left out. */
async function shipped(): Promise<AsrModelChoice[]> {
  return (await shippedIndex())
    .filter((m) => !m.heads || m.heads.includes('ctc'))
    .map((m) => ({ ref: { shipped: m.file }, label: `shipped:${m.file}`, group: 'shipped' as const, model: m.model, scores: m.scores }));
}

function sidecar(text: string | undefined): { model?: string; ctcHead?: boolean } {
  if (!text) return {};
  try {
    const j = JSON.parse(text) as { model?: string; ctcHead?: boolean };
    return { model: j.model, ctcHead: j.ctcHead };
  } catch {
    return {};
  }
}

// The model in use, kept between jobs (loading a checkpoint and compiling its pipelines is the slow part).
let loaded: { label: string; model: HubertModel; info: LoadedInfo } | undefined;
// A load in flight (a preload when the page chose the model, or a job's), which a job for the same model awaits.
let loading: { label: string; promise: Promise<{ model: HubertModel; info: LoadedInfo }> } | undefined;
let loads = 0;

function releaseLoaded(): void {
  loaded?.model.release();
  loaded = undefined;
}

function infoOf(label: string, model: HubertModel): LoadedInfo {
  const c = model.config;
  return { label, kind: c.kind, model: `${c.kind}-${c.size}`, streams: canStream(model), parameters: model.params.count };
}

function randomModel(gpu: Awaited<ReturnType<typeof workerGpu>>, name: string, seed = 1): HubertModel {
  let config;
  try {
    config = presetByName(name);
  } catch (e) {
    throw new LabError('bad-input', (e as Error).message);
  }
  return HubertModel.create(gpu, config, seed, { heads: { ctcHead: true } });
}

/** The model for ref: the one kept, the load already in flight for it (a preload), or a fresh load. */
async function useModel(ref: AsrModelRef): Promise<{ model: HubertModel; info: LoadedInfo }> {
  const label = refLabel(ref);
  if (loaded && loaded.label === label && !loaded.model.gpu.isLost) return loaded;
  if (loading?.label === label) return loading.promise;
  const promise = loadModel(ref, label).finally(() => {
    if (loading?.promise === promise) loading = undefined;
  });
  loading = { label, promise };
  return promise;
}

async function loadModel(ref: AsrModelRef, label: string): Promise<{ model: HubertModel; info: LoadedInfo }> {
  const mine = ++loads;
  // Read and check the file on the CPU before anything reaches the GPU: a checkpoint without a CTC head, or a
  // damaged one, is refused with the reason.
  let checkpoint;
  if (!('random' in ref)) {
    const bytes = await checkpointBytes(ref);
    try {
      checkpoint = loadCheckpoint(bytes);
    } catch (e) {
      throw new LabError('bad-input', `${label} is not a checkpoint this lab can use: ${(e as Error).message.replace(/^(safetensors|checkpoint): /, '')}`);
    }
    if (!checkpoint.heads.ctcHead) throw new LabError('bad-input', noCtcHead(label));
  }
  releaseLoaded();
  const gpu = await workerGpu();
  const model = 'random' in ref ? randomModel(gpu, ref.random, ref.seed) : loadRecognizer(gpu, checkpoint!).model;
  const info = infoOf(label, model);
  if (info.streams) await warmUp(model);
  if (mine !== loads) {
    // Another model was asked for while this one compiled: that one is kept, this one goes.
    model.release();
    throw new LabError('bad-input', `${label}: another model was chosen while it loaded`);
  }
  loaded = { label, model, info };
  return loaded;
}

/** Compile the streaming pipelines before the microphone opens: a second of silence through a throwaway stream. */
async function warmUp(model: HubertModel): Promise<void> {
  const r = new Recognizer(model, { endpoint: false });
  try {
    await r.push(new Float32Array(SAMPLE_RATE));
    await r.finish();
  } finally {
    r.release();
  }
}

function liveRefusal(info: LoadedInfo): string {
  return cannotStream(info.label, info.kind);
}

// Live transcription: set by stopLive(); the loop drains what is left, finishes and returns normally.
let stopping = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function concat(a: Float32Array, b: Float32Array): Float32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function isOutOfMemory(e: unknown): boolean {
  return e instanceof TooLargeError || (e instanceof LabError && e.code === 'too-large') || (e instanceof Error && /out of memory|OutOfMemory/i.test(e.message));
}

/** A long, deterministic signal when no file can be had: noise bursts shaped like syllables. */
function generatedAudio(seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE));
  let s = 12345;
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const env = 0.5 + 0.5 * Math.sin((2 * Math.PI * i) / 4000);
    out[i] = 0.1 * env * ((s / 2 ** 32) * 2 - 1) + 0.05 * env * Math.sin((2 * Math.PI * 180 * i) / SAMPLE_RATE);
  }
  return out;
}

/** The first utterances of the shipped eval set, joined: the loop a long stream plays. */
async function loopSource(): Promise<{ samples: Float32Array; label: string }> {
  try {
    const store = shippedEvalSet();
    const { entries } = parseManifest(textOf(await store.read(MANIFEST_FILE)) ?? '');
    const parts: Float32Array[] = [];
    for (const e of entries.slice(0, 4)) {
      const bytes = await store.read(e.audio);
      if (bytes) parts.push(audioForModel(bytes).samples);
    }
    if (parts.length) return { samples: parts.reduce(concat), label: `${parts.length} eval utterances, looped` };
  } catch {
    /* fall through to generated audio */
  }
  return { samples: generatedAudio(20), label: 'generated audio, looped' };
}

const api = {
  /** Every model the page can choose, shipped ones first. */
  async models(): Promise<ModelList> {
    const ship = await shipped();
    const out: AsrModelChoice[] = [...ship];
    for (const run of await opfsFolders(RUNS)) {
      const store = new OpfsStore(`${RUNS}/${run}`);
      // The run's record (train.worker.ts's run.json): its model, and its stage (pre-training has no CTC head).
      let meta: { model?: string; stage?: string } = {};
      try {
        meta = JSON.parse(textOf(await store.read('run.json')) ?? '{}') as typeof meta;
      } catch {
        /* an unreadable record: the checkpoint itself says when it is loaded */
      }
      for (const name of await store.list()) {
        if (name.endsWith('.safetensors') && name !== 'targets.safetensors') {
          out.push({ ref: { run, name }, label: `${run}/${name}`, group: 'run', model: meta.model, ctcHead: meta.stage ? meta.stage !== 'pretrain' : undefined });
        }
      }
    }
    const uploads = new OpfsStore(UPLOADS);
    for (const name of await uploads.list()) {
      if (name.endsWith('.safetensors')) out.push({ ref: { upload: name }, label: `upload:${name}`, group: 'upload', ...sidecar(textOf(await uploads.read(`${name}.json`))) });
    }
    for (const p of RANDOM_PRESETS) out.push({ ref: { random: p }, label: `random:${p}`, group: 'random', model: p, ctcHead: true });
    return { choices: out, shipped: ship.length };
  },

  /** Every language model the page can choose (shipped, then the user's). */
  lms: (): Promise<LmChoice[]> => lmChoices(),

  /** A text file (an LM is built from it) or an lm.json, checked and kept in lms/. */
  uploadLm: (file: File): Promise<LmChoice> => keepLm(file),

  /** Check a .safetensors and keep it in uploads/ (the Train and Analyse pages list it too). */
  async upload(file: File): Promise<AsrModelChoice> {
    const { bytes, checkpoint: ck } = await readUpload(file);
    const model = `${ck.config.kind}-${ck.config.size}`;
    const name = await keepUpload(file.name, bytes, { model, pretrainHead: !!ck.heads.pretrainHead, ctcHead: !!ck.heads.ctcHead });
    return { ref: { upload: name }, label: `upload:${name}`, group: 'upload', model, ctcHead: !!ck.heads.ctcHead };
  },

  /** Load a model (kept for the next job); refused with the reason when it cannot transcribe. */
  load: (ref: AsrModelRef) => job(async () => (await useModel(ref)).info),

  /**
   * Load and compile a model ahead, when the page chooses it and nothing runs, so that Start finds it ready; a
   * problem is kept for load() to report. Not a job: it cancels nothing.
   */
  async prepare(ref: AsrModelRef): Promise<void> {
    if (busy()) return;
    await useModel(ref).catch(() => undefined);
  },

  /**
   * Live transcription from the microphone's ring until stopLive(): each chunk's update goes to onUpdate. Returns
   * the last update (after the rest of the audio and finish()).
   */
  live: (ref: AsrModelRef, ring: SharedArrayBuffer, settings: LiveSettings, onUpdate: (u: LiveUpdate) => void) =>
    job(async ({ signal }): Promise<LiveUpdate | undefined> => {
      stopping = false;
      const { model, info } = await useModel(ref);
      if (!info.streams) throw new LabError('bad-input', liveRefusal(info));
      const reader = new RingReader(ring);
      const rate = reader.sampleRate;
      const resampler = rate === SAMPLE_RATE ? undefined : new Resampler(rate, SAMPLE_RATE);
      const chunk = Math.max(1, Math.round((settings.chunkMs * SAMPLE_RATE) / 1000));
      const recognizer = new Recognizer(model, { ...(await decoderOptions(settings)), endpoint: settings.endpointMs ? { silenceMs: settings.endpointMs } : undefined });
      let pending: Float32Array = new Float32Array(0);
      let last: LiveUpdate | undefined;
      const backlog = () => ((pending.length / SAMPLE_RATE) * 1000) + (reader.available() / rate) * 1000;
      // queuedMs: how long the pushed audio's last sample had waited when its push began.
      const send = (u: RecognizerUpdate, queuedMs = 0) => {
        last = { ...u, chunk: { ...u.chunk, latencyMs: u.chunk.latencyMs + queuedMs }, backlogMs: backlog(), dropped: reader.dropped };
        onUpdate(last);
      };
      // Behind (after a slow chunk, or a busy device), whole chunks go to the model together, up to about a second:
      // fewer round trips catch up; the stats then describe that larger push.
      const catchUp = Math.max(1, Math.floor(SAMPLE_RATE / chunk)) * chunk;
      try {
        for (;;) {
          if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
          const ended = stopping || reader.closed;
          const raw = reader.read();
          if (raw.length) pending = concat(pending, resampler ? resampler.push(raw) : raw);
          if (ended) {
            if (resampler) pending = concat(pending, resampler.flush());
            for (let at = 0; at < pending.length; at += catchUp) send(await recognizer.push(pending.subarray(at, at + catchUp)));
            pending = new Float32Array(0);
            send(await recognizer.finish());
            return last;
          }
          if (pending.length < chunk) {
            // Wait for about a quarter of a chunk of audio.
            await sleep(Math.max(5, settings.chunkMs / 4));
            continue;
          }
          const take = pending.length >= 2 * chunk ? Math.min(catchUp, pending.length - (pending.length % chunk)) : chunk;
          const piece = pending.subarray(0, take);
          pending = pending.slice(take);
          const queuedMs = backlog(); // the audio captured after the piece's last sample
          send(await recognizer.push(piece), queuedMs);
        }
      } catch (e) {
        // A read back that fails because the device went away says so in its own words: name the loss instead.
        // (The device's lost promise may settle a little after the failed read back.)
        if (!signal.aborted) {
          await Promise.race([model.gpu.device.lost, sleep(1000)]);
          await sleep(0);
          model.gpu.assertAlive();
        }
        throw e;
      } finally {
        try {
          recognizer.release();
        } catch {
          /* a lost device's buffers are gone already */
        }
      }
    }),

  /** Stop live transcription: the audio already captured is transcribed, then the final segment is closed. */
  stopLive: () => {
    stopping = true;
  },

  /** Transcribe a WAV/FLAC/SPHERE file with any model (streaming for causal ones, whole or windows otherwise). */
  transcribe: (ref: AsrModelRef, file: File, chunkMs: number, decode: DecodeSettings, onProgress: Progress) =>
    job(async (hooks): Promise<FileResult> => {
      // The file first: a damaged one is refused, naming it, before a model is loaded.
      let audio;
      try {
        audio = audioForModel(new Uint8Array(await file.arrayBuffer()));
      } catch (e) {
        throw new LabError('bad-input', `${file.name}: ${(e as Error)?.message ?? e}`);
      }
      const { samples, input } = audio;
      const { model, info } = await useModel(ref);
      const t = await transcribeSamples(model, samples, {
        chunkSamples: Math.round((chunkMs * SAMPLE_RATE) / 1000),
        decode: await decoderOptions(decode),
        signal: hooks.signal,
        onProgress: (done, total, label) => hooks.onProgress?.(Math.round(done / 16), Math.round(total / 16), label),
      });
      return { name: file.name, model: info.model, text: t.text, words: t.words, seconds: t.seconds, computeSeconds: t.computeSeconds, method: t.method, input };
    }, onProgress),

  /**
   * The long-stream run: each preset (random initial values with a CTC head) streams a looped file as fast as it can;
   * every chunk's compute time and carried-state size go back in batches. A model that runs out of memory stops
   * there and the next one starts.
   */
  longStream: (req: LongStreamRequest, onPoints: (preset: string, points: StreamPoint[], oom?: { t: number; message: string }) => void, onProgress: Progress) =>
    job(async (hooks): Promise<{ source: string; models: LongStreamModel[] }> => {
      releaseLoaded();
      const gpu = await workerGpu();
      const { samples: loop, label: source } = await loopSource();
      const chunk = Math.max(1, Math.round((req.chunkMs * SAMPLE_RATE) / 1000));
      const chunks = Math.max(1, Math.ceil((req.seconds * SAMPLE_RATE) / chunk));
      const piece = new Float32Array(chunk);
      const out: LongStreamModel[] = [];
      for (const [m, preset] of req.presets.entries()) {
        const config = presetByName(preset);
        if (!isCausal(config.kind)) throw new LabError('bad-input', `${preset} cannot stream: the long stream needs mamba or causal-transformer`);
        const model = randomModel(gpu, preset);
        const recognizer = new Recognizer(model, {});
        const result: LongStreamModel = { preset, points: [] };
        out.push(result);
        let batch: StreamPoint[] = [];
        let lastSent = performance.now();
        let pos = 0;
        try {
          for (let k = 0; k < chunks; k++) {
            if (hooks.signal.aborted) throw new DOMException('cancelled', 'AbortError');
            for (let i = 0; i < chunk; i++) {
              piece[i] = loop[pos];
              pos = pos + 1 === loop.length ? 0 : pos + 1;
            }
            gpu.device.pushErrorScope('out-of-memory');
            let u: RecognizerUpdate | undefined, error: unknown;
            try {
              u = await recognizer.push(piece);
            } catch (e) {
              error = e;
            }
            const scoped = await gpu.device.popErrorScope();
            const t = ((k + 1) * chunk) / SAMPLE_RATE;
            if (scoped || (error !== undefined && isOutOfMemory(error))) {
              result.oom = { t, message: scoped ? scoped.message : (error as Error).message };
              break;
            }
            if (error !== undefined) throw error;
            const p = { t, computeMs: u!.chunk.computeMs, stateBytes: u!.chunk.stateBytes };
            result.points.push(p);
            batch.push(p);
            if (performance.now() - lastSent > 250) {
              onPoints(preset, batch);
              batch = [];
              lastSent = performance.now();
              hooks.onProgress?.(m * chunks + k + 1, req.presets.length * chunks, `${preset}: ${t.toFixed(0)} s of stream`);
            }
          }
        } finally {
          onPoints(preset, batch, result.oom);
          recognizer.release();
          model.release();
          gpu.pool.trim();
        }
      }
      return { source, models: out };
    }, onProgress),

  cancel: cancelJob,
};

export type AsrApi = typeof api;

// For the end-to-end test of a lost device (Playwright evaluates it in this worker): destroy the device, as a driver
// reset or an unplugged GPU would.
(self as unknown as { __labLoseDevice?: () => Promise<void> }).__labLoseDevice = async () => {
  if (loaded) loaded.model.gpu.device.destroy();
};

Comlink.expose(api);
