// The Benchmark page's worker: runs the sweep on this thread's own device, reporting rows as they come.
import * as Comlink from 'comlink';
import { runSweep } from '../bench/sweep.ts';
import type { SweepOptions, SweepRow } from '../bench/sweep-types.ts';
import { workerGpu } from './gpu.ts';
import { toFailure, type Outcome, type Progress } from './outcome.ts';

let running: AbortController | undefined;

const api = {
  async sweep(options: SweepOptions, onRow: (row: SweepRow) => void, onProgress: Progress): Promise<Outcome<SweepRow[]>> {
    running?.abort();
    const ctrl = new AbortController();
    running = ctrl;
    try {
      return { ok: true, value: await runSweep(await workerGpu(), options, { signal: ctrl.signal, onRow, onProgress }) };
    } catch (e) {
      if (ctrl.signal.aborted) return { ok: false, error: { code: 'internal', message: 'Cancelled.' } };
      return toFailure(e);
    } finally {
      if (running === ctrl) running = undefined;
    }
  },
  cancel(): void {
    running?.abort();
  },
};

export type BenchApi = typeof api;

Comlink.expose(api);
