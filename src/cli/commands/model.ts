import { constants } from 'node:fs';
import { access, readFile, rename, writeFile } from 'node:fs/promises';
import { forwardMacs } from '../../bench/macs.ts';
import { loadCheckpoint, saveCheckpoint } from '../../models/checkpoint.ts';
import { hopSamples } from '../../models/config.ts';
import { countParameters, parameterSpecs } from '../../models/parameters.ts';
import { checkFile, checkOutDir, listFlag, numberFlag, presetFlag, stringFlag, UsageError, type Args } from '../args.ts';
import type { Command } from '../command.ts';
import { dirname } from 'node:path';

function info(args: Args) {
  const config = presetFlag(args, 'preset', 'mamba-base');
  const seconds = numberFlag(args, 'seconds', 10);
  if (!(seconds > 0)) throw new UsageError('--seconds must be positive');
  const samples = Math.round(seconds * 16000);
  const macs = forwardMacs(config, samples);
  const params = countParameters(config);
  const json = { params, macsPerSecond: macs.total / seconds, seconds, macs, config };
  const text = [
    `${config.kind}-${config.size}: ${(params / 1e6).toFixed(2)}M parameters (with the pre-training head)`,
    `forward at ${seconds} s (${macs.frames} frames, hop ${hopSamples(config)} samples): ${(macs.total / 1e9).toFixed(2)} GMAC, ${(macs.total / seconds / 1e9).toFixed(2)} GMAC per second of audio`,
    `  extractor ${(macs.extractor / 1e9).toFixed(2)}  projection ${(macs.projection / 1e9).toFixed(2)}  pos conv ${(macs.posConv / 1e9).toFixed(2)}  layers ${(macs.layers / 1e9).toFixed(2)} GMAC`,
  ].join('\n');
  return { json, text };
}

/**
 * A training checkpoint -> the model alone (configuration, heads, weights and the run's metadata; no optimiser
 * moments or other extra tensors): what ships in public/models. --heads keeps some of the checkpoint's heads only
 * (a CTC model trained with the auxiliary frame loss ships without its pre-training head). Validated on the way
 * in; written atomically and never over an existing file unless --force.
 */
async function exportModel(args: Args) {
  const from = args.positionals[1];
  if (!from || args.positionals.length > 2) throw new UsageError('model export: give one checkpoint: model export CKPT --out FILE');
  const out = stringFlag(args, 'out');
  await checkFile(from, 'checkpoint');
  await checkOutDir(dirname(out), '--out');
  const exists = await access(out, constants.F_OK).then(() => true, () => false);
  if (exists && !args.flags.force) throw new UsageError(`model export: ${out} exists; give --force to replace it`);
  const checkpoint = loadCheckpoint(new Uint8Array(await readFile(from)));
  if (args.flags.heads !== undefined) {
    const keep = listFlag(args, 'heads', []);
    const has = { pretrain: checkpoint.heads.pretrainHead === true, ctc: checkpoint.heads.ctcHead === true };
    const missing = keep.find((h) => !has[h as keyof typeof has]);
    if (missing) throw new UsageError(`model export: --heads ${missing}: ${from} has no ${missing} head`);
    checkpoint.heads = { pretrainHead: keep.includes('pretrain'), ctcHead: keep.includes('ctc') };
    const names = new Set(parameterSpecs(checkpoint.config, checkpoint.heads).map((p) => p.name));
    for (const name of [...checkpoint.params.keys()]) if (!names.has(name)) checkpoint.params.delete(name);
  }
  const bytes = saveCheckpoint({ ...checkpoint, extra: new Map() });
  const tmp = `${out}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, out);
  const params = [...checkpoint.params.values()].reduce((n, t) => n + t.data.length, 0);
  const json = { from, out, bytes: bytes.length, params, kind: checkpoint.config.kind, size: checkpoint.config.size, heads: checkpoint.heads };
  return { json, text: `${out}: ${checkpoint.config.kind}-${checkpoint.config.size}, ${(params / 1e6).toFixed(2)}M weights, ${(bytes.length / 2 ** 20).toFixed(1)} MiB (from ${from}, optimiser state dropped)` };
}

export const model: Command = {
  summary: 'Describe a model preset (parameters, multiply-accumulates; no GPU), or export a training checkpoint as the model alone.',
  usage: 'npm run -s lab -- model info [--preset mamba-base] [--seconds 10] [--json]\n       npm run -s lab -- model export CKPT --out FILE [--heads ctc|pretrain|ctc,pretrain] [--force] [--json]',
  flags: {
    preset: { type: 'string', sub: ['info'] },
    seconds: { type: 'number', above: 0, max: 86400, sub: ['info'] },
    out: { type: 'string', sub: ['export'] },
    force: { type: 'bool', sub: ['export'] },
    heads: { type: 'list', choices: ['ctc', 'pretrain'], sub: ['export'] },
  },
  maxPositionals: 2,
  async run(args) {
    const sub = args.positionals[0];
    if (sub === 'export') return exportModel(args);
    if (sub !== 'info') throw new UsageError(`model: unknown subcommand "${sub ?? ''}"; usage: ${this.usage}`);
    if (args.positionals.length > 1) throw new UsageError(`model: unexpected argument "${args.positionals[1]}"`);
    return info(args);
  },
};
