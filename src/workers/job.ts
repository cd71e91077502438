// Every worker runs its workflows through job(): a worker does one job at a time (a new one cancels the one
// before and starts when it has finished), the host cancels it through cancelJob() (the workflow sees an
// AbortSignal), progress goes to the host's callback, and errors come back as data (an Outcome) so that their code
// and message survive comlink.
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
/** Settles when the last job started has finished (its work returned or threw). */
let lastDone: Promise<void> = Promise.resolve();

const CANCELLED: Failure = { code: 'cancelled', message: 'Cancelled.' };

export async function job<T>(work: (hooks: JobHooks) => Promise<T>, onProgress?: Progress): Promise<Outcome<T>> {
  running?.abort();
  const ctrl = new AbortController();
  running = ctrl;
  // The job before was told to stop, but it stops at its next check of the signal: until then it still uses its
  // model and the device. Start once it has finished, so that nothing (a model this job replaces, say) is released
  // under it.
  const before = lastDone;
  let finished!: () => void;
  lastDone = new Promise<void>((resolve) => (finished = resolve));
  try {
    await before;
    if (ctrl.signal.aborted) return { ok: false, error: CANCELLED };
    return { ok: true, value: await work({ signal: ctrl.signal, onProgress }) };
  } catch (e) {
    if (ctrl.signal.aborted) return { ok: false, error: CANCELLED };
    // The next job opens a fresh device.
    if (e instanceof LabError && e.code === 'device-lost') forgetWorkerGpu();
    return { ok: false, error: e instanceof LabError ? { code: e.code, message: e.message } : { code: 'internal', message: String((e as Error)?.message ?? e) } };
  } finally {
    finished();
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
