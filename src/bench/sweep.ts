// The paper's Figure 1 as a sweep: for each model kind and audio length, the analytic MACs, the MACs the
// dispatched kernels report, and the real-time factor (median forward time over the audio's duration).
// A length whose tensors do not fit the device is recorded as out of memory, and the sweep goes on with the
// other models; a model that ran out of memory is not tried at longer lengths.
import type { Gpu } from '../gpu/device.ts';
import { LabError, TooLargeError } from '../gpu/errors.ts';
import { timeKernels } from '../gpu/timing.ts';
import { randomUniform, seeded } from '../kernels/random.ts';
import { HubertModel } from '../models/hubert.ts';
import { preset } from '../models/presets.ts';
import { forwardMacs } from './macs.ts';
import type { SweepOptions, SweepRow } from './sweep-types.ts';

export const SAMPLE_RATE = 16000;

export interface SweepHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, label: string) => void;
  onRow?: (row: SweepRow) => void;
}

/** Out of memory: our own limit checks (TooLargeError) or the device's out-of-memory error scope. */
function outOfMemoryReason(e: unknown): string | undefined {
  if (e instanceof TooLargeError) return e.message;
  if (e instanceof LabError && e.code === 'too-large') return e.message;
  if (e instanceof Error && /out of memory|OutOfMemory/i.test(e.message)) return e.message;
  return undefined;
}

type Base = Omit<SweepRow, 'macsCounted' | 'rtf' | 'ms' | 'timing' | 'oom' | 'oomReason'>;

async function measure(gpu: Gpu, model: HubertModel, base: Base, o: SweepOptions): Promise<SweepRow> {
  const samples = Math.round(base.seconds * SAMPLE_RATE);
  gpu.device.pushErrorScope('out-of-memory');
  let audio;
  let error: unknown;
  let result: Pick<SweepRow, 'macsCounted' | 'rtf' | 'ms' | 'timing'> | undefined;
  try {
    audio = gpu.tensor([o.batch, samples], 'f32', randomUniform(o.batch * samples, seeded(samples), -0.5, 0.5), 'audio');
    const a = audio;
    let counted = 0;
    const timing = await timeKernels(
      gpu,
      (enc) => {
        const before = enc.macs;
        const { out } = model.forward({ enc, train: false }, a);
        counted = (enc.macs - before) / o.batch;
        enc.releaseAfter(out);
      },
      { warmup: 1, reps: o.reps },
    );
    result = { macsCounted: counted, rtf: timing.ms / 1000 / base.seconds, ms: timing.ms, timing: timing.method };
  } catch (e) {
    error = e;
  } finally {
    audio?.release();
    const scoped = await gpu.device.popErrorScope();
    if (scoped && !error) error = new Error(`out of memory: ${scoped.message}`);
  }
  if (!error && result) return { ...base, ...result, oom: false };
  const reason = outOfMemoryReason(error);
  if (!reason) throw error;
  gpu.pool.trim();
  return { ...base, macsCounted: null, rtf: null, ms: null, timing: null, oom: true, oomReason: reason };
}

/** Run the sweep; rows are reported as they come (onRow) and returned at the end. */
export async function runSweep(gpu: Gpu, o: SweepOptions, hooks: SweepHooks = {}): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  const total = o.models.length * o.lengths.length;
  const lengths = [...o.lengths].sort((a, b) => a - b);
  for (const kind of o.models) {
    const config = preset(kind, o.preset);
    const model = HubertModel.create(gpu, config, 1, { attention: o.attention });
    let oomAt: number | undefined;
    try {
      for (const seconds of lengths) {
        hooks.signal?.throwIfAborted();
        hooks.onProgress?.(rows.length, total, `${kind}-${o.preset} at ${seconds} s`);
        const analytic = forwardMacs(config, Math.round(seconds * SAMPLE_RATE));
        const base: Base = {
          model: kind,
          preset: o.preset,
          attention: o.attention,
          seconds,
          frames: analytic.frames,
          macs: analytic.total,
          macsPerSecond: analytic.total / seconds,
        };
        const row: SweepRow =
          oomAt === undefined
            ? await measure(gpu, model, base, o)
            : { ...base, macsCounted: null, rtf: null, ms: null, timing: null, oom: true, oomReason: `not tried: out of memory already at ${oomAt} s` };
        if (row.oom && oomAt === undefined) oomAt = seconds;
        rows.push(row);
        hooks.onRow?.(row);
      }
    } finally {
      model.release();
    }
  }
  hooks.onProgress?.(rows.length, total, 'done');
  return rows;
}
