import { forwardMacs } from '../../bench/macs.ts';
import { hopSamples } from '../../models/config.ts';
import { countParameters } from '../../models/parameters.ts';
import { numberFlag, presetFlag, UsageError, type Args } from '../args.ts';
import type { Command } from '../command.ts';

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

export const model: Command = {
  summary: 'Describe a model preset: parameters and multiply-accumulates of a forward pass (no GPU needed).',
  usage: 'npm run -s lab -- model info [--preset mamba-base] [--seconds 10] [--json]',
  flags: { preset: { type: 'string' }, seconds: { type: 'number', above: 0, max: 86400 } },
  maxPositionals: 1,
  async run(args) {
    const sub = args.positionals[0];
    if (sub !== 'info') throw new UsageError(`model: unknown subcommand "${sub ?? ''}"; usage: ${this.usage}`);
    return info(args);
  },
};
