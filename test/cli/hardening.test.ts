// Issue 14, classes 2-6, for every command but `lab corpus`: hostile checkpoints, audio headers, arguments and
// exit codes, unclear messages, hangs. Every input is built here; each case asserts the one line, the exit code,
// and (with a timeout) that nothing hangs.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.ts';
import { failure, lab, printable } from '../../src/cli/lab.ts';
import { LabError } from '../../src/gpu/errors.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/models/checkpoint.ts';
import type { ModelConfig } from '../../src/models/config.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { decodeFlac } from '../../src/speech/flac.ts';
import { decodeSphere, decodeWav, wavInfo } from '../../src/speech/wav.ts';
import { encodeFlac, makeSphere, testSignal } from '../speech/fixtures.ts';
import { smallConfig } from '../train/fixtures.ts';

const ROOT = join(import.meta.dirname, '../..');

// ---- helpers ----

/** `lab ...` in this process: exit code, stdout, stderr. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await lab(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

/** The one `lab: ` line of a failure; no stack trace. */
function line(r: { err: string }): string {
  const lines = r.err.split('\n').filter(Boolean);
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^lab: /);
  return lines[0];
}

/** `lab ...` as its own process (the real exit path). */
function spawnLab(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/lab.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function checkpointOf(config: ModelConfig, fill = (_name: string, _i: number) => 0.01): Uint8Array {
  const heads = { pretrainHead: true, ctcHead: true };
  const params = new Map(
    parameterSpecs(config, heads).map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      return [p.name, { shape: [...p.shape], data: Float32Array.from({ length: n }, (_, i) => fill(p.name, i)) }];
    }),
  );
  return saveCheckpoint({ config, heads, params, extra: new Map(), metadata: {} });
}

/** The same file with its JSON header edited (data bytes kept). */
function withHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

function withConfig(bytes: Uint8Array, edit: (c: Record<string, any>) => void): Uint8Array {
  return withHeader(bytes, (h) => {
    const c = JSON.parse(h.__metadata__.config);
    edit(c);
    h.__metadata__.config = JSON.stringify(c);
  });
}

/** The LabError a call throws, and how long it took. */
function refusal(f: () => unknown): { error: LabError; ms: number } {
  const t = performance.now();
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    return { error: e as LabError, ms: performance.now() - t };
  }
  throw new Error('no error thrown');
}

/** A WAV file from parts: fmt fields, the data chunk's declared size, payload, trailing chunks. */
function wav(o: { format?: number; channels?: number; rate?: number; bits?: number; align?: number; dataSize?: number; data: Uint8Array; tail?: Uint8Array }): Uint8Array {
  const channels = o.channels ?? 1;
  const bits = o.bits ?? 16;
  const tail = o.tail ?? new Uint8Array(0);
  const out = new Uint8Array(44 + o.data.length + tail.length);
  const v = new DataView(out.buffer);
  const w = (off: number, s: string) => [...s].forEach((c, i) => (out[off + i] = c.charCodeAt(0)));
  w(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  w(8, 'WAVE');
  w(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, o.format ?? 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, o.rate ?? 16000, true);
  v.setUint32(28, (o.rate ?? 16000) * channels * (bits / 8), true);
  v.setUint16(32, o.align ?? channels * (bits / 8), true);
  v.setUint16(34, bits, true);
  w(36, 'data');
  v.setUint32(40, o.dataSize ?? o.data.length, true);
  out.set(o.data, 44);
  out.set(tail, 44 + o.data.length);
  return out;
}

function listChunk(): Uint8Array {
  const b = new Uint8Array(8 + 26);
  const text = 'LIST\u001a\u0000\u0000\u0000INFOISFT\u000e\u0000\u0000\u0000Lavf58.76.100\u0000';
  for (let i = 0; i < text.length && i < b.length; i++) b[i] = text.charCodeAt(i);
  return b;
}

/** Set bits [at, at + n) of b (big-endian bit order, as FLAC writes them). */
function setBits(b: Uint8Array, at: number, n: number, value: bigint): void {
  for (let i = 0; i < n; i++) {
    const bit = Number((value >> BigInt(n - 1 - i)) & 1n);
    const pos = at + i;
    b[pos >> 3] = (b[pos >> 3] & ~(0x80 >> (pos & 7))) | (bit << (7 - (pos & 7)));
  }
}

/** A small FLAC with STREAMINFO's sample rate and/or total samples rewritten. */
function flacWith(o: { rate?: number; total?: bigint }): Uint8Array {
  const x = testSignal(4096, 16, 3);
  const b = encodeFlac([x], { sampleRate: 16000, bps: 16, blockSize: 1024 });
  const info = 8 * (4 + 4); // after "fLaC" and the metadata block header
  if (o.rate !== undefined) setBits(b, info + 80, 20, BigInt(o.rate));
  if (o.total !== undefined) setBits(b, info + 108, 36, o.total);
  return b;
}

let dir: string;
let corpus: string;
let aFile: string;
let good: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lab-hardening-'));
  corpus = join(dir, 'corpus');
  await (await import('node:fs/promises')).mkdir(corpus);
  await writeFile(join(corpus, 'manifest.jsonl'), '');
  await (await import('node:fs/promises')).mkdir(join(dir, 'a-folder-without-a-corpus'));
  aFile = join(dir, 'a-file.txt');
  await writeFile(aFile, 'not a folder');
  good = join(dir, 'good.safetensors');
  await writeFile(good, checkpointOf(smallConfig('mamba')));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---- class 2 ----

describe('class 2: hostile or broken checkpoints are refused before anything is allocated', () => {
  const base = checkpointOf(smallConfig('mamba'));

  it('a config with n_layers 1e8 is refused in milliseconds, naming the field and the bound', () => {
    const { error, ms } = refusal(() => loadCheckpoint(withConfig(base, (c) => (c.n_layers = 1e8))));
    expect(error.message).toBe('checkpoint: config field n_layers is 100000000, outside 1..256');
    expect(ms).toBeLessThan(200);
  });

  it.each([
    ['a bogus kind', (c: any) => (c.kind = 'hyena'), 'checkpoint: config field kind is "hyena"; it is one of mamba, extbimamba, innbimamba, mamba-mlp, transformer, causal-transformer'],
    ['groups 0', (c: any) => (c.pos_conv.groups = 0), 'checkpoint: config field pos_conv.groups is 0, outside 1..64'],
    ['groups not dividing d_model', (c: any) => (c.pos_conv.groups = 3), 'checkpoint: config field pos_conv.groups (3) must divide d_model (64)'],
    ['d_model as a string', (c: any) => (c.d_model = '64'), 'checkpoint: config field d_model must be a number, not "64"'],
    ['a fractional width', (c: any) => (c.d_state = 7.5), 'checkpoint: config field d_state must be a whole number, not 7.5'],
    ['a negative ffn', (c: any) => (c.ffn = -1), 'checkpoint: config field ffn is -1, outside 0..65536'],
    ['a missing extractor', (c: any) => delete c.extractor, 'checkpoint: config field extractor must be an object'],
    ['strides multiplying past the hop bound', (c: any) => (c.extractor.layers = [[32, 10, 1024], [32, 3, 1024]]), 'checkpoint: config field extractor.layers strides multiply to a hop of 1048576 samples, above 65536'],
    ['100 million extractor layers', (c: any) => (c.extractor.layers = { length: 1e8 }), 'checkpoint: config field extractor.layers must be a list of [channels, kernel, stride]'],
    ['an extractor stride of 0', (c: any) => (c.extractor.layers[1][2] = 0), 'checkpoint: config field extractor.layers[1][2] (stride) is 0, outside 1..1024'],
  ])('%s', (_what, edit, message) => {
    const { error, ms } = refusal(() => loadCheckpoint(withConfig(base, edit as (c: Record<string, any>) => void)));
    expect(error.code).toBe('bad-input');
    expect(error.message).toBe(message);
    expect(ms).toBeLessThan(200);
  });

  it('a config that is not an object is refused', () => {
    const arr = withHeader(base, (h) => (h.__metadata__.config = '[1,2]'));
    expect(refusal(() => loadCheckpoint(arr)).error.message).toBe('checkpoint: config field (the whole config) must be an object');
  });

  it('transformer heads must divide d_model', () => {
    const t = checkpointOf(smallConfig('transformer'));
    expect(refusal(() => loadCheckpoint(withConfig(t, (c) => (c.h = 3)))).error.message).toBe('checkpoint: config field h (3 heads) must divide d_model (64)');
  });

  it('a config that needs more weights than the file holds is refused by the byte total', () => {
    const { error, ms } = refusal(() => loadCheckpoint(withConfig(base, (c) => { c.d_model = 4096; c.pos_conv.groups = 4; c.h = 2; })));
    expect(error.message).toMatch(/^checkpoint: the config \(mamba-tiny, 2 layers, d_model 4096\) needs \d+ weights \([\d.]+ [KMG]iB as F32\) but the file holds [\d.]+ KiB of them .*: wrong config or truncated file$/);
    expect(ms).toBeLessThan(500);
  });

  it('NaN or infinite weights are refused naming the tensor and the index (code non-finite)', () => {
    const nan = checkpointOf(smallConfig('mamba'), (name, i) => (name === 'encoder.layers.1.mixer.D' && i === 5 ? NaN : 0.01));
    const e1 = refusal(() => loadCheckpoint(nan)).error;
    expect(e1.code).toBe('non-finite');
    expect(e1.message).toMatch(/^checkpoint: tensor encoder\.layers\.1\.mixer\.D holds 1 non-finite value \(NaN or infinity\), the first at index 5 \(NaN\)/);
    const inf = checkpointOf(smallConfig('mamba'), (name, i) => (name === 'post_extract_proj.weight' && i >= 2 ? -Infinity : 0.01));
    expect(refusal(() => loadCheckpoint(inf)).error.message).toMatch(/^checkpoint: tensor post_extract_proj\.weight holds \d+ non-finite values .* index 2 \(-Infinity\)/);
  });

  it.each([
    ['shapes given as strings', (h: any) => (h['mask_emb'].shape = ['64']), /^safetensors: tensor "mask_emb": shape \["64"\] must hold whole numbers >= 0: corrupt header$/],
    ['a negative dimension', (h: any) => (h['mask_emb'].shape = [-64]), /^safetensors: tensor "mask_emb": shape \[-64\] must hold whole numbers >= 0/],
    ['offsets as strings', (h: any) => (h['mask_emb'].data_offsets = ['0', '256']), /^safetensors: tensor "mask_emb": bad data_offsets \["0", "256"\]$/],
    ['a dtype named like an Object property', (h: any) => (h['mask_emb'].dtype = 'constructor'), /^safetensors: tensor "mask_emb": dtype "constructor" is not supported/],
    ['metadata holding an object', (h: any) => (h.__metadata__.config = { kind: 'mamba' }), /^safetensors: __metadata__ field "config" is a object, not a string/],
    ['heads that are null', (h: any) => (h.__metadata__.heads = 'null'), /^checkpoint: the "heads" metadata must be an object/],
    ['a head switch that is a string', (h: any) => (h.__metadata__.heads = '{"ctcHead":"yes"}'), /^checkpoint: heads\.ctcHead is "yes", not true or false/],
    ['config that is not JSON', (h: any) => (h.__metadata__.config = '{kind:'), /^checkpoint: the "config" metadata is not valid JSON/],
  ])('%s', (_what, edit, message) => {
    const { error } = refusal(() => loadCheckpoint(withHeader(base, edit)));
    expect(error.message).toMatch(message);
  });

  it('a header length of 2^63 or a truncated file is refused with the sizes', () => {
    const b = base.slice();
    new DataView(b.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(refusal(() => loadCheckpoint(b)).error.message).toMatch(/^safetensors: header length 9223372036854775808 exceeds the file \(\d+ bytes\)/);
    expect(refusal(() => loadCheckpoint(base.subarray(0, base.length - 1000))).error.message).toMatch(/truncated file$/);
    expect(refusal(() => loadCheckpoint(new Uint8Array(5))).error.message).toMatch(/shorter than the 8-byte header length/);
  });

  it('the CLI refuses a hostile --from before opening the device: one line, exit 1, quickly', async () => {
    const bad = join(dir, 'hostile.safetensors');
    await writeFile(bad, withConfig(base, (c) => (c.n_layers = 1e8)));
    const t = performance.now();
    const r = await run('train', 'finetune', '--from', bad, '--corpus', corpus, '--out', join(dir, 'ft'));
    expect([r.code, line(r)]).toEqual([1, `lab: --from ${bad}: checkpoint: config field n_layers is 100000000, outside 1..256`]);
    expect(performance.now() - t).toBeLessThan(5000);
    const nan = join(dir, 'nan.safetensors');
    await writeFile(nan, checkpointOf(smallConfig('mamba'), (name, i) => (name === 'mask_emb' && i === 0 ? NaN : 0)));
    const p = await run('purity', '--models', nan, '--set', corpus, '--no-cache');
    expect(p.code).toBe(1);
    expect(line(p)).toMatch(new RegExp(`^lab: --models ${nan}: checkpoint: tensor mask_emb holds 1 non-finite value`));
  }, 20_000);

  it('a good checkpoint still loads', () => {
    const c = loadCheckpoint(base);
    expect(c.config).toEqual(smallConfig('mamba'));
  });
});

// ---- class 3 ----

describe('class 3: audio header fields are bounded, naming the file and the field', () => {
  const pcm = new Uint8Array(new Int16Array([0, 100, -100, 2000, -2000, 0, 1, 2]).buffer);

  it.each([
    ['data chunk size 0 with a LIST chunk after it', wav({ data: new Uint8Array(0), dataSize: 0, tail: listChunk() }), 'x.wav: the data chunk size is 0: no audio samples (an empty recording, or a writer that never filled in the size)'],
    ['a rate of 1 Hz', wav({ rate: 1, data: pcm }), 'x.wav: the fmt sample rate is 1 Hz, outside 1000..384000 Hz: a corrupt header'],
    ['a rate of 0 Hz', wav({ rate: 0, data: pcm }), 'x.wav: the fmt sample rate is 0 Hz, outside 1000..384000 Hz: a corrupt header'],
    ['a rate of 4 GHz', wav({ rate: 0xfffffff0, data: pcm }), 'x.wav: the fmt sample rate is 4294967280 Hz, outside 1000..384000 Hz: a corrupt header'],
    ['0 channels', wav({ channels: 0, align: 2, data: pcm }), 'x.wav: the fmt channel count is 0, outside 1..64: a corrupt header'],
    ['65535 channels', wav({ channels: 65535, align: 2, data: pcm }), 'x.wav: the fmt channel count is 65535, outside 1..64: a corrupt header'],
    ['a data size past the end', wav({ dataSize: 1 << 30, data: pcm }), 'x.wav: truncated: the data chunk size is 1073741824 bytes but only 16 are present'],
    ['a block align that disagrees', wav({ align: 7, data: pcm }), 'x.wav: the fmt block align is 7 bytes but 1 channels of 16 bits make 2: a corrupt header'],
    ['12-bit samples', wav({ bits: 12, align: 2, data: pcm }), 'x.wav: unsupported bit depth 12 (the fmt bits per sample)'],
    ['less than one frame of data', wav({ data: new Uint8Array(1) }), 'x.wav: the data chunk holds 1 bytes, less than one frame of 2: no audio samples'],
  ])('WAV: %s', (_what, bytes, message) => {
    const { error } = refusal(() => decodeWav(bytes, 'x.wav'));
    expect(error.message).toBe(message);
  });

  it('wavInfo (the manifest check) calls a header with absurd fields invalid instead of reporting Infinity samples', () => {
    expect(wavInfo(wav({ data: pcm }))).toEqual({ sampleRate: 16000, samples: 8, channels: 1 });
    expect(wavInfo(wav({ rate: 1, data: pcm }))).toBeNull();
    expect(wavInfo(wav({ channels: 0, align: 2, data: pcm }))).toBeNull();
    expect(wavInfo(wav({ bits: 0, align: 2, data: pcm }))).toBeNull();
    expect(wavInfo(wav({ data: new Uint8Array(0), dataSize: 0, tail: listChunk() }))).toBeNull();
  });

  it('float WAVs holding NaN or infinity are refused naming the file and the sample index', () => {
    const f = new Float32Array([0, 0.5, -0.5, NaN, 0]);
    const nan = wav({ format: 3, bits: 32, data: new Uint8Array(f.buffer) });
    expect(refusal(() => decodeWav(nan, 'f.wav')).error.message).toBe('f.wav: float sample 3 is NaN (at byte 56): the file holds NaN or infinite samples');
    const g = new Float64Array([0, 0.25, 0.25, 0.25, Infinity, 1]);
    const inf = wav({ format: 3, bits: 64, channels: 2, data: new Uint8Array(g.buffer) });
    expect(refusal(() => decodeWav(inf, 'g.wav')).error.message).toBe('g.wav: float sample 2 of channel 0 is Infinity (at byte 76): the file holds NaN or infinite samples');
    const ok = decodeWav(wav({ format: 3, bits: 32, data: new Uint8Array(new Float32Array([0, 0.5]).buffer) }), 'ok.wav');
    expect(Array.from(ok.channels[0])).toEqual([0, 0.5]);
  });

  it('FLAC: a STREAMINFO rate of 0 or 2^36 samples gives a message, not a RangeError, and does not allocate', () => {
    expect(decodeFlac(flacWith({}), 'a.flac').channels[0].length).toBe(4096);
    expect(refusal(() => decodeFlac(flacWith({ rate: 0 }), 'a.flac')).error.message).toBe('a.flac: the FLAC STREAMINFO sample rate is 0 Hz, outside 1000..384000 Hz: a corrupt header');
    expect(refusal(() => decodeFlac(flacWith({ rate: 999 }), 'a.flac')).error.message).toMatch(/^a\.flac: the FLAC STREAMINFO sample rate is 999 Hz/);
    const { error, ms } = refusal(() => decodeFlac(flacWith({ total: 2n ** 36n - 1n }), 'b.flac'));
    expect(error.message).toMatch(/^b\.flac: the FLAC STREAMINFO total samples is 68719476735 \(1193\.0 h\), above 134217728: a corrupt header/);
    expect(ms).toBeLessThan(200);
    const t = refusal(() => decodeFlac(flacWith({ total: 2n ** 27n }), 'c.flac'));
    expect(t.error.message).toBe('c.flac: truncated FLAC: 4096 of 134217728 samples decoded (the STREAMINFO total samples)');
    expect(t.ms).toBeLessThan(500);
  });

  it('SPHERE: an absurd rate or a sample_count that is not a number is refused', () => {
    const s = makeSphere([1, 2, 3, 4], 16000);
    const text = new TextDecoder('latin1').decode(s);
    const patch = (from: string, to: string) => Uint8Array.from(text.replace(from, to.padEnd(from.length, ' ')), (c) => c.charCodeAt(0));
    expect(refusal(() => decodeSphere(patch('sample_rate -i 16000', 'sample_rate -i 1'), 't.wav')).error.message).toBe('t.wav: the SPHERE sample_rate is 1 Hz, outside 1000..384000 Hz: a corrupt header');
    expect(refusal(() => decodeSphere(patch('sample_count -i 4', 'sample_count -i x'), 't.wav')).error.message).toMatch(/^t\.wav: the SPHERE sample_count is "x"/);
  });
});

// ---- class 4 ----

describe('class 4: one shared parser, usage errors exit 2 with one line; main returns the exit code', () => {
  it.each([
    [['bench', '--jsn'], /^lab: bench: unknown option --jsn \(did you mean --json\?\); options: --json /],
    [['bench', '--preset'], /^lab: bench: --preset needs a value$/],
    [['bench', '--preset', '--json'], /^lab: bench: --preset needs a value$/],
    [['bench', '--reps', '0'], /^lab: --reps needs an integer >= 1 and <= 1000, not 0$/],
    [['bench', '--lengths', ','], /^lab: --lengths needs a comma-separated list with at least one item, not ","$/],
    [['bench', '--lengths', '10,-3'], /^lab: --lengths needs a number >= 0.1 and <= 3600, not -3$/],
    [['bench', '--batch', '0'], /^lab: --batch needs an integer >= 1 and <= 1024, not 0$/],
    [['bench', '--models', 'mamba,hyena'], /^lab: --models: unknown "hyena"; one or more of mamba, /],
    [['bench', 'train', '--lengths', '10'], /^lab: bench: --lengths does not apply to train; it is for plain bench$/],
    [['bench', 'sweep'], /^lab: unknown bench subcommand "sweep"/],
    [['model', 'info', '--seconds', '-1'], /^lab: --seconds needs a number > 0 and <= 86400, not -1$/],
    [['model', 'info', '--seconds', 'abc'], /^lab: --seconds needs a number > 0 and <= 86400, not "abc"$/],
    [['model', 'info', '--seconds', ''], /^lab: --seconds needs a number > 0 and <= 86400, not ""$/],
    [['model', 'info', '--preset', 'mamba-huge'], /^lab: --preset: unknown preset "mamba-huge" \(did you mean mamba-base\?\); presets are <kind>-<size>, kinds mamba, /],
    [['model', 'info', 'extra'], /^lab: model: unexpected argument "extra"$/],
    [['model', 'info', '--json', '--json'], /^lab: model: --json is given twice$/],
    [['device', '--no-bench=1'], /^lab: device: --no-bench is a switch and takes no value \(got "1"\)$/],
    [['kernels', '--families', 'matmull'], /^lab: --families: unknown "matmull"; one or more of /],
    [['selftest', 'now'], /^lab: selftest: unexpected argument "now" \(this command takes only options\)$/],
    [['train', 'ctc', '--preset', 'mamba-tiny', '--corpus', 'c', '--out', 'o', '--steps', '0'], /^lab: --steps needs an integer >= 1 and <= 1000000000, not 0$/],
    [['train', 'ctc', '--lr', 'NaN'], /^lab: --lr needs a number > 0 and <= 10, not "NaN"$/],
    [['train', 'pretrain', '--iteration', '3'], /^lab: --iteration needs an integer >= 1 and <= 2, not 3$/],
    [['train', 'ctc', '--iteration', '2'], /^lab: train: --iteration does not apply to ctc; it is for pretrain$/],
    [['train', 'ctc', '--preset', 'hyena-tiny', '--corpus', '.', '--out', '.'], /^lab: --preset: unknown preset "hyena-tiny"; presets are /],
    [['train', 'pretrain', '--aux-weight', '0.3'], /^lab: train: --aux-weight does not apply to pretrain; it is for ctc, finetune$/],
    [['train', 'ctc', '--preset', 'mamba-tiny', '--corpus', '.', '--out', '.', '--clusters', '50'], /^lab: --clusters shapes frame targets: for pretrain, or ctc with --aux-weight$/],
    [['train', 'ctc', '--mask-prob', '1.5'], /^lab: --mask-prob needs a number >= 0 and <= 1, not 1.5$/],
    [['train', 'ctc', '--schedule', 'cosin'], /^lab: --schedule "cosin" is not one of linear, cosine, tri-stage \(did you mean cosine\?\)$/],
    [['train'], /^lab: train: the stage is one of pretrain, finetune, ctc/],
    [['purity', '--k', '1', '--models', 'mfcc', '--set', 'x'], /^lab: --k needs an integer >= 2 and <= 65535, not 1$/],
    [['purity', '--fit-split', 'trian'], /^lab: --fit-split "trian" is not one of train, dev, test \(did you mean train\?\)$/],
    [['nope'], /^lab: unknown command "nope"; commands: /],
  ])('%j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(line(r)).toMatch(message);
  });

  it('with no command, help goes to stdout and the exit code is 2; --help exits 0', async () => {
    expect((await run()).code).toBe(2);
    expect((await run('--help')).code).toBe(0);
    const h = await run('bench', '--help');
    expect([h.code, h.out]).toEqual([0, expect.stringMatching(/^MACs and real-time factor/)]);
  });

  it('a good command exits 0 with its output; global switches may come before the command', async () => {
    const r = await run('--json', 'model', 'info', '--preset', 'mamba-tiny', '--seconds=2');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).seconds).toBe(2);
  });

  it('the loose parse (commands without specs) never gives a global switch a value', () => {
    expect(parseArgs(['--json', 'a.wav', '--model', 'm'])).toEqual({ positionals: ['a.wav'], flags: { json: true, model: 'm' } });
    expect(() => parseArgs(['--x', '1'], { y: { type: 'int' } })).toThrow(UsageError);
  });

  it('main returns the exit code a command sets (the real process: usage 2, success 0)', () => {
    const bad = spawnLab('model', 'info', '--jsn');
    expect([bad.status, bad.stderr.trim()]).toEqual([2, expect.stringMatching(/^lab: model: unknown option --jsn \(did you mean --json\?\)/)]);
    const ok = spawnLab('model', 'info', '--preset', 'mamba-tiny', '--json');
    expect(ok.status, ok.stderr).toBe(0);
    // A command that finds problems and says so exits 1 (corpus validate sets process.exitCode; main used to exit 0).
    const v = spawnLab('corpus', 'validate', join(dir, 'a-folder-without-a-corpus'));
    expect(v.status, v.stderr).toBe(1);
  }, 120_000);
});

// ---- class 5 ----

describe('class 5: every failure is one line; stacks only with --verbose', () => {
  it('a non-LabError is one line saying it is a bug, without its stack', () => {
    const f = failure(new TypeError("Cannot read properties of undefined (reading 'x')\n    at foo (bar.ts:1:1)"));
    expect(f).toEqual({ code: 1, line: "lab: internal error: TypeError: Cannot read properties of undefined (reading 'x') at foo (bar.ts:1:1) (a bug in the lab; run again with --verbose for the stack and report it)" });
  });

  it('file-system errors name the path and what to do', async () => {
    const missing = await readFile(join(dir, 'nope.txt')).catch((e) => e);
    expect(failure(missing)).toEqual({ code: 1, line: `lab: ${join(dir, 'nope.txt')}: no such file or folder (check the path)` });
    const isDir = await readFile(dir).catch((e) => e);
    expect(failure(isDir).line).toBe('lab: file system: is a folder, not a file (give a file)'); // Node's readFile gives no path here
    const ro = Object.assign(new Error("EROFS: read-only file system, open '/mnt/ro/x'"), { code: 'EROFS', syscall: 'open', path: '/mnt/ro/x' });
    expect(failure(ro).line).toBe('lab: /mnt/ro/x: read-only file system (choose a writable folder)');
    const full = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', syscall: 'write', path: '/data/run/x.part' });
    expect(failure(full).line).toBe('lab: /data/run/x.part: no space left on the device (free some space, or choose another disk)');
    const missingModule = Object.assign(new Error("Cannot find package 'webgpu' imported from /x/dawn.ts"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(failure(missingModule).line).toBe("lab: a dependency is missing (Cannot find package 'webgpu' imported from /x/dawn.ts): run npm ci");
    expect(failure(new DOMException('This operation was aborted', 'AbortError'))).toEqual({ code: 130, line: 'lab: stopped (interrupted); finished work was kept' });
    expect(failure(new RangeError('Array buffer allocation failed')).line).toMatch(/^lab: out of memory \(Array buffer allocation failed\)/);
  });

  it('paths given to commands are checked first, with one line each', async () => {
    const cases: [string[], string][] = [
      [['train', 'ctc', '--preset', 'mamba-tiny', '--corpus', join(dir, 'none'), '--out', join(dir, 'o')], `lab: --corpus ${join(dir, 'none')}: no such folder (check the path)`],
      [['train', 'ctc', '--preset', 'mamba-tiny', '--corpus', aFile, '--out', join(dir, 'o')], `lab: --corpus ${aFile}: is a file, not a folder (give a folder)`],
      [['train', 'ctc', '--preset', 'mamba-tiny', '--corpus', dir, '--out', join(dir, 'o')], `lab: --corpus ${dir}: no readable manifest.jsonl here: not a corpus folder (make one with lab corpus build or lab corpus import)`],
      [['train', 'ctc', '--preset', 'mamba-tiny', '--corpus', corpus, '--out', aFile], `lab: --out ${aFile}: is a file, not a folder (choose a folder)`],
      [['train', 'ctc', '--preset', 'mamba-tiny', '--corpus', corpus, '--out', join(aFile, 'run')], `lab: --out ${join(aFile, 'run')}: ${aFile} is a file, not a folder (check the path)`],
      [['train', 'finetune', '--from', join(dir, 'none.safetensors'), '--corpus', corpus, '--out', join(dir, 'o')], `lab: --from ${join(dir, 'none.safetensors')}: no such file (check the path)`],
      [['train', 'finetune', '--from', corpus, '--corpus', corpus, '--out', join(dir, 'o')], `lab: --from ${corpus}: is a folder, not a file (give a file)`],
      [['purity', '--models', join(dir, 'none.safetensors'), '--set', corpus, '--no-cache'], `lab: --models ${join(dir, 'none.safetensors')}: no such file (check the path); models are checkpoint paths, random:<kind>-<size>[:seed] or mfcc`],
      [['purity', '--models', 'mfcc', '--set', corpus, '--cache', '/sys/lab-cache'], 'lab: --cache /sys/lab-cache: cannot create /sys/lab-cache: permission denied (check the permissions, or choose another place)'],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect([r.code, line(r)], argv.join(' ')).toEqual([1, message]);
    }
  });

  it('--verbose adds the stack after the one line', async () => {
    const r = await run('train', 'ctc', '--preset', 'mamba-tiny', '--corpus', join(dir, 'none'), '--out', join(dir, 'o'), '--verbose');
    expect(r.code).toBe(1);
    expect(r.err.split('\n')[0]).toBe(`lab: --corpus ${join(dir, 'none')}: no such folder (check the path)`);
    expect(r.err).toMatch(/\n\s+at /);
  });

  it('text files: UTF-16 with a BOM is converted; without one, or not UTF-8, is refused in one line naming the file', async () => {
    const { decodeText, readTextFile } = await import('../../src/cli/args.ts');
    const le = new Uint8Array([0xff, 0xfe, 0x48, 0, 0x49, 0]);
    expect(decodeText(le, 's.txt')).toBe('HI');
    expect(decodeText(new Uint8Array([0xfe, 0xff, 0, 0x48, 0, 0x49]), 's.txt')).toBe('HI');
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), 's.txt')).toBe('A');
    expect(() => decodeText(new Uint8Array([0x48, 0, 0x49, 0]), 's.txt')).toThrow(/^s\.txt: looks like UTF-16 text without a byte-order mark; save it as UTF-8 text$/);
    expect(() => decodeText(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), 's.txt')).toThrow(/^s\.txt: is not UTF-8 text \(Latin-1 or another encoding\?\); save it as UTF-8$/);
    await expect(readTextFile('/dev/zero', '--sentences /dev/zero')).rejects.toThrow(/^--sentences \/dev\/zero: not a regular file/);
    await expect(readTextFile(join(dir, 'none.txt'))).rejects.toThrow(/none\.txt: no such file \(check the path\)$/);
  });

  it('NUL bytes and control characters (a UTF-16 transcript) are made visible, never printed raw', () => {
    const utf16 = new TextDecoder('utf-8').decode(new Uint8Array([0x48, 0, 0x49, 0, 0x1b, 0, 0x0a, 0]));
    expect(printable(utf16)).toBe('H\ufffdI\ufffd\\x1b\ufffd\n\ufffd');
    expect(failure(new LabError('bad-input', `transcript "${utf16}"`)).line).toBe('lab: transcript "H\ufffdI\ufffd\\x1b\ufffd \ufffd"');
  });
});

// ---- class 6 ----

describe('class 6: no path a user gives makes a command hang', () => {
  it('--out under /proc (where recursive mkdir never returns) is refused at once', async () => {
    const t = performance.now();
    const r = await run('train', 'ctc', '--preset', 'mamba-tiny', '--corpus', corpus, '--out', '/proc/1/nope/x');
    expect([r.code, line(r)]).toEqual([1, 'lab: --out /proc/1/nope/x: cannot create /proc/1/nope: cannot be created here (the file system refuses new folders; choose another place)']);
    const c = await run('purity', '--models', 'mfcc', '--set', corpus, '--cache', '/proc/1/nope/cache');
    expect(c.code).toBe(1);
    expect(line(c)).toMatch(/^lab: --cache \/proc\/1\/nope\/cache: cannot create \/proc\/1\/nope: /);
    expect(performance.now() - t).toBeLessThan(3000);
  }, 10_000);

  it('a device or a named pipe given as a checkpoint is refused without reading it', async () => {
    const fifo = join(dir, 'pipe.safetensors');
    spawnSync('mkfifo', [fifo]);
    for (const path of ['/dev/zero', '/dev/stdin', fifo]) {
      const r = await run('train', 'finetune', '--from', path, '--corpus', corpus, '--out', join(dir, 'o'));
      expect([r.code, line(r)], path).toEqual([1, `lab: --from ${path}: not a regular file (a pipe, socket or device; give a file)`]);
    }
    const p = await run('purity', '--models', '/dev/urandom', '--set', corpus, '--no-cache');
    expect(line(p)).toBe('lab: --models /dev/urandom: not a regular file (a pipe, socket or device; give a file); models are checkpoint paths, random:<kind>-<size>[:seed] or mfcc');
  }, 10_000);

  it('the out-dir check leaves nothing behind', async () => {
    const fresh = join(dir, 'a', 'b', 'c');
    const r = await run('train', 'ctc', '--preset', 'mamba-tiny', '--corpus', corpus, '--out', fresh, '--steps', 'x');
    expect(r.code).toBe(2);
    const { checkOutDir } = await import('../../src/cli/args.ts');
    await checkOutDir(fresh, '--out');
    await expect(readFile(join(dir, 'a'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
