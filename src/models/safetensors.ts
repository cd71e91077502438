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

export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) throw bad(`file is ${bytes.length} bytes, shorter than the 8-byte header length: truncated or not a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) {
    throw bad(`header length ${headerLength} exceeds the file (${bytes.length} bytes): truncated or not a safetensors file`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message}): corrupt file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object: corrupt file');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, NamedTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      throw bad(`tensor ${name}: entry lacks dtype, shape or data_offsets: corrupt header`);
    }
    const size = BYTES[e.dtype];
    if (!size) throw bad(`tensor ${name}: dtype ${e.dtype} is not supported (F32, F16, BF16)`);
    const [begin, end] = e.data_offsets;
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin)) throw bad(`tensor ${name}: bad data_offsets [${begin}, ${end}]`);
    if (end - begin !== n * size) {
      throw bad(`tensor ${name}: shape [${e.shape}] ${e.dtype} needs ${n * size} bytes but data_offsets span ${end - begin}`);
    }
    if (end > dataLength) {
      throw bad(`tensor ${name}: data ends at byte ${end} but the file holds ${dataLength} data bytes: truncated file`);
    }
    spans.push([begin, end, name]);
    tensors.set(name, { shape: e.shape, data: toFloat32(bytes.subarray(dataStart + begin, dataStart + end), e.dtype) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) throw bad(`tensors ${spans[i - 1][2]} and ${spans[i][2]} overlap: corrupt header`);
  }
  return { tensors, metadata };
}
