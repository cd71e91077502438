import type { Gpu } from '../gpu/device.ts';

/** One micro-benchmark: the work of one call, timed on the device. */
export interface KernelBench {
  family: string;
  name: string;
  shape: string;
  /** Floating-point operations of one call (2 per multiply-add), for GFLOP/s. */
  flops?: number;
  /** Bytes read and written by one call, for GB/s. */
  bytes?: number;
  /** Untimed and timed runs (default 1 and the runner's reps): long cases lower them to stay within seconds. */
  warmup?: number;
  reps?: number;
  /** Build the inputs; returns the recorder of one call and a cleanup. */
  setup(gpu: Gpu): { record: (enc: import('../gpu/encoder.ts').Encoder) => void; dispose: () => void };
}

export interface BenchResult {
  family: string;
  name: string;
  shape: string;
  ms: number;
  gflops?: number;
  gbps?: number;
  timing: 'timestamp-query' | 'wall-clock';
  /** The case needs a buffer larger than the device allows (TooLargeError); ms is NaN. */
  oom?: boolean;
  /** The TooLargeError message of an out-of-memory case. */
  error?: string;
}
