// The one argument parser of every `lab` command: positionals, `--flag`, `--key value` and `--key=value`.
//
// A command that declares its options (Command.flags, a FlagSpecs) gets them checked here, before it runs:
// an unknown option, a missing value, a value given to a switch, a number out of range, an empty list or a
// value outside its choices is a UsageError (exit 2, one line). Options that name files and folders are then
// checked on disk (checkPaths) before any work starts, so a typo or an unusable path fails at once and a path
// that would make the work hang (a pipe, a device, a folder under /proc) is refused.
// Without specs (parseArgs(argv)) the parse is loose, as before: any option, a value when one follows.
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LabError } from '../gpu/errors.ts';
import { ENCODER_KINDS, SIZES, type ModelConfig } from '../models/config.ts';
import { presetByName } from '../models/presets.ts';

export interface Args {
  positionals: string[];
  flags: Record<string, string | true>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /**
   * bool: a switch, no value. string: any non-empty text (or one of `choices`). number / int: a finite number /
   * an integer within [min, max] (and > `above`). list: comma-separated, at least one item (each one of
   * `choices`). numbers: comma-separated numbers, each within the bounds. file: an existing regular file.
   * dir: an existing folder. out-dir: a folder that exists and is writable, or can be created.
   */
  type: 'bool' | 'string' | 'number' | 'int' | 'list' | 'numbers' | 'file' | 'dir' | 'out-dir';
  min?: number;
  max?: number;
  /** Exclusive lower bound (e.g. seconds > 0). */
  above?: number;
  choices?: readonly string[];
  /** Only with these subcommands (the first positional); elsewhere it is a usage error. */
  sub?: readonly (string | undefined)[];
  /**
   * The value may be left out (`--telephone` alone, or `--telephone 0.3`): alone, or followed by another option,
   * the flag is `true` and the command supplies its default. Not with bool.
   */
  optional?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;

/** Options every command takes. */
export const GLOBAL_FLAGS: FlagSpecs = {
  json: { type: 'bool' },
  help: { type: 'bool' },
  verbose: { type: 'bool' },
};

/** Every preset name, <kind>-<size>. */
export const PRESET_NAMES: readonly string[] = ENCODER_KINDS.flatMap((k) => SIZES.map((s) => `${k}-${s}`));

/** Edit distance with transpositions (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

export function suggest(word: string, among: readonly string[]): string {
  let best = '';
  let bestD = Infinity;
  for (const c of among) {
    const dd = distance(word, c);
    if (dd < bestD) [best, bestD] = [c, dd];
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : '';
}

/** A value shown in a message: quoted, control characters made visible, cut short. */
export function shown(v: string): string {
  const clean = v.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `"${clean.length > 80 ? `${clean.slice(0, 77)}...` : clean}"`;
}

function describeBounds(s: FlagSpec): string {
  const parts: string[] = [];
  if (s.above !== undefined) parts.push(`> ${s.above}`);
  if (s.min !== undefined) parts.push(`>= ${s.min}`);
  if (s.max !== undefined) parts.push(`<= ${s.max}`);
  return parts.join(' and ');
}

function checkNumber(name: string, s: FlagSpec, text: string, integer: boolean): void {
  const t = text.trim();
  const n = Number(t);
  const what = integer ? 'an integer' : 'a number';
  const bounds = describeBounds(s);
  const need = `--${name} needs ${what}${bounds ? ` ${bounds}` : ''}`;
  if (t === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`${need}, not ${shown(text)}`);
  if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max) || (s.above !== undefined && !(n > s.above))) {
    throw new UsageError(`${need}, not ${t}`);
  }
}

function splitList(text: string): string[] {
  return text.split(',').map((x) => x.trim()).filter(Boolean);
}

function checkValue(name: string, s: FlagSpec, v: string): void {
  switch (s.type) {
    case 'number':
    case 'int':
      checkNumber(name, s, v, s.type === 'int');
      return;
    case 'list':
    case 'numbers': {
      const items = splitList(v);
      if (items.length === 0) throw new UsageError(`--${name} needs a comma-separated list with at least one item, not ${shown(v)}`);
      if (s.type === 'numbers') for (const x of items) checkNumber(name, s, x, false);
      if (s.choices) {
        const bad = items.filter((x) => !s.choices!.includes(x));
        if (bad.length) throw new UsageError(`--${name}: unknown ${bad.map(shown).join(', ')}; one or more of ${s.choices.join(', ')}`);
      }
      return;
    }
    default:
      if (v.trim() === '') throw new UsageError(`--${name} needs a value, not an empty one`);
      if (s.choices && !s.choices.includes(v)) {
        const near = suggest(v, s.choices);
        throw new UsageError(`--${name} ${shown(v)} is not one of ${s.choices.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`);
      }
  }
}

/**
 * Parse argv. With `specs` (a command's options; the global ones are added) every option is checked against
 * them; `command` names the command in messages and `maxPositionals` bounds the positionals.
 */
export function parseArgs(argv: readonly string[], specs?: FlagSpecs, opts: { command?: string; maxPositionals?: number } = {}): Args {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  const all = specs ? { ...GLOBAL_FLAGS, ...specs } : undefined;
  const who = opts.command ? `${opts.command}: ` : '';
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (onlyPositionals || !a.startsWith('--') || a === '--') {
      if (a === '--' && !onlyPositionals) onlyPositionals = true;
      else positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (!all) {
      // Loose: a value when one follows (the global switches never take one).
      if (eq > 0) flags[name] = a.slice(eq + 1);
      else if (!(name in GLOBAL_FLAGS) && i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[name] = argv[++i];
      else flags[name] = true;
      continue;
    }
    const spec = Object.prototype.hasOwnProperty.call(all, name) ? all[name] : undefined;
    if (!spec) {
      const names = Object.keys(all);
      const near = suggest(name, names);
      throw new UsageError(
        `${who}unknown option --${name}${near ? ` (did you mean --${near}?)` : ''}; options: ${names.map((n) => `--${n}`).join(' ')}`,
      );
    }
    if (name in flags) throw new UsageError(`${who}--${name} is given twice`);
    if (spec.type === 'bool') {
      if (eq > 0) throw new UsageError(`${who}--${name} is a switch and takes no value (got ${shown(a.slice(eq + 1))})`);
      flags[name] = true;
      continue;
    }
    let v: string;
    if (eq > 0) v = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) v = argv[++i];
    else if (spec.optional) {
      flags[name] = true;
      continue;
    } else throw new UsageError(`${who}--${name} needs a value`);
    checkValue(name, spec, v);
    flags[name] = v;
  }
  if (all) {
    const sub = positionals[0];
    for (const name of Object.keys(flags)) {
      const only = all[name].sub;
      if (only && !only.includes(sub)) {
        const where = only.map((s) => (s === undefined ? `plain ${opts.command ?? 'command'}` : s)).join(', ');
        throw new UsageError(`${who}--${name} does not apply${sub === undefined ? '' : ` to ${sub}`}; it is for ${where}`);
      }
    }
    if (opts.maxPositionals !== undefined && positionals.length > opts.maxPositionals) {
      throw new UsageError(`${who}unexpected argument ${shown(positionals[opts.maxPositionals])}${opts.maxPositionals === 0 ? ' (this command takes only options)' : ''}`);
    }
  }
  return { positionals, flags };
}

export function stringFlag(args: Args, name: string, fallback?: string): string {
  const v = args.flags[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === undefined) throw new UsageError(`--${name} is needed`);
  if (v === true || v.trim() === '') throw new UsageError(`--${name} needs a value`);
  return v;
}

export function numberFlag(args: Args, name: string, fallback?: number): number {
  const v = args.flags[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (v === undefined || v === true) throw new UsageError(`--${name} needs a number`);
  const n = Number(v.trim());
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number, not ${shown(v)}`);
  return n;
}

export function listFlag(args: Args, name: string, fallback: string[]): string[] {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  if (v === true) throw new UsageError(`--${name} needs a comma-separated list`);
  const items = splitList(v);
  if (items.length === 0) throw new UsageError(`--${name} needs a comma-separated list with at least one item, not ${shown(v)}`);
  return items;
}

/** The preset named by --<name> (or `fallback`): an unknown name is a usage error. */
export function presetFlag(args: Args, name: string, fallback?: string): ModelConfig {
  const v = stringFlag(args, name, fallback);
  try {
    return presetByName(v);
  } catch {
    const near = suggest(v, PRESET_NAMES);
    throw new UsageError(
      `--${name}: unknown preset ${shown(v)}${near ? ` (did you mean ${near}?)` : ''}; presets are <kind>-<size>, kinds ${ENCODER_KINDS.join(', ')}, sizes ${SIZES.join(', ')}`,
    );
  }
}

// ---- paths ----

/** The one-line reason of a file-system error, with what to do. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder (check the path)';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder (check the path)';
    case 'EISDIR':
      return 'is a folder, not a file (give a file)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (check the permissions, or choose another place)';
    case 'EROFS':
      return 'read-only file system (choose a writable folder)';
    case 'ENOSPC':
      return 'no space left on the device (free some space, or choose another disk)';
    case 'EDQUOT':
      return 'disk quota exceeded (free some space, or choose another disk)';
    case 'EEXIST':
      return 'already exists (remove it or choose another name)';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'ELOOP':
      return 'too many symbolic links (a link loop?)';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files (close some programs, or raise ulimit -n)';
    case 'EIO':
      return 'input/output error (a failing disk or a lost network mount?)';
    case 'ENXIO':
    case 'ENODEV':
      return 'not a usable file (a device)';
    case 'ERR_FS_FILE_TOO_LARGE':
      return 'the file is larger than 2 GiB, more than the lab reads at once';
    default:
      return `${code ? `${code}: ` : ''}${(e as Error)?.message ?? String(e)}`;
  }
}

/** The largest file the lab reads whole (Node's own limit is 2 GiB). */
export const MAX_READ_BYTES = 2 ** 31 - 1;

/**
 * An existing, readable, regular file (not a folder, pipe, socket or device: reading one of those could block
 * forever or never end). `label` opens the message, e.g. "--from runs/x.safetensors".
 */
export async function checkFile(path: string, label: string): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new LabError('bad-input', `${label}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file (check the path)' : fsReason(e)}`);
  }
  if (st.isDirectory()) throw new LabError('bad-input', `${label}: is a folder, not a file (give a file)`);
  if (!st.isFile()) throw new LabError('bad-input', `${label}: not a regular file (a pipe, socket or device; give a file)`);
  if (st.size > MAX_READ_BYTES) throw new LabError('bad-input', `${label}: ${fsReason({ code: 'ERR_FS_FILE_TOO_LARGE' })}`);
  try {
    await access(path, constants.R_OK);
  } catch (e) {
    throw new LabError('bad-input', `${label}: ${fsReason(e)}`);
  }
}

/** An existing, readable folder. */
export async function checkDir(path: string, label: string): Promise<void> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new LabError('bad-input', `${label}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such folder (check the path)' : fsReason(e)}`);
  }
  if (!st.isDirectory()) throw new LabError('bad-input', `${label}: is a file, not a folder (give a folder)`);
  try {
    await access(path, constants.R_OK | constants.X_OK);
  } catch (e) {
    throw new LabError('bad-input', `${label}: ${fsReason(e)}`);
  }
}

/**
 * A folder the command may write: it exists and a file can be made in it, or it can be made (one level at a
 * time: Node's recursive mkdir never returns under /proc). Nothing is left behind: a probe file is removed and
 * folders made for the check are removed again.
 */
export async function checkOutDir(path: string, label: string): Promise<void> {
  const target = resolve(path);
  const missing: string[] = [];
  let at = target;
  for (;;) {
    let st;
    try {
      st = await stat(at);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a file further up; walk up to it and say which.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new LabError('bad-input', `${label}: ${at}: ${fsReason(e)}`);
      const up = dirname(at);
      if (up === at) throw new LabError('bad-input', `${label}: no part of the path exists`);
      missing.unshift(at);
      at = up;
      continue;
    }
    if (!st.isDirectory()) {
      throw new LabError('bad-input', at === target ? `${label}: is a file, not a folder (choose a folder)` : `${label}: ${at} is a file, not a folder (check the path)`);
    }
    break;
  }
  const made: string[] = [];
  try {
    for (const dir of missing) {
      try {
        await mkdir(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'cannot be created here (the file system refuses new folders; choose another place)' : fsReason(e);
        throw new LabError('bad-input', `${label}: cannot create ${dir}: ${why}`);
      }
      made.push(dir);
    }
    if (made.length === 0) {
      const probe = join(target, `.lab-write-check-${process.pid}`);
      try {
        const fh = await open(probe, 'wx');
        await fh.close();
        await unlink(probe);
      } catch (e) {
        throw new LabError('bad-input', `${label}: cannot write in this folder: ${fsReason(e)}`);
      }
    }
  } finally {
    for (const dir of made.reverse()) await rmdir(dir).catch(() => undefined);
  }
}

/**
 * Text from bytes for a file a user gave (sentences, transcripts, manifests): UTF-8 (a BOM is dropped), or UTF-16
 * with its byte-order mark (converted). UTF-16 without a mark (NULs between letters) and bytes that are not UTF-8
 * are refused in one line naming the file, instead of printing NULs and mojibake further on.
 */
export function decodeText(bytes: Uint8Array, label: string): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = bytes.subarray(0, 4096);
  let nul = 0;
  for (const b of head) if (b === 0) nul++;
  if (nul > 0) {
    const utf16 = nul >= head.length / 4;
    throw new LabError(
      'bad-input',
      `${label}: ${utf16 ? 'looks like UTF-16 text without a byte-order mark' : 'holds NUL bytes: not a text file'}; save it as UTF-8 text`,
    );
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    throw new LabError('bad-input', `${label}: is not UTF-8 text (Latin-1 or another encoding?); save it as UTF-8`);
  }
}

/** A text file a user gave, checked (a regular file) and decoded (decodeText); errors name `label`. */
export async function readTextFile(path: string, label = path): Promise<string> {
  await checkFile(path, label);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new LabError('bad-input', `${label}: ${fsReason(e)}`);
  }
  return decodeText(bytes, label);
}

/** Check every file, dir and out-dir option of `args` on disk (after parseArgs with the same specs). */
export async function checkPaths(args: Args, specs: FlagSpecs): Promise<void> {
  for (const [name, spec] of Object.entries(specs)) {
    const v = args.flags[name];
    if (typeof v !== 'string') continue;
    const label = `--${name} ${v}`;
    if (spec.type === 'file') await checkFile(v, label);
    else if (spec.type === 'dir') await checkDir(v, label);
    else if (spec.type === 'out-dir') await checkOutDir(v, label);
  }
}
