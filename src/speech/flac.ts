// A FLAC decoder (fixed, LPC, verbatim and constant subframes; Rice and Rice2 residuals; all stereo
// decorrelation modes; wasted bits; header CRC-8 and frame CRC-16 checked). Pure TS over Uint8Array, so it runs
// in a browser worker as well as in Node. Corrupt or truncated input throws AudioFormatError.
import { AudioFormatError, checkRate, MAX_RATE, prefix, type Audio } from './wav.ts';

class Bits {
  pos = 0; // in bits
  constructor(private readonly b: Uint8Array, private readonly end: number) {}
  get bytePos(): number {
    return this.pos >>> 3;
  }
  private need(n: number): void {
    if (this.pos + n > this.end * 8) throw new AudioFormatError('truncated FLAC stream');
  }
  bit(): number {
    this.need(1);
    const v = (this.b[this.pos >>> 3] >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }
  /** Unsigned read of n <= 32 bits. */
  u(n: number): number {
    if (n === 0) return 0;
    this.need(n);
    let v = 0;
    let left = n;
    while (left > 0) {
      const byte = this.b[this.pos >>> 3];
      const avail = 8 - (this.pos & 7);
      const take = avail < left ? avail : left;
      const chunk = (byte >>> (avail - take)) & ((1 << take) - 1);
      v = v * (1 << take) + chunk;
      this.pos += take;
      left -= take;
    }
    return v;
  }
  /** Signed (two's complement) read of n <= 32 bits. */
  s(n: number): number {
    if (n === 0) return 0;
    const v = this.u(n);
    return v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }
  unary(): number {
    let q = 0;
    for (;;) {
      this.need(1);
      const byte = this.b[this.pos >>> 3];
      const off = this.pos & 7;
      const rest = (byte << off) & 0xff;
      if (rest === 0) {
        q += 8 - off;
        this.pos += 8 - off;
        continue;
      }
      const lead = Math.clz32(rest) - 24;
      q += lead;
      this.pos += lead + 1;
      return q;
    }
  }
  align(): void {
    this.pos = (this.pos + 7) & ~7;
  }
}

const CRC8 = new Uint8Array(256);
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  CRC8[i] = c;
  let d = i << 8;
  for (let k = 0; k < 8; k++) d = d & 0x8000 ? ((d << 1) ^ 0x8005) & 0xffff : (d << 1) & 0xffff;
  CRC16[i] = d;
}
function crc8(b: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = CRC8[c ^ b[i]];
  return c;
}
function crc16(b: Uint8Array, from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) c = ((c << 8) & 0xffff) ^ CRC16[(c >>> 8) ^ b[i]];
  return c;
}

export function isFlac(b: Uint8Array): boolean {
  const at = flacStart(b);
  return at >= 0;
}

function flacStart(b: Uint8Array): number {
  let off = 0;
  // Skip an ID3v2 tag if present.
  if (b.length >= 10 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) {
    off = 10 + ((b[6] & 0x7f) << 21 | (b[7] & 0x7f) << 14 | (b[8] & 0x7f) << 7 | (b[9] & 0x7f));
  }
  return b.length >= off + 4 && b[off] === 0x66 && b[off + 1] === 0x4c && b[off + 2] === 0x61 && b[off + 3] === 0x43 ? off : -1;
}

const BLOCK_SIZES = [0, 192, 576, 1152, 2304, 4608, -1, -2, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const RATES = [0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000, -1, -2, -3, -4];
const DEPTHS = [0, 8, 12, -1, 16, 20, 24, 32];

/** The most samples per channel a file may decode to (about 2.3 hours at 16 kHz): longer audio is split first. */
export const MAX_FLAC_SAMPLES = 2 ** 27;

/**
 * A FLAC file's samples. STREAMINFO is bounded (rate 1 kHz..384 kHz, total samples at most MAX_FLAC_SAMPLES) and
 * memory grows with what the frames hold, never with what the header claims. `name` (the file) opens messages.
 */
export function decodeFlac(bytes: Uint8Array, name?: string): Audio {
  try {
    return decodeFlacBytes(bytes, name);
  } catch (e) {
    if (e instanceof AudioFormatError && name && !e.message.startsWith(prefix(name))) throw new AudioFormatError(`${prefix(name)}${e.message}`);
    throw e;
  }
}

function decodeFlacBytes(bytes: Uint8Array, name?: string): Audio {
  const start = flacStart(bytes);
  if (start < 0) throw new AudioFormatError('not a FLAC file (no fLaC marker)');
  const br = new Bits(bytes, bytes.length);
  br.pos = (start + 4) * 8;
  let rate = 0, nc = 0, bps = 0, total = 0, maxBlock = 0;
  let sawInfo = false;
  for (;;) {
    const last = br.bit();
    const type = br.u(7);
    const len = br.u(24);
    if (type === 0) {
      if (len < 34) throw new AudioFormatError('bad STREAMINFO block');
      br.u(16);
      maxBlock = br.u(16);
      br.u(24); br.u(24);
      rate = br.u(20);
      nc = br.u(3) + 1;
      bps = br.u(5) + 1;
      total = br.u(4) * 2 ** 32 + br.u(32);
      br.pos += (len - 18) * 8;
      sawInfo = true;
    } else {
      br.pos += len * 8;
    }
    if (br.pos > bytes.length * 8) throw new AudioFormatError('truncated FLAC metadata');
    if (last) break;
  }
  if (!sawInfo) throw new AudioFormatError('FLAC without STREAMINFO');
  checkRate(rate, 'the FLAC STREAMINFO sample rate', name);
  if (bps < 4) throw new AudioFormatError(`the FLAC STREAMINFO bits per sample is ${bps}, below 4: a corrupt header`);
  if (total > MAX_FLAC_SAMPLES) {
    throw new AudioFormatError(
      `the FLAC STREAMINFO total samples is ${total} (${(total / rate / 3600).toFixed(1)} h), above ${MAX_FLAC_SAMPLES}: a corrupt header, or audio to split into shorter files first`,
    );
  }
  // Start small and grow with what the frames hold: the header's total is believed only as an upper bound.
  const capacity = Math.max(1, Math.min(total > 0 ? total : Infinity, 4 * bytes.length, MAX_FLAC_SAMPLES));
  let chans = Array.from({ length: nc }, () => new Int32Array(capacity));
  let written = 0;
  const residual = new Int32Array(Math.max(maxBlock, 65536));
  while (br.pos + 16 <= bytes.length * 8 && (total === 0 || written < total)) {
    const frameStart = br.bytePos;
    const sync = br.u(14);
    if (sync !== 0x3ffe) throw new AudioFormatError(`bad FLAC frame sync at byte ${frameStart}`);
    br.u(1); br.u(1);
    const bsCode = br.u(4);
    const srCode = br.u(4);
    const chCode = br.u(4);
    const ssCode = br.u(3);
    br.u(1);
    // UTF-8 style frame/sample number
    const first = br.u(8);
    let extra = 0;
    if (first >= 0xc0) extra = first >= 0xfe ? 6 : first >= 0xfc ? 5 : first >= 0xf8 ? 4 : first >= 0xf0 ? 3 : first >= 0xe0 ? 2 : 1;
    for (let i = 0; i < extra; i++) br.u(8);
    let blockSize = BLOCK_SIZES[bsCode];
    if (blockSize === -1) blockSize = br.u(8) + 1;
    else if (blockSize === -2) blockSize = br.u(16) + 1;
    if (blockSize <= 0) throw new AudioFormatError(`reserved FLAC block size code at byte ${frameStart}`);
    let fRate = RATES[srCode];
    if (fRate === -1) fRate = br.u(8) * 1000;
    else if (fRate === -2) fRate = br.u(16);
    else if (fRate === -3) fRate = br.u(16) * 10;
    else if (fRate === -4) throw new AudioFormatError(`invalid FLAC sample rate code at byte ${frameStart}`);
    const depth = ssCode === 0 ? bps : DEPTHS[ssCode];
    if (depth <= 0) throw new AudioFormatError(`reserved FLAC sample size code at byte ${frameStart}`);
    const headerEnd = br.bytePos;
    const crc = br.u(8);
    if (crc8(bytes, frameStart, headerEnd) !== crc) throw new AudioFormatError(`FLAC frame header CRC mismatch at byte ${frameStart}`);
    const frameChannels = chCode < 8 ? chCode + 1 : 2;
    if (chCode > 10) throw new AudioFormatError(`reserved FLAC channel assignment at byte ${frameStart}`);
    if (frameChannels !== nc) throw new AudioFormatError(`FLAC frame has ${frameChannels} channels, stream has ${nc}`);
    if (fRate && rate && fRate !== rate) throw new AudioFormatError('FLAC sample rate changes mid-stream');
    if (fRate > MAX_RATE) throw new AudioFormatError(`FLAC frame at byte ${frameStart} claims ${fRate} Hz, above ${MAX_RATE} Hz`);
    if (written + blockSize > MAX_FLAC_SAMPLES) {
      throw new AudioFormatError(`the FLAC stream holds more than ${MAX_FLAC_SAMPLES} samples per channel: split it into shorter files first`);
    }
    if (written + blockSize > chans[0].length) {
      const grown = Math.min(MAX_FLAC_SAMPLES, Math.max(written + blockSize, chans[0].length * 2));
      chans = chans.map((c) => { const g = new Int32Array(grown); g.set(c); return g; });
    }
    if (residual.length < blockSize) throw new AudioFormatError('FLAC block larger than STREAMINFO allows');
    for (let c = 0; c < nc; c++) {
      let sbps = depth;
      if ((chCode === 8 && c === 1) || (chCode === 9 && c === 0) || (chCode === 10 && c === 1)) sbps++;
      decodeSubframe(br, chans[c], written, blockSize, sbps, residual);
    }
    br.align();
    const crcEnd = br.bytePos;
    const fcrc = br.u(16);
    if (crc16(bytes, frameStart, crcEnd) !== fcrc) throw new AudioFormatError(`FLAC frame CRC mismatch at byte ${frameStart}`);
    if (chCode >= 8) {
      const a = chans[0], s = chans[1];
      for (let i = written; i < written + blockSize; i++) {
        if (chCode === 8) s[i] = a[i] - s[i];
        else if (chCode === 9) a[i] = a[i] + s[i];
        else {
          const side = s[i];
          const mid = (a[i] * 2) | (side & 1);
          a[i] = (mid + side) >> 1;
          s[i] = (mid - side) >> 1;
        }
      }
    }
    written += blockSize;
  }
  if (total > 0 && written < total) throw new AudioFormatError(`truncated FLAC: ${written} of ${total} samples decoded (the STREAMINFO total samples)`);
  const n = total > 0 ? Math.min(total, written) : written;
  const scale = 1 / 2 ** (bps - 1);
  return {
    sampleRate: rate,
    channels: chans.map((c) => {
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = c[i] * scale;
      return f;
    }),
  };
}

const FIXED: number[][] = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]];

function decodeSubframe(br: Bits, out: Int32Array, at: number, n: number, bps: number, res: Int32Array): void {
  if (br.bit() !== 0) throw new AudioFormatError('bad FLAC subframe padding bit');
  const type = br.u(6);
  let wasted = 0;
  if (br.bit()) wasted = br.unary() + 1;
  if (wasted >= bps) throw new AudioFormatError(`bad FLAC subframe: ${wasted} wasted bits of ${bps}`);
  const b = bps - wasted;
  if (type === 0) {
    const v = br.s(b);
    for (let i = 0; i < n; i++) out[at + i] = v;
  } else if (type === 1) {
    for (let i = 0; i < n; i++) out[at + i] = br.s(b);
  } else if (type >= 8 && type <= 12) {
    const order = type - 8;
    if (order > n) throw new AudioFormatError('FLAC fixed order exceeds block size');
    for (let i = 0; i < order; i++) out[at + i] = br.s(b);
    readResidual(br, res, n, order);
    const c = FIXED[order];
    for (let i = order; i < n; i++) {
      let p = 0;
      for (let j = 0; j < order; j++) p += c[j] * out[at + i - 1 - j];
      out[at + i] = p + res[i];
    }
  } else if (type >= 32) {
    const order = type - 31;
    if (order > n) throw new AudioFormatError('FLAC LPC order exceeds block size');
    for (let i = 0; i < order; i++) out[at + i] = br.s(b);
    const precision = br.u(4) + 1;
    if (precision === 16) throw new AudioFormatError('invalid FLAC LPC precision');
    const shift = br.s(5);
    if (shift < 0) throw new AudioFormatError('negative FLAC LPC shift');
    const coefs = new Float64Array(order);
    for (let i = 0; i < order; i++) coefs[i] = br.s(precision);
    readResidual(br, res, n, order);
    const div = 2 ** shift;
    for (let i = order; i < n; i++) {
      let p = 0;
      for (let j = 0; j < order; j++) p += coefs[j] * out[at + i - 1 - j];
      out[at + i] = Math.floor(p / div) + res[i];
    }
  } else {
    throw new AudioFormatError(`reserved FLAC subframe type ${type}`);
  }
  if (wasted) for (let i = 0; i < n; i++) out[at + i] *= 2 ** wasted;
}

function readResidual(br: Bits, res: Int32Array, n: number, order: number): void {
  const method = br.u(2);
  if (method > 1) throw new AudioFormatError('reserved FLAC residual coding method');
  const paramBits = method === 0 ? 4 : 5;
  const escape = method === 0 ? 15 : 31;
  const partOrder = br.u(4);
  const parts = 1 << partOrder;
  if (n % parts !== 0 || n / parts < order) throw new AudioFormatError('bad FLAC partition order');
  let i = order;
  for (let p = 0; p < parts; p++) {
    const count = p === 0 ? n / parts - order : n / parts;
    const k = br.u(paramBits);
    if (k === escape) {
      const raw = br.u(5);
      for (let j = 0; j < count; j++) res[i++] = br.s(raw);
    } else {
      for (let j = 0; j < count; j++) {
        const q = br.unary();
        const v = q * 2 ** k + br.u(k);
        res[i++] = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
      }
    }
  }
}
