// Buffer pool: buffers are recycled by (usage, size bucket), so a training step or a streaming chunk
// allocates nothing new once warm. Buckets are powers of two up to 1 MiB, then multiples of 1/8 of the
// next power of two (at most 12.5 % waste).

export function bucketBytes(bytes: number): number {
  const n = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (n <= 1 << 20) return 2 ** Math.ceil(Math.log2(n));
  const step = 2 ** Math.ceil(Math.log2(n)) / 8;
  return Math.ceil(n / step) * step;
}

export class BufferPool {
  private free = new Map<string, GPUBuffer[]>();
  private usageOf = new WeakMap<GPUBuffer, GPUBufferUsageFlags>();
  /** Bytes currently handed out (not in the free lists). */
  liveBytes = 0;

  constructor(private device: GPUDevice) {}

  acquire(bytes: number, usage: GPUBufferUsageFlags, label = ''): GPUBuffer {
    const size = bucketBytes(bytes);
    const list = this.free.get(`${usage}:${size}`);
    const buf = list?.pop() ?? this.device.createBuffer({ size, usage, label });
    this.usageOf.set(buf, usage);
    this.liveBytes += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    const usage = this.usageOf.get(buf);
    if (usage === undefined) throw new Error('BufferPool.release: buffer did not come from this pool');
    const key = `${usage}:${buf.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buf);
    this.liveBytes -= buf.size;
  }

  /** Destroy every free buffer (e.g. after a sweep that used very long inputs). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
  }
}
