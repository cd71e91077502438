import { describe, expect, it } from 'vitest';
import { createRing, RingReader, RingWriter, ringLevel, setRingCounters } from '../../src/audio/ring.ts';

const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);

describe('SharedArrayBuffer sample ring', () => {
  it('rounds the capacity up to a power of two and keeps the sample rate', () => {
    const sab = createRing(1000, 44100);
    const r = new RingReader(sab);
    expect(r.capacity).toBe(1024);
    expect(r.sampleRate).toBe(44100);
    expect(r.available()).toBe(0);
    expect(r.read().length).toBe(0);
  });

  it('delivers samples in order across the wrap of the buffer, in blocks of any size', () => {
    const sab = createRing(64, 48000);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const got: number[] = [];
    let next = 0;
    // Blocks of 128/3 -> awkward sizes; read in other awkward sizes, many times around the 64-sample buffer.
    for (let i = 0; i < 200; i++) {
      const n = [7, 13, 1, 40, 0, 23][i % 6];
      expect(w.write(ramp(next, n))).toBe(n);
      next += n;
      got.push(...r.read([5, 64, 17][i % 3]));
      got.push(...r.read());
    }
    expect(got).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(r.dropped).toBe(0);
  });

  it('drops and counts what does not fit when the reader falls behind, never overwriting unread samples', () => {
    const sab = createRing(16, 16000);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    expect(w.write(ramp(0, 10))).toBe(10);
    expect(w.write(ramp(10, 10))).toBe(6);
    expect(r.available()).toBe(16);
    expect(r.dropped).toBe(4);
    expect([...r.read(4)]).toEqual([0, 1, 2, 3]);
    expect(w.write(ramp(100, 4))).toBe(4);
    expect([...r.read()]).toEqual([...ramp(4, 12), 100, 101, 102, 103]);
  });

  it('keeps counting correctly when the counters wrap at 2^32', () => {
    const sab = createRing(32, 16000);
    setRingCounters(sab, 2 ** 32 - 20, 2 ** 32 - 20);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const got: number[] = [];
    for (let k = 0; k < 10; k++) {
      expect(w.write(ramp(k * 9, 9))).toBe(9);
      expect(r.available()).toBe(9);
      got.push(...r.read());
    }
    expect(got).toEqual(Array.from({ length: 90 }, (_, i) => i));
  });

  it('skip() forgets what waits; the level and the closed flag are shared', () => {
    const sab = createRing(16, 16000);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    w.write(ramp(0, 5));
    r.skip();
    expect(r.available()).toBe(0);
    w.setLevel(0.5);
    expect(ringLevel(sab)).toBe(0.5);
    expect(r.closed).toBe(false);
    w.close();
    expect(r.closed).toBe(true);
  });

  it('refuses a buffer that is not a ring', () => {
    expect(() => new RingReader(new SharedArrayBuffer(32 + 12))).toThrow(/power of two/);
  });
});
