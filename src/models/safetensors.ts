// The safetensors format (as written by the Hugging Face library and PyTorch converters): an 8-byte
// little-endian header length N, N bytes of JSON { name: { dtype, shape, data_offsets: [begin, end] },
// "__metadata__": { key: string } }, then the raw little-endian data; offsets are relative to the data start.
// Reading accepts F32, F16 and BF16 (converted to float32); writing is F32.
import { LabError } from '../gpu/errors.ts';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };

function bad(message: string): LabError {
  return new LabError('bad-input', `safetensors: ${message}`);
}

export function encodeSafetensors(tensors: Iterable<[string, NamedTensor]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const list = [...tensors];
  let offset = 0;
  for (const [name, t] of list) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw bad(`tensor ${name}: shape [${t.shape}] holds ${n} values but ${t.data.length} were given`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

function toFloat32(bytes: Uint8Array, dtype: string): Float32Array {
  if (dtype === 'F32') {
    const copy = new Uint8Array(bytes); // aligned copy
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.length / 2);
  const f = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < out.length; i++) {
    const h = view.getUint16(2 * i, true);
    if (dtype === 'BF16') {
      f.setUint32(0, h << 16);
      out[i] = f.getFloat32(0);
    } else {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
  }
  return out;
}

/** One tensor's entry in the header, checked: a known dtype, a shape of whole numbers, offsets inside the file. */
export interface TensorEntry {
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** Bytes of tensor data the file holds after the header. */
  dataLength: number;
}

/** The most dimensions a tensor may have, and the most tensors a file may name. */
const MAX_RANK = 8;
const MAX_TENSORS = 1_000_000;

/**
 * The header of a safetensors file, checked in full without reading (or allocating for) any tensor data: every
 * entry's dtype, shape (whole numbers >= 0) and offsets against the file's size, overlaps, and the metadata
 * (an object of strings).
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) throw bad(`file is ${bytes.length} bytes, shorter than the 8-byte header length: truncated or not a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw bad(`header length ${headerLength} exceeds the file (${bytes.length} bytes): truncated or not a safetensors file`);
  }
  const n = Number(headerLength);
  if (n < 2) throw bad(`header length ${n} is too short for a JSON header: not a safetensors file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message.split('\n')[0].slice(0, 120)}): corrupt file or not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object: corrupt file');
  const h = header as Record<string, unknown>;
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const rawMeta = h.__metadata__ ?? {};
  if (typeof rawMeta !== 'object' || rawMeta === null || Array.isArray(rawMeta)) throw bad('__metadata__ is not an object of strings: corrupt header');
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawMeta)) {
    if (typeof v !== 'string') throw bad(`__metadata__ field ${JSON.stringify(k).slice(0, 60)} is a ${v === null ? 'null' : typeof v}, not a string: corrupt header`);
    metadata[k] = v;
  }
  const names = Object.keys(h).filter((k) => k !== '__metadata__');
  if (names.length > MAX_TENSORS) throw bad(`header names ${names.length} tensors (at most ${MAX_TENSORS}): corrupt header`);
  const entries = new Map<string, TensorEntry>();
  const spans: [number, number, string][] = [];
  for (const name of names) {
    const e = h[name] as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shown = JSON.stringify(name).slice(0, 80);
    if (!e || typeof e !== 'object' || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw bad(`tensor ${shown}: entry lacks dtype, shape or data_offsets: corrupt header`);
    }
    const size = BYTES[e.dtype];
    if (!size || !Object.prototype.hasOwnProperty.call(BYTES, e.dtype)) throw bad(`tensor ${shown}: dtype ${JSON.stringify(e.dtype).slice(0, 20)} is not supported (F32, F16, BF16)`);
    if (e.shape.length > MAX_RANK) throw bad(`tensor ${shown}: shape has ${e.shape.length} dimensions (at most ${MAX_RANK}): corrupt header`);
    for (const d of e.shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        throw bad(`tensor ${shown}: shape [${e.shape.map((x) => JSON.stringify(x)).join(', ').slice(0, 80)}] must hold whole numbers >= 0: corrupt header`);
      }
    }
    const shape = e.shape as number[];
    let count = 1;
    for (const d of shape) count *= d;
    if (e.data_offsets.length !== 2) throw bad(`tensor ${shown}: data_offsets must be [begin, end]`);
    const [begin, end] = e.data_offsets as unknown[];
    if (!(typeof begin === 'number' && typeof end === 'number' && Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0 && end >= begin)) {
      throw bad(`tensor ${shown}: bad data_offsets [${JSON.stringify(begin)}, ${JSON.stringify(end)}]`);
    }
    if (end - begin !== count * size) {
      throw bad(`tensor ${shown}: shape [${shape}] ${e.dtype} needs ${count * size} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataLength) {
      throw bad(`tensor ${shown}: data ends at byte ${end} but the file holds ${dataLength} data bytes: truncated file`);
    }
    spans.push([begin, end, name]);
    entries.set(name, { dtype: e.dtype as TensorEntry['dtype'], shape, begin: dataStart + begin, end: dataStart + end });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) throw bad(`tensors ${spans[i - 1][2]} and ${spans[i][2]} overlap: corrupt header`);
  }
  return { entries, metadata, dataLength };
}

/** One tensor's values (converted to float32) from the file the header was read from. */
export function readTensor(bytes: Uint8Array, e: TensorEntry): NamedTensor {
  return { shape: e.shape, data: toFloat32(bytes.subarray(e.begin, e.end), e.dtype) };
}

export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  const { entries, metadata } = readSafetensorsHeader(bytes);
  const tensors = new Map<string, NamedTensor>();
  for (const [name, e] of entries) tensors.set(name, readTensor(bytes, e));
  return { tensors, metadata };
}

/** The index of the first NaN or infinite value, or -1; and how many there are. */
export function nonFinite(data: Float32Array): { first: number; count: number } {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { first, count };
}
