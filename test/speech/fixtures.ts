// Test fixtures built in the test: a small FLAC encoder (written from the format specification, independent of
// src/speech/flac.ts), NIST SPHERE and multi-format WAV writers, and deterministic integer test signals.

class BitWriter {
  bytes: number[] = [];
  private acc = 0;
  private n = 0;
  put(value: number, bits: number): void {
    // value: unsigned or two's complement within `bits` (<= 32)
    for (let i = bits - 1; i >= 0; i--) {
      const bit = Math.floor(value / 2 ** i) & 1;
      this.acc = (this.acc << 1) | bit;
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  signed(v: number, bits: number): void {
    this.put(v < 0 ? v + 2 ** bits : v, bits);
  }
  unary(q: number): void {
    for (let i = 0; i < q; i++) this.put(0, 1);
    this.put(1, 1);
  }
  align(): void {
    while (this.n !== 0) this.put(0, 1);
  }
}

function crc8(b: number[]): number {
  let c = 0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
}
function crc16(b: number[]): number {
  let c = 0;
  for (const x of b) {
    c ^= x << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}

export type SubframeKind = 'constant' | 'verbatim' | 'fixed0' | 'fixed1' | 'fixed2' | 'fixed3' | 'fixed4' | 'lpc';

export interface FlacOptions {
  sampleRate: number;
  bps: number;
  blockSize?: number;
  /** Subframe kind per frame (cycled). */
  kinds?: SubframeKind[];
  /** Stereo channel assignment per frame (cycled): 1 independent, 8 left/side, 9 side/right, 10 mid/side. */
  stereo?: number[];
  /** Use 'wasted bits' when every sample in a subframe is even. */
  wasted?: boolean;
}

const FIXED = [[], [1], [2, -1], [3, -3, 1], [4, -6, 4, -1]];

function writeResidual(w: BitWriter, res: number[], order: number, n: number): void {
  // Rice (4-bit parameters), partition order 1 when possible, with an escape partition for the second half.
  const partOrder = n % 2 === 0 && n / 2 >= order ? 1 : 0;
  w.put(0, 2);
  w.put(partOrder, 4);
  const parts = 1 << partOrder;
  let i = 0;
  for (let p = 0; p < parts; p++) {
    const count = p === 0 ? n / parts - order : n / parts;
    const chunk = res.slice(i, i + count);
    i += count;
    if (p === 1) {
      // escape: raw signed samples with enough bits
      const maxAbs = Math.max(1, ...chunk.map(Math.abs));
      const bits = Math.ceil(Math.log2(maxAbs + 1)) + 1;
      w.put(15, 4);
      w.put(bits, 5);
      for (const v of chunk) w.signed(v, bits);
      continue;
    }
    const mean = chunk.reduce((a, v) => a + Math.abs(v), 0) / Math.max(1, chunk.length);
    const k = Math.min(14, Math.max(0, Math.floor(Math.log2(mean + 1))));
    w.put(k, 4);
    for (const v of chunk) {
      const u = v >= 0 ? 2 * v : -2 * v - 1;
      w.unary(Math.floor(u / 2 ** k));
      w.put(u % 2 ** k, k);
    }
  }
}

function writeSubframe(w: BitWriter, x: number[], bps: number, kind: SubframeKind, allowWasted: boolean): void {
  let wasted = 0;
  if (allowWasted && x.some((v) => v !== 0)) while (wasted < 3 && x.every((v) => v % 2 ** (wasted + 1) === 0)) wasted++;
  const s = wasted ? x.map((v) => v / 2 ** wasted) : x;
  const b = bps - wasted;
  const header = (type: number) => {
    w.put(0, 1);
    w.put(type, 6);
    if (wasted) { w.put(1, 1); w.unary(wasted - 1); } else w.put(0, 1);
  };
  const n = s.length;
  if (kind === 'constant' && s.every((v) => v === s[0])) {
    header(0);
    w.signed(s[0], b);
  } else if (kind === 'verbatim' || kind === 'constant' || n < 5) {
    header(1);
    for (const v of s) w.signed(v, b);
  } else if (kind.startsWith('fixed')) {
    const order = Number(kind.slice(5));
    header(8 + order);
    for (let i = 0; i < order; i++) w.signed(s[i], b);
    const res: number[] = [];
    for (let i = order; i < n; i++) {
      let p = 0;
      for (let j = 0; j < order; j++) p += FIXED[order][j] * s[i - 1 - j];
      res.push(s[i] - p);
    }
    writeResidual(w, res, order, n);
  } else {
    // LPC order 3 with quantised coefficients 1.6, -0.9, 0.25 at shift 10, precision 12 bits
    const order = 3, shift = 10, precision = 12;
    const coefs = [Math.round(1.6 * 1024), Math.round(-0.9 * 1024), Math.round(0.25 * 1024)];
    header(32 + order - 1);
    for (let i = 0; i < order; i++) w.signed(s[i], b);
    w.put(precision - 1, 4);
    w.signed(shift, 5);
    for (const c of coefs) w.signed(c, precision);
    const res: number[] = [];
    for (let i = order; i < n; i++) {
      let p = 0;
      for (let j = 0; j < order; j++) p += coefs[j] * s[i - 1 - j];
      res.push(s[i] - Math.floor(p / 2 ** shift));
    }
    writeResidual(w, res, order, n);
  }
}

function utf8Number(v: number): number[] {
  if (v < 0x80) return [v];
  if (v < 0x800) return [0xc0 | (v >> 6), 0x80 | (v & 0x3f)];
  return [0xe0 | (v >> 12), 0x80 | ((v >> 6) & 0x3f), 0x80 | (v & 0x3f)];
}

/** Encode integer channels (values within bps bits) as a FLAC file. */
export function encodeFlac(channels: number[][], o: FlacOptions): Uint8Array {
  const nc = channels.length;
  const total = channels[0].length;
  const bs = o.blockSize ?? 1152;
  const kinds = o.kinds ?? ['fixed2'];
  const stereo = o.stereo ?? [1];
  const out: number[] = [0x66, 0x4c, 0x61, 0x43];
  const si = new BitWriter();
  si.put(1, 1); si.put(0, 7); si.put(34, 24);
  si.put(bs, 16); si.put(bs, 16); si.put(0, 24); si.put(0, 24);
  si.put(o.sampleRate, 20); si.put(nc - 1, 3); si.put(o.bps - 1, 5);
  si.put(Math.floor(total / 2 ** 32), 4); si.put(total % 2 ** 32, 32);
  for (let i = 0; i < 16; i++) si.put(0, 8);
  out.push(...si.bytes);
  const ssCode: Record<number, number> = { 8: 1, 12: 2, 16: 4, 20: 5, 24: 6, 32: 7 };
  for (let f = 0, start = 0; start < total; f++, start += bs) {
    const n = Math.min(bs, total - start);
    const w = new BitWriter();
    w.put(0x3ffe, 14); w.put(0, 1); w.put(0, 1);
    w.put(7, 4); // 16-bit block size at the end of the header
    w.put(o.sampleRate === 16000 ? 5 : o.sampleRate === 44100 ? 9 : 13, 4);
    const assign = nc === 2 ? stereo[f % stereo.length] : 1;
    w.put(assign === 1 ? nc - 1 : assign, 4);
    w.put(ssCode[o.bps] ?? 0, 3); w.put(0, 1);
    for (const byte of utf8Number(f)) w.put(byte, 8);
    w.put(n - 1, 16);
    if (o.sampleRate !== 16000 && o.sampleRate !== 44100) w.put(o.sampleRate, 16);
    w.put(crc8(w.bytes), 8);
    const block = channels.map((c) => c.slice(start, start + n));
    let subs: { x: number[]; bps: number }[] = block.map((x) => ({ x, bps: o.bps }));
    if (nc === 2 && assign !== 1) {
      const [l, r] = block;
      const side = l.map((v, i) => v - r[i]);
      if (assign === 8) subs = [{ x: l, bps: o.bps }, { x: side, bps: o.bps + 1 }];
      else if (assign === 9) subs = [{ x: side, bps: o.bps + 1 }, { x: r, bps: o.bps }];
      else subs = [{ x: l.map((v, i) => Math.floor((v + r[i]) / 2)), bps: o.bps }, { x: side, bps: o.bps + 1 }];
    }
    for (const s of subs) writeSubframe(w, s.x, s.bps, kinds[f % kinds.length], o.wasted ?? false);
    w.align();
    w.put(crc16(w.bytes), 16);
    out.push(...w.bytes);
  }
  return new Uint8Array(out);
}

/** A deterministic integer test signal: a few triangle waves plus LCG noise, within `bits` bits. */
export function testSignal(n: number, bits: number, seed: number): number[] {
  const amp = 2 ** (bits - 1) - 1;
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const tri = (p: number) => Math.abs(((i % p) / p) * 4 - 2) - 1;
    const v = 0.5 * tri(97) + 0.25 * tri(31) + 0.1 * ((s / 2 ** 32) * 2 - 1);
    out.push(Math.max(-amp - 1, Math.min(amp, Math.round(v * amp))) + 0); // + 0: integers, never -0
  }
  return out;
}

/** A WAV in any PCM/float layout, channels interleaved; `extensible` uses WAVE_FORMAT_EXTENSIBLE. */
export function makeWav(channels: Float64Array[] | number[][], rate: number, kind: 'u8' | 'i16' | 'i24' | 'i32' | 'f32', extensible = false): Uint8Array {
  const nc = channels.length, n = channels[0].length;
  const bps = { u8: 1, i16: 2, i24: 3, i32: 4, f32: 4 }[kind];
  const fmtLen = extensible ? 40 : 16;
  const dataLen = n * nc * bps;
  const buf = new Uint8Array(12 + 8 + fmtLen + 8 + 6 + 8 + dataLen); // includes a 6-byte LIST chunk
  const v = new DataView(buf.buffer);
  const w = (o: number, s: string) => { for (let i = 0; i < s.length; i++) buf[o + i] = s.charCodeAt(i); };
  w(0, 'RIFF'); v.setUint32(4, buf.length - 8, true); w(8, 'WAVE');
  w(12, 'fmt '); v.setUint32(16, fmtLen, true);
  const tag = kind === 'f32' ? 3 : 1;
  v.setUint16(20, extensible ? 0xfffe : tag, true); v.setUint16(22, nc, true); v.setUint32(24, rate, true);
  v.setUint32(28, rate * nc * bps, true); v.setUint16(32, nc * bps, true); v.setUint16(34, bps * 8, true);
  let o = 36;
  if (extensible) { v.setUint16(36, 22, true); v.setUint16(38, bps * 8, true); v.setUint32(40, 0, true); v.setUint16(44, tag, true); o = 60; }
  w(o, 'LIST'); v.setUint32(o + 4, 6, true); o += 14;
  w(o, 'data'); v.setUint32(o + 4, dataLen, true); o += 8;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nc; c++) {
      const x = channels[c][i];
      if (kind === 'u8') v.setUint8(o, x + 128);
      else if (kind === 'i16') v.setInt16(o, x, true);
      else if (kind === 'i24') { v.setUint8(o, x & 0xff); v.setUint8(o + 1, (x >> 8) & 0xff); v.setUint8(o + 2, (x >> 16) & 0xff); }
      else if (kind === 'i32') v.setInt32(o, x, true);
      else v.setFloat32(o, x, true);
      o += bps;
    }
  }
  return buf;
}

/** NIST SPHERE, 16-bit little-endian PCM (TIMIT's layout). */
export function makeSphere(samples: number[], rate = 16000): Uint8Array {
  const head = [
    'NIST_1A', '   1024', 'database_id -s5 TIMIT', `sample_count -i ${samples.length}`, `sample_rate -i ${rate}`,
    'channel_count -i 1', 'sample_byte_format -s2 01', 'sample_n_bytes -i 2', 'sample_sig_bits -i 16', 'sample_coding -s3 pcm', 'end_head',
  ].join('\n') + '\n';
  const buf = new Uint8Array(1024 + samples.length * 2);
  for (let i = 0; i < head.length; i++) buf[i] = head.charCodeAt(i);
  for (let i = head.length; i < 1024; i++) buf[i] = 0x20;
  const v = new DataView(buf.buffer);
  samples.forEach((s, i) => v.setInt16(1024 + i * 2, s, true));
  return buf;
}
