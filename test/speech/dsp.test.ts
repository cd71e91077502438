import { describe, expect, it } from 'vitest';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import { cepstra, deltas, frameCount, mfcc, MFCC_DIM } from '../../src/speech/mfcc.ts';
import { resample, Resampler } from '../../src/speech/resample.ts';

const seed = freshSeed();

function tone(f: number, rate: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * f * i) / rate));
}
function rmsDb(x: Float32Array, a: number, b: number): number {
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return 20 * Math.log10(Math.sqrt(s / (b - a)) / Math.SQRT1_2);
}

describe('resampler', () => {
  it.each([44100, 48000, 22050, 32000, 11025])('%d Hz -> 16 kHz keeps the passband and suppresses aliases', (rate) => {
    for (const f of [100, 1000, 4000, 6000].filter((f) => f <= 0.4 * Math.min(rate, 16000))) {
      const y = resample(tone(f, rate, rate), rate, 16000);
      expect(y.length).toBe(16000);
      expect(Math.abs(rmsDb(y, 2000, 14000)), `${f} Hz passband gain`).toBeLessThan(0.05);
    }
    for (const f of [8600, 9000, 11000, 0.45 * rate].filter((f) => f > 8500 && f < rate / 2)) {
      const y = resample(tone(f, rate, rate), rate, 16000);
      expect(rmsDb(y, 2000, 14000), `${f} Hz alias level`).toBeLessThan(-80);
    }
  });
  it('8 kHz -> 16 kHz interpolates a tone without images', () => {
    const y = resample(tone(1500, 8000, 8000), 8000, 16000);
    expect(y.length).toBe(16000);
    let e = 0;
    for (let i = 1000; i < 15000; i++) e = Math.max(e, Math.abs(y[i] - Math.sin((2 * Math.PI * 1500 * i) / 16000)));
    expect(e).toBeLessThan(1e-3);
  });
  it('chunked streaming equals one-shot output exactly, for awkward chunk sizes (seed in message)', () => {
    const rand = seeded(seed);
    for (const [a, b] of [[44100, 16000], [22050, 16000], [16000, 16000], [8000, 16000], [48000, 16000]]) {
      const x = randomNormal(20011, rand, 0.3);
      const full = resample(x, a, b);
      const rs = new Resampler(a, b);
      const parts: Float32Array[] = [];
      for (let i = 0; i < x.length;) {
        const c = 1 + Math.floor(rand() * (rand() < 0.3 ? 5 : 3000));
        parts.push(rs.push(x.subarray(i, i + c)));
        i += c;
      }
      parts.push(rs.flush());
      const joined = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let o = 0;
      for (const p of parts) { joined.set(p, o); o += p.length; }
      expect(joined.length, `seed ${seed} ${a}->${b}`).toBe(full.length);
      expect(Array.from(joined).every((v, i) => v === full[i]), `seed ${seed} ${a}->${b}`).toBe(true);
    }
  });
});

/** MFCC straight from the definition in src/speech/mfcc.ts's header: naive DFT, float64 throughout. */
function referenceCepstra(x: Float32Array): number[][] {
  const sr = 16000, win = 400, hop = 320, nfft = 512, nmel = 23, nceps = 13;
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  const lo = mel(20), hi = mel(8000);
  const frames: number[][] = [];
  for (let j = 0; j + win <= x.length; j += hop) {
    const f = Array.from(x.subarray(j, j + win), Number);
    const mean = f.reduce((a, v) => a + v, 0) / win;
    const d = f.map((v) => v - mean);
    const p = d.map((v, i) => v - 0.97 * d[Math.max(0, i - 1)]);
    const w = p.map((v, i) => v * Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (win - 1)), 0.85));
    const pow: number[] = [];
    for (let k = 0; k <= nfft / 2; k++) {
      let re = 0, im = 0;
      for (let i = 0; i < win; i++) { re += w[i] * Math.cos((2 * Math.PI * k * i) / nfft); im -= w[i] * Math.sin((2 * Math.PI * k * i) / nfft); }
      pow.push(re * re + im * im);
    }
    const logmel: number[] = [];
    for (let m = 0; m < nmel; m++) {
      const l = lo + (m * (hi - lo)) / (nmel + 1), c = lo + ((m + 1) * (hi - lo)) / (nmel + 1), r = lo + ((m + 2) * (hi - lo)) / (nmel + 1);
      let e = 0;
      for (let k = 0; k <= nfft / 2; k++) {
        const z = mel((k * sr) / nfft);
        if (z > l && z < r) e += pow[k] * (z <= c ? (z - l) / (c - l) : (r - z) / (r - c));
      }
      logmel.push(Math.log(Math.max(e, 2 ** -23)));
    }
    const ceps: number[] = [];
    for (let k = 0; k < nceps; k++) {
      let s = 0;
      for (let m = 0; m < nmel; m++) s += logmel[m] * Math.cos((Math.PI * k * (m + 0.5)) / nmel);
      s *= k === 0 ? Math.sqrt(1 / nmel) : Math.sqrt(2 / nmel);
      ceps.push(s * (1 + 11 * Math.sin((Math.PI * k) / 22)));
    }
    frames.push(ceps);
  }
  return frames;
}

describe('MFCC', () => {
  it('frames align with the conv front end: 25 ms window, 20 ms hop, no padding', () => {
    expect(frameCount(399)).toBe(0);
    expect(frameCount(400)).toBe(1);
    expect(frameCount(719)).toBe(1);
    expect(frameCount(720)).toBe(2);
    expect(frameCount(16000)).toBe(49);
  });
  it('static cepstra match the definition computed independently (seed in message)', () => {
    const rand = seeded(seed);
    const n = 400 + 320 * 11 + 123;
    const noise = randomNormal(n, rand, 0.05);
    const x = Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 0.2 * Math.sin((2 * Math.PI * 2900 * i) / 16000 + 1) + noise[i]);
    const ref = referenceCepstra(x);
    const got = cepstra(x);
    expect(got.frames).toBe(ref.length);
    let worst = 0;
    for (let t = 0; t < ref.length; t++) for (let k = 0; k < 13; k++) worst = Math.max(worst, Math.abs(got.data[t * 13 + k] - ref[t][k]) / (1 + Math.abs(ref[t][k])));
    expect(worst, `seed ${seed}`).toBeLessThan(1e-5);
  });
  it('deltas follow the +-2 regression: a linear ramp gives its slope, edges repeat', () => {
    const frames = 9, dim = 2;
    const x = Float32Array.from({ length: frames * dim }, (_, i) => (i % 2 ? -0.5 : 3) * Math.floor(i / 2) + 1);
    const d = deltas(x, frames, dim);
    for (let t = 2; t < frames - 2; t++) { expect(d[t * 2]).toBeCloseTo(3, 5); expect(d[t * 2 + 1]).toBeCloseTo(-0.5, 5); }
    // t = 0: (x1 - x0 + 2 (x2 - x0)) / 10 with x_{-1} = x_{-2} = x0
    expect(d[0]).toBeCloseTo((3 + 2 * 6) / 10, 5);
  });
  it('full features are (l, 39): cepstra, deltas, delta-deltas', () => {
    const x = randomNormal(16000, seeded(seed), 0.1);
    const f = mfcc(x);
    expect(f.dim).toBe(MFCC_DIM);
    expect(f.frames).toBe(49);
    const c = cepstra(x);
    const d = deltas(c.data, c.frames, 13);
    const dd = deltas(d, c.frames, 13);
    for (const t of [0, 17, 48]) for (const k of [0, 5, 12]) {
      expect(f.data[t * 39 + k]).toBe(c.data[t * 13 + k]);
      expect(f.data[t * 39 + 13 + k]).toBe(d[t * 13 + k]);
      expect(f.data[t * 39 + 26 + k]).toBe(dd[t * 13 + k]);
    }
    expect(Array.from(f.data).every(Number.isFinite)).toBe(true);
  });
});
