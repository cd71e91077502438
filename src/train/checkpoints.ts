// Where a training run keeps its checkpoints, and the rules it keeps them by. Hosts provide the store: a folder
// in the CLI, OPFS in the browser. Every write is atomic (the store writes a temporary name, then renames), each
// save is a new file named by its update number, so a good checkpoint is never written over: only the oldest
// beyond `keep` are removed, and `best.safetensors` is replaced only by a checkpoint that scored better on dev.
import { LabError } from '../gpu/errors.ts';
import { MemoryStore } from '../speech/store.ts';

export interface RunStore {
  read(name: string): Promise<Uint8Array | undefined>;
  /** Atomic: after a kill, the file holds either its old bytes or the new ones. */
  write(name: string, bytes: Uint8Array): Promise<void>;
  append(name: string, text: string): Promise<void>;
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

export const BEST = 'best.safetensors';
export const LOG = 'log.jsonl';

const PATTERN = /^step-(\d{7,})\.safetensors$/;

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(7, '0')}.safetensors`;
}

/** The run's checkpoints by update number, oldest first. */
export async function listCheckpoints(store: RunStore): Promise<{ name: string; step: number }[]> {
  return (await store.list())
    .map((name) => ({ name, m: PATTERN.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map(({ name, m }) => ({ name, step: Number(m[1]) }))
    .sort((a, b) => a.step - b.step);
}

/** Save a checkpoint and drop the oldest beyond `keep` (the newest is never dropped). */
export async function saveCheckpointFile(store: RunStore, step: number, bytes: Uint8Array, keep: number): Promise<string> {
  const name = checkpointName(step);
  await store.write(name, bytes);
  const all = await listCheckpoints(store);
  for (const old of all.slice(0, Math.max(0, all.length - Math.max(1, keep)))) await store.remove(old.name);
  return name;
}

/** The newest checkpoint's bytes, for --resume; a clear error when the folder holds none. */
export async function latestCheckpoint(store: RunStore): Promise<{ name: string; step: number; bytes: Uint8Array }> {
  const all = await listCheckpoints(store);
  for (const c of all.reverse()) {
    const bytes = await store.read(c.name);
    if (bytes) return { ...c, bytes };
  }
  throw new LabError('bad-input', 'resume: this run folder holds no checkpoint (step-*.safetensors) to resume from');
}

/** A run folder in memory (tests, and a browser run before it is kept in OPFS). */
export class MemoryRunStore extends MemoryStore implements RunStore {
  async list(): Promise<string[]> {
    return [...this.files.keys()];
  }
  async remove(name: string): Promise<void> {
    this.files.delete(name);
  }
}
