// A small argv parser: positionals, `--flag`, `--key value` and `--key=value`.

export interface Args {
  positionals: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(argv: readonly string[]): Args {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[a.slice(2)] = argv[++i];
    else flags[a.slice(2)] = true;
  }
  return { positionals, flags };
}

export class UsageError extends Error {}

export function stringFlag(args: Args, name: string, fallback?: string): string {
  const v = args.flags[name];
  if (v === undefined || v === true) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`--${name} needs a value`);
  }
  return v;
}

export function numberFlag(args: Args, name: string, fallback?: number): number {
  const v = args.flags[name];
  if (v === undefined && fallback !== undefined) return fallback;
  const n = Number(v);
  if (v === undefined || v === true || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number`);
  return n;
}

export function listFlag(args: Args, name: string, fallback: string[]): string[] {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  if (v === true) throw new UsageError(`--${name} needs a comma-separated list`);
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}
