// The Benchmark page's worker: runs the sweep on this thread's own device, reporting rows as they come.
import * as Comlink from 'comlink';
import { runSweep } from '../bench/sweep.ts';
import type { SweepOptions, SweepRow } from '../bench/sweep-types.ts';
import { workerGpu } from './gpu.ts';
import { cancelJob, job, type Progress } from './job.ts';

const api = {
  sweep: (options: SweepOptions, onRow: (row: SweepRow) => void, onProgress: Progress) =>
    job(async (hooks) => runSweep(await workerGpu(), options, { ...hooks, onRow }), onProgress),
  cancel: cancelJob,
};

export type BenchApi = typeof api;

Comlink.expose(api);
