import type { Gpu } from '../gpu/device.ts';

/** One correctness check of a kernel against its CPU twin on fresh random inputs. */
export interface KernelCheck {
  family: string;
  /** e.g. "forward 7x33x257" or "backward dx". */
  name: string;
  tolerance: number;
  run(gpu: Gpu, seed: number): Promise<number>; // max relative error
}

export interface CheckResult {
  family: string;
  name: string;
  passed: boolean;
  maxRelError: number;
  tolerance: number;
  seed: number;
  error?: string;
}

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
