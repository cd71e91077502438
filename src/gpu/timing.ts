import type { Encoder } from './encoder.ts';
import type { Gpu } from './device.ts';

/** Begin/end timestamps of one compute pass, read back as milliseconds. */
export class GpuTimer {
  private querySet: GPUQuerySet;
  private resolved: GPUBuffer;
  private readback: GPUBuffer;

  constructor({ device }: Gpu) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
    this.resolved = device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readback = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  get writes(): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
  }

  resolve(enc: GPUCommandEncoder): void {
    enc.resolveQuerySet(this.querySet, 0, 2, this.resolved, 0);
    enc.copyBufferToBuffer(this.resolved, 0, this.readback, 0, 16);
  }

  async ms(): Promise<number> {
    await this.readback.mapAsync(GPUMapMode.READ);
    const [t0, t1] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    return Number(t1 - t0) / 1e6;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolved.destroy();
    this.readback.destroy();
  }
}

export interface Timing {
  /** Median over the timed repetitions. */
  ms: number;
  samples: number[];
  method: 'timestamp-query' | 'wall-clock';
}

/**
 * Time the kernels that `record` puts into an encoder: `warmup` untimed runs, then `reps` timed ones.
 * GPU timestamps where the adapter has them (a pass can report 0 when the driver quantises; then the wall
 * clock is used), else wall clock from submit to onSubmittedWorkDone.
 */
export async function timeKernels(
  gpu: Gpu,
  record: (enc: Encoder) => void,
  { warmup = 1, reps = 5 }: { warmup?: number; reps?: number } = {},
): Promise<Timing> {
  for (let i = 0; i < warmup; i++) {
    const enc = gpu.encoder();
    record(enc);
    enc.submit();
  }
  await gpu.device.queue.onSubmittedWorkDone();
  const samples: number[] = [];
  let method: Timing['method'] = gpu.timestamps ? 'timestamp-query' : 'wall-clock';
  const timer = gpu.timestamps ? new GpuTimer(gpu) : undefined;
  try {
    for (let i = 0; i < reps; i++) {
      const enc = gpu.encoder();
      record(enc);
      const t0 = performance.now();
      enc.submit(timer);
      await gpu.device.queue.onSubmittedWorkDone();
      const wall = performance.now() - t0;
      const gpuMs = timer ? await timer.ms() : 0;
      if (timer && gpuMs > 0) samples.push(gpuMs);
      else {
        method = 'wall-clock';
        samples.push(wall);
      }
    }
  } finally {
    timer?.destroy();
  }
  return { ms: median(samples), samples, method };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Time of the dispatches of one pipeline (or family) summed over the profiled submits. */
export interface DispatchTotal {
  /** Kernel family (shaders/<family>.wgsl), or the entry point when the family is unknown. */
  family: string;
  /** The pipeline's entry point. */
  entry: string;
  ms: number;
  dispatches: number;
}

const QUERIES_PER_SET = 4096; // WebGPU's maximum query set size

/**
 * Per-dispatch GPU time (needs `timestamp-query`): while `gpu.profiler` is set, every Encoder submit puts each
 * dispatch into its own compute pass with begin/end timestamps, and the times are summed per pipeline. One pass
 * per dispatch adds a little overhead, so profile in runs of their own and time the real ones without it.
 */
export class DispatchProfiler {
  private totals = new Map<GPUComputePipeline, DispatchTotal>();
  private pending: Promise<void>[] = [];
  /** Dispatches timed as 0 (a driver that quantises timestamps coarsely). */
  zeroDispatches = 0;

  constructor(readonly gpu: Gpu) {
    if (!gpu.timestamps) throw new Error('DispatchProfiler: the device has no timestamp-query feature');
  }

  /**
   * Record the calls into `enc`, one compute pass each with its timestamps, and resolve them; `encodeCall`
   * encodes call i into the pass. Call `collect` after the command buffer is submitted.
   */
  record(enc: GPUCommandEncoder, pipelines: readonly GPUComputePipeline[], encodeCall: (pass: GPUComputePassEncoder, i: number) => void): () => void {
    const { device } = this.gpu;
    const n = pipelines.length;
    const perSet = QUERIES_PER_SET / 2;
    const sets: { querySet: GPUQuerySet; resolved: GPUBuffer; readback: GPUBuffer; count: number }[] = [];
    for (let s = 0; s * perSet < n; s++) {
      const count = Math.min(perSet, n - s * perSet) * 2;
      sets.push({
        querySet: device.createQuerySet({ type: 'timestamp', count }),
        resolved: device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
        readback: device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
        count,
      });
    }
    for (let i = 0; i < n; i++) {
      const set = sets[Math.floor(i / perSet)];
      const j = (i % perSet) * 2;
      const pass = enc.beginComputePass({ timestampWrites: { querySet: set.querySet, beginningOfPassWriteIndex: j, endOfPassWriteIndex: j + 1 } });
      encodeCall(pass, i);
      pass.end();
    }
    for (const s of sets) {
      enc.resolveQuerySet(s.querySet, 0, s.count, s.resolved, 0);
      enc.copyBufferToBuffer(s.resolved, 0, s.readback, 0, s.count * 8);
    }
    return () => {
      this.pending.push(
        (async () => {
          for (let si = 0; si < sets.length; si++) {
            const s = sets[si];
            await s.readback.mapAsync(GPUMapMode.READ);
            const t = new BigUint64Array(s.readback.getMappedRange().slice(0));
            s.readback.unmap();
            for (let q = 0; q < s.count / 2; q++) {
              const pipeline = pipelines[si * perSet + q];
              const ms = t[2 * q + 1] > t[2 * q] ? Number(t[2 * q + 1] - t[2 * q]) / 1e6 : 0;
              if (ms === 0) this.zeroDispatches++;
              let tot = this.totals.get(pipeline);
              if (!tot) {
                const family = this.gpu.pipelines.familyOf(pipeline) ?? pipeline.label;
                this.totals.set(pipeline, (tot = { family, entry: pipeline.label, ms: 0, dispatches: 0 }));
              }
              tot.ms += ms;
              tot.dispatches++;
            }
            s.querySet.destroy();
            s.resolved.destroy();
            s.readback.destroy();
          }
        })(),
      );
    };
  }

  /** Wait for every profiled submit's timestamps. */
  async flush(): Promise<void> {
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
  }

  /** Totals per pipeline entry point (pipelines with the same family and entry point merged), largest first. */
  async byEntry(): Promise<DispatchTotal[]> {
    await this.flush();
    const merged = new Map<string, DispatchTotal>();
    for (const t of this.totals.values()) {
      const key = `${t.family}/${t.entry}`;
      const m = merged.get(key);
      if (m) {
        m.ms += t.ms;
        m.dispatches += t.dispatches;
      } else merged.set(key, { ...t });
    }
    return [...merged.values()].sort((a, b) => b.ms - a.ms);
  }

  /** Totals per kernel family, largest first (`entry` is empty). */
  async byFamily(): Promise<DispatchTotal[]> {
    const merged = new Map<string, DispatchTotal>();
    for (const t of await this.byEntry()) {
      const m = merged.get(t.family);
      if (m) {
        m.ms += t.ms;
        m.dispatches += t.dispatches;
      } else merged.set(t.family, { ...t, entry: '' });
    }
    return [...merged.values()].sort((a, b) => b.ms - a.ms);
  }

  reset(): void {
    this.totals.clear();
    this.zeroDispatches = 0;
  }
}
