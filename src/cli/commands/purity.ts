// `lab purity`: layer-wise phone purity, cluster purity and PNMI of models on an aligned corpus folder
// (src/analysis does the work; this file reads the files and prints). Results are cached per model under
// $XDG_CACHE_HOME/mamba-speech-lab/purity (or --cache DIR; --no-cache turns it off).
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { analysePurity, storeCache } from '../../analysis/purity.ts';
import { bestLayer, type PurityReport } from '../../analysis/report.ts';
import { parseRandom, type ModelSource } from '../../analysis/sources.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { LabError } from '../../gpu/errors.ts';
import { loadCheckpoint } from '../../models/checkpoint.ts';
import type { Split } from '../../speech/manifest.ts';
import { checkFile, checkOutDir, fsReason, listFlag, numberFlag, stringFlag, UsageError, type Args, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';
import { folderStore } from './corpus.ts';

const SPLITS: readonly Split[] = ['train', 'dev', 'test'];

function splitFlag(args: Args, name: string, fallback: Split): Split {
  const s = stringFlag(args, name, fallback);
  if (!SPLITS.includes(s as Split)) throw new UsageError(`--${name} is one of ${SPLITS.join(', ')}`);
  return s as Split;
}

async function sourceOf(spec: string): Promise<ModelSource> {
  if (spec === 'mfcc') return { kind: 'mfcc' };
  const random = parseRandom(spec);
  if (random) return random;
  const label = `--models ${spec}`;
  try {
    await checkFile(spec, label);
  } catch (e) {
    const why = e instanceof LabError ? e.message : `${label}: ${fsReason(e)}`;
    throw new LabError('bad-input', `${why}; models are checkpoint paths, random:<kind>-<size>[:seed] or mfcc`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(spec));
  } catch (e) {
    throw new LabError('bad-input', `${label}: ${fsReason(e)}`);
  }
  // Checked in full before the device opens.
  try {
    loadCheckpoint(bytes);
  } catch (e) {
    if (e instanceof LabError) throw new LabError(e.code, `${label}: ${e.message}`);
    throw e;
  }
  return { kind: 'checkpoint', name: basename(spec), bytes };
}

const FLAGS: FlagSpecs = {
  models: { type: 'list' },
  set: { type: 'dir' },
  k: { type: 'int', min: 2, max: 65535 },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1 },
  'fit-split': { type: 'string', choices: SPLITS },
  'eval-split': { type: 'string', choices: SPLITS },
  'max-frames': { type: 'int', min: 1, max: 1e9 },
  iterations: { type: 'int', min: 1, max: 100_000 },
  utterances: { type: 'int', min: 1, max: 1e9 },
  'no-mfcc': { type: 'bool' },
  cache: { type: 'out-dir' },
  'no-cache': { type: 'bool' },
  tables: { type: 'bool' },
};

function cacheDir(args: Args): string | undefined {
  if (args.flags['no-cache'] === true) return undefined;
  if (args.flags.cache !== undefined) return stringFlag(args, 'cache');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mamba-speech-lab', 'purity');
}

const f3 = (v: number | null) => (v === null ? '  -  ' : v.toFixed(3));

export function purityText(r: PurityReport): string {
  const s = r.set;
  const part = (u: PurityReport['set']['fit']) => `${u.split}${u.part === 'all' ? '' : ` ${u.part}`}: ${u.utterances} utterances, ${(u.seconds / 60).toFixed(1)} min`;
  const lines = [
    `${s.label}: ${s.labelled} of ${s.utterances} utterances aligned; k-means (K = ${r.K}, seed ${r.seed}) fitted on ${part(s.fit)}; scored on ${part(s.eval)}`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
  const skipped = s.skipped;
  if (skipped.noPhones + skipped.badPhones + skipped.unreadable + skipped.tooShort > 0) {
    lines.push(
      `skipped: ${skipped.noPhones} without phone intervals, ${skipped.badPhones} with unusable intervals, ${skipped.unreadable} unreadable, ${skipped.tooShort} shorter than one frame` +
        (skipped.examples[0] ? ` (e.g. ${skipped.examples[0].id}: ${skipped.examples[0].reason})` : ''),
    );
  }
  const width = Math.max(12, ...r.models.map((m) => m.id.length));
  lines.push('', `${'model'.padEnd(width)}  ${'layer'.padEnd(9)}  phone-purity  cluster-purity   PNMI   frames`);
  for (const m of r.models) {
    for (const l of m.layers) {
      lines.push(`${m.id.padEnd(width)}  ${l.label.padEnd(9)}  ${f3(l.phonePurity).padStart(12)}  ${f3(l.clusterPurity).padStart(14)}  ${f3(l.pnmi)}  ${String(l.frames).padStart(6)}`);
    }
    const best = bestLayer(m);
    const how = m.cached ? 'from the cache' : `${m.seconds.toFixed(1)} s, fitted on ${m.fitFrames} frames`;
    lines.push(`${''.padEnd(width)}  best PNMI ${best ? `${f3(best.pnmi)} at ${best.label}` : '-'} (${m.model}, ${how})`);
    for (const sk of m.skipped.slice(0, 3)) lines.push(`${''.padEnd(width)}  skipped ${sk.id}: ${sk.reason}`);
    if (m.notCached) lines.push(`${''.padEnd(width)}  not cached (computed again next time): ${m.notCached}`);
  }
  lines.push('', `${r.seconds.toFixed(1)} s in all`);
  return lines.join('\n');
}

export const purity: Command = {
  summary: 'Layer-wise phone purity, cluster purity and PNMI (HuBERT paper IV-F) of models on an aligned set, with an MFCC row.',
  usage:
    'npm run -s lab -- purity --models CKPT,CKPT,random:mamba-tiny[:seed] --set DIR [--k 100] [--seed 1] ' +
    '[--fit-split train --eval-split test] [--max-frames 50000] [--iterations 20] [--utterances N] [--no-mfcc] [--cache DIR | --no-cache] [--tables] [--json]\n' +
    '       (a set without the fitting split, like public/eval, is fitted on a seeded half of the evaluated split and scored on the other half)',
  flags: FLAGS,
  maxPositionals: 0,
  async run(args) {
    if (args.flags.cache !== undefined && args.flags['no-cache'] === true) throw new UsageError('give --cache DIR or --no-cache, not both');
    const specs = listFlag(args, 'models', []);
    if (specs.length === 0) throw new UsageError(`purity needs --models; usage: ${this.usage}`);
    const set = stringFlag(args, 'set');
    const sources: ModelSource[] = [];
    for (const spec of specs) sources.push(await sourceOf(spec));
    if (args.flags['no-mfcc'] !== true && !sources.some((s) => s.kind === 'mfcc')) sources.push({ kind: 'mfcc' });
    const dir = cacheDir(args);
    if (dir && args.flags.cache === undefined) await checkOutDir(dir, `the cache folder ${dir} (give --cache DIR or --no-cache)`);
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('\nlab purity: stopping (results of finished models are cached)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const gpu = await openDawnDevice();
    try {
      const report = await analysePurity(gpu, folderStore(set), sources, {
        K: numberFlag(args, 'k', 100),
        seed: numberFlag(args, 'seed', 1),
        fitSplit: splitFlag(args, 'fit-split', 'train'),
        evalSplit: splitFlag(args, 'eval-split', 'test'),
        maxFitFrames: numberFlag(args, 'max-frames', 50_000),
        iterations: numberFlag(args, 'iterations', 20),
        maxUtterances: args.flags.utterances === undefined ? undefined : numberFlag(args, 'utterances'),
        setLabel: set,
        cache: dir ? storeCache(folderStore(dir)) : undefined,
        tables: args.flags.tables === true,
        signal: controller.signal,
        onProgress: progressLine('purity'),
      });
      return { json: report, text: purityText(report) };
    } finally {
      process.off('SIGINT', onSigint);
      gpu.destroy();
    }
  },
};
