// Signal-level augmentation for the corpus builder, each a pure function of its inputs and a seed:
//
//   speech power     mean square over the phone intervals that are not silence, or over the active 20 ms frames
//                    (within 35 dB of the loudest) when an utterance has no phones (Pico)
//   noise            white (Gaussian), pink (1/f power, shaped in the frequency domain) or babble (a sum of 3-7
//                    other talkers), scaled so that speech power / noise power = the SNR exactly (white noise, kept
//                    as the builder always made it, hits it in expectation: within a few hundredths of a dB)
//   reverberation    a synthetic room impulse response: a direct path, then Gaussian noise decaying by 60 dB in
//                    RT60 seconds, its energy set by a direct-to-reverberant ratio; convolution keeps the length
//                    and the timing of the direct sound, so phone boundaries stay where they were
//   band limiting    the telephone band (300-3400 Hz): zero-phase, raised-cosine edges 100 Hz wide below and
//                    300 Hz wide above
//   tilt             a microphone-like spectral tilt: gain(f) = slope * log2(f / 1 kHz) dB, for f within
//                    100 Hz..8 kHz (held flat beyond), zero-phase
//
// Speed perturbation lives in the builder (it is a resampling, resample.ts) and gain is a multiplication.
import { gaussian, rng, uniform } from './rng.ts';
import type { PhoneInterval } from './phones.ts';
import { SIL } from './phones.ts';

export type NoiseKind = 'white' | 'pink' | 'babble';
export const NOISE_KINDS: readonly NoiseKind[] = ['white', 'pink', 'babble'];

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(2, n)));

const twiddles = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

/** In-place radix-2 complex FFT with tabulated twiddles (long signals; mfcc.ts has the short-frame one). */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  let t = twiddles.get(n);
  if (!t) {
    const cos = new Float64Array(n / 2), sin = new Float64Array(n / 2), rev = new Uint32Array(n);
    for (let k = 0; k < n / 2; k++) { cos[k] = Math.cos((2 * Math.PI * k) / n); sin[k] = -Math.sin((2 * Math.PI * k) / n); }
    const bits = Math.log2(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0, x = i; b < bits; b++, x >>= 1) r = (r << 1) | (x & 1);
      rev[i] = r;
    }
    twiddles.set(n, (t = { cos, sin, rev }));
  }
  const { cos, sin, rev } = t;
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (i < j) {
      const a = re[i]; re[i] = re[j]; re[j] = a;
      const b = im[i]; im[i] = im[j]; im[j] = b;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1, step = n / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step], wi = sin[k * step];
        const a = i + k, b = a + half;
        const tr = re[b] * wr - im[b] * wi;
        const ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr; im[b] = im[a] - ti;
        re[a] += tr; im[a] += ti;
      }
    }
  }
}

/** Mean square of `x` over the given sample ranges. */
function powerOver(x: Float32Array, ranges: [number, number][]): number {
  let s = 0, c = 0;
  for (const [a, b] of ranges) for (let i = a; i < b; i++) { s += x[i] * x[i]; c++; }
  return c ? s / c : 0;
}

/** Sample ranges where speech is active: non-silence phones when given, else an energy detector. */
export function activeRanges(x: Float32Array, sampleRate: number, phones?: readonly PhoneInterval[]): [number, number][] {
  if (phones && phones.some(([p]) => p !== SIL)) {
    return phones.filter(([p]) => p !== SIL).map(([, s, e]) => [Math.round(s * sampleRate), Math.min(x.length, Math.round(e * sampleRate))]);
  }
  const w = Math.round(0.02 * sampleRate);
  const frames: number[] = [];
  for (let a = 0; a < x.length; a += w) {
    let s = 0;
    const b = Math.min(x.length, a + w);
    for (let i = a; i < b; i++) s += x[i] * x[i];
    frames.push(s / Math.max(1, b - a));
  }
  const peak = Math.max(0, ...frames);
  if (peak === 0) return [];
  const floor = peak * 10 ** (-35 / 10);
  const out: [number, number][] = [];
  frames.forEach((e, k) => { if (e >= floor) out.push([k * w, Math.min(x.length, (k + 1) * w)]); });
  return out;
}

/** Speech power (mean square over the active ranges). */
export function speechPower(x: Float32Array, sampleRate: number, phones?: readonly PhoneInterval[]): number {
  return powerOver(x, activeRanges(x, sampleRate, phones));
}

/** Unit-variance white Gaussian noise. */
export function whiteNoise(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gaussian(r);
  return out;
}

/** Real signal -> its spectrum (re, im) at FFT size `size` (zero-padded). */
function spectrum(x: ArrayLike<number>, size: number): [Float64Array, Float64Array] {
  const re = new Float64Array(size), im = new Float64Array(size);
  for (let i = 0; i < Math.min(x.length, size); i++) re[i] = x[i];
  fft(re, im);
  return [re, im];
}

/** Inverse FFT in place (conjugate trick), returning the real part scaled by 1/N. */
function inverseReal(re: Float64Array, im: Float64Array, n: number): Float32Array {
  for (let i = 0; i < im.length; i++) im[i] = -im[i];
  fft(re, im);
  const out = new Float32Array(n);
  const k = 1 / re.length;
  for (let i = 0; i < n; i++) out[i] = re[i] * k;
  return out;
}

/** Zero-phase filtering by a real gain per frequency (Hz); zero padding keeps wrap-around out of the signal. */
export function filterByGain(x: Float32Array, sampleRate: number, gain: (hz: number) => number): Float32Array {
  const size = nextPow2(x.length + 8192);
  const [re, im] = spectrum(x, size);
  for (let k = 0; k <= size / 2; k++) {
    const g = gain((k * sampleRate) / size);
    re[k] *= g; im[k] *= g;
    if (k > 0 && k < size / 2) { re[size - k] *= g; im[size - k] *= g; }
  }
  return inverseReal(re, im, x.length);
}

/** Unit-power pink noise (power density proportional to 1/f from 20 Hz up; nothing below). */
export function pinkNoise(n: number, seed: number, sampleRate = 16000): Float32Array {
  const y = filterByGain(whiteNoise(n, seed), sampleRate, (hz) => (hz < 20 ? 0 : 1 / Math.sqrt(hz)));
  return scaleToUnitPower(y);
}

function scaleToUnitPower(y: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] * y[i];
  const k = s > 0 ? 1 / Math.sqrt(s / y.length) : 0;
  for (let i = 0; i < y.length; i++) y[i] *= k;
  return y;
}

/**
 * Unit-power babble of length n: 3-7 talkers drawn from `bank` (clean utterances at the same rate), each from a
 * random offset, looped to fill n, each scaled to unit power before summing.
 */
export function babbleNoise(n: number, seed: number, bank: readonly Float32Array[]): Float32Array {
  if (!bank.length) throw new Error('babbleNoise: the babble bank is empty');
  const r = rng(seed);
  const talkers = 3 + Math.floor(r() * 5);
  const out = new Float32Array(n);
  for (let t = 0; t < talkers; t++) {
    const src = bank[Math.floor(r() * bank.length)];
    const p = Math.sqrt(powerOver(src, [[0, src.length]])) || 1;
    let j = Math.floor(r() * src.length);
    for (let i = 0; i < n; i++) {
      out[i] += src[j] / p;
      if (++j >= src.length) j = 0;
    }
  }
  return scaleToUnitPower(out);
}

/** Add `noise` (any power) to `x` in place so that `power` / noise power = `snrDb`. */
export function addAtSnr(x: Float32Array, noise: Float32Array, power: number, snrDb: number): void {
  const np = powerOver(noise, [[0, noise.length]]);
  if (!(np > 0) || !(power > 0)) return;
  const k = Math.sqrt(power / 10 ** (snrDb / 10) / np);
  for (let i = 0; i < x.length; i++) x[i] += k * noise[i];
}

/**
 * A synthetic room impulse response: h[0] = direct sound, then (from 2.5 ms) Gaussian noise with an envelope
 * falling 60 dB in rt60 s, scaled so that direct / reverberant energy = drrDb; the whole is scaled to unit energy.
 * Length: 1.2 rt60 (the tail is then 72 dB down).
 */
export function roomImpulseResponse(rt60: number, drrDb: number, seed: number, sampleRate = 16000): Float32Array {
  const n = Math.max(2, Math.round(1.2 * rt60 * sampleRate));
  const h = new Float32Array(n);
  const r = rng(seed);
  const start = Math.round(0.0025 * sampleRate);
  const decay = (3 * Math.LN10) / (rt60 * sampleRate); // amplitude: exp(-decay n) falls 60 dB in rt60
  let tail = 0;
  for (let i = start; i < n; i++) {
    h[i] = gaussian(r) * Math.exp(-decay * i);
    tail += h[i] * h[i];
  }
  const k = tail > 0 ? Math.sqrt(10 ** (-drrDb / 10) / tail) : 0;
  for (let i = start; i < n; i++) h[i] *= k;
  h[0] = 1;
  let e = 0;
  for (let i = 0; i < n; i++) e += h[i] * h[i];
  const unit = 1 / Math.sqrt(e);
  for (let i = 0; i < n; i++) h[i] *= unit;
  return h;
}

/** x convolved with h, truncated to x's length (FFT convolution). */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  const size = nextPow2(x.length + h.length);
  const [xr, xi] = spectrum(x, size);
  const [hr, hi] = spectrum(h, size);
  for (let k = 0; k < size; k++) {
    const a = xr[k] * hr[k] - xi[k] * hi[k];
    const b = xr[k] * hi[k] + xi[k] * hr[k];
    xr[k] = a; xi[k] = b;
  }
  return inverseReal(xr, xi, x.length);
}

/** RT60 of an impulse response by Schroeder backward integration, fitted on the -5..-25 dB decay (T20 x 3). */
export function measureRt60(h: Float32Array, sampleRate = 16000): number {
  const edc = new Float64Array(h.length);
  let s = 0;
  for (let i = h.length - 1; i >= 0; i--) { s += h[i] * h[i]; edc[i] = s; }
  const db = (i: number) => 10 * Math.log10(edc[i] / edc[0]);
  // least-squares line through the points between -5 and -25 dB
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < h.length; i++) {
    const y = db(i);
    if (y > -5) continue;
    if (y < -25) break;
    const x = i / sampleRate;
    n++; sx += x; sy += y; sxx += x * x; sxy += x * y;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx); // dB per second
  return -60 / slope;
}

export interface Band {
  lo: number;
  hi: number;
}
export const TELEPHONE: Band = { lo: 300, hi: 3400 };

/** Band limiting, zero-phase, with raised-cosine edges (100 Hz wide below lo, 300 Hz wide above hi). */
export function bandLimit(x: Float32Array, sampleRate: number, band: Band = TELEPHONE): Float32Array {
  const loEdge = 100, hiEdge = 300;
  return filterByGain(x, sampleRate, (f) => {
    if (f <= band.lo - loEdge || f >= band.hi + hiEdge) return 0;
    if (f < band.lo) return 0.5 - 0.5 * Math.cos((Math.PI * (f - (band.lo - loEdge))) / loEdge);
    if (f > band.hi) return 0.5 + 0.5 * Math.cos((Math.PI * (f - band.hi)) / hiEdge);
    return 1;
  });
}

/** Gain in dB of the tilt filter at frequency f. */
export function tiltDb(f: number, dbPerOctave: number): number {
  return dbPerOctave * Math.log2(Math.min(8000, Math.max(100, f)) / 1000);
}

/** A microphone-like spectral tilt of `dbPerOctave` around 1 kHz (zero-phase). */
export function spectralTilt(x: Float32Array, sampleRate: number, dbPerOctave: number): Float32Array {
  return filterByGain(x, sampleRate, (f) => 10 ** (tiltDb(f, dbPerOctave) / 20));
}

/** A random draw in [lo, hi] (helper for option ranges). */
export function draw(r: () => number, [lo, hi]: readonly [number, number]): number {
  return uniform(r, lo, hi);
}
