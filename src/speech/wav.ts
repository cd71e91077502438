// WAV (RIFF/RIFX-free little-endian RIFF, incl. WAVE_FORMAT_EXTENSIBLE and RF64-free files), NIST SPHERE
// (TIMIT's original .wav) decoding, and 16-bit PCM WAV encoding. Pure TS over Uint8Array: runs in workers.

import { LabError } from '../gpu/errors.ts';

export class AudioFormatError extends LabError {
  constructor(message: string) {
    super('bad-input', message);
    this.name = 'AudioFormatError';
  }
}

/** The sample rates a header may claim: 1 kHz to 384 kHz. */
export const MIN_RATE = 1000;
export const MAX_RATE = 384000;
/** The most channels a file may have. */
export const MAX_CHANNELS = 64;

/** `name: ` when a file name is known (messages then say which file), else nothing. */
export function prefix(name?: string): string {
  return name ? `${name}: ` : '';
}

/** Refuses a sample rate outside 1 kHz..384 kHz, naming the file and the field. */
export function checkRate(rate: number, field: string, name?: string): void {
  if (!(Number.isInteger(rate) && rate >= MIN_RATE && rate <= MAX_RATE)) {
    throw new AudioFormatError(`${prefix(name)}${field} is ${rate} Hz, outside ${MIN_RATE}..${MAX_RATE} Hz: a corrupt header`);
  }
}

/** Decoded audio: one Float32Array per channel, samples in [-1, 1). */
export interface Audio {
  sampleRate: number;
  channels: Float32Array[];
}

function ascii(b: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len && off + i < b.length; i++) s += String.fromCharCode(b[off + i]);
  return s;
}

export function isWav(b: Uint8Array): boolean {
  return b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE';
}

export function isSphere(b: Uint8Array): boolean {
  return b.length >= 16 && ascii(b, 0, 8) === 'NIST_1A\n';
}

/**
 * A RIFF WAV file's samples. Every header field is bounded: the rate (1 kHz..384 kHz), channels (1..64), bit depth,
 * the block align, and the data chunk's size against the bytes present (size 0 is an empty recording, refused).
 * Float samples must be finite. `name` (the file) opens every message.
 */
export function decodeWav(bytes: Uint8Array, name?: string): Audio {
  const at = prefix(name);
  if (!isWav(bytes)) throw new AudioFormatError(`${at}not a RIFF/WAVE file`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let off = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number; align: number } | null = null;
  let data: { off: number; len: number } | null = null;
  while (off + 8 <= bytes.length) {
    const id = ascii(bytes, off, 4);
    const size = v.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new AudioFormatError(`${at}truncated fmt chunk (size ${size}, ${Math.max(0, bytes.length - body)} bytes present)`);
      let format = v.getUint16(body, true);
      const bits = v.getUint16(body + 14, true);
      if (format === 0xfffe && size >= 40 && body + 26 <= bytes.length) format = v.getUint16(body + 24, true);
      fmt = { format, channels: v.getUint16(body + 2, true), rate: v.getUint32(body + 4, true), bits, align: v.getUint16(body + 12, true) };
    } else if (id === 'data') {
      // 0xFFFFFFFF is what streaming writers leave when they cannot go back: take the rest of the file. Size 0
      // is an empty recording (reading on would turn a trailing LIST chunk into samples); a data chunk that runs
      // past the end is a truncated file.
      if (size === 0) throw new AudioFormatError(`${at}the data chunk size is 0: no audio samples (an empty recording, or a writer that never filled in the size)`);
      const open = size === 0xffffffff;
      if (!open && body + size > bytes.length) {
        throw new AudioFormatError(`${at}truncated: the data chunk size is ${size} bytes but only ${bytes.length - body} are present`);
      }
      data = { off: body, len: open ? bytes.length - body : size };
      break;
    }
    off = body + size + (size & 1);
  }
  if (!fmt) throw new AudioFormatError(`${at}no fmt chunk before the data chunk`);
  if (!data) throw new AudioFormatError(`${at}no data chunk`);
  const { format, channels: nc, rate, bits, align } = fmt;
  if (nc < 1 || nc > MAX_CHANNELS) throw new AudioFormatError(`${at}the fmt channel count is ${nc}, outside 1..${MAX_CHANNELS}: a corrupt header`);
  checkRate(rate, 'the fmt sample rate', name);
  const bps = bits >> 3;
  if (bits % 8 !== 0 || bps < 1 || bps > 8) throw new AudioFormatError(`${at}unsupported bit depth ${bits} (the fmt bits per sample)`);
  const frame = bps * nc;
  if (align !== 0 && align !== frame) throw new AudioFormatError(`${at}the fmt block align is ${align} bytes but ${nc} channels of ${bits} bits make ${frame}: a corrupt header`);
  const n = Math.floor(data.len / frame);
  if (n === 0) throw new AudioFormatError(`${at}the data chunk holds ${data.len} bytes, less than one frame of ${frame}: no audio samples`);
  const chans = Array.from({ length: nc }, () => new Float32Array(n));
  const base = data.off;
  if (format === 1) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < nc; c++) {
        const p = base + i * frame + c * bps;
        let x: number;
        if (bps === 1) x = (bytes[p] - 128) / 128;
        else if (bps === 2) x = v.getInt16(p, true) / 32768;
        else if (bps === 3) x = (((bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16)) << 8) >> 8) / 8388608;
        else if (bps === 4) x = v.getInt32(p, true) / 2147483648;
        else throw new AudioFormatError(`${at}unsupported PCM bit depth ${bits}`);
        chans[c][i] = x;
      }
    }
  } else if (format === 3) {
    if (bps !== 4 && bps !== 8) throw new AudioFormatError(`${at}unsupported float bit depth ${bits}`);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < nc; c++) {
        const p = base + i * frame + c * bps;
        const x = bps === 4 ? v.getFloat32(p, true) : v.getFloat64(p, true);
        if (!Number.isFinite(x)) {
          throw new AudioFormatError(`${at}float sample ${i}${nc > 1 ? ` of channel ${c}` : ''} is ${x} (at byte ${p}): the file holds NaN or infinite samples`);
        }
        chans[c][i] = x;
      }
    }
  } else {
    throw new AudioFormatError(`${at}unsupported WAV format tag ${format} (only PCM and IEEE float)`);
  }
  return { sampleRate: rate, channels: chans };
}

/** NIST SPHERE with uncompressed PCM (TIMIT's .wav). Shorten-compressed files are refused. */
export function decodeSphere(bytes: Uint8Array, name?: string): Audio {
  const at = prefix(name);
  if (!isSphere(bytes)) throw new AudioFormatError(`${at}not a NIST SPHERE file`);
  const headerSize = parseInt(ascii(bytes, 8, 8).trim(), 10);
  if (!Number.isFinite(headerSize) || headerSize < 16 || headerSize > bytes.length || headerSize > 1 << 20) throw new AudioFormatError(`${at}bad SPHERE header size ${JSON.stringify(ascii(bytes, 8, 8).trim())}`);
  const fields = new Map<string, string>();
  for (const line of ascii(bytes, 16, headerSize - 16).split('\n')) {
    if (line.startsWith('end_head')) break;
    const m = /^(\S+)\s+-\S+\s+(.*)$/.exec(line.trim());
    if (m) fields.set(m[1], m[2].trim());
  }
  const coding = fields.get('sample_coding') ?? 'pcm';
  if (coding !== 'pcm') throw new AudioFormatError(`${at}unsupported SPHERE sample_coding "${coding.slice(0, 40)}"`);
  const rate = Number(fields.get('sample_rate') ?? 16000);
  const nc = Number(fields.get('channel_count') ?? 1);
  const bps = Number(fields.get('sample_n_bytes') ?? 2);
  const big = (fields.get('sample_byte_format') ?? '01') === '10';
  if (bps !== 2 || !(Number.isInteger(nc) && nc >= 1 && nc <= MAX_CHANNELS)) throw new AudioFormatError(`${at}unsupported SPHERE layout: sample_n_bytes ${bps} x channel_count ${nc}`);
  checkRate(rate, 'the SPHERE sample_rate', name);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = Number(fields.get('sample_count') ?? Infinity);
  if (!(declared >= 0)) throw new AudioFormatError(`${at}the SPHERE sample_count is ${JSON.stringify(fields.get('sample_count'))}, not a count`);
  const n = Math.min(declared, Math.floor((bytes.length - headerSize) / (bps * nc)));
  const chans = Array.from({ length: nc }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) for (let c = 0; c < nc; c++) chans[c][i] = v.getInt16(headerSize + (i * nc + c) * 2, !big) / 32768;
  return { sampleRate: rate, channels: chans };
}

/** Encode mono float samples as 16-bit PCM WAV (clipped, rounded to nearest). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const n = samples.length;
  const out = new Uint8Array(44 + n * 2);
  const v = new DataView(out.buffer);
  const w = (off: number, s: string) => { for (let i = 0; i < s.length; i++) out[off + i] = s.charCodeAt(i); };
  w(0, 'RIFF'); v.setUint32(4, 36 + n * 2, true); w(8, 'WAVE');
  w(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true); v.setUint32(28, sampleRate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  w(36, 'data'); v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {
    const x = Math.round(samples[i] * 32768);
    v.setInt16(44 + i * 2, x > 32767 ? 32767 : x < -32768 ? -32768 : x, true);
  }
  return out;
}

/** Reads just the header of a 16-bit mono WAV this module wrote: sample count and rate, or null if invalid. */
export function wavInfo(bytes: Uint8Array): { sampleRate: number; samples: number; channels: number } | null {
  try {
    if (!isWav(bytes)) return null;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 12;
    let rate = 0, nc = 0, bits = 0;
    while (off + 8 <= bytes.length) {
      const id = ascii(bytes, off, 4);
      const size = v.getUint32(off + 4, true);
      if (id === 'fmt ') { nc = v.getUint16(off + 10, true); rate = v.getUint32(off + 12, true); bits = v.getUint16(off + 22, true); }
      if (id === 'data') {
        // Every field bounded as decodeWav bounds it: a header that would decode to nothing, or to nonsense, is invalid.
        if (rate < MIN_RATE || rate > MAX_RATE || nc < 1 || nc > MAX_CHANNELS || bits % 8 !== 0 || bits < 8 || bits > 64) return null;
        if (size === 0 || off + 8 + size > bytes.length) return null;
        return { sampleRate: rate, samples: Math.floor(size / ((bits >> 3) * nc)), channels: nc };
      }
      off += 8 + size + (size & 1);
    }
    return null;
  } catch {
    return null;
  }
}
