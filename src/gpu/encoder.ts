import type { Gpu } from './device.ts';
import type { Params } from './params.ts';
import type { GpuTimer } from './timing.ts';
import { Tensor } from './tensor.ts';

/** One kernel call: params at binding 0, then the buffers at bindings 1, 2, ... in order. */
export interface KernelCall {
  pipeline: GPUComputePipeline;
  params: Params;
  buffers: readonly (Tensor | GPUBuffer)[];
  workgroups: readonly [number, number?, number?];
  /** Multiply-accumulates this call performs (benchmarks add them up). */
  macs?: number;
}

const SLOT = 256; // minUniformBufferOffsetAlignment on every adapter we know; checked in the constructor.

/**
 * Records many kernel calls and submits them as one command buffer: CPU drivers pay milliseconds per
 * submit round trip, so a whole forward pass goes through one Encoder.
 * Kernel calls run in order; each sees the writes of the calls before it.
 */
export class Encoder {
  private calls: KernelCall[] = [];
  private after: (() => void)[] = [];
  macs = 0;

  constructor(readonly gpu: Gpu) {
    if (gpu.device.limits.minUniformBufferOffsetAlignment > SLOT) {
      throw new Error(`minUniformBufferOffsetAlignment ${gpu.device.limits.minUniformBufferOffsetAlignment} > ${SLOT}`);
    }
  }

  dispatch(call: KernelCall): void {
    const [x, y = 1, z = 1] = call.workgroups;
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) {
      throw new RangeError(`${call.pipeline.label}: workgroup grid ${x}x${y}x${z} exceeds ${max} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    this.calls.push(call);
    this.macs += call.macs ?? 0;
  }

  /** Release these tensors once the submitted work is done (temporaries of the recorded calls). */
  releaseAfter(...tensors: Tensor[]): void {
    for (const t of tensors) this.after.push(() => t.release());
  }

  get length(): number {
    return this.calls.length;
  }

  /**
   * Encode and submit. With a timer, the single compute pass writes its begin and end timestamps. While the
   * device has a profiler (gpu.profiler), each dispatch gets a pass and timestamps of its own instead.
   */
  submit(timer?: GpuTimer): void {
    const { device, pool } = this.gpu;
    this.gpu.assertAlive();
    const calls = this.calls;
    this.calls = [];
    const after = this.after;
    this.after = [];
    const arenaBytes = Math.max(SLOT, calls.length * SLOT);
    const arena = pool.acquire(arenaBytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, 'params');
    const bytes = new ArrayBuffer(arenaBytes);
    const view = new DataView(bytes);
    calls.forEach((c, i) => {
      if (c.params.byteLength > SLOT) throw new Error(`${c.pipeline.label}: params larger than ${SLOT} bytes`);
      c.params.writeTo(view, i * SLOT);
    });
    device.queue.writeBuffer(arena, 0, bytes);

    const enc = device.createCommandEncoder();
    const encodeCall = (pass: GPUComputePassEncoder, i: number) => {
      const c = calls[i];
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: arena, offset: i * SLOT, size: c.params.byteLength } }];
      c.buffers.forEach((b, j) => {
        const buffer = b instanceof Tensor ? b.buffer : b;
        entries.push({ binding: j + 1, resource: { buffer } });
      });
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: c.pipeline.getBindGroupLayout(0), entries }));
      const [x, y = 1, z = 1] = c.workgroups;
      pass.dispatchWorkgroups(x, y, z);
    };
    const counters = this.gpu.counters;
    counters.submits++;
    counters.dispatches += calls.length;
    // Profiling times each dispatch in a pass of its own (the pass timer is then not written).
    const profiler = this.gpu.profiler;
    let collect: (() => void) | undefined;
    if (profiler && calls.length) {
      collect = profiler.record(enc, calls.map((c) => c.pipeline), encodeCall);
    } else {
      const pass = enc.beginComputePass(timer ? { timestampWrites: timer.writes } : {});
      for (let i = 0; i < calls.length; i++) encodeCall(pass, i);
      pass.end();
      timer?.resolve(enc);
    }
    device.queue.submit([enc.finish()]);
    collect?.();
    device.queue.onSubmittedWorkDone().then(() => {
      pool.release(arena);
      for (const f of after) f();
    });
  }
}

/** Split a workgroup count over x and y when it exceeds the per-dimension limit. */
export function grid(count: number, max = 65535): [number, number] {
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}
