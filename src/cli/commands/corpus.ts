// `npm run lab -- corpus build|import|validate`: speech corpora on disk (src/speech does the work; this file
// only reads and writes files).
import { appendFile, mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCorpus, parseSentences, type BuildOptions } from '../../speech/corpus.ts';
import { importCorpus, type ImportFormat, type SourceFile } from '../../speech/import.ts';
import { validateCorpus } from '../../speech/manifest.ts';
import type { CorpusStore } from '../../speech/store.ts';
import { UsageError, numberFlag, stringFlag, type Args } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function folderStore(root: string): CorpusStore {
  const at = (p: string) => join(root, ...p.split('/'));
  return {
    async read(p) {
      try {
        return new Uint8Array(await readFile(at(p)));
      } catch {
        return undefined;
      }
    },
    async write(p, bytes) {
      await mkdir(dirname(at(p)), { recursive: true });
      // write to a temporary name first so an interrupted write never leaves a half file under the real name
      const tmp = `${at(p)}.part`;
      await writeFile(tmp, bytes);
      await rename(tmp, at(p));
    },
    async append(p, text) {
      await mkdir(dirname(at(p)), { recursive: true });
      await appendFile(at(p), text);
    },
  };
}

async function listFiles(root: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const walk = async (dir: string) => {
    const items = await readdir(dir, { withFileTypes: true });
    items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const it of items) {
      const full = join(dir, it.name);
      if (it.isDirectory()) await walk(full);
      else if (it.isFile()) out.push({ path: relative(root, full).split(sep).join('/'), read: async () => new Uint8Array(await readFile(full)) });
    }
  };
  await walk(root);
  return out;
}

function range(args: Args, name: string): [number, number] | undefined {
  const v = args.flags[name];
  if (v === undefined) return undefined;
  if (v === true) throw new UsageError(`--${name} needs lo:hi`);
  const parts = v.split(':').map(Number);
  if (parts.some((x) => !Number.isFinite(x)) || parts.length > 2) throw new UsageError(`--${name} needs a number or lo:hi, got "${v}"`);
  return parts.length === 1 ? [parts[0], parts[0]] : [parts[0], parts[1]];
}

const fmtTime = (s: number) => `${Math.floor(s / 60)} min ${(s % 60).toFixed(1)} s`;

async function build(args: Args) {
  const out = resolve(stringFlag(args, 'out'));
  const opts: BuildOptions = { seed: numberFlag(args, 'seed', 1) };
  if (args.flags.minutes !== undefined) opts.minutes = numberFlag(args, 'minutes');
  if (args.flags.count !== undefined) opts.count = numberFlag(args, 'count');
  if (opts.minutes === undefined && opts.count === undefined) opts.minutes = 10;
  if (args.flags.split !== undefined) {
    const s = stringFlag(args, 'split');
    if (s !== 'train' && s !== 'dev' && s !== 'test') throw new UsageError('--split is train, dev or test');
    opts.splits = { [s]: 1 };
  }
  if (args.flags['min-words'] !== undefined) opts.minWords = numberFlag(args, 'min-words');
  if (args.flags['max-words'] !== undefined) opts.maxWords = numberFlag(args, 'max-words');
  const rate = range(args, 'rate'), pitch = range(args, 'pitch'), pad = range(args, 'pad');
  if (rate) opts.rate = rate;
  if (pitch) opts.pitch = pitch;
  if (pad) opts.pad = pad;
  if (args.flags.prefix !== undefined) opts.prefix = stringFlag(args, 'prefix');
  const snr = range(args, 'snr'), gain = range(args, 'gain');
  const speeds = args.flags.speed !== undefined ? stringFlag(args, 'speed').split(',').map(Number) : undefined;
  if (speeds?.some((x) => !(x > 0.5 && x < 2))) throw new UsageError('--speed takes factors between 0.5 and 2, e.g. 0.9,1,1.1');
  if (snr || gain || speeds) {
    opts.augment = { prob: args.flags['aug-prob'] !== undefined ? numberFlag(args, 'aug-prob') : 0.5 };
    if (snr) opts.augment.snrDb = snr;
    if (gain) opts.augment.gainDb = gain;
    if (speeds) opts.augment.speeds = speeds;
  }
  const sentencesPath = stringFlag(args, 'sentences', join(REPO, 'data', 'kjv-sentences.txt'));
  const sentences = parseSentences(await readFile(sentencesPath, 'utf8'));
  const t0 = performance.now();
  const summary = await buildCorpus(sentences, folderStore(out), opts, { onProgress: progressLine('corpus build') });
  summary.out = out;
  const elapsed = (performance.now() - t0) / 1000;
  const json = { ...summary, elapsed_s: +elapsed.toFixed(2) };
  const text = [
    `corpus: ${out}`,
    `${summary.utterances} utterances, ${fmtTime(summary.seconds)} of audio (${summary.made} made, ${summary.reused} kept) in ${elapsed.toFixed(1)} s`,
    ...Object.entries(summary.splits).map(([s, v]) => `  ${s.padEnd(5)} ${String(v.utterances).padStart(5)} utterances ${fmtTime(v.seconds).padStart(14)}  ${v.voices} voices`),
    Object.keys(summary.unmappedPhonemes).length ? `unmapped espeak phonemes (merged into neighbours): ${JSON.stringify(summary.unmappedPhonemes)}` : 'every espeak phoneme mapped onto the inventory',
  ].join('\n');
  return { json, text };
}

async function importCmd(args: Args) {
  const format = stringFlag(args, 'format') as ImportFormat;
  if (!['librispeech', 'timit', 'folder'].includes(format)) throw new UsageError('--format is librispeech, timit or folder');
  const src = args.positionals[1];
  if (!src) throw new UsageError('corpus import needs a source folder');
  const root = resolve(src);
  if (!(await stat(root).catch(() => null))?.isDirectory()) throw new UsageError(`${root} is not a folder`);
  const out = resolve(stringFlag(args, 'out'));
  const files = await listFiles(root);
  const t0 = performance.now();
  const summary = await importCorpus(files, format, folderStore(out), { onProgress: progressLine('corpus import') });
  const elapsed = (performance.now() - t0) / 1000;
  const text = [
    `imported ${summary.imported}, skipped ${summary.skipped} (${fmtTime(summary.seconds)} of audio) into ${out} in ${elapsed.toFixed(1)} s`,
    ...summary.problems.map((p) => `  ${p.file}: ${p.problem}`),
  ].join('\n');
  return { json: { out, ...summary, elapsed_s: +elapsed.toFixed(2) }, text };
}

async function validate(args: Args) {
  const dir = args.positionals[1];
  if (!dir) throw new UsageError('corpus validate needs a corpus folder');
  const store = folderStore(resolve(dir));
  const report = await validateCorpus((p) => store.read(p), { onProgress: progressLine('corpus validate') });
  if (report.problems.length) process.exitCode = 1;
  const text = [
    `${report.valid} of ${report.utterances} utterances valid (${fmtTime(report.seconds)})`,
    ...report.problems.slice(0, 50).map((p) => `  ${p.id}: ${p.problems.join('; ')}`),
  ].join('\n');
  return { json: report, text };
}

export const corpus: Command = {
  summary: 'Speech corpora: build a synthetic one (espeak-ng), import LibriSpeech/TIMIT/folder layouts, validate a manifest.',
  usage: [
    'npm run -s lab -- corpus build --out DIR [--minutes N | --count N] [--seed S] [--split train|dev|test]',
    '        [--min-words N] [--max-words N] [--rate lo:hi] [--pitch lo:hi] [--pad lo:hi] [--prefix ID]',
    '        [--snr lo:hi] [--gain lo:hi] [--speed 0.9,1,1.1] [--aug-prob P] [--sentences FILE] [--json]',
    '       npm run -s lab -- corpus import --format librispeech|timit|folder SRC --out DIR [--json]',
    '       npm run -s lab -- corpus validate DIR [--json]',
  ].join('\n'),
  async run(args) {
    const sub = args.positionals[0];
    if (sub === 'build') return build(args);
    if (sub === 'import') return importCmd(args);
    if (sub === 'validate') return validate(args);
    throw new UsageError('corpus needs a subcommand: build, import or validate');
  },
};
