import { AdapterRefusedError, DeviceLostError, LabError, NoWebGPUError, TooLargeError } from './errors.ts';
import { Encoder } from './encoder.ts';
import { BufferPool } from './pool.ts';
import { PipelineCache } from './pipelines.ts';
import type { DispatchProfiler } from './timing.ts';
import { numel, shapeString, Tensor, type DType, type TypedArrayOf } from './tensor.ts';

export type Where = 'browser' | 'worker' | 'node';

/** The limits the lab asks for (each at the adapter's maximum). */
const WANTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;

const WANTED_FEATURES: GPUFeatureName[] = ['timestamp-query'];

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/**
 * Kernel variants are chosen per adapter kind: CPU drivers (SwiftShader, lavapipe) pay dearly for
 * barriers and like register tiling; real GPUs like workgroup-memory tiling.
 */
export type AdapterKind = 'cpu' | 'gpu';

export interface OpenOptions {
  where: Where;
  powerPreference?: GPUPowerPreference;
  /** Force a kernel variant family regardless of the adapter. */
  kind?: AdapterKind;
}

/** A WebGPU device with the lab's runtime around it: pool, pipeline cache, tensors, encoders. */
export class Gpu {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly limits: Record<(typeof WANTED_LIMITS)[number] | 'minUniformBufferOffsetAlignment', number>;
  readonly features: string[];
  readonly timestamps: boolean;
  /** Encoder submits and the dispatches they held, since the device opened (benchmarks read the differences). */
  readonly counters = { submits: 0, dispatches: 0 };
  /** While set, every Encoder submit times each of its dispatches (benchmarks' per-kernel shares). */
  profiler: DispatchProfiler | undefined;
  private lost: DeviceLostError | null = null;
  private emptyBuffer: GPUBuffer | null = null;
  private emptyOutputBuffers: GPUBuffer[] = [];
  private errors: string[] = [];

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterReport,
    readonly kind: AdapterKind,
  ) {
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    const limits = {} as Record<string, number>;
    for (const k of [...WANTED_LIMITS, 'minUniformBufferOffsetAlignment'] as const) limits[k] = device.limits[k];
    this.limits = limits as Gpu['limits'];
    this.features = [...device.features].map(String).sort();
    this.timestamps = device.features.has('timestamp-query');
    device.lost.then((info) => {
      this.lost = new DeviceLostError(info.reason, info.message);
    });
    device.addEventListener('uncapturederror', (e) => {
      const err = (e as GPUUncapturedErrorEvent).error;
      if (this.errors.length < 20) this.errors.push(err.message);
    });
  }

  /** A 16-byte buffer to bind where a kernel's optional input (a bias, say) is absent. */
  get empty(): GPUBuffer {
    this.emptyBuffer ??= this.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'empty' });
    return this.emptyBuffer;
  }

  /**
   * Another, for an absent output of a call that also binds `empty` to an absent input (one buffer may not be
   * bound both writable and read-only in one dispatch).
   */
  get emptyOutput(): GPUBuffer {
    return this.emptyOutputAt(0);
  }

  /** The i-th of distinct empty outputs: a call with several absent outputs binds one each (writable bindings may not alias). */
  emptyOutputAt(i: number): GPUBuffer {
    while (this.emptyOutputBuffers.length <= i) {
      this.emptyOutputBuffers.push(this.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: `empty output ${this.emptyOutputBuffers.length}` }));
    }
    return this.emptyOutputBuffers[i];
  }

  /** Largest buffer a kernel can bind. */
  get maxBindingBytes(): number {
    return Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
  }

  get isLost(): boolean {
    return this.lost !== null;
  }

  assertAlive(): void {
    if (this.lost) throw this.lost;
  }

  /** Throw the first GPU error raised since the last check (validation errors are otherwise silent). */
  checkErrors(): void {
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new LabError('bad-input', `GPU error: ${msg}`);
    }
  }

  /** A tensor from the pool: contents undefined unless `data` is given. */
  tensor<D extends DType = 'f32'>(shape: readonly number[], dtype?: D, data?: ArrayLike<number>, name = 'tensor'): Tensor<D> {
    this.assertAlive();
    const dt = (dtype ?? 'f32') as D;
    const n = numel(shape);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new LabError('shape', `${name}: bad shape ${shapeString(shape)}`);
    const bytes = Math.max(4, n * 4);
    if (bytes > this.maxBindingBytes) {
      const limitName =
        this.limits.maxStorageBufferBindingSize <= this.limits.maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
      throw new TooLargeError(`${name} ${shapeString(shape)} ${dt}`, bytes, this.maxBindingBytes, limitName);
    }
    const buffer = this.pool.acquire(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, name);
    const t = new Tensor(this, buffer, [...shape], dt, name);
    if (data) this.upload(t, data);
    return t;
  }

  /** A tensor filled with zeros (cleared on the queue, ahead of any later submit). */
  zeros<D extends DType = 'f32'>(shape: readonly number[], dtype?: D, name = 'zeros'): Tensor<D> {
    const t = this.tensor(shape, dtype, undefined, name);
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(t.buffer, 0, Math.ceil(Math.max(4, t.bytes) / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    return t;
  }

  upload(t: Tensor, data: ArrayLike<number>): void {
    if (data.length !== t.size) {
      throw new LabError('shape', `${t.name}: ${data.length} values given for shape ${shapeString(t.shape)} (${t.size})`);
    }
    const arr = t.dtype === 'f32' ? Float32Array.from(data) : t.dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
    this.device.queue.writeBuffer(t.buffer, 0, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  async read<D extends DType>(t: Tensor<D>): Promise<TypedArrayOf<D>> {
    this.assertAlive();
    const bytes = Math.max(4, t.bytes);
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.pool.acquire(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(t.buffer, 0, staging, 0, size);
    this.device.queue.submit([enc.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, size);
    } catch (e) {
      this.assertAlive();
      throw e;
    }
    const copy = staging.getMappedRange(0, size).slice(0, t.bytes);
    staging.unmap();
    this.pool.release(staging);
    this.checkErrors();
    const out = t.dtype === 'f32' ? new Float32Array(copy) : t.dtype === 'i32' ? new Int32Array(copy) : new Uint32Array(copy);
    return out as TypedArrayOf<D>;
  }

  /** A fresh encoder: record many kernel calls, then `submit()` once. */
  encoder(): Encoder {
    return new Encoder(this);
  }

  /** Record with `fn` and submit; returns what `fn` returns (usually output tensors). */
  run<T>(fn: (enc: Encoder) => T): T {
    const enc = this.encoder();
    const out = fn(enc);
    enc.submit();
    return out;
  }

  pipeline(shader: string, entryPoint: string, constants?: Record<string, number | boolean>): GPUComputePipeline {
    this.assertAlive();
    return this.pipelines.get(shader, entryPoint, constants);
  }

  destroy(): void {
    this.pool.trim();
    this.device.destroy();
  }
}

/** Ask `gpu` (navigator.gpu in a page or worker, Dawn's GPU in Node) for an adapter and a device. */
export async function openDevice(gpu: GPU | undefined, options: OpenOptions): Promise<Gpu> {
  if (!gpu) throw new NoWebGPUError(options.where);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (e) {
    throw new AdapterRefusedError(String((e as Error).message ?? e));
  }
  if (!adapter) throw new AdapterRefusedError('requestAdapter returned null');
  const requiredLimits: Record<string, number> = {};
  for (const k of WANTED_LIMITS) requiredLimits[k] = adapter.limits[k];
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new AdapterRefusedError(`requestDevice failed: ${(e as Error).message ?? e}`);
  }
  const info = adapter.info;
  const report: AdapterReport = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
  return new Gpu(device, report, options.kind ?? adapterKind(report));
}

const CPU_DRIVERS = /swiftshader|llvmpipe|lavapipe|software|warp|basic render/i;

export function adapterKind(a: AdapterReport): AdapterKind {
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`;
  return a.isFallbackAdapter || CPU_DRIVERS.test(text) ? 'cpu' : 'gpu';
}
