import { describe, expect, it } from 'vitest';
import { AudioFormatError, decodeAudio, decodeTo16k, toMono } from '../../src/speech/audio.ts';
import { decodeFlac } from '../../src/speech/flac.ts';
import { encodeWav16, wavInfo } from '../../src/speech/wav.ts';
import { freshSeed } from '../../src/kernels/random.ts';
import { encodeFlac, makeSphere, makeWav, testSignal, type SubframeKind } from './fixtures.ts';

const seed = freshSeed();

describe('WAV', () => {
  const n = 777;
  const ints = (bits: number, s: number) => testSignal(n, bits, seed + s);
  it.each([
    ['u8', 8], ['i16', 16], ['i24', 24], ['i32', 32],
  ] as const)('decodes %s PCM, stereo, odd rate, plain and extensible (seed %d)', (kind, bits) => {
    const chans = [ints(bits, 1), ints(bits, 2)];
    for (const ext of [false, true]) {
      const a = decodeAudio(makeWav(chans, 22051, kind, ext));
      expect(a.sampleRate).toBe(22051);
      expect(a.channels.length).toBe(2);
      for (let c = 0; c < 2; c++) for (let i = 0; i < n; i++) expect(a.channels[c][i], `seed ${seed}`).toBeCloseTo(chans[c][i] / 2 ** (bits - 1), 6);
    }
  });
  it('decodes float32 with 3 channels and mixes to mono', () => {
    const chans = [0, 1, 2].map((c) => Array.from({ length: n }, (_, i) => Math.sin(i * (c + 1) * 0.01) * 0.5));
    const a = decodeAudio(makeWav(chans, 48000, 'f32'));
    const m = toMono(a);
    for (let i = 0; i < n; i++) expect(m[i]).toBeCloseTo((chans[0][i] + chans[1][i] + chans[2][i]) / 3, 6);
  });
  it('16-bit encode round-trips exactly and wavInfo reads the header', () => {
    const x = Float32Array.from(ints(16, 3), (v) => v / 32768);
    const bytes = encodeWav16(x, 16000);
    expect(wavInfo(bytes)).toEqual({ sampleRate: 16000, samples: n, channels: 1 });
    const back = decodeAudio(bytes).channels[0];
    for (let i = 0; i < n; i++) expect(back[i]).toBe(x[i]);
  });
  it('reports truncated, empty and unknown files', () => {
    const good = makeWav([ints(16, 4)], 16000, 'i16');
    expect(() => decodeAudio(good.subarray(0, good.length - 100))).toThrow(/truncated/);
    expect(() => decodeAudio(new Uint8Array(0))).toThrow(/empty/);
    expect(() => decodeAudio(new TextEncoder().encode('ID3 this is an mp3, honest'))).toThrow(AudioFormatError);
    expect(() => decodeAudio(good.subarray(0, 30))).toThrow(AudioFormatError);
  });
  it('decodes NIST SPHERE (TIMIT)', () => {
    const s = ints(16, 5);
    const a = decodeAudio(makeSphere(s));
    expect(a.sampleRate).toBe(16000);
    expect(Array.from(a.channels[0], (v) => Math.round(v * 32768))).toEqual(s);
  });
});

describe('FLAC', () => {
  const cases: { name: string; bps: number; nc: number; kinds: SubframeKind[]; stereo?: number[]; rate: number; wasted?: boolean }[] = [
    { name: 'mono 16-bit fixed orders 0-4', bps: 16, nc: 1, kinds: ['fixed0', 'fixed1', 'fixed2', 'fixed3', 'fixed4'], rate: 16000 },
    { name: 'mono 16-bit LPC, verbatim, constant', bps: 16, nc: 1, kinds: ['lpc', 'verbatim', 'constant'], rate: 16000 },
    { name: 'stereo 16-bit all channel assignments', bps: 16, nc: 2, kinds: ['fixed2', 'lpc'], stereo: [1, 8, 9, 10], rate: 44100 },
    { name: 'stereo 24-bit mid/side LPC', bps: 24, nc: 2, kinds: ['lpc', 'fixed3'], stereo: [10, 8], rate: 22050 },
    { name: 'mono 12-bit wasted bits', bps: 12, nc: 1, kinds: ['fixed1', 'verbatim'], rate: 8000, wasted: true },
  ];
  it.each(cases)('decodes $name exactly', (c) => {
    const n = 3001; // not a multiple of the block size: a short last block
    let chans = Array.from({ length: c.nc }, (_, k) => testSignal(n, c.bps, seed + 10 + k));
    if (c.wasted) chans = chans.map((x) => x.map((v) => v - (v % 4)));
    // a constant stretch so the constant subframe is used
    for (const x of chans) for (let i = 2304; i < 2304 + 577 && i < n; i++) x[i] = 5;
    const bytes = encodeFlac(chans, { sampleRate: c.rate, bps: c.bps, blockSize: 576, kinds: c.kinds, stereo: c.stereo, wasted: c.wasted });
    const a = decodeFlac(bytes);
    expect(a.sampleRate).toBe(c.rate);
    for (let k = 0; k < c.nc; k++) {
      const got = Array.from(a.channels[k], (v) => Math.round(v * 2 ** (c.bps - 1)));
      expect(got, `seed ${seed}`).toEqual(chans[k]);
    }
  });
  it('rejects corrupt and truncated streams with a reason', () => {
    const x = testSignal(4000, 16, seed);
    const bytes = encodeFlac([x], { sampleRate: 16000, bps: 16, blockSize: 1024, kinds: ['lpc'] });
    const flipped = bytes.slice();
    flipped[Math.floor(bytes.length * 0.6)] ^= 0x10;
    expect(() => decodeFlac(flipped)).toThrow(/CRC|sync|FLAC/);
    expect(() => decodeFlac(bytes.subarray(0, Math.floor(bytes.length * 0.7)))).toThrow(/truncated/);
    expect(() => decodeFlac(bytes.subarray(0, 20))).toThrow(AudioFormatError);
  });
  it('decodeTo16k resamples a 44.1 kHz FLAC to 16 kHz mono', () => {
    const n = 44100;
    const tone = Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 44100)));
    const y = decodeTo16k(encodeFlac([tone, tone], { sampleRate: 44100, bps: 16, stereo: [10] }));
    expect(y.length).toBe(16000);
    let e = 0;
    for (let i = 1000; i < 15000; i++) e = Math.max(e, Math.abs(y[i] - (8000 / 32768) * Math.sin((2 * Math.PI * 440 * i) / 16000)));
    expect(e).toBeLessThan(1e-3);
  });
});

describe('FLAC files written by libFLAC 1.4.2 (flac -8; committed in test/speech/data, made from testSignal)', () => {
  const load = async (name: string) => {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(new URL(`./data/${name}`, import.meta.url)));
  };
  it('mono 16-bit 16 kHz decodes sample-exactly', async () => {
    const a = decodeAudio(await load('libflac-mono16.flac'));
    expect(a.sampleRate).toBe(16000);
    expect(Array.from(a.channels[0], (v) => Math.round(v * 32768))).toEqual(testSignal(5000, 16, 11));
  });
  it('stereo 24-bit 44.1 kHz decodes sample-exactly', async () => {
    const a = decodeAudio(await load('libflac-stereo24.flac'));
    expect(a.sampleRate).toBe(44100);
    expect(Array.from(a.channels[0], (v) => Math.round(v * 2 ** 23))).toEqual(testSignal(3000, 24, 12));
    expect(Array.from(a.channels[1], (v) => Math.round(v * 2 ** 23))).toEqual(testSignal(3000, 24, 13));
  });
});
