// The lab's command line: `npm run lab -- <command> [options]`. With --json a command prints one JSON
// document on stdout (progress goes to stderr); a failure prints one line, `lab: ...`, and exits non-zero:
// 2 for a usage error (unknown option, missing or out-of-range value), 1 for anything else (a bad file, a failed
// check, an internal error), 130 when interrupted. The stack of an unexpected error is printed only with --verbose.
import { pathToFileURL } from 'node:url';
import { LabError } from '../gpu/errors.ts';
import { checkPaths, fsReason, parseArgs, suggest, UsageError, type Args } from './args.ts';
import type { Command } from './command.ts';

const commands: Record<string, () => Promise<Command>> = {
  device: async () => (await import('./commands/device.ts')).device,
  kernels: async () => (await import('./commands/kernels.ts')).kernels,
  corpus: async () => (await import('./commands/corpus.ts')).corpus,
  bench: async () => (await import('./commands/bench.ts')).bench,
  'bench-browser': async () => (await import('./commands/bench-browser.ts')).benchBrowser,
  'bench-transcribe': async () => (await import('./commands/bench-transcribe.ts')).benchTranscribe,
  model: async () => (await import('./commands/model.ts')).model,
  selftest: async () => (await import('./commands/selftest.ts')).selftest,
  train: async () => (await import('./commands/train.ts')).trainCommand,
  purity: async () => (await import('./commands/purity.ts')).purity,
  transcribe: async () => (await import('./commands/transcribe.ts')).transcribe,
  eval: async () => (await import('./commands/eval.ts')).evalCommand,
  lm: async () => (await import('./commands/lm.ts')).lm,
  'stream-cost': async () => (await import('./commands/stream.ts')).streamCostCommand,
};

function help(): string {
  return [
    'usage: npm run lab -- <command> [options]   (add --json for machine-readable output, --verbose for stacks)',
    '',
    ...Object.keys(commands).map((c) => `  ${c}`),
    '',
    'npm run lab -- <command> --help shows a command\'s options.',
  ].join('\n');
}

/** Control characters other than newline and tab (a UTF-16 file read as UTF-8 is full of NULs) made visible. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => (c === '\u0000' ? '\ufffd' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Whether this looks like an error from the file system (Node's errno errors carry a code and a syscall). */
function isFsError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException;
  return !!x && typeof x.code === 'string' && (typeof x.syscall === 'string' || x.code === 'ERR_FS_FILE_TOO_LARGE');
}

/** The one line and the exit code of a failure. */
export function failure(e: unknown): { line: string; code: number } {
  let msg: string;
  let code = 1;
  if (e instanceof UsageError) {
    msg = e.message;
    code = 2;
  } else if (e instanceof LabError) {
    msg = e.message;
  } else if (isFsError(e)) {
    const dest = (e as { dest?: string }).dest;
    const where = e.path ? `${e.path}${dest ? ` -> ${dest}` : ''}` : 'file system';
    msg = `${where}: ${fsReason(e)}`;
  } else if ((e as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') {
    msg = `a dependency is missing (${(e as Error).message.split('\n')[0]}): run npm ci`;
  } else if ((e as Error)?.name === 'AbortError') {
    msg = 'stopped (interrupted); finished work was kept';
    code = 130;
  } else if (e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length/i.test(e.message)) {
    msg = `out of memory (${e.message}): the input asks for more than this machine holds; check the file, or use shorter audio or a smaller model`;
  } else {
    const err = e as Error;
    const what = err && typeof err === 'object' && 'message' in err ? `${err.name ?? 'Error'}: ${err.message}` : String(e);
    msg = `internal error: ${what} (a bug in the lab; run again with --verbose for the stack and report it)`;
  }
  const line = printable(msg).replace(/\s*\n\s*/g, ' ');
  return { line: `lab: ${line}`, code };
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Leading global switches, the command name, then the rest. */
function splitCommand(argv: readonly string[]): { name: string | undefined; before: string[]; rest: string[] } {
  const before: string[] = [];
  let i = 0;
  while (i < argv.length && (argv[i] === '--json' || argv[i] === '--help' || argv[i] === '--verbose')) before.push(argv[i++]);
  return { name: argv[i], before, rest: argv.slice(i + 1) };
}

async function runCommand(argv: readonly string[], io: Io): Promise<number> {
  const { name, before, rest } = splitCommand(argv);
  if (name === undefined || name === 'help' || name === '--help') {
    io.out(`${help()}\n`);
    return name === undefined && !before.includes('--help') ? 2 : 0;
  }
  const load = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (!load) {
    const near = suggest(name, Object.keys(commands));
    throw new UsageError(`unknown command ${JSON.stringify(name)}${near ? ` (did you mean ${near}?)` : ''}; commands: ${Object.keys(commands).join(', ')}`);
  }
  const command = await load();
  const all = [...before, ...rest];
  if (all.includes('--help') || all.includes('-h')) {
    io.out(`${command.summary}\n\nusage: ${command.usage}\n`);
    return 0;
  }
  const args: Args = command.flags ? parseArgs(all, command.flags, { command: name, maxPositionals: command.maxPositionals }) : parseArgs(all);
  if (command.flags) await checkPaths(args, command.flags);
  const before0 = process.exitCode;
  process.exitCode = undefined;
  try {
    const result = await command.run(args);
    io.out(args.flags.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${printable(result.text)}\n`);
    // A command that sets process.exitCode (the older way) is honoured too.
    const legacy = typeof process.exitCode === 'number' ? process.exitCode : Number(process.exitCode ?? 0) || 0;
    return result.exitCode ?? legacy;
  } finally {
    process.exitCode = before0;
  }
}

/** Run `lab` with these arguments: the exit code; output and the one failure line go to `io`. */
export async function lab(argv: readonly string[], io: Io = stdio): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    return await runCommand(argv, io);
  } catch (e) {
    const { line, code } = failure(e);
    io.err(`${line}\n`);
    if (verbose) io.err(`${(e as Error)?.stack ?? String(e)}\n`);
    return code;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const verbose = process.argv.includes('--verbose');
  const crash = (e: unknown) => {
    if ((e as NodeJS.ErrnoException)?.code === 'EPIPE') process.exit(0); // the reader went away (| head)
    const { line, code } = failure(e);
    process.stderr.write(`${line}\n`);
    if (verbose) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(code);
  };
  // Errors thrown outside the command's own promise (a callback, a stream) get the same one line.
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  lab(process.argv.slice(2)).then((code) => process.exit(code), crash);
}
