// The lab's command line: `npm run lab -- <command> [options]`. With --json a command prints one JSON
// document on stdout (progress goes to stderr); a failure prints one line and exits non-zero.
import { LabError } from '../gpu/errors.ts';
import { parseArgs, UsageError } from './args.ts';
import type { Command } from './command.ts';

const commands: Record<string, () => Promise<Command>> = {
  device: async () => (await import('./commands/device.ts')).device,
  kernels: async () => (await import('./commands/kernels.ts')).kernels,
  corpus: async () => (await import('./commands/corpus.ts')).corpus,
  bench: async () => (await import('./commands/bench.ts')).bench,
  'bench-browser': async () => (await import('./commands/bench-browser.ts')).benchBrowser,
  model: async () => (await import('./commands/model.ts')).model,
  selftest: async () => (await import('./commands/selftest.ts')).selftest,
  train: async () => (await import('./commands/train.ts')).trainCommand,
  purity: async () => (await import('./commands/purity.ts')).purity,
  transcribe: async () => (await import('./commands/transcribe.ts')).transcribe,
  eval: async () => (await import('./commands/eval.ts')).evalCommand,
};

function help(): string {
  return [
    'usage: npm run lab -- <command> [options]   (add --json for machine-readable output)',
    '',
    ...Object.keys(commands).map((c) => `  ${c}`),
    '',
    'npm run lab -- <command> --help shows a command\'s options.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const name = args.positionals.shift();
  if (!name || name === 'help' || (!name && args.flags.help)) {
    process.stdout.write(`${help()}\n`);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(commands).join(', ')}`);
  const command = await load();
  if (args.flags.help) {
    process.stdout.write(`${command.summary}\n\nusage: ${command.usage}\n`);
    return 0;
  }
  const { json, text } = await command.run(args);
  process.stdout.write(args.flags.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const msg = e instanceof LabError || e instanceof UsageError ? e.message : `${(e as Error)?.stack ?? e}`;
    process.stderr.write(`lab: ${msg.split('\n').join(' ')}\n`);
    process.exit(e instanceof UsageError ? 2 : 1);
  },
);
