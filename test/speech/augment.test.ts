import { describe, expect, it } from 'vitest';
import {
  activeRanges, addAtSnr, babbleNoise, bandLimit, convolve, measureRt60, pinkNoise, roomImpulseResponse, spectralTilt, speechPower,
  tiltDb, whiteNoise,
} from '../../src/speech/augment.ts';
import { fft } from '../../src/speech/mfcc.ts';
import { resample } from '../../src/speech/resample.ts';

const SR = 16000;
const db = (x: number) => 10 * Math.log10(x);
const power = (x: Float32Array, a = 0, b = x.length) => {
  let s = 0;
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return s / (b - a);
};
const tone = (hz: number, seconds: number, amp = 0.5) => Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR));
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** A speech-like test signal: 1.5 s of a harmonic buzz with a syllable envelope, between 0.3 s silences. */
function fakeSpeech(): { x: Float32Array; phones: [string, number, number][] } {
  const n = Math.round(2.1 * SR);
  const x = new Float32Array(n);
  for (let i = Math.round(0.3 * SR); i < Math.round(1.8 * SR); i++) {
    const t = i / SR;
    let v = 0;
    for (let h = 1; h <= 20; h++) v += Math.sin(2 * Math.PI * 120 * h * t) / h;
    x[i] = 0.2 * v * (0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * t));
  }
  return { x, phones: [['sil', 0, 0.3], ['aa', 0.3, 1.8], ['sil', 1.8, 2.1]] };
}

/** Power in the FFT bins within [lo, hi] Hz. */
function bandPower(x: Float32Array, lo: number, hi: number): number {
  const size = 2 ** Math.ceil(Math.log2(x.length));
  const re = new Float64Array(size), im = new Float64Array(size);
  re.set(x);
  fft(re, im);
  let s = 0;
  for (let k = Math.ceil((lo * size) / SR); k <= Math.floor((hi * size) / SR); k++) s += re[k] * re[k] + im[k] * im[k];
  return s;
}

describe('augmentation', () => {
  it('speech power: phones when given, an energy detector when not, and both agree on a clean signal', () => {
    const { x, phones } = fakeSpeech();
    const byPhones = speechPower(x, SR, phones);
    const byEnergy = speechPower(x, SR);
    expect(byPhones).toBeCloseTo(power(x, 0.3 * SR, 1.8 * SR), 10);
    expect(Math.abs(db(byEnergy / byPhones))).toBeLessThan(0.3);
    const ranges = activeRanges(x, SR);
    expect(ranges[0][0]).toBeGreaterThanOrEqual(0.28 * SR);
    expect(ranges[ranges.length - 1][1]).toBeLessThanOrEqual(1.82 * SR);
  });

  it('adds white, pink and babble noise at the requested SNR, measured back within 0.5 dB', () => {
    const { x, phones } = fakeSpeech();
    const p = speechPower(x, SR, phones);
    const bank = [tone(220, 1.3), tone(330, 0.7), fakeSpeech().x];
    for (const snr of [0, 10, 25]) {
      for (const noise of [whiteNoise(x.length, 7), pinkNoise(x.length, 7), babbleNoise(x.length, 7, bank)]) {
        const y = x.slice();
        addAtSnr(y, noise, p, snr);
        const n = y.map((v, i) => v - x[i]);
        expect(Math.abs(db(p / power(n)) - snr)).toBeLessThan(0.5);
      }
    }
  });

  it('pink noise falls about 3 dB per octave; white noise is flat', () => {
    const pink = pinkNoise(4 * SR, 3), white = whiteNoise(4 * SR, 3);
    expect(power(pink)).toBeCloseTo(1, 6);
    // 1/f: every octave holds the same power (density falls 3 dB per octave)
    for (const [lo, hi] of [[250, 500], [1000, 2000], [2000, 4000]]) {
      expect(Math.abs(db(bandPower(pink, 2 * lo, 2 * hi) / bandPower(pink, lo, hi)))).toBeLessThan(0.5);
    }
    const whiteRatio = db(bandPower(white, 2000, 4000) / bandPower(white, 1000, 2000));
    expect(Math.abs(whiteRatio - db(2))).toBeLessThan(0.3); // twice the bandwidth, twice the power
  });

  it('synthetic rooms decay with the RT60 asked for, keep the direct sound first, and convolve like a direct sum', () => {
    for (const rt60 of [0.2, 0.5, 0.9]) {
      const h = roomImpulseResponse(rt60, 3, 11);
      expect(Math.abs(measureRt60(h) / rt60 - 1)).toBeLessThan(0.1);
      expect(power(h) * h.length).toBeCloseTo(1, 6); // unit energy
      expect(Math.abs(h[0])).toBe(Math.max(...h.map(Math.abs)));
    }
    const h = roomImpulseResponse(0.3, 6, 5);
    const x = whiteNoise(3000, 1);
    const y = convolve(x, h);
    expect(y.length).toBe(x.length);
    for (const i of [0, 17, 1000, 2999]) {
      let s = 0;
      for (let j = 0; j <= i && j < h.length; j++) s += h[j] * x[i - j];
      expect(y[i]).toBeCloseTo(s, 4);
    }
    expect(same(roomImpulseResponse(0.4, 5, 9), roomImpulseResponse(0.4, 5, 9))).toBe(true);
    expect(same(roomImpulseResponse(0.4, 5, 9), roomImpulseResponse(0.4, 5, 10))).toBe(false);
  });

  it('telephone band limiting passes 300-3400 Hz and removes what lies outside', () => {
    const gainAt = (hz: number) => {
      const x = tone(hz, 1);
      const y = bandLimit(x, SR);
      return db(power(y, 2000, 14000) / power(x, 2000, 14000));
    };
    for (const hz of [500, 1000, 3000]) expect(Math.abs(gainAt(hz))).toBeLessThan(0.1);
    for (const hz of [100, 150, 4000, 6000]) expect(gainAt(hz)).toBeLessThan(-40);
  });

  it('spectral tilt gives the slope asked for, 0 dB at 1 kHz', () => {
    for (const slope of [-3, 2]) {
      const gainAt = (hz: number) => {
        const x = tone(hz, 1);
        return db(power(spectralTilt(x, SR, slope), 2000, 14000) / power(x, 2000, 14000));
      };
      expect(Math.abs(gainAt(1000))).toBeLessThan(0.05);
      expect(Math.abs(gainAt(4000) - 2 * slope)).toBeLessThan(0.1);
      expect(Math.abs(gainAt(250) + 2 * slope)).toBeLessThan(0.1);
      expect(tiltDb(20, slope)).toBeCloseTo(tiltDb(100, slope), 12);
    }
  });

  it('speed perturbation through the resampler changes the duration by 1 / speed', () => {
    const x = tone(440, 1);
    for (const speed of [0.9, 1.1]) {
      const y = resample(x, Math.round(SR * speed), SR);
      expect(Math.abs(y.length - x.length / speed)).toBeLessThanOrEqual(1);
    }
  });

  it('every generator is a function of its seed', () => {
    expect(same(whiteNoise(500, 4), whiteNoise(500, 4))).toBe(true);
    expect(same(pinkNoise(500, 4), pinkNoise(500, 4))).toBe(true);
    expect(same(pinkNoise(500, 4), pinkNoise(500, 5))).toBe(false);
    const bank = [tone(200, 0.5), tone(300, 0.3)];
    expect(same(babbleNoise(800, 2, bank), babbleNoise(800, 2, bank))).toBe(true);
    expect(same(babbleNoise(800, 2, bank), babbleNoise(800, 3, bank))).toBe(false);
  });
});
