// `lab stream-cost --models CKPT|random:mamba-tiny,random:causal-transformer-tiny --minutes 10 [--chunk-ms 160] --json`:
// the paper's argument on this machine. Each causal model gets a long stream (a file looped, or seeded noise) fed
// as fast as it goes through the live recognizer (src/asr/stream-cost.ts); the compute time per chunk and the
// carried state's size are printed against stream time, and where a model runs out of memory (a buffer over the
// device's limits, or over --state-limit-mb) is marked.
import { readFile } from 'node:fs/promises';
import { parseRandom } from '../../analysis/sources.ts';
import { costRows, streamCost, type StreamCostResult } from '../../asr/stream-cost.ts';
import { audioForModel, loadRecognizer, recognizerCheckpoint } from '../../asr/transcribe.ts';
import { openDawnDevice } from '../../gpu/dawn.ts';
import { LabError } from '../../gpu/errors.ts';
import type { ModelConfig } from '../../models/config.ts';
import { HubertModel } from '../../models/hubert.ts';
import { presetByName } from '../../models/presets.ts';
import { SAMPLE_RATE } from '../../speech/audio.ts';
import { UsageError, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { progressLine } from '../progress.ts';

const FLAGS: FlagSpecs = {
  models: { type: 'list' },
  minutes: { type: 'number', above: 0, max: 24 * 60 },
  'chunk-ms': { type: 'number', above: 0, max: 60_000 },
  file: { type: 'file' },
  'state-limit-mb': { type: 'number', above: 0 },
  rows: { type: 'int', min: 1, max: 1000 },
  points: { type: 'bool' },
  seed: { type: 'int', min: 0, max: 2 ** 31 - 1 },
  'max-wall-s': { type: 'number', above: 0 },
};

type Spec = { name: string; config: ModelConfig; make: (gpu: Parameters<typeof HubertModel.create>[0]) => HubertModel };

async function modelSpec(spec: string, seed: number): Promise<Spec> {
  const random = parseRandom(spec);
  if (random && random.kind === 'random') {
    const config = presetByName(random.preset);
    return { name: spec, config, make: (gpu) => HubertModel.create(gpu, config, random.seed ?? seed, { heads: { ctcHead: true } }) };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(spec));
  } catch (e) {
    throw new LabError('bad-input', `--models ${spec}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message} (models are checkpoint paths or random:<kind>-<size>[:seed])`);
  }
  let checkpoint;
  try {
    checkpoint = recognizerCheckpoint(bytes);
  } catch (e) {
    throw new LabError('bad-input', `--models ${spec}: ${(e as Error).message}`);
  }
  return { name: spec, config: checkpoint.config, make: (gpu) => loadRecognizer(gpu, checkpoint).model };
}

const mib = (b: number) => (b / 1048576).toFixed(2);

export const streamCostCommand: Command = {
  summary: "The cost of a long stream per model: compute per chunk and carried state against stream time (Mamba flat, the Transformer's KV cache growing).",
  usage:
    'npm run -s lab -- stream-cost --models CKPT|random:mamba-tiny,random:causal-transformer-tiny [--minutes 10] [--chunk-ms 160]\n' +
    '       [--file AUDIO (looped; default seeded noise)] [--state-limit-mb MB] [--max-wall-s S] [--rows 10] [--points] [--json]\n' +
    '  causal models only; --points puts every chunk in the JSON, otherwise --rows windows of stream time',
  flags: FLAGS,
  maxPositionals: 0,
  async run(args) {
    const names = typeof args.flags.models === 'string' ? args.flags.models.split(',').map((s) => s.trim()).filter(Boolean) : ['random:mamba-tiny', 'random:causal-transformer-tiny'];
    const minutes = args.flags.minutes === undefined ? 10 : Number(args.flags.minutes);
    const chunkMs = args.flags['chunk-ms'] === undefined ? 160 : Number(args.flags['chunk-ms']);
    const chunkSamples = Math.max(1, Math.round((chunkMs * SAMPLE_RATE) / 1000));
    const rowsWanted = args.flags.rows === undefined ? 10 : Number(args.flags.rows);
    const seed = args.flags.seed === undefined ? 1 : Number(args.flags.seed);
    const maxWall = args.flags['max-wall-s'] === undefined ? undefined : Number(args.flags['max-wall-s']);
    const limitMb = args.flags['state-limit-mb'] === undefined ? undefined : Number(args.flags['state-limit-mb']);
    if (!(minutes > 0)) throw new UsageError('--minutes must be positive');
    const specs = await Promise.all(names.map((n) => modelSpec(n, seed)));
    let audio: Float32Array | undefined;
    const file = typeof args.flags.file === 'string' ? args.flags.file : undefined;
    if (file) {
      try {
        audio = audioForModel(new Uint8Array(await readFile(file))).samples;
      } catch (e) {
        throw new LabError('bad-input', `--file ${file}: not a usable audio file (${(e as Error).message})`);
      }
    }
    const seconds = minutes * 60;
    const gpu = await openDawnDevice();
    const results: { model: string; kind: string; size: string; result: StreamCostResult }[] = [];
    try {
      for (const spec of specs) {
        const model = spec.make(gpu);
        try {
          const progress = progressLine(spec.name);
          const result = await streamCost(model, {
            seconds,
            chunkSamples,
            audio,
            stateLimitBytes: limitMb === undefined ? undefined : limitMb * 1048576,
            maxWallSeconds: maxWall,
            onProgress: (done, total) => progress(Math.round(done), Math.round(total), 's'),
          });
          results.push({ model: spec.name, kind: spec.config.kind, size: spec.config.size, result });
        } finally {
          model.release();
          gpu.pool.trim();
        }
      }
    } finally {
      gpu.destroy();
    }
    const models = results.map(({ model, kind, size, result }) => ({
      model,
      kind,
      size,
      chunks: result.chunks,
      streamSeconds: result.streamSeconds,
      wallSeconds: +result.wallSeconds.toFixed(2),
      outOfMemory: result.outOfMemory,
      stoppedAt: result.stoppedAt,
      behindRealTimeAt: result.behindRealTimeAt,
      rows: costRows(result.points, Math.max(result.streamSeconds, 1e-9) / rowsWanted).map((r) => ({
        ...r,
        meanComputeMs: +r.meanComputeMs.toFixed(3),
        maxComputeMs: +r.maxComputeMs.toFixed(3),
        meanLatencyMs: +r.meanLatencyMs.toFixed(3),
      })),
      points: args.flags.points === true ? result.points : undefined,
    }));
    const json = { adapter: gpu.adapter, minutes, chunkMs, source: file ?? 'noise', stateLimitMb: limitMb, models };
    const lines = [`stream of ${minutes} min in ${chunkMs} ms chunks (${file ?? 'seeded noise'}), fed as fast as it goes; adapter ${gpu.adapter.description || gpu.adapter.vendor || 'unknown'}`];
    for (const m of models) {
      lines.push('', `${m.model} (${m.kind}-${m.size}): ${m.chunks} chunks, ${m.streamSeconds.toFixed(0)} s of stream in ${m.wallSeconds} s${m.outOfMemory ? `; OUT OF MEMORY at ${m.outOfMemory.streamSeconds.toFixed(1)} s: ${m.outOfMemory.message}` : ''}${m.stoppedAt ? `; stopped at ${m.stoppedAt.streamSeconds.toFixed(1)} s: ${m.stoppedAt.reason}` : ''}${m.behindRealTimeAt !== undefined ? `; slower than real time from ${m.behindRealTimeAt.toFixed(1)} s on (mean compute over 10 s > chunk)` : ''}`);
      lines.push('  stream time       compute/chunk mean   max     state (used)   state (allocated)');
      for (const r of m.rows) {
        lines.push(`  ${`${r.from.toFixed(0)}-${r.to.toFixed(0)} s`.padEnd(16)}  ${`${r.meanComputeMs.toFixed(2)} ms`.padStart(12)}  ${`${r.maxComputeMs.toFixed(1)} ms`.padStart(10)}  ${`${mib(r.stateBytes)} MiB`.padStart(12)}  ${`${mib(r.stateAllocatedBytes)} MiB`.padStart(14)}`);
      }
    }
    return { json, text: lines.join('\n') };
  },
};
