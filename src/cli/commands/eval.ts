// `lab eval --model CKPT --set DIR`: WER, CER (with substitutions, deletions, insertions), real-time factor,
// per-speaker rows and the worst utterances of a fine-tuned checkpoint on an evaluation set: a corpus folder
// (manifest.jsonl, e.g. public/eval) or a folder with manifest.tsv (src/asr/evalset.ts). The set and the checkpoint
// are checked before the device opens.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateSet, type EvalReport } from '../../asr/evaluate.ts';
import { missingAudio, openEvalSet, type EvalStore } from '../../asr/evalset.ts';
import { loadRecognizer } from '../../asr/transcribe.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { LabError } from '../../gpu/errors.ts';
import { SAMPLE_RATE } from '../../speech/audio.ts';
import { numberFlag, UsageError } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';
import { folderStore } from './corpus.ts';
import { DECODE_FLAGS, decoderOptions, modelSummary, readRecognizerCheckpoint, transcribeOptions } from './transcribe.ts';

function setStore(dir: string): EvalStore {
  const files = folderStore(dir);
  return {
    name: dir,
    read: (p) => files.read(p),
    exists: async (p) => (await stat(join(dir, ...p.split('/'))).catch(() => null))?.isFile() ?? false,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function reportText(r: EvalReport, model: string, dir: string, chunkMs: number | undefined): string {
  const how =
    r.method === 'stream' ? `streamed in ${chunkMs ?? 160} ms chunks` : r.method === 'whole' ? 'whole files' : 'overlapping windows';
  const w = r.words;
  const c = r.chars;
  const lines = [
    `${model} on ${dir} (${r.set.file}): ${r.set.utterances}${r.set.utterances < r.set.inSet ? ` of ${r.set.inSet}` : ''} utterances, ${r.audioSeconds.toFixed(1)} s of audio`,
    `WER ${pct(r.wer)}  (${w.substitutions} substitutions, ${w.deletions} deletions, ${w.insertions} insertions in ${w.length} words)`,
    `CER ${pct(r.cer)}  (${c.substitutions} substitutions, ${c.deletions} deletions, ${c.insertions} insertions in ${c.length} characters)`,
    `RTF ${r.rtf.toFixed(3)}  (${r.computeSeconds.toFixed(1)} s of compute for ${r.audioSeconds.toFixed(1)} s of audio, ${how})`,
    '',
    'per speaker:',
  ];
  const width = Math.max(7, ...r.speakers.map((s) => s.speaker.length));
  lines.push(`  ${'speaker'.padEnd(width)}  utts  seconds     WER     CER`);
  for (const s of r.speakers) {
    lines.push(`  ${s.speaker.padEnd(width)}  ${String(s.utterances).padStart(4)}  ${s.seconds.toFixed(1).padStart(7)}  ${pct(s.wer).padStart(6)}  ${pct(s.cer).padStart(6)}`);
  }
  if (r.worst.length) {
    lines.push('', 'worst utterances:');
    for (const u of r.worst) {
      lines.push(`  ${u.id} (${u.speaker}): WER ${pct(u.wer)} CER ${pct(u.cer)}`, `    REF: ${u.alignment.ref}`, `    HYP: ${u.alignment.hyp}`);
    }
  }
  return lines.join('\n');
}

export const evalCommand: Command = {
  summary: 'Score a fine-tuned CTC checkpoint on an evaluation set: WER, CER, RTF, per-speaker rows, worst utterances.',
  usage:
    'npm run -s lab -- eval --model CKPT --set DIR [--json] [--limit N] [--worst 5] [--chunk-ms 160] [--offline] [--window S --overlap S]\n' +
    '       [--beam N] [--lm lm.json --lm-weight 0.5 --word-bonus 0 --lexicon]   (run with and without --lm to see what the LM buys)\n' +
    '  DIR holds manifest.jsonl (a lab corpus, e.g. public/eval) or manifest.tsv with the header id<TAB>wav_relative_path<TAB>transcript',
  flags: { ...DECODE_FLAGS, set: { type: 'string' }, limit: { type: 'number' }, worst: { type: 'number' }, 'no-warmup': { type: 'bool' } },
  maxPositionals: 0,
  async run(args) {
    const dirFlag = args.flags.set;
    if (dirFlag === undefined || dirFlag === true) throw new UsageError('--set DIR is needed: a corpus folder (manifest.jsonl) or a folder with manifest.tsv');
    const dir = dirFlag;
    const limit = args.flags.limit !== undefined ? numberFlag(args, 'limit') : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new UsageError('--limit must be a whole number of at least 1');
    const worst = numberFlag(args, 'worst', 5);
    if (!(Number.isInteger(worst) && worst >= 0)) throw new UsageError('--worst must be a whole number');
    const opts = transcribeOptions(args);
    const { decode, described } = await decoderOptions(args);
    const { path, checkpoint } = await readRecognizerCheckpoint(args);
    const info = await stat(dir).catch(() => null);
    if (!info) throw new LabError('bad-input', `--set ${dir}: no such folder`);
    if (!info.isDirectory()) throw new LabError('bad-input', `--set ${dir} is a file; give the folder that holds manifest.jsonl or manifest.tsv`);
    const store = setStore(dir);
    const set = await openEvalSet(store);
    await missingAudio(store, set, set.utterances.slice(0, limit));

    const gpu = await openDawnDevice();
    const { model } = loadRecognizer(gpu, checkpoint);
    try {
      const report = await evaluateSet(model, store, { ...opts, decode, limit, worst, warmup: args.flags['no-warmup'] !== true, onProgress: progressLine('eval') });
      const chunkMs = opts.chunkSamples !== undefined ? (opts.chunkSamples / SAMPLE_RATE) * 1000 : undefined;
      const json = { model: modelSummary(path, checkpoint), adapter: gpu.adapter, options: { ...opts, chunkMs: chunkMs ?? 160, decoder: described }, ...report, set: { dir, ...report.set } };
      const how =
        described.beam > 1 || described.lm
          ? `decoding: beam ${described.beam}${described.lm ? `, LM ${described.lm} (weight ${described.lmWeight}, word bonus ${described.wordBonus}${described.lexicon ? ', its words only' : ''})` : ''}` +
            (report.greedy ? `; greedy decoding of the same frames: WER ${pct(report.greedy.wer)}, CER ${pct(report.greedy.cer)}` : '')
          : 'decoding: greedy';
      return { json, text: `${reportText(report, path, dir, chunkMs)}\n\n${how}` };
    } finally {
      model.release();
      gpu.destroy();
    }
  },
};
