// `lab train pretrain|finetune|ctc`: the training workflow on Dawn, a corpus folder in, a run folder out.
// A progress line on stderr (loss, audio seconds trained per second, ETA); --json prints the log as JSON lines
// on stdout, then the summary. Ctrl-C stops after the update in flight, saves a checkpoint and exits cleanly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../../speech/manifest.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { LabError } from '../../gpu/errors.ts';
import { loadCheckpoint } from '../../models/checkpoint.ts';
import { train, type TrainEvent, type TrainSummary } from '../../train/run.ts';
import { checkSettings, defaultSettings, STAGES, type Stage, type TrainSettings } from '../../train/settings.ts';
import { checkFile, fsReason, numberFlag, presetFlag, stringFlag, UsageError, type Args, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { folderStore } from './corpus.ts';
import { progressLine } from '../progress.ts';
import { folderRunStore } from '../run-store.ts';

/** Numeric settings and their flags. */
const NUMBER_FLAGS: [keyof TrainSettings, string][] = [
  ['seed', 'seed'],
  ['steps', 'steps'],
  ['batchSeconds', 'batch-seconds'],
  ['accumulate', 'accumulate'],
  ['maxBatch', 'max-batch'],
  ['lr', 'lr'],
  ['warmup', 'warmup'],
  ['hold', 'hold'],
  ['weightDecay', 'weight-decay'],
  ['maxGradNorm', 'clip'],
  ['evalEvery', 'eval-every'],
  ['saveEvery', 'save-every'],
  ['keep', 'keep'],
  ['devLimit', 'dev-limit'],
  ['clusters', 'clusters'],
  ['layer', 'layer'],
  ['kmeansFrames', 'kmeans-frames'],
  ['kmeansIterations', 'kmeans-iterations'],
  ['freezeEncoderSteps', 'freeze-encoder-steps'],
  ['auxWeight', 'aux-weight'],
];

const BIG = 1e9;

/** Every option of `lab train`, with its kind and range (the shared parser checks them before anything runs). */
const FLAGS: FlagSpecs = {
  corpus: { type: 'dir' },
  out: { type: 'out-dir' },
  preset: { type: 'string' },
  from: { type: 'file', sub: ['finetune', 'ctc'] },
  'targets-from': { type: 'file', sub: ['pretrain'] },
  resume: { type: 'bool' },
  iteration: { type: 'int', min: 1, max: 2, sub: ['pretrain'] },
  schedule: { type: 'string', choices: ['linear', 'cosine', 'tri-stage'] },
  'mask-prob': { type: 'number', min: 0, max: 1 },
  'mask-span': { type: 'int', min: 1, max: 10_000 },
  seed: { type: 'int', min: 0, max: 2 ** 32 - 1 },
  steps: { type: 'int', min: 1, max: BIG },
  'batch-seconds': { type: 'number', above: 0, max: 100_000 },
  accumulate: { type: 'int', min: 1, max: 10_000 },
  'max-batch': { type: 'int', min: 1, max: 100_000 },
  lr: { type: 'number', above: 0, max: 10 },
  warmup: { type: 'int', min: 0, max: BIG },
  hold: { type: 'int', min: 0, max: BIG },
  'weight-decay': { type: 'number', min: 0, max: 100 },
  clip: { type: 'number', min: 0, max: 1e12 },
  'eval-every': { type: 'int', min: 1, max: BIG },
  'save-every': { type: 'int', min: 1, max: BIG },
  keep: { type: 'int', min: 1, max: 1_000_000 },
  'dev-limit': { type: 'int', min: 0, max: BIG },
  clusters: { type: 'int', min: 2, max: 65535 },
  layer: { type: 'int', min: 0, max: 1024, sub: ['pretrain'] },
  'kmeans-frames': { type: 'int', min: 1, max: BIG },
  'kmeans-iterations': { type: 'int', min: 1, max: 100_000 },
  'aux-weight': { type: 'number', min: 0, max: 1000, sub: ['ctc', 'finetune'] },
  'freeze-encoder-steps': { type: 'int', min: 0, max: BIG, sub: ['finetune'] },
};

function settingsFrom(stage: Stage, args: Args): TrainSettings {
  const s: TrainSettings = defaultSettings(stage);
  const record = s as unknown as Record<string, unknown>;
  for (const [key, flag] of NUMBER_FLAGS) if (args.flags[flag] !== undefined) record[key] = numberFlag(args, flag);
  if (args.flags.iteration !== undefined) {
    const it = numberFlag(args, 'iteration');
    if (it !== 1 && it !== 2) throw new UsageError('--iteration is 1 or 2');
    s.iteration = it;
  }
  if (args.flags.schedule !== undefined) {
    const k = stringFlag(args, 'schedule');
    if (k !== 'linear' && k !== 'cosine' && k !== 'tri-stage') throw new UsageError('--schedule is linear, cosine or tri-stage');
    s.schedule = k;
  }
  if (args.flags['mask-prob'] !== undefined || args.flags['mask-span'] !== undefined) {
    s.mask = { ...(s.mask ?? { prob: 0, span: 10, minSpans: 0 }), prob: numberFlag(args, 'mask-prob', s.mask?.prob ?? 0), span: numberFlag(args, 'mask-span', s.mask?.span ?? 10) };
  }
  return s;
}

function progressText(e: TrainEvent): string | undefined {
  switch (e.kind) {
    case 'step': {
      const eta = e.eta >= 3600 ? `${(e.eta / 3600).toFixed(1)} h` : e.eta >= 60 ? `${(e.eta / 60).toFixed(1)} min` : `${e.eta.toFixed(0)} s`;
      const aux = e.auxLoss === undefined ? '' : ` frame loss ${e.auxLoss.toFixed(3)}`;
      const acc = e.accuracy === undefined ? '' : `${aux} acc ${(100 * e.accuracy).toFixed(1)}%`;
      return `update ${e.step}/${e.steps} loss ${e.loss.toFixed(4)}${acc} lr ${e.lr.toExponential(2)} |g| ${e.gradNorm.toFixed(2)} ${e.rate.toFixed(1)} audio s/s ETA ${eta}`;
    }
    case 'eval':
      return e.wer !== undefined
        ? `dev at ${e.step}: WER ${(100 * e.wer).toFixed(1)}% CER ${(100 * e.cer!).toFixed(1)}% (${e.utterances} utterances)`
        : `dev at ${e.step}: masked loss ${e.loss?.toFixed(4)} accuracy ${(100 * (e.accuracy ?? 0)).toFixed(1)}% (${e.utterances} utterances)`;
    case 'checkpoint':
      return `saved ${e.name}${e.best ? ' (best on dev)' : ''}`;
    case 'note':
      return e.message;
  }
}

function summaryText(s: TrainSummary, out: string): string {
  const lines = [
    `${s.stage}: ${s.step}/${s.steps} updates${s.stopped ? ' (stopped; resume with --resume)' : ''}, ${s.audioSeconds.toFixed(0)} s of audio in ${s.seconds.toFixed(0)} s`,
    `checkpoints in ${out}: last ${s.lastCheckpoint ?? 'none'}${s.best ? `, best.safetensors from update ${s.best.step}` : ''}`,
  ];
  if (s.dev?.wer !== undefined) lines.push(`dev: WER ${(100 * s.dev.wer).toFixed(1)}% CER ${(100 * s.dev.cer!).toFixed(1)}%`);
  else if (s.dev?.accuracy !== undefined) lines.push(`dev: masked loss ${s.dev.loss!.toFixed(4)} accuracy ${(100 * s.dev.accuracy).toFixed(1)}%`);
  if (s.skipped.length) lines.push(`skipped ${s.skipped.length} utterance(s) that did not decode, e.g. ${s.skipped[0].id}: ${s.skipped[0].reason}`);
  return lines.join('\n');
}

async function readCheckpointFile(path: string, flag: string): Promise<Uint8Array> {
  await checkFile(path, `--${flag} ${path}`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new LabError('bad-input', `--${flag} ${path}: ${fsReason(e)}`);
  }
  // Checked in full (schema, shapes, finite weights) here, before the device opens: a bad file fails at once.
  try {
    loadCheckpoint(bytes);
  } catch (e) {
    if (e instanceof LabError) throw new LabError(e.code, `--${flag} ${path}: ${e.message}`);
    throw e;
  }
  return bytes;
}

export const trainCommand: Command = {
  summary: 'Train: HuBERT pre-training (iteration 1 or 2), CTC fine-tuning, or CTC from scratch; resumable.',
  usage:
    'npm run -s lab -- train pretrain --preset mamba-tiny --corpus DIR --out DIR [--iteration 2 --targets-from CKPT --layer K] ' +
    '[--steps N --batch-seconds S --accumulate N --lr X --warmup N --schedule linear|cosine|tri-stage --clusters K --mask-prob P --mask-span N ' +
    '--eval-every N --save-every N --keep N --seed N] [--resume] [--json]\n' +
    '       npm run -s lab -- train finetune --from CKPT --corpus DIR --out DIR [--freeze-encoder-steps N ...]\n' +
    '       npm run -s lab -- train ctc (--preset mamba-tiny | --from CKPT) --corpus DIR --out DIR [--aux-weight W --clusters K ...]',
  flags: FLAGS,
  maxPositionals: 1,
  async run(args) {
    const stage = args.positionals.shift() as Stage | undefined;
    if (!stage || !STAGES.includes(stage)) throw new UsageError(`train: the stage is one of ${STAGES.join(', ')}; usage: ${this.usage}`);
    const corpusDir = stringFlag(args, 'corpus');
    const out = stringFlag(args, 'out');
    const resume = args.flags.resume === true;
    const settings = settingsFrom(stage, args);
    checkSettings(settings);
    const config = args.flags.preset !== undefined ? presetFlag(args, 'preset') : undefined;
    const fromGiven = args.flags.from !== undefined;
    if (!resume && !config && ((stage === 'ctc' && !fromGiven) || (stage === 'pretrain' && settings.iteration === 1))) {
      throw new UsageError(`train ${stage} needs --preset (e.g. mamba-tiny)${stage === 'ctc' ? ' or --from CKPT' : ''}`);
    }
    const kmeansFlag = ['clusters', 'kmeans-frames', 'kmeans-iterations'].find((f) => args.flags[f] !== undefined);
    if (kmeansFlag && stage !== 'pretrain' && !(settings.auxWeight > 0)) throw new UsageError(`--${kmeansFlag} shapes frame targets: for pretrain, or ${stage} with --aux-weight`);
    if (stage === 'ctc' && fromGiven && config) throw new UsageError('train ctc takes --preset (a new model) or --from CKPT (its weights), not both');
    try {
      await checkFile(join(corpusDir, MANIFEST_FILE), '');
    } catch {
      throw new LabError('bad-input', `--corpus ${corpusDir}: no readable ${MANIFEST_FILE} here: not a corpus folder (make one with lab corpus build or lab corpus import)`);
    }
    const fromFlag = stage === 'pretrain' ? 'targets-from' : 'from';
    const from = args.flags[fromFlag] !== undefined ? await readCheckpointFile(stringFlag(args, fromFlag), fromFlag) : undefined;
    if (!resume && stage === 'finetune' && !from) throw new UsageError('train finetune needs --from CKPT (a pre-trained checkpoint)');

    const json = args.flags.json === true;
    const controller = new AbortController();
    const onSigint = () => {
      if (controller.signal.aborted) process.exit(130);
      process.stderr.write('\nlab train: stopping after this update and saving a checkpoint (Ctrl-C again quits at once)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    const gpu = await openDawnDevice();
    try {
      const summary = await train(
        gpu,
        folderStore(corpusDir),
        folderRunStore(out),
        { settings, config, from, resume, steps: resume && args.flags.steps !== undefined ? settings.steps : undefined },
        {
          signal: controller.signal,
          onEvent: (e) => {
            if (json) process.stdout.write(`${JSON.stringify(e)}\n`);
            const text = progressText(e);
            if (text) process.stderr.write(`${text}\n`);
          },
          onProgress: progressLine('prepare'),
        },
      );
      return { json: summary, text: summaryText(summary, out) };
    } finally {
      process.off('SIGINT', onSigint);
      gpu.destroy();
    }
  },
};
