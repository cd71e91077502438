// Every worker runs its workflows through job(): a worker does one job at a time (a new one cancels the one
// before), the host cancels it through cancelJob() (the workflow sees an AbortSignal), progress goes to the
// host's callback, and errors come back as data (an Outcome) so that their code and message survive comlink.
import { LabError, type LabErrorCode } from '../gpu/errors.ts';
import { forgetWorkerGpu } from './gpu.ts';

export type Progress = (done: number, total: number, label: string) => void;

export interface Failure {
  code: LabErrorCode | 'cancelled' | 'internal';
  message: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Failure };

/** What a workflow takes from its host. */
export interface JobHooks {
  signal: AbortSignal;
  onProgress?: Progress;
}

// Module state is per worker: each worker loads its own copy of this module.
let running: AbortController | undefined;

export async function job<T>(work: (hooks: JobHooks) => Promise<T>, onProgress?: Progress): Promise<Outcome<T>> {
  running?.abort();
  const ctrl = new AbortController();
  running = ctrl;
  try {
    return { ok: true, value: await work({ signal: ctrl.signal, onProgress }) };
  } catch (e) {
    if (ctrl.signal.aborted) return { ok: false, error: { code: 'cancelled', message: 'Cancelled.' } };
    // The next job opens a fresh device.
    if (e instanceof LabError && e.code === 'device-lost') forgetWorkerGpu();
    return { ok: false, error: e instanceof LabError ? { code: e.code, message: e.message } : { code: 'internal', message: String((e as Error)?.message ?? e) } };
  } finally {
    if (running === ctrl) running = undefined;
  }
}

/** Whether a job is in progress. */
export function busy(): boolean {
  return running !== undefined;
}

/** Cancel the job in progress, if any: it returns a 'cancelled' failure at its next check of the signal. */
export function cancelJob(): void {
  running?.abort();
}
