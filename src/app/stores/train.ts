import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { keptStorage } from './kept.ts';
import type { EncoderKind, Size } from '../../models/config.ts';
import type { TrainEvent } from '../../train/run.ts';
import { defaultSettings, type TrainSettings } from '../../train/settings.ts';
import type { Failure, Outcome } from '../../workers/job.ts';
import type {
  CheckpointRef,
  CorpusInfo,
  ImportRequestFormat,
  PresetInfo,
  RunInfo,
  RunResult,
  UploadInfo,
} from '../../workers/train.worker.ts';
import { download } from '../export.ts';
import { proxy, trainApi } from '../workers.ts';

/** The four ways to train: HuBERT pre-training iterations 1 and 2, CTC fine-tuning, CTC from scratch. */
export const CHOICES = {
  pretrain1: 'Pre-training, iteration 1 (MFCC targets)',
  pretrain2: 'Pre-training, iteration 2 (targets from an iteration-1 model)',
  finetune: 'CTC fine-tuning of a pre-trained model',
  ctc: 'CTC from scratch',
} as const;
export type Choice = keyof typeof CHOICES;

export function settingsFor(choice: Choice): TrainSettings {
  const s = defaultSettings(choice === 'pretrain1' || choice === 'pretrain2' ? 'pretrain' : choice);
  return choice === 'pretrain2' ? { ...s, iteration: 2 } : s;
}

/** Whether a choice starts from a checkpoint (and takes its model from it). */
export const needsCheckpoint = (c: Choice) => c === 'finetune' || c === 'pretrain2';

export interface TrainForm {
  corpus: string;
  kind: EncoderKind;
  size: Size;
  choice: Choice;
  settings: TrainSettings;
  from?: CheckpointRef;
}

type Busy = 'train' | 'import' | 'upload';

interface TrainState {
  loaded: boolean;
  presets: PresetInfo[];
  corpora: CorpusInfo[];
  runs: RunInfo[];
  uploads: UploadInfo[];
  form: TrainForm;
  /** The run whose curves show, and its events (replayed from its log, then live). */
  selected?: string;
  events: TrainEvent[];
  busy?: Busy;
  /** The run being trained now. */
  active?: string;
  stopping?: 'pause' | 'cancel';
  progress?: { done: number; total: number; label: string };
  /** The last failure; `run` when a run can be resumed from it (a lost device or a full disk, say; not a refusal). */
  error?: Failure & { run?: string };
  notice?: string;
  load(): Promise<void>;
  refresh(): Promise<void>;
  setForm(p: Partial<TrainForm>): void;
  setChoice(c: Choice): void;
  setSetting<K extends keyof TrainSettings>(k: K, v: TrainSettings[K]): void;
  select(run: string | undefined): Promise<void>;
  start(): Promise<void>;
  resume(run: string): Promise<void>;
  pause(): void;
  cancel(): void;
  importFolder(name: string, format: ImportRequestFormat, files: { path: string; file: File }[]): Promise<void>;
  upload(file: File): Promise<void>;
  resumeUpload(upload: string): Promise<void>;
  download(run: string, name: string): Promise<void>;
  removeRun(run: string): Promise<void>;
  removeCorpus(id: string): Promise<void>;
  dismiss(): void;
}

const failure = (e: unknown, what: string): Failure => ({ code: 'internal', message: `${what}: ${(e as Error)?.message ?? String(e)}` });

export const useTrain = create<TrainState>()(
  persist(
    (set, get) => {
      const onProgress = proxy((done: number, total: number, label: string) => set({ progress: { done, total, label } }));
      const onEvent = proxy((e: TrainEvent, run: string) => {
        const s = get();
        if (s.selected !== run) set({ selected: run, active: run, events: [e] });
        else set({ active: run, events: [...s.events, e] });
        if (e.kind === 'checkpoint' || s.selected !== run) void get().refresh();
      });

      /** Run a training job (start or resume), then list runs again. */
      async function training(run: string | undefined, f: () => Promise<Outcome<RunResult>>) {
        if (get().busy) return;
        set({ busy: 'train', error: undefined, notice: undefined, progress: undefined, stopping: undefined });
        // A resumed run shows its logged curves first, then the new updates.
        if (run) await get().select(run);
        set({ active: run });
        try {
          const r = await f();
          const stopping = get().stopping;
          if (r.ok) {
            const s = r.value.summary;
            set({
              notice: s.stopped
                ? `Paused at update ${s.step} of ${s.steps}; ${s.lastCheckpoint ?? 'no checkpoint'} saved. Resume continues exactly from there.`
                : `Done: ${s.step} updates, ${s.audioSeconds.toFixed(0)} s of audio in ${s.seconds.toFixed(0)} s.`,
            });
          } else if (r.error.code === 'cancelled') {
            set({ notice: stopping === 'pause' ? 'Paused before the first update: there was nothing to save.' : 'Cancelled: no further checkpoint was saved.' });
          } else set({ error: { ...r.error, run: r.error.code === 'bad-input' ? undefined : get().active } });
        } catch (e) {
          set({ error: { ...failure(e, 'The training worker failed'), run: get().active } });
        } finally {
          set({ busy: undefined, progress: undefined, stopping: undefined, active: undefined });
          await get().refresh();
        }
      }

      return {
        loaded: false,
        presets: [],
        corpora: [],
        runs: [],
        uploads: [],
        form: { corpus: 'eval', kind: 'mamba', size: 'tiny', choice: 'pretrain1', settings: settingsFor('pretrain1') },
        events: [],

        async load() {
          try {
            set({ presets: await trainApi().presets() });
            await get().refresh();
            const { runs, selected } = get();
            // Show the last run seen (or the newest): its curves come back from its log.
            const show = runs.find((r) => r.name === selected) ?? runs[0];
            await get().select(show?.name);
          } catch (e) {
            set({ error: failure(e, 'The training worker did not start') });
          } finally {
            set({ loaded: true });
          }
        },

        async refresh() {
          const api = trainApi();
          const [corpora, runs, uploads] = await Promise.all([api.corpora(), api.runs(), api.uploads()]);
          const form = get().form;
          set({ corpora, runs, uploads, form: corpora.some((c) => c.id === form.corpus) || !corpora[0] ? form : { ...form, corpus: corpora[0].id } });
        },

        setForm: (p) => set({ form: { ...get().form, ...p } }),
        setChoice: (choice) => set({ form: { ...get().form, choice, settings: settingsFor(choice), from: undefined } }),
        setSetting: (k, v) => set({ form: { ...get().form, settings: { ...get().form.settings, [k]: v } } }),

        async select(run) {
          set({ selected: run, events: [] });
          if (!run) return;
          const events = await trainApi().runLog(run);
          if (get().selected === run && get().active !== run) set({ events });
        },

        start: () =>
          training(undefined, () => {
            const f = get().form;
            set({ selected: undefined, events: [] });
            const req = needsCheckpoint(f.choice) ? { corpus: f.corpus, settings: f.settings, from: f.from } : { corpus: f.corpus, settings: f.settings, kind: f.kind, size: f.size };
            return trainApi().start(req, onEvent, onProgress);
          }),

        resume: (run) => training(run, () => trainApi().resume(run, undefined, onEvent, onProgress)),

        pause() {
          set({ stopping: 'pause' });
          void trainApi().pause();
        },
        cancel() {
          set({ stopping: 'cancel' });
          void trainApi().cancel();
        },

        async importFolder(name, format, files) {
          if (get().busy) return;
          set({ busy: 'import', error: undefined, notice: undefined, progress: undefined });
          try {
            const r = await trainApi().importCorpus(name, format, files, onProgress);
            if (!r.ok) set({ error: r.error });
            else {
              const s = r.value;
              set({
                form: { ...get().form, corpus: s.corpus },
                notice: `Imported ${s.imported} utterances (${(s.seconds / 60).toFixed(1)} min) as ${s.format}${s.skipped ? `; skipped ${s.skipped}, e.g. ${s.problems[0]?.file}: ${s.problems[0]?.problem}` : ''}.`,
              });
            }
          } catch (e) {
            set({ error: failure(e, 'Import failed') });
          } finally {
            set({ busy: undefined, progress: undefined });
            await get().refresh();
          }
        },

        async upload(file) {
          if (get().busy) return;
          set({ busy: 'upload', error: undefined, notice: undefined });
          try {
            const u = await trainApi().upload(file);
            const t = u.training;
            const choice: Choice | undefined = u.pretrainHead ? 'finetune' : undefined;
            set({
              notice:
                `${u.name}: ${u.model}` +
                (t ? `, ${t.stage}${t.stage === 'pretrain' ? ` iteration ${t.iteration}` : ''} at update ${t.step} of ${t.steps} (training state: resumable)` : '') +
                (choice
                  ? '. Chosen as the checkpoint to fine-tune from.'
                  : t
                    ? '.'
                    : ', fine-tuned (a CTC head, no pre-training head): it transcribes on the Transcribe page; fine-tuning and iteration 2 start from a pre-trained checkpoint.'),
            });
            if (choice) set({ form: { ...get().form, choice, settings: settingsFor(choice), from: { upload: u.name } } });
          } catch (e) {
            set({ error: { code: 'bad-input', message: String((e as Error)?.message ?? e) } });
          } finally {
            set({ busy: undefined });
            await get().refresh();
          }
        },

        async resumeUpload(upload) {
          try {
            const run = await trainApi().adoptUpload(upload, get().form.corpus);
            await get().refresh();
            await get().resume(run);
          } catch (e) {
            set({ error: { code: 'bad-input', message: String((e as Error)?.message ?? e) } });
          }
        },

        async download(run, name) {
          try {
            download(`${run}-${name}`, await trainApi().checkpointFile(run, name), 'application/octet-stream');
          } catch (e) {
            set({ error: failure(e, 'Download failed') });
          }
        },

        async removeRun(run) {
          set({ error: undefined, notice: undefined });
          try {
            await trainApi().removeRun(run);
            if (get().selected === run) set({ selected: undefined, events: [] });
          } catch (e) {
            set({ error: { code: 'bad-input', message: String((e as Error)?.message ?? e) } });
          }
          await get().refresh();
        },

        async removeCorpus(id) {
          set({ error: undefined, notice: undefined });
          try {
            await trainApi().removeCorpus(id);
          } catch (e) {
            set({ error: { code: 'bad-input', message: String((e as Error)?.message ?? e) } });
          }
          await get().refresh();
        },

        dismiss: () => set({ error: undefined, notice: undefined }),
      };
    },
    {
      name: 'lab.train',
      storage: keptStorage(),
      partialize: (s) => ({ form: s.form, selected: s.selected }),
      // A form kept by an earlier version takes the defaults of settings added since.
      merge: (kept, current) => {
        const k = kept as Partial<Pick<TrainState, 'form' | 'selected'>> | undefined;
        if (!k?.form) return { ...current, ...k };
        return { ...current, ...k, form: { ...k.form, settings: { ...settingsFor(k.form.choice), ...k.form.settings } } };
      },
    },
  ),
);
