// `lab transcribe FILE... --model CKPT`: greedy CTC transcripts of audio files (WAV, FLAC, NIST SPHERE; any rate,
// any channels) with word times, on Dawn. Causal models stream through each file in --chunk-ms chunks; the
// other kinds take the whole file, or overlapping windows when it does not fit the device (src/asr/transcribe.ts).
// Every file and the checkpoint are read and checked before the device opens, so a typo fails at once.
import { readFile } from 'node:fs/promises';
import { beamWithLm, type DecoderOptions } from '../../asr/ctc-decode.ts';
import { DEFAULT_SILENCE_MS, recognizeSamples, type RecognizerOptions } from '../../asr/recognizer.ts';
import { recognizerCheckpoint, loadRecognizer, transcribeSamples, audioForModel, type Transcript, type AudioInput, type TranscribeOptions, canStream } from '../../asr/transcribe.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { LabError } from '../../gpu/errors.ts';
import type { Checkpoint } from '../../models/checkpoint.ts';
import { SAMPLE_RATE } from '../../speech/audio.ts';
import { numberFlag, UsageError, type Args, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';
import { readLm } from './lm.ts';

function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'EACCES') return 'permission denied';
  return (e as Error)?.message ?? String(e);
}

/** The checkpoint named by --model, checked for transcription; errors name the file. */
export async function readRecognizerCheckpoint(args: Args): Promise<{ path: string; checkpoint: Checkpoint }> {
  const v = args.flags.model;
  if (v === undefined || v === true) throw new UsageError('--model CKPT is needed: a fine-tuned checkpoint (.safetensors), e.g. runs/ft/best.safetensors');
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(v));
  } catch (e) {
    throw new LabError('bad-input', `--model ${v}: ${ioReason(e)}`);
  }
  try {
    return { path: v, checkpoint: recognizerCheckpoint(bytes) };
  } catch (e) {
    throw new LabError('bad-input', `--model ${v}: ${(e as Error).message}`);
  }
}

/** Options shared by transcribe and eval: --chunk-ms, --offline, --window, --overlap (seconds). */
export function transcribeOptions(args: Args): TranscribeOptions {
  const opts: TranscribeOptions = {};
  if (args.flags['chunk-ms'] !== undefined) {
    const ms = numberFlag(args, 'chunk-ms');
    if (!(ms > 0)) throw new UsageError('--chunk-ms must be positive');
    opts.chunkSamples = Math.max(1, Math.round((ms * SAMPLE_RATE) / 1000));
  }
  if (args.flags.offline === true) opts.mode = 'offline';
  if (args.flags.window !== undefined) {
    const s = numberFlag(args, 'window');
    if (!(s > 0)) throw new UsageError('--window (seconds) must be positive');
    opts.windowSamples = Math.round(s * SAMPLE_RATE);
  }
  if (args.flags.overlap !== undefined) {
    const s = numberFlag(args, 'overlap');
    if (!(s >= 0)) throw new UsageError('--overlap (seconds) must be at least 0');
    if (opts.windowSamples !== undefined && Math.round(s * SAMPLE_RATE) >= opts.windowSamples) throw new UsageError('--overlap must be shorter than --window');
    opts.overlapSamples = Math.round(s * SAMPLE_RATE);
  }
  return opts;
}

/** Decoding options shared by transcribe and eval: --beam N, --lm FILE, --lm-weight W, --word-bonus B, --lexicon. */
export async function decoderOptions(
  args: Args,
): Promise<{ decode: DecoderOptions; described: { beam: number; lm?: string; lmWeight?: number; wordBonus?: number; lexicon?: boolean } }> {
  const beam = args.flags.beam !== undefined ? numberFlag(args, 'beam') : 0;
  if (!(Number.isInteger(beam) && beam >= 0 && beam <= 1000)) throw new UsageError('--beam must be a whole number from 0 to 1000 (0 or 1: greedy)');
  const lmWeight = args.flags['lm-weight'] !== undefined ? numberFlag(args, 'lm-weight') : 0.5;
  const wordBonus = args.flags['word-bonus'] !== undefined ? numberFlag(args, 'word-bonus') : 0;
  const lmPath = args.flags.lm;
  if (lmPath === true) throw new UsageError('--lm needs a file (lab lm build ... --out lm.json)');
  if (lmPath === undefined && (args.flags['lm-weight'] !== undefined || args.flags['word-bonus'] !== undefined) && beam <= 1) {
    throw new UsageError('--lm-weight and --word-bonus act in the beam search: give --beam N (and --lm FILE)');
  }
  const lexicon = args.flags.lexicon === true;
  if (lexicon && lmPath === undefined) throw new UsageError('--lexicon spells only the words of a language model: give --lm FILE');
  const lm = lmPath !== undefined ? await readLm(lmPath) : undefined;
  const effective = beamWithLm(beam, !!lm);
  return {
    decode: { beam: effective, lm, lmWeight, wordBonus, lexicon },
    described: effective > 1 || lm ? { beam: effective, lm: lmPath, lmWeight: lm ? lmWeight : undefined, wordBonus, lexicon: lm ? lexicon : undefined } : { beam: 0 },
  };
}

export function modelSummary(path: string, c: Checkpoint) {
  return { file: path, kind: c.config.kind, size: c.config.size, heads: c.heads };
}

export function methodText(m: Transcript['method']): string {
  if (m.mode === 'stream') return `streamed in ${((m.chunkSamples / SAMPLE_RATE) * 1000).toFixed(0)} ms chunks`;
  if (m.mode === 'whole') return 'whole file';
  return `${m.windows} windows of ${(m.windowSamples / SAMPLE_RATE).toFixed(1)} s overlapping by ${(m.overlapSamples / SAMPLE_RATE).toFixed(1)} s${m.reason ? ` (${m.reason})` : ''}`;
}

const round = (x: number, d = 3) => +x.toFixed(d);

/** Endpointing flags of --stream: --endpoint-ms MS (default 600), --no-endpoint. */
function endpointOption(args: Args): RecognizerOptions['endpoint'] {
  if (args.flags['no-endpoint'] === true) return false;
  if (args.flags['endpoint-ms'] === undefined) return { silenceMs: DEFAULT_SILENCE_MS };
  const ms = numberFlag(args, 'endpoint-ms');
  if (!(ms > 0)) throw new UsageError('--endpoint-ms must be positive');
  return { silenceMs: ms };
}

const timed = (w: { word: string; start: number; end: number }) => ({ word: w.word, start: round(w.start), end: round(w.end) });

/**
 * Options of transcribe and eval, declared for the shared parser (unknown options and values given to switches are
 * usage errors); the values themselves are checked by the functions above, with their own messages.
 */
export const DECODE_FLAGS: FlagSpecs = {
  model: { type: 'string' },
  'chunk-ms': { type: 'number' },
  offline: { type: 'bool' },
  window: { type: 'number' },
  overlap: { type: 'number' },
  beam: { type: 'number' },
  lm: { type: 'string' },
  'lm-weight': { type: 'number' },
  'word-bonus': { type: 'number' },
  lexicon: { type: 'bool' },
};

const TRANSCRIBE_FLAGS: FlagSpecs = {
  ...DECODE_FLAGS,
  stream: { type: 'bool' },
  'endpoint-ms': { type: 'number' },
  'no-endpoint': { type: 'bool' },
};

export const transcribe: Command = {
  summary: 'Transcribe audio files with a fine-tuned CTC checkpoint: text, and words with times in JSON; --stream runs the live recognizer.',
  usage:
    'npm run -s lab -- transcribe FILE... --model CKPT [--json] [--chunk-ms 160] [--offline] [--window S --overlap S]\n' +
    '       [--beam N] [--lm lm.json --lm-weight 0.5 --word-bonus 0 --lexicon] [--stream [--endpoint-ms 600 | --no-endpoint]]\n' +
    '  causal models (mamba, causal-transformer) stream through the file in --chunk-ms chunks (--offline: one forward);\n' +
    '  the others take the whole file when it fits the device, else 30 s windows overlapping by 6 s (or --window S --overlap S).\n' +
    '  --beam N: CTC prefix beam search (0/1: greedy); --lm: a word n-gram LM from `lab lm build` (beam 8 unless given); --lexicon: only its words.\n' +
    '  --stream: the live recognizer of the Transcribe page (causal models): final segments cut at silences of\n' +
    '  --endpoint-ms, partial text as it changed, and per-chunk compute, latency, real-time factor and state size',
  flags: TRANSCRIBE_FLAGS,
  async run(args) {
    const files = args.positionals;
    if (files.length === 0) throw new UsageError(`transcribe needs at least one audio file; usage: ${this.usage.split('\n')[0]}`);
    const opts = transcribeOptions(args);
    const stream = args.flags.stream === true;
    if (stream && (opts.mode === 'offline' || opts.windowSamples !== undefined)) throw new UsageError('--stream runs the live recognizer; it does not combine with --offline or --window');
    const endpoint = stream ? endpointOption(args) : undefined;
    const { decode, described } = await decoderOptions(args);
    const { path, checkpoint } = await readRecognizerCheckpoint(args);
    const inputs: { file: string; samples: Float32Array; input: AudioInput }[] = [];
    for (const file of files) {
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(file));
      } catch (e) {
        throw new LabError('bad-input', `${file}: ${ioReason(e)}`);
      }
      try {
        inputs.push({ file, ...audioForModel(bytes) });
      } catch (e) {
        throw new LabError('bad-input', `${file}: not a usable audio file (${(e as Error).message})`);
      }
    }
    const gpu = await openDawnDevice();
    const { model } = loadRecognizer(gpu, checkpoint);
    try {
      if (stream) {
        const chunkSamples = opts.chunkSamples ?? 2560;
        const out = [];
        for (const { file, samples, input } of inputs) {
          const r = await recognizeSamples(model, samples, { ...decode, endpoint, chunkSamples });
          const s = r.summary;
          out.push({
            file,
            text: r.text,
            words: r.segments.flatMap((g) => g.words.map(timed)),
            segments: r.segments.map((g) => ({ text: g.text, start: round(g.start), end: round(g.end), words: g.words.map(timed) })),
            partials: r.partials.map((p) => ({ at: round(p.at), text: p.text })),
            seconds: round(samples.length / SAMPLE_RATE),
            input,
            chunks: {
              count: s.chunks,
              chunkMs: round((chunkSamples / SAMPLE_RATE) * 1000, 1),
              rtf: round(s.rtf, 4),
              computeMs: roundAll(s.computeMs),
              latencyMs: roundAll(s.latencyMs),
              stateBytes: s.stateBytes,
            },
          });
        }
        const json = { model: { ...modelSummary(path, checkpoint), streams: true }, adapter: gpu.adapter, decoder: described, endpoint, files: out };
        const text = out
          .map((f) =>
            [
              ...(out.length > 1 ? [`${f.file}:`] : []),
              ...f.segments.map((g) => `[${g.start.toFixed(2)}-${g.end.toFixed(2)}] ${g.text}`),
              `  (${f.chunks.count} chunks of ${f.chunks.chunkMs} ms: compute ${f.chunks.computeMs.mean} ms mean, ${f.chunks.computeMs.p95} ms p95; ` +
                `latency ${f.chunks.latencyMs.mean} ms mean, ${f.chunks.latencyMs.p95} ms p95; RTF ${f.chunks.rtf}; state ${f.chunks.stateBytes.first} -> ${f.chunks.stateBytes.last} bytes)`,
            ].join('\n'),
          )
          .join('\n');
        return { json, text };
      }
      const out = [];
      for (const { file, samples, input } of inputs) {
        const long = samples.length > 30 * SAMPLE_RATE;
        const progress = long ? progressLine(file) : undefined;
        const t = await transcribeSamples(model, samples, {
          ...opts,
          decode,
          onProgress: progress && ((done, total) => progress(Math.round(done / SAMPLE_RATE), Math.round(total / SAMPLE_RATE), 's')),
        });
        out.push({
          file,
          text: t.text,
          words: t.words.map(timed),
          seconds: round(t.seconds),
          input,
          method: t.method,
          computeSeconds: round(t.computeSeconds),
          rtf: round(t.seconds ? t.computeSeconds / t.seconds : 0, 4),
        });
      }
      const json = { model: { ...modelSummary(path, checkpoint), streams: canStream(model) }, adapter: gpu.adapter, decoder: described, files: out };
      const text = out.length === 1 ? out[0].text : out.map((f) => `${f.file}: ${f.text}`).join('\n');
      return { json, text };
    } finally {
      model.release();
      gpu.destroy();
    }
  },
};

function roundAll(q: { mean: number; p50: number; p95: number; max: number }) {
  return { mean: round(q.mean, 2), p50: round(q.p50, 2), p95: round(q.p95, 2), max: round(q.max, 2) };
}
