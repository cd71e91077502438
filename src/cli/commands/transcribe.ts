// `lab transcribe FILE... --model CKPT`: greedy CTC transcripts of audio files (WAV, FLAC, NIST SPHERE; any rate,
// any channels) with word times, on Dawn. Causal models stream through each file in --chunk-ms chunks; the
// other kinds take the whole file, or overlapping windows when it does not fit the device (src/asr/transcribe.ts).
// Every file and the checkpoint are read and checked before the device opens, so a typo fails at once.
import { readFile } from 'node:fs/promises';
import { recognizerCheckpoint, loadRecognizer, transcribeSamples, audioForModel, type Transcript, type AudioInput, type TranscribeOptions, canStream } from '../../asr/transcribe.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { LabError } from '../../gpu/errors.ts';
import type { Checkpoint } from '../../models/checkpoint.ts';
import { SAMPLE_RATE } from '../../speech/audio.ts';
import { numberFlag, UsageError, type Args } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';

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

export function modelSummary(path: string, c: Checkpoint) {
  return { file: path, kind: c.config.kind, size: c.config.size, heads: c.heads };
}

export function methodText(m: Transcript['method']): string {
  if (m.mode === 'stream') return `streamed in ${((m.chunkSamples / SAMPLE_RATE) * 1000).toFixed(0)} ms chunks`;
  if (m.mode === 'whole') return 'whole file';
  return `${m.windows} windows of ${(m.windowSamples / SAMPLE_RATE).toFixed(1)} s overlapping by ${(m.overlapSamples / SAMPLE_RATE).toFixed(1)} s${m.reason ? ` (${m.reason})` : ''}`;
}

const round = (x: number, d = 3) => +x.toFixed(d);

export const transcribe: Command = {
  summary: 'Transcribe audio files with a fine-tuned CTC checkpoint: text, and words with times in JSON.',
  usage:
    'npm run -s lab -- transcribe FILE... --model CKPT [--json] [--chunk-ms 160] [--offline] [--window S --overlap S]\n' +
    '  causal models (mamba, causal-transformer) stream through the file in --chunk-ms chunks (--offline: one forward);\n' +
    '  the others take the whole file when it fits the device, else 30 s windows overlapping by 6 s (or --window S --overlap S)',
  async run(args) {
    const files = args.positionals;
    if (files.length === 0) throw new UsageError(`transcribe needs at least one audio file; usage: ${this.usage.split('\n')[0]}`);
    const opts = transcribeOptions(args);
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
      const out = [];
      for (const { file, samples, input } of inputs) {
        const long = samples.length > 30 * SAMPLE_RATE;
        const progress = long ? progressLine(file) : undefined;
        const t = await transcribeSamples(model, samples, {
          ...opts,
          onProgress: progress && ((done, total) => progress(Math.round(done / SAMPLE_RATE), Math.round(total / SAMPLE_RATE), 's')),
        });
        out.push({
          file,
          text: t.text,
          words: t.words.map((w) => ({ word: w.word, start: round(w.start), end: round(w.end) })),
          seconds: round(t.seconds),
          input,
          method: t.method,
          computeSeconds: round(t.computeSeconds),
          rtf: round(t.seconds ? t.computeSeconds / t.seconds : 0, 4),
        });
      }
      const json = { model: { ...modelSummary(path, checkpoint), streams: canStream(model) }, adapter: gpu.adapter, files: out };
      const text = out.length === 1 ? out[0].text : out.map((f) => `${f.file}: ${f.text}`).join('\n');
      return { json, text };
    } finally {
      model.release();
      gpu.destroy();
    }
  },
};
