import { runSweep } from '../../bench/sweep.ts';
import { DEFAULT_SWEEP, ENCODER_KINDS, SIZES, type EncoderKind, type Size, type SweepRow } from '../../bench/sweep-types.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { listFlag, numberFlag, stringFlag, UsageError } from '../args.ts';
import type { Command } from '../lab.ts';
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

export const bench: Command = {
  summary: "MACs and real-time factor against audio length, per model (the paper's Figure 1), on this machine's GPU.",
  usage:
    'npm run -s lab -- bench [--json] [--models mamba,causal-transformer,...] [--preset tiny|small|base] ' +
    '[--lengths 10,20,40] [--attention materialised|tiled] [--batch 1] [--reps 3]',
  async run(args) {
    const models = listFlag(args, 'models', DEFAULT_SWEEP.models);
    const bad = models.filter((m) => !ENCODER_KINDS.includes(m as EncoderKind));
    if (bad.length) throw new UsageError(`unknown model ${bad.join(', ')}; models: ${ENCODER_KINDS.join(', ')}`);
    const presetName = stringFlag(args, 'preset', DEFAULT_SWEEP.preset);
    if (!SIZES.includes(presetName as Size)) throw new UsageError(`unknown preset ${presetName}; presets: ${SIZES.join(', ')}`);
    const lengths = listFlag(args, 'lengths', DEFAULT_SWEEP.lengths.map(String)).map(Number);
    if (lengths.some((l) => !(l > 0))) throw new UsageError('--lengths needs positive numbers of seconds');
    const attention = stringFlag(args, 'attention', DEFAULT_SWEEP.attention);
    if (attention !== 'materialised' && attention !== 'tiled') throw new UsageError('--attention is materialised or tiled');
    const gpu = await openDawnDevice();
    try {
      const rows = await runSweep(
        gpu,
        {
          models: models as EncoderKind[],
          preset: presetName as Size,
          lengths,
          attention,
          batch: numberFlag(args, 'batch', DEFAULT_SWEEP.batch),
          reps: numberFlag(args, 'reps', DEFAULT_SWEEP.reps),
        },
        { onProgress: progressLine('bench') },
      );
      return { json: rows, text: formatRows(rows) };
    } finally {
      gpu.destroy();
    }
  },
};
