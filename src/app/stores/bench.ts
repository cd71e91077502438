import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { keptStorage } from './kept.ts';
import { DEFAULT_SWEEP, type SweepOptions, type SweepRow } from '../../bench/sweep-types.ts';
import { benchApi, proxy } from '../workers.ts';

interface BenchState {
  options: SweepOptions;
  rows: SweepRow[];
  running: boolean;
  progress?: { done: number; total: number; label: string };
  error?: string;
  setOptions(o: Partial<SweepOptions>): void;
  run(): Promise<void>;
  cancel(): void;
  clear(): void;
}

/** Sweep settings and results, kept across reloads (localStorage). */
export const useBench = create<BenchState>()(
  persist(
    (set, get) => ({
      options: DEFAULT_SWEEP,
      rows: [],
      running: false,
      setOptions: (o) => set({ options: { ...get().options, ...o } }),
      async run() {
        if (get().running) return;
        set({ running: true, error: undefined, progress: undefined, rows: [] });
        try {
          const r = await benchApi().sweep(
            get().options,
            proxy((row: SweepRow) => set({ rows: [...get().rows, row] })),
            proxy((done: number, total: number, label: string) => set({ progress: { done, total, label } })),
          );
          if (!r.ok) set({ error: r.error.message });
        } catch (e) {
          set({ error: `The benchmark worker failed: ${(e as Error).message}` });
        } finally {
          set({ running: false, progress: undefined });
        }
      },
      cancel: () => void benchApi().cancel(),
      clear: () => set({ rows: [] }),
    }),
    { name: 'lab.bench', storage: keptStorage(), partialize: (s) => ({ options: s.options, rows: s.rows }) },
  ),
);
