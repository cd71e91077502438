// MFCC features for HuBERT's first iteration (13 cepstra + deltas + delta-deltas = 39 per frame), computed
// in the Kaldi style that HuBERT's recipe used (torchaudio.compliance.kaldi.mfcc defaults, no energy, no dither).
//
// Frame alignment (the documented choice): the model's frames come from the conv feature extractor, whose
// receptive field is 400 samples (25 ms) with a hop of 320 samples (20 ms) and no padding, so model frame j
// sees samples [320 j, 320 j + 400). MFCC frame j uses exactly that window: 25 ms window, 20 ms hop, centred on
// the same sample (320 j + 200) as the conv receptive field. Both give floor((n - 400) / 320) + 1 frames for
// n >= 400 samples (0 frames below), so MFCC targets and model outputs line up one to one with no resampling.
//
// Per frame: remove the DC offset; pre-emphasis x[i] -= 0.97 x[i-1] (x[-1] := x[0]); Povey window
// (Hann^0.85, i.e. (0.5 - 0.5 cos(2 pi i / 399))^0.85); zero-pad to 512; power spectrum |X_k|^2, k = 0..256;
// 23 triangular mel filters (mel = 1127 ln(1 + f / 700)) spanning 20 Hz .. 8000 Hz, triangles in the mel
// domain; log(max(energy, FLT_EPSILON)); orthonormal DCT-II keeping c0..c12; cepstral lifter
// c_k *= 1 + 11 sin(pi k / 22). Deltas: d_t = sum_{n=1..2} n (c_{t+n} - c_{t-n}) / 10 with edge frames
// repeated; delta-deltas are deltas of the deltas. Layout (l, 39): [c0..c12, d0..d12, dd0..dd12].

export const FRAME_WINDOW = 400;
export const FRAME_HOP = 320;
export const MFCC_DIM = 39;

export interface MfccOptions {
  sampleRate?: number; // 16000
  numCeps?: number; // 13
  numMel?: number; // 23
  lowHz?: number; // 20
  highHz?: number; // Nyquist
  preemph?: number; // 0.97
  lifter?: number; // 22
  fftSize?: number; // 512
}

/** Model frames (and MFCC frames) for n samples at 16 kHz. */
export function frameCount(samples: number): number {
  return samples < FRAME_WINDOW ? 0 : Math.floor((samples - FRAME_WINDOW) / FRAME_HOP) + 1;
}

/** Time in seconds of the centre of frame j. */
export function frameCentre(j: number, sampleRate = 16000): number {
  return (j * FRAME_HOP + FRAME_WINDOW / 2) / sampleRate;
}

export function melScale(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

/** Mel filterbank, numMel x (fftSize/2 + 1), Kaldi style (triangles in the mel domain). */
export function melFilterbank(numMel: number, fftSize: number, sampleRate: number, lowHz: number, highHz: number): Float64Array[] {
  const bins = fftSize / 2 + 1;
  const lo = melScale(lowHz), hi = melScale(highHz);
  const delta = (hi - lo) / (numMel + 1);
  const banks: Float64Array[] = [];
  for (let m = 0; m < numMel; m++) {
    const left = lo + m * delta, centre = lo + (m + 1) * delta, right = lo + (m + 2) * delta;
    const w = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const mel = melScale((k * sampleRate) / fftSize);
      if (mel > left && mel < right) w[k] = mel <= centre ? (mel - left) / (centre - left) : (right - mel) / (right - centre);
    }
    banks.push(w);
  }
  return banks;
}

/** In-place radix-2 complex FFT (re, im of length 2^m). */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const tr = re[b] * cr - im[b] * ci;
        const ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr; im[b] = im[a] - ti;
        re[a] += tr; im[a] += ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/** Static cepstra, (l, numCeps) row-major. */
export function cepstra(samples: Float32Array, opts: MfccOptions = {}): { data: Float32Array; frames: number; dim: number } {
  const sr = opts.sampleRate ?? 16000;
  const numCeps = opts.numCeps ?? 13;
  const numMel = opts.numMel ?? 23;
  const fftSize = opts.fftSize ?? 512;
  const preemph = opts.preemph ?? 0.97;
  const lifter = opts.lifter ?? 22;
  const banks = melFilterbank(numMel, fftSize, sr, opts.lowHz ?? 20, opts.highHz ?? sr / 2);
  const window = new Float64Array(FRAME_WINDOW);
  for (let i = 0; i < FRAME_WINDOW; i++) window[i] = Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (FRAME_WINDOW - 1)), 0.85);
  // DCT-II, orthonormal
  const dct: Float64Array[] = [];
  for (let k = 0; k < numCeps; k++) {
    const row = new Float64Array(numMel);
    const s = k === 0 ? Math.sqrt(1 / numMel) : Math.sqrt(2 / numMel);
    for (let m = 0; m < numMel; m++) row[m] = s * Math.cos((Math.PI / numMel) * (m + 0.5) * k);
    dct.push(row);
  }
  const lift = Float64Array.from({ length: numCeps }, (_, k) => 1 + (lifter / 2) * Math.sin((Math.PI * k) / lifter));
  const frames = frameCount(samples.length);
  const data = new Float32Array(frames * numCeps);
  const re = new Float64Array(fftSize), im = new Float64Array(fftSize);
  const logMel = new Float64Array(numMel);
  const bins = fftSize / 2 + 1;
  const power = new Float64Array(bins);
  for (let j = 0; j < frames; j++) {
    const off = j * FRAME_HOP;
    let mean = 0;
    for (let i = 0; i < FRAME_WINDOW; i++) mean += samples[off + i];
    mean /= FRAME_WINDOW;
    re.fill(0);
    im.fill(0);
    for (let i = 0; i < FRAME_WINDOW; i++) re[i] = samples[off + i] - mean;
    for (let i = FRAME_WINDOW - 1; i > 0; i--) re[i] -= preemph * re[i - 1];
    re[0] -= preemph * re[0];
    for (let i = 0; i < FRAME_WINDOW; i++) re[i] *= window[i];
    fft(re, im);
    for (let k = 0; k < bins; k++) power[k] = re[k] * re[k] + im[k] * im[k];
    for (let m = 0; m < numMel; m++) {
      const w = banks[m];
      let e = 0;
      for (let k = 0; k < bins; k++) if (w[k] !== 0) e += w[k] * power[k];
      logMel[m] = Math.log(Math.max(e, 1.1920928955078125e-7));
    }
    for (let k = 0; k < numCeps; k++) {
      let c = 0;
      for (let m = 0; m < numMel; m++) c += dct[k][m] * logMel[m];
      data[j * numCeps + k] = c * lift[k];
    }
  }
  return { data, frames, dim: numCeps };
}

/** Regression deltas over +-2 frames with edge frames repeated; x is (l, dim). */
export function deltas(x: Float32Array, frames: number, dim: number): Float32Array {
  const out = new Float32Array(frames * dim);
  const at = (t: number, c: number) => x[Math.min(frames - 1, Math.max(0, t)) * dim + c];
  for (let t = 0; t < frames; t++) {
    for (let c = 0; c < dim; c++) {
      out[t * dim + c] = (at(t + 1, c) - at(t - 1, c) + 2 * (at(t + 2, c) - at(t - 2, c))) / 10;
    }
  }
  return out;
}

/** MFCC + deltas + delta-deltas, (l, 39) row-major with l = frameCount(samples.length). */
export function mfcc(samples: Float32Array, opts: MfccOptions = {}): { data: Float32Array; frames: number; dim: number } {
  const { data: c, frames, dim } = cepstra(samples, opts);
  const d = deltas(c, frames, dim);
  const dd = deltas(d, frames, dim);
  const full = new Float32Array(frames * dim * 3);
  for (let t = 0; t < frames; t++) {
    full.set(c.subarray(t * dim, (t + 1) * dim), t * dim * 3);
    full.set(d.subarray(t * dim, (t + 1) * dim), t * dim * 3 + dim);
    full.set(dd.subarray(t * dim, (t + 1) * dim), t * dim * 3 + 2 * dim);
  }
  return { data: full, frames, dim: dim * 3 };
}
