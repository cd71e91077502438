// How the pages and the workers name a model: random initial values of a preset, the MFCC reference, a training
// run's checkpoint, an upload or a shipped model. No imports, so a page names models without loading worker code.

/** A checkpoint file: one of a training run's (in OPFS), an upload (OPFS) or a shipped model (the lab's server). */
export type CheckpointRef = { run: string; name: string } | { upload: string } | { shipped: string };

/** Random initial values of a preset ("mamba-tiny"), with their seed. */
export type RandomRef = { random: string; seed?: number };

export type ModelRef = CheckpointRef | RandomRef | { mfcc: true };

/** The name results carry: 'random:mamba-tiny', 'run/step-0000100.safetensors', 'upload:x.safetensors', 'shipped:x', 'mfcc'. */
export function refLabel(ref: ModelRef): string {
  if ('mfcc' in ref) return 'mfcc';
  if ('random' in ref) return `random:${ref.random}${ref.seed === undefined ? '' : `:${ref.seed}`}`;
  if ('run' in ref) return `${ref.run}/${ref.name}`;
  if ('upload' in ref) return `upload:${ref.upload}`;
  return `shipped:${ref.shipped}`;
}
