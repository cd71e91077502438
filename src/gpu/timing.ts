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
