// A single-producer single-consumer ring of float samples in a SharedArrayBuffer: the microphone's AudioWorklet
// writes, the asr worker reads, and the main thread never touches the samples (it only reads the level to draw a
// meter). No DOM: it runs in an AudioWorkletGlobalScope, a worker and Node (tests).
//
// Layout: a header of 8 int32 slots, then `capacity` float32 samples (capacity a power of two). The write and read
// counters count samples since the start and wrap at 2^32; the slot of a sample is its counter modulo the capacity.
// Only the writer moves `write`, only the reader moves `read`, both with Atomics, so neither ever sees a half-written
// sample. A writer that finds the ring full drops what does not fit (the reader fell behind) and counts it.

const WRITE = 0;
const READ = 1;
const DROPPED = 2;
/** The last block's peak, as float32 bits (for a level meter; no ordering needed). */
const LEVEL = 3;
const RATE = 4;
const CLOSED = 5;
const HEADER_SLOTS = 8;
const HEADER_BYTES = HEADER_SLOTS * 4;

export interface RingViews {
  header: Int32Array;
  level: Float32Array;
  data: Float32Array;
  capacity: number;
}

function views(sab: SharedArrayBuffer): RingViews {
  const capacity = (sab.byteLength - HEADER_BYTES) / 4;
  if (!(capacity > 0) || (capacity & (capacity - 1)) !== 0) throw new RangeError(`ring: ${sab.byteLength} bytes is not a ring buffer (capacity ${capacity} must be a power of two)`);
  return { header: new Int32Array(sab, 0, HEADER_SLOTS), level: new Float32Array(sab, 0, HEADER_SLOTS), data: new Float32Array(sab, HEADER_BYTES, capacity), capacity };
}

/** A new ring of at least `minSamples` samples (rounded up to a power of two), for audio at `sampleRate`. */
export function createRing(minSamples: number, sampleRate: number): SharedArrayBuffer {
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new Error('SharedArrayBuffer is not available: the page must be cross-origin isolated (COOP/COEP headers)');
  }
  let capacity = 1;
  while (capacity < minSamples) capacity *= 2;
  const sab = new SharedArrayBuffer(HEADER_BYTES + capacity * 4);
  new Int32Array(sab, 0, HEADER_SLOTS)[RATE] = Math.round(sampleRate);
  return sab;
}

/** Samples written and not yet read (counters wrap at 2^32; the difference is what counts). */
const distance = (write: number, read: number) => (write - read) >>> 0;

/** The worklet's end. */
export class RingWriter {
  private readonly v: RingViews;
  constructor(sab: SharedArrayBuffer) {
    this.v = views(sab);
  }

  /** Append samples; what does not fit is dropped and counted. Returns how many were written. */
  write(samples: Float32Array): number {
    const { header, data, capacity } = this.v;
    const w = Atomics.load(header, WRITE) >>> 0;
    const r = Atomics.load(header, READ) >>> 0;
    const free = capacity - distance(w, r);
    const n = Math.min(free, samples.length);
    const at = w & (capacity - 1);
    const first = Math.min(n, capacity - at);
    data.set(samples.subarray(0, first), at);
    if (n > first) data.set(samples.subarray(first, n), 0);
    if (n < samples.length) Atomics.add(header, DROPPED, samples.length - n);
    Atomics.store(header, WRITE, (w + n) | 0);
    if (n > 0) Atomics.notify(header, WRITE);
    return n;
  }

  /** The level meter's value: the peak of the last block, 0..1. */
  setLevel(peak: number): void {
    this.v.level[LEVEL] = peak;
  }

  close(): void {
    Atomics.store(this.v.header, CLOSED, 1);
    Atomics.notify(this.v.header, WRITE);
  }
}

/** The asr worker's end. */
export class RingReader {
  private readonly v: RingViews;
  constructor(sab: SharedArrayBuffer) {
    this.v = views(sab);
  }

  get capacity(): number {
    return this.v.capacity;
  }

  get sampleRate(): number {
    return Atomics.load(this.v.header, RATE);
  }

  /** Samples waiting to be read. */
  available(): number {
    const { header } = this.v;
    return distance(Atomics.load(header, WRITE) >>> 0, Atomics.load(header, READ) >>> 0);
  }

  /** Samples the writer had to drop because the ring was full. */
  get dropped(): number {
    return Atomics.load(this.v.header, DROPPED);
  }

  get closed(): boolean {
    return Atomics.load(this.v.header, CLOSED) === 1;
  }

  /** Take up to `max` waiting samples (all of them by default), oldest first. */
  read(max = Infinity): Float32Array {
    const { header, data, capacity } = this.v;
    const r = Atomics.load(header, READ) >>> 0;
    const n = Math.min(max, distance(Atomics.load(header, WRITE) >>> 0, r));
    const out = new Float32Array(n);
    const at = r & (capacity - 1);
    const first = Math.min(n, capacity - at);
    out.set(data.subarray(at, at + first));
    if (n > first) out.set(data.subarray(0, n - first), first);
    Atomics.store(header, READ, (r + n) | 0);
    return out;
  }

  /** Forget everything waiting (a fresh start). */
  skip(): void {
    const { header } = this.v;
    Atomics.store(header, READ, Atomics.load(header, WRITE));
  }
}

/** The level meter's value (any thread, no copy of the samples). */
export function ringLevel(sab: SharedArrayBuffer): number {
  return new Float32Array(sab, 0, HEADER_SLOTS)[LEVEL];
}

/** For tests: set the counters (to check the wrap at 2^32). */
export function setRingCounters(sab: SharedArrayBuffer, write: number, read: number): void {
  const h = new Int32Array(sab, 0, HEADER_SLOTS);
  Atomics.store(h, WRITE, write | 0);
  Atomics.store(h, READ, read | 0);
}
