import * as Comlink from 'comlink';
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { keptStorage } from './kept.ts';
import { audioInputs, MicError, openMicrophone, type AudioInput, type Microphone } from '../../audio/mic.ts';
import { beamWithLm } from '../../asr/ctc-decode.ts';
import type { ChunkStats, Segment, TimedWord } from '../../asr/recognizer.ts';
import type { AsrApi, AsrModelChoice, FileResult, LiveUpdate, LoadedInfo, StreamPoint } from '../../workers/asr.worker.ts';
import type { DecodeSettings, LmChoice } from '../../workers/lms.ts';
import type { Failure } from '../../workers/job.ts';
import { cannotStream, noCtcHead, refLabel } from '../../workers/refs.ts';

// The asr worker, created on first use (as src/app/workers.ts does for the others).
let worker: Comlink.Remote<AsrApi> | undefined;
export function asrApi(): Comlink.Remote<AsrApi> {
  worker ??= Comlink.wrap<AsrApi>(new Worker(new URL('../../workers/asr.worker.ts', import.meta.url), { type: 'module', name: 'asr' }));
  return worker;
}

export { refLabel };

export const CHUNK_MS = [80, 160, 320] as const;
export type ChunkMs = (typeof CHUNK_MS)[number];

export type LiveStatus = 'idle' | 'starting' | 'live' | 'stopping';

/** A failure the page shows on one line; `restart` offers to start again (the transcript is kept). */
export interface Problem extends Failure {
  restart?: boolean;
}

export interface LongSeries {
  preset: string;
  points: StreamPoint[];
  oom?: { t: number; message: string };
}

interface TranscribeState {
  loaded: boolean;
  /** navigator.gpu is missing on this page. */
  noWebGPU: boolean;
  models: AsrModelChoice[];
  shippedCount: number;
  model?: string;
  info?: LoadedInfo;
  inputs: AudioInput[];
  deviceId: string;
  chunkMs: ChunkMs;
  beam: number;
  endpointMs: number;
  /** Language models offered, and the chosen one's label ('' for none) with its weight. */
  lms: LmChoice[];
  lm: string;
  lmWeight: number;
  /** Spell only the chosen LM's words. */
  lexicon: boolean;

  status: LiveStatus;
  micLabel?: string;
  /** The AudioContext's rate (the ring's samples). */
  micRate: number;
  finals: Segment[];
  partial: string;
  partialWords: TimedWord[];
  chunk?: ChunkStats;
  chunks: number;
  /** Every push of this live run: compute time and carried state against stream time (for the chart). */
  livePoints: StreamPoint[];
  backlogMs: number;
  dropped: number;

  file?: { name: string; progress?: { done: number; total: number; label: string } };
  fileResult?: FileResult;

  long: { running: boolean; seconds: number; chunkMs: ChunkMs; size: 'tiny' | 'small'; progress?: { done: number; total: number; label: string }; series: LongSeries[]; source?: string };

  error?: Problem;
  notice?: string;

  load(): Promise<void>;
  refreshInputs(): Promise<void>;
  setSettings(p: Partial<Pick<TranscribeState, 'deviceId' | 'chunkMs' | 'beam' | 'endpointMs' | 'lm' | 'lmWeight' | 'lexicon'>>): void;
  uploadLm(file: File): Promise<void>;
  choose(label: string): Promise<void>;
  /** Load and compile the chosen model ahead (in the asr worker), when nothing runs. */
  prepare(): void;
  upload(file: File): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  clearTranscript(): void;
  transcribeFile(file: File): Promise<void>;
  cancelFile(): void;
  setLong(p: Partial<Pick<TranscribeState['long'], 'seconds' | 'chunkMs' | 'size'>>): void;
  runLong(): Promise<void>;
  cancelLong(): void;
  dismiss(): void;
}

// The open microphone (not state: nothing to draw from it but its level, read by the meter from the ring).
let mic: Microphone | undefined;
export const currentRing = (): SharedArrayBuffer | undefined => mic?.ring;

const failure = (e: unknown, what: string): Problem => ({ code: 'internal', message: `${what}: ${(e as Error)?.message ?? String(e)}` });

/** One line for a worker failure; a lost device offers a restart. */
function problemOf(f: Failure): Problem {
  if (f.code === 'device-lost') return { ...f, message: 'The GPU device was lost mid-stream; the transcript so far is kept. Press Restart to go on with a fresh device.', restart: true };
  if (f.code === 'no-webgpu') return { ...f, message: 'This browser has no WebGPU: open the lab in Chrome or Edge 113+ (on Linux with --enable-unsafe-webgpu) to transcribe.' };
  if (f.code === 'adapter-refused') return { ...f, message: 'No WebGPU adapter was granted: turn on hardware acceleration (chrome://settings/system) and reload.' };
  return f;
}

const DEFAULT_MODEL = 'random:mamba-tiny';

/** How the chosen settings decode, in words (the worker widens a greedy beam to LM_BEAM under an LM). */
export function decodingLabel(s: Pick<TranscribeState, 'beam' | 'lm' | 'lmWeight' | 'lexicon' | 'lms'>): string {
  const lm = s.lms.find((l) => l.label === s.lm);
  const beam = beamWithLm(s.beam, !!lm);
  return lm ? `beam ${beam} with ${lm.label} at weight ${s.lmWeight}${s.lexicon ? ', its words only' : ''}` : beam > 1 ? `beam ${beam}` : 'greedy';
}

/** The chosen beam and language model, as the worker takes them. */
function decodeSettings(s: Pick<TranscribeState, 'beam' | 'lm' | 'lmWeight' | 'lexicon' | 'lms'>): DecodeSettings {
  const lm = s.lms.find((l) => l.label === s.lm);
  return { beam: s.beam, lm: lm?.ref, lmWeight: s.lmWeight, lexicon: s.lexicon };
}

export const useTranscribe = create<TranscribeState>()(
  persist(
    (set, get) => ({
      loaded: false,
      noWebGPU: false,
      models: [],
      shippedCount: 0,
      inputs: [],
      deviceId: '',
      chunkMs: 160,
      beam: 0,
      endpointMs: 600,
      lms: [],
      lm: '',
      lmWeight: 0.5,
      lexicon: false,
      status: 'idle',
      micRate: 48000,
      finals: [],
      partial: '',
      partialWords: [],
      chunks: 0,
      livePoints: [],
      backlogMs: 0,
      dropped: 0,
      long: { running: false, seconds: 120, chunkMs: 160, size: 'tiny', series: [] },

      async load() {
        // No navigator.gpu, or one that grants no adapter (WebGPU switched off): say so before anything is tried.
        const noWebGPU = !navigator.gpu || !(await navigator.gpu.requestAdapter().catch(() => null));
        set({ noWebGPU });
        try {
          const list = await asrApi().models();
          const model = get().model;
          // The remembered choice while it is still offered, else the first shipped model (index.json lists the
          // streaming one first), else random values.
          const fallback = list.choices.find((c) => c.group === 'shipped')?.label ?? DEFAULT_MODEL;
          set({ models: list.choices, shippedCount: list.shipped, model: model && list.choices.some((c) => c.label === model) ? model : fallback });
          const lms = await asrApi().lms();
          set({ lms, lm: lms.some((l) => l.label === get().lm) ? get().lm : '' });
          get().prepare();
        } catch (e) {
          set({ error: failure(e, 'The recognition worker did not start') });
        } finally {
          set({ loaded: true });
        }
        void get().refreshInputs();
      },

      async refreshInputs() {
        try {
          const inputs = await audioInputs();
          const id = get().deviceId;
          set({ inputs, deviceId: inputs.some((i) => i.deviceId === id) ? id : '' });
        } catch {
          set({ inputs: [] });
        }
      },

      setSettings: (p) => set(p),

      async uploadLm(file) {
        set({ error: undefined, notice: undefined });
        try {
          const c = await asrApi().uploadLm(file);
          set({ lms: await asrApi().lms(), lm: c.label, notice: `${file.name}: kept as the language model ${c.label}.` });
        } catch (e) {
          set({ error: { code: 'bad-input', message: String((e as Error)?.message ?? e).replace(/^Error: /, '') } });
        }
      },

      async choose(label) {
        set({ model: label, info: undefined, error: undefined, notice: undefined });
        const c = get().models.find((m) => m.label === label);
        if (!c) return;
        if (c.ctcHead === false) {
          set({ error: { code: 'bad-input', message: noCtcHead(label) } });
        } else get().prepare();
      },

      prepare() {
        // Load and compile the chosen model while the user reads the page, so that Start is quick.
        const s = get();
        const c = s.models.find((m) => m.label === s.model);
        if (c && c.ctcHead !== false && !s.noWebGPU && s.status === 'idle') void asrApi().prepare(c.ref);
      },

      async upload(file) {
        set({ error: undefined, notice: undefined });
        try {
          const c = await asrApi().upload(file);
          const list = await asrApi().models();
          set({ models: list.choices, shippedCount: list.shipped });
          await get().choose(c.label);
          if (c.ctcHead) set({ notice: `${file.name}: ${c.model}, kept as ${c.label}.` });
        } catch (e) {
          set({ error: { code: 'bad-input', message: String((e as Error)?.message ?? e).replace(/^Error: /, '') } });
        }
      },

      async start() {
        const s = get();
        const choice = s.models.find((m) => m.label === s.model);
        if (s.status !== 'idle' || !choice) return;
        if (s.noWebGPU) {
          set({ error: problemOf({ code: 'no-webgpu', message: '' }) });
          return;
        }
        set({ status: 'starting', error: undefined, notice: undefined, chunk: undefined, chunks: 0, livePoints: [], backlogMs: 0, dropped: 0 });
        // Load first: a model that cannot stream is refused before the microphone is asked for.
        const loadedModel = await asrApi().load(choice.ref);
        if (!loadedModel.ok) {
          set({ status: 'idle', error: problemOf(loadedModel.error) });
          return;
        }
        const info = loadedModel.value;
        set({ info });
        if (!info.streams) {
          set({ status: 'idle', error: { code: 'bad-input', message: cannotStream(info.label, info.kind) } });
          return;
        }
        try {
          mic = await openMicrophone(get().deviceId || undefined, (e) => {
            set({ error: { code: 'bad-input', message: e.message } });
            void get().stop();
          });
        } catch (e) {
          set({ status: 'idle', error: { code: 'bad-input', message: e instanceof MicError ? e.message : String((e as Error)?.message ?? e) } });
          return;
        }
        set({ status: 'live', micLabel: mic.label, micRate: mic.sampleRate });
        void get().refreshInputs(); // labels appear once access is granted
        // Times of this run continue after the segments kept from the last one.
        const offset = get().finals.length ? get().finals[get().finals.length - 1].end + 1 : 0;
        const shift = <T extends { start: number; end: number }>(x: T): T => ({ ...x, start: x.start + offset, end: x.end + offset });
        const onUpdate = (u: LiveUpdate) =>
          set((st) => ({
            partial: u.partial,
            partialWords: u.partialWords.map(shift),
            finals: u.finals.length ? [...st.finals, ...u.finals.map((f) => ({ ...shift(f), words: f.words.map(shift) }))] : st.finals,
            chunk: u.chunk.audioSeconds > 0 ? u.chunk : st.chunk,
            chunks: st.chunks + 1,
            livePoints: u.chunk.audioSeconds > 0 ? [...st.livePoints, { t: u.chunk.streamSeconds, computeMs: u.chunk.computeMs, stateBytes: u.chunk.stateBytes }] : st.livePoints,
            backlogMs: u.backlogMs,
            dropped: u.dropped,
          }));
        try {
          const r = await asrApi().live(choice.ref, mic.ring, { chunkMs: s.chunkMs, endpointMs: s.endpointMs, ...decodeSettings(s) }, Comlink.proxy(onUpdate));
          if (!r.ok && r.error.code !== 'cancelled') set({ error: problemOf(r.error) });
        } catch (e) {
          set({ error: failure(e, 'The recognition worker failed') });
        } finally {
          await mic?.stop();
          mic = undefined;
          // After a failure the open segment never became final: keep its words as they were last shown.
          set((st) => {
            const w = st.partialWords;
            const kept = st.partial.trim() ? [{ text: st.partial, words: w, start: w[0]?.start ?? 0, end: w[w.length - 1]?.end ?? 0 }] : [];
            return { status: 'idle', finals: [...st.finals, ...kept], partial: '', partialWords: [] };
          });
        }
      },

      async stop() {
        if (get().status !== 'live') return;
        set({ status: 'stopping' });
        // The worklet closes the ring; the worker transcribes what is left and returns.
        await mic?.stop();
        await asrApi().stopLive();
      },

      clearTranscript: () => set({ finals: [], partial: '', partialWords: [], chunk: undefined, chunks: 0, livePoints: [] }),

      async transcribeFile(file) {
        const s = get();
        const choice = s.models.find((m) => m.label === s.model);
        if (!choice || s.file || s.status !== 'idle' || s.long.running) return;
        if (s.noWebGPU) {
          set({ error: problemOf({ code: 'no-webgpu', message: '' }) });
          return;
        }
        // The last file's transcript stays until this one's replaces it: a file that fails loses nothing.
        set({ file: { name: file.name }, error: undefined, notice: undefined });
        try {
          const r = await asrApi().transcribe(
            choice.ref,
            file,
            s.chunkMs,
            decodeSettings(s),
            Comlink.proxy((done: number, total: number, label: string) => set({ file: { name: file.name, progress: { done, total, label } } })),
          );
          if (r.ok) set({ fileResult: r.value, notice: `${file.name}: ${r.value.seconds.toFixed(1)} s of audio in ${r.value.computeSeconds.toFixed(2)} s (${r.value.method.mode}, ${decodingLabel(s)}).` });
          else if (r.error.code === 'cancelled') set({ notice: `${file.name}: cancelled.` });
          else set({ error: problemOf(r.error) });
        } catch (e) {
          set({ error: failure(e, 'The recognition worker failed') });
        } finally {
          set({ file: undefined });
        }
      },

      cancelFile: () => void asrApi().cancel(),

      setLong: (p) => set({ long: { ...get().long, ...p } }),

      async runLong() {
        const s = get();
        if (s.long.running || s.status !== 'idle' || s.file) return;
        if (s.noWebGPU) {
          set({ error: problemOf({ code: 'no-webgpu', message: '' }) });
          return;
        }
        const presets = [`mamba-${s.long.size}`, `causal-transformer-${s.long.size}`];
        set({ long: { ...s.long, running: true, progress: undefined, series: presets.map((preset) => ({ preset, points: [] })), source: undefined }, error: undefined, notice: undefined });
        const onPoints = (preset: string, points: StreamPoint[], oom?: { t: number; message: string }) =>
          set((st) => ({ long: { ...st.long, series: st.long.series.map((x) => (x.preset === preset ? { ...x, points: [...x.points, ...points], oom: oom ?? x.oom } : x)) } }));
        try {
          const r = await asrApi().longStream(
            { presets, seconds: s.long.seconds, chunkMs: s.long.chunkMs },
            Comlink.proxy(onPoints),
            Comlink.proxy((done: number, total: number, label: string) => set((st) => ({ long: { ...st.long, progress: { done, total, label } } }))),
          );
          if (r.ok) {
            set((st) => ({ long: { ...st.long, source: r.value.source } }));
            set({ notice: `Long stream done: ${r.value.models.map((m) => `${m.preset} ${m.oom ? `ran out of memory at ${m.oom.t.toFixed(0)} s` : `${m.points.length} chunks`}`).join('; ')}.` });
          } else if (r.error.code === 'cancelled') set({ notice: 'Long stream cancelled.' });
          else set({ error: problemOf(r.error) });
        } catch (e) {
          set({ error: failure(e, 'The recognition worker failed') });
        } finally {
          set((st) => ({ long: { ...st.long, running: false, progress: undefined } }));
        }
      },

      cancelLong: () => void asrApi().cancel(),
      dismiss: () => set({ error: undefined, notice: undefined }),
    }),
    {
      name: 'lab.transcribe', storage: keptStorage(),
      // The settings and what was transcribed survive a reload (nothing transcribed is lost).
      partialize: (s) => ({ model: s.model, deviceId: s.deviceId, chunkMs: s.chunkMs, beam: s.beam, endpointMs: s.endpointMs, lm: s.lm, lmWeight: s.lmWeight, lexicon: s.lexicon, finals: s.finals, fileResult: s.fileResult, long: { ...s.long, running: false, progress: undefined, series: [] } }),
    },
  ),
);
