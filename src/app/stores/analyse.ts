import * as Comlink from 'comlink';
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { keptStorage } from './kept.ts';
import { doneNotice, type ModelScores, type PurityReport } from '../../analysis/report.ts';
import type { EncoderKind, Size } from '../../models/config.ts';
import type { Split } from '../../speech/manifest.ts';
import type { AnalyseApi, AnalyseRequest, ModelChoice, ModelRef, SetInfo } from '../../workers/analyse.worker.ts';
import type { Failure } from '../../workers/job.ts';
import { refLabel } from '../../workers/refs.ts';

// The analyse worker, created on first use (as src/app/workers.ts does for the others).
let worker: Comlink.Remote<AnalyseApi> | undefined;
export function analyseApi(): Comlink.Remote<AnalyseApi> {
  worker ??= Comlink.wrap<AnalyseApi>(new Worker(new URL('../../workers/analyse.worker.ts', import.meta.url), { type: 'module', name: 'analyse' }));
  return worker;
}

export { refLabel };

export interface AnalyseForm {
  set: string;
  models: ModelRef[];
  K: number;
  seed: number;
  fitSplit: Split;
  evalSplit: Split;
  iterations: number;
  /** Utterances of each list (0: all). */
  utterances: number;
  mfcc: boolean;
  /** The random model to add next. */
  kind: EncoderKind;
  size: Size;
}

interface AnalyseState {
  loaded: boolean;
  sets: SetInfo[];
  checkpoints: ModelChoice[];
  form: AnalyseForm;
  /** The last analysis: its settings and results (kept across reloads). */
  report?: PurityReport;
  /** Results so far of the analysis in progress. */
  partial: ModelScores[];
  running: boolean;
  progress?: { done: number; total: number; label: string };
  error?: Failure;
  notice?: string;
  /** The heat map's model id and layer key. */
  heat?: { model: string; layer: string };
  load(): Promise<void>;
  setForm(p: Partial<AnalyseForm>): void;
  addModel(ref: ModelRef): void;
  removeModel(label: string): void;
  upload(file: File): Promise<void>;
  run(): Promise<void>;
  cancel(): void;
  clear(): void;
  setHeat(h: { model: string; layer: string }): void;
  dismiss(): void;
}

const DEFAULT_FORM: AnalyseForm = {
  set: 'eval',
  models: [{ random: 'mamba-tiny' }],
  K: 100,
  seed: 1,
  fitSplit: 'train',
  evalSplit: 'test',
  iterations: 20,
  utterances: 0,
  mfcc: true,
  kind: 'mamba',
  size: 'tiny',
};

const failure = (e: unknown, what: string): Failure => ({ code: 'internal', message: `${what}: ${(e as Error)?.message ?? String(e)}` });

/** Settings, the chosen models and the last results, kept across reloads (localStorage). */
export const useAnalyse = create<AnalyseState>()(
  persist(
    (set, get) => ({
      loaded: false,
      sets: [],
      checkpoints: [],
      form: DEFAULT_FORM,
      partial: [],
      running: false,

      async load() {
        try {
          const api = analyseApi();
          const [sets, checkpoints] = await Promise.all([api.sets(), api.checkpoints()]);
          const form = get().form;
          set({ sets, checkpoints, form: sets.some((s) => s.id === form.set) || !sets[0] ? form : { ...form, set: sets[0].id } });
        } catch (e) {
          set({ error: failure(e, 'The analysis worker did not start') });
        } finally {
          set({ loaded: true });
        }
      },

      setForm: (p) => set({ form: { ...get().form, ...p } }),

      addModel(ref) {
        const f = get().form;
        if (f.models.some((m) => refLabel(m) === refLabel(ref))) return;
        set({ form: { ...f, models: [...f.models, ref] } });
      },

      removeModel: (label) => set({ form: { ...get().form, models: get().form.models.filter((m) => refLabel(m) !== label) } }),

      async upload(file) {
        set({ error: undefined, notice: undefined });
        try {
          const c = await analyseApi().upload(file);
          set({ checkpoints: await analyseApi().checkpoints(), notice: `${file.name}: ${c.model}, kept as ${c.label}.` });
          get().addModel(c.ref);
        } catch (e) {
          set({ error: { code: 'bad-input', message: String((e as Error)?.message ?? e) } });
        }
      },

      async run() {
        const f = get().form;
        if (get().running || f.models.length === 0) return;
        set({ running: true, error: undefined, notice: undefined, progress: undefined, partial: [] });
        const req: AnalyseRequest = {
          set: f.set,
          models: f.mfcc ? [...f.models, { mfcc: true }] : f.models,
          K: f.K,
          seed: f.seed,
          fitSplit: f.fitSplit,
          evalSplit: f.evalSplit,
          iterations: f.iterations,
          utterances: f.utterances,
        };
        try {
          const r = await analyseApi().analyse(
            req,
            Comlink.proxy((m: ModelScores) => set({ partial: [...get().partial, m] })),
            Comlink.proxy((done: number, total: number, label: string) => set({ progress: { done, total, label } })),
          );
          if (r.ok) {
            const report = r.value;
            const first = report.models.find((m) => m.source !== 'mfcc') ?? report.models[0];
            const heat = get().heat;
            const keep = heat && report.models.some((m) => m.id === heat.model && m.layers.some((l) => l.key === heat.layer));
            set({
              report,
              heat: keep ? heat : first && { model: first.id, layer: first.layers[first.layers.length - 1].key },
              notice: doneNotice(report.seconds, report.models),
            });
          } else if (r.error.code === 'cancelled') set({ notice: 'Cancelled.' });
          else set({ error: r.error });
        } catch (e) {
          set({ error: failure(e, 'The analysis worker failed') });
        } finally {
          set({ running: false, progress: undefined, partial: [] });
        }
      },

      cancel: () => void analyseApi().cancel(),
      clear: () => set({ report: undefined, heat: undefined, notice: undefined }),
      setHeat: (heat) => set({ heat }),
      dismiss: () => set({ error: undefined, notice: undefined }),
    }),
    { name: 'lab.analyse', storage: keptStorage(), partialize: (s) => ({ form: s.form, report: s.report, heat: s.heat }) },
  ),
);
