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

/** What the pages say of a model without the CTC head (a pre-trained one) when asked to transcribe. */
export function noCtcHead(label: string): string {
  return `${label} has no CTC head (a pre-trained model): fine-tune it on the Train page first; only fine-tuned checkpoints transcribe.`;
}

/** What the pages say of a model that cannot stream (a bidirectional kind) when asked for live transcription. */
export function cannotStream(label: string, kind: string): string {
  return `${label} (${kind}) cannot stream: files work with any model, live transcription needs mamba or causal-transformer.`;
}
