import { runSweep } from '../../bench/sweep.ts';
import { DEFAULT_TRAIN_BENCH, runTrainBench, type TrainBenchRow } from '../../bench/train-throughput.ts';
import { DEFAULT_SWEEP, ENCODER_KINDS, SIZES, type EncoderKind, type Size, type SweepRow } from '../../bench/sweep-types.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { listFlag, numberFlag, stringFlag, UsageError, type Args, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';

function formatRows(rows: SweepRow[]): string {
  const head = 'model                preset  seconds  frames     GMAC  GMAC counted  GMAC/s audio   forward ms      RTF';
  return [
    head,
    ...rows.map(
      (r) =>
        `${r.model.padEnd(20)} ${r.preset.padEnd(6)} ${String(r.seconds).padStart(8)} ${String(r.frames).padStart(7)} ${(r.macs / 1e9).toFixed(3).padStart(8)} ` +
        `${r.macsCounted === null ? ''.padStart(13) : (r.macsCounted / 1e9).toFixed(3).padStart(13)} ${(r.macsPerSecond / 1e9).toFixed(3).padStart(13)} ` +
        (r.oom ? `  out of memory: ${r.oomReason}` : `${r.ms!.toFixed(1).padStart(12)} ${r.rtf!.toFixed(4).padStart(8)}`),
    ),
  ].join('\n');
}

function formatTrainRows(rows: TrainBenchRow[]): string {
  const out: string[] = [];
  for (const r of rows) {
    out.push(
      `${r.model}-${r.preset}: batch ${r.batch} x ${r.seconds} s, ${(r.parameters / 1e6).toFixed(2)} M parameters, ` +
        `step ${r.medianMs.toFixed(0)} ms median / ${r.bestMs.toFixed(0)} ms best -> ${r.audioPerSecond.toFixed(1)} audio s/s ` +
        `(best ${r.audioPerSecondBest.toFixed(1)}); ${r.dispatchesPerStep} dispatches in ${r.submitsPerStep} submits per step; loss ${r.losses.map((l) => l.toFixed(2)).join(' ')}`,
    );
    if (r.profile) {
      out.push(`  profiled step ${r.profile.stepMs.toFixed(0)} ms, GPU ${r.profile.gpuMs.toFixed(0)} ms:`);
      for (const f of r.profile.families) {
        out.push(`    ${f.family.padEnd(12)} ${(100 * f.share).toFixed(1).padStart(5)} %  ${f.ms.toFixed(1).padStart(8)} ms  ${String(f.dispatches).padStart(5)} dispatches`);
      }
    }
  }
  return out.join('\n');
}

/** `lab bench train`: audio seconds trained per wall second, with each kernel family's share. */
async function benchTrain(args: Args): Promise<{ json: unknown; text: string }> {
  const d = DEFAULT_TRAIN_BENCH;
  const models = listFlag(args, 'models', d.models);
  const bad = models.filter((m) => !ENCODER_KINDS.includes(m as EncoderKind));
  if (bad.length) throw new UsageError(`unknown model ${bad.join(', ')}; models: ${ENCODER_KINDS.join(', ')}`);
  const presetName = stringFlag(args, 'preset', d.preset);
  if (!SIZES.includes(presetName as Size)) throw new UsageError(`unknown preset ${presetName}; presets: ${SIZES.join(', ')}`);
  const attention = args.flags.attention === undefined ? undefined : stringFlag(args, 'attention');
  if (attention !== undefined && attention !== 'materialised' && attention !== 'tiled') throw new UsageError('--attention is materialised or tiled');
  const batch = numberFlag(args, 'batch', d.batch);
  const seconds = numberFlag(args, 'seconds', d.seconds);
  const reps = numberFlag(args, 'reps', d.reps);
  const warmup = numberFlag(args, 'warmup', d.warmup);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new UsageError('--batch needs a positive integer');
  if (!(seconds > 0)) throw new UsageError('--seconds needs a positive number');
  if (!(Number.isInteger(reps) && reps >= 1) || !(Number.isInteger(warmup) && warmup >= 0)) throw new UsageError('--reps needs a positive integer, --warmup a non-negative one');
  const gpu = await openDawnDevice();
  try {
    const rows = await runTrainBench(
      gpu,
      { models: models as EncoderKind[], preset: presetName as Size, batch, seconds, reps, warmup, profile: !args.flags['no-profile'], attention },
      { onProgress: progressLine('bench train') },
    );
    const adapter = { ...gpu.adapter, kind: gpu.kind, timestamps: gpu.timestamps };
    return { json: { adapter, rows }, text: formatTrainRows(rows) };
  } finally {
    gpu.destroy();
  }
}

const SWEEP: (string | undefined)[] = [undefined];
const TRAIN: (string | undefined)[] = ['train'];

/** Both forms' options; each form refuses the other's. */
const FLAGS: FlagSpecs = {
  models: { type: 'list', choices: ENCODER_KINDS },
  preset: { type: 'string', choices: SIZES },
  attention: { type: 'string', choices: ['materialised', 'tiled'] },
  batch: { type: 'int', min: 1, max: 1024 },
  reps: { type: 'int', min: 1, max: 1000 },
  lengths: { type: 'numbers', min: 0.1, max: 3600, sub: SWEEP },
  seconds: { type: 'number', min: 0.1, max: 3600, sub: TRAIN },
  warmup: { type: 'int', min: 0, max: 1000, sub: TRAIN },
  'no-profile': { type: 'bool', sub: TRAIN },
};

export const bench: Command = {
  summary: "MACs and real-time factor against audio length, per model (the paper's Figure 1), on this machine's GPU.",
  usage:
    'npm run -s lab -- bench [--json] [--models mamba,causal-transformer,...] [--preset tiny|small|base] ' +
    '[--lengths 10,20,40] [--attention materialised|tiled] [--batch 1] [--reps 3]\n' +
    '       npm run -s lab -- bench train [--json] [--models mamba,causal-transformer] [--preset tiny] [--batch 8] [--seconds 4] ' +
    '[--reps 3] [--warmup 1] [--attention materialised|tiled] [--no-profile]   (audio seconds trained per second, kernel family shares)',
  flags: FLAGS,
  maxPositionals: 1,
  async run(args) {
    const sub = args.positionals[0];
    if (sub === 'train') return benchTrain(args);
    if (sub !== undefined) throw new UsageError(`unknown bench subcommand "${sub}"; bench [train]`);
    const models = listFlag(args, 'models', DEFAULT_SWEEP.models);
    const bad = models.filter((m) => !ENCODER_KINDS.includes(m as EncoderKind));
    if (bad.length) throw new UsageError(`unknown model ${bad.join(', ')}; models: ${ENCODER_KINDS.join(', ')}`);
    const presetName = stringFlag(args, 'preset', DEFAULT_SWEEP.preset);
    if (!SIZES.includes(presetName as Size)) throw new UsageError(`unknown preset ${presetName}; presets: ${SIZES.join(', ')}`);
    const lengths = listFlag(args, 'lengths', DEFAULT_SWEEP.lengths.map(String)).map(Number);
    if (lengths.some((l) => !(l > 0))) throw new UsageError('--lengths needs positive numbers of seconds');
    const attention = stringFlag(args, 'attention', DEFAULT_SWEEP.attention);
    if (attention !== 'materialised' && attention !== 'tiled') throw new UsageError('--attention is materialised or tiled');
    const batch = numberFlag(args, 'batch', DEFAULT_SWEEP.batch);
    const reps = numberFlag(args, 'reps', DEFAULT_SWEEP.reps);
    if (!(Number.isInteger(batch) && batch >= 1)) throw new UsageError('--batch needs a positive integer');
    if (!(Number.isInteger(reps) && reps >= 1)) throw new UsageError('--reps needs a positive integer');
    const gpu = await openDawnDevice();
    try {
      const rows = await runSweep(
        gpu,
        {
          models: models as EncoderKind[],
          preset: presetName as Size,
          lengths,
          attention,
          batch,
          reps,
        },
        { onProgress: progressLine('bench') },
      );
      return { json: rows, text: formatRows(rows) };
    } finally {
      gpu.destroy();
    }
  },
};
