// Files a hostile or unlucky user hands the pages: damaged audio, damaged or hostile checkpoints, and good checkpoints
// of the wrong kind. Built in Node with the lab's own writers, handed to Playwright as in-memory files.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { saveCheckpoint } from '../src/models/checkpoint.ts';
import type { EncoderKind } from '../src/models/config.ts';
import { initialValues } from '../src/models/init.ts';
import { parameterSpecs, type ParameterOptions } from '../src/models/parameters.ts';
import { preset } from '../src/models/presets.ts';
import { encodeSafetensors } from '../src/models/safetensors.ts';

export interface BadFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

export const EVAL_WAV = resolve('public/eval/wav/eval-000000.wav');

/** Seeded bytes (the same every run). */
function noise(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const wav = (name: string, buffer: Buffer): BadFile => ({ name, mimeType: 'audio/wav', buffer });

/** A good 16 kHz mono eval utterance as a file named `name`. */
export function goodWav(name = 'utterance.wav'): BadFile {
  return wav(name, readFileSync(EVAL_WAV));
}

/** The fmt chunk of the eval WAVs starts at byte 12: its fields are at fixed offsets. */
function withField(offset: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.from(readFileSync(EVAL_WAV));
  write(b.subarray(offset));
  return b;
}

/** Damaged audio, each with the words its message must hold. */
export function badAudio(): { file: BadFile; says: RegExp }[] {
  const good = readFileSync(EVAL_WAV);
  return [
    { file: wav('truncated.wav', good.subarray(0, 2000)), says: /^truncated\.wav: truncated: the data chunk size is \d+ bytes but only 1956 are present/ },
    { file: wav('one-hertz.wav', withField(24, (b) => b.writeUInt32LE(1, 0))), says: /^one-hertz\.wav: .*1 Hz, outside 1000\.\.384000 Hz: a corrupt header/ },
    { file: wav('many-channels.wav', withField(22, (b) => b.writeUInt16LE(60000, 0))), says: /^many-channels\.wav: the fmt channel count is 60000, outside 1\.\.64/ },
    { file: wav('huge-data.wav', withField(40, (b) => b.writeUInt32LE(0xfffffff0, 0))), says: /^huge-data\.wav: truncated: the data chunk size is 4294967280 bytes/ },
    { file: { name: 'noise.flac', mimeType: 'audio/flac', buffer: noise(4096) }, says: /^noise\.flac: unknown audio format \(expected WAV, FLAC or NIST SPHERE\)/ },
    { file: { name: 'empty.wav', mimeType: 'audio/wav', buffer: Buffer.alloc(0) }, says: /^empty\.wav: empty file/ },
  ];
}

/** A checkpoint with random initial values (encoder + the given heads). */
export function checkpoint(kind: EncoderKind, heads: ParameterOptions, name = `${kind}-tiny.safetensors`): BadFile {
  const config = preset(kind, 'tiny');
  const specs = parameterSpecs(config, heads);
  const values = initialValues(specs, config, 7);
  const params = new Map(specs.map((s) => [s.name, { shape: s.shape, data: values.get(s.name)! }]));
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(saveCheckpoint({ config, heads, params, extra: new Map(), metadata: {} })) };
}

/** A safetensors file whose header is `header` (JSON), followed by `data` bytes. */
function safetensors(name: string, header: unknown, data = Buffer.alloc(0)): BadFile {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.concat([length, json, data]) };
}

/** Damaged, hostile and foreign .safetensors files, each with the words its message must hold. */
export function badCheckpoints(): { file: BadFile; says: RegExp }[] {
  const config = { ...preset('mamba', 'tiny'), n_layers: 1e8 };
  const huge = Buffer.alloc(8);
  huge.writeBigUInt64LE(2n ** 60n);
  const foreign = encodeSafetensors([['encoder.weight', { shape: [2, 2], data: new Float32Array(4) }]], { format: 'pt' });
  return [
    { file: safetensors('hostile.safetensors', { __metadata__: { config: JSON.stringify(config), heads: '{"ctcHead":true}' } }), says: /^hostile\.safetensors is not a checkpoint of this lab: .*n_layers/ },
    { file: { name: 'noise.safetensors', mimeType: 'application/octet-stream', buffer: noise(5000, 3) }, says: /^noise\.safetensors is not a checkpoint of this lab: .*(header|safetensors)/ },
    { file: { name: 'huge-header.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.concat([huge, noise(100)]) }, says: /^huge-header\.safetensors is not a checkpoint of this lab: header length \d+ exceeds the file \(108 bytes\)/ },
    { file: { name: 'foreign.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(foreign) }, says: /^foreign\.safetensors: no "config" in the metadata: not a checkpoint of this lab \(convert it first\)/ },
  ];
}
