// A full disk while saving: the browser refuses an OPFS write with a QuotaExceededError, which becomes one line that
// says what was being saved, how much room it needs, and what the user can free. Writes are atomic (opfs.ts), so
// whatever was saved before is untouched.
import { formatBytes, LabError } from '../gpu/errors.ts';

export function isQuotaExceeded(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'QuotaExceededError';
}

/** How much of its quota the origin uses (navigator.storage.estimate()), when the browser says. */
export interface StorageUse {
  usage?: number;
  quota?: number;
}

export function storageFullMessage(path: string, bytes: number, use: StorageUse = {}): string {
  const held = use.usage !== undefined && use.quota !== undefined ? ` (the lab holds ${formatBytes(use.usage)} of the ${formatBytes(use.quota)} this browser allows it)` : '';
  return (
    `Storage is full: saving ${path} (${formatBytes(bytes)}) was refused${held}. Free at least ${formatBytes(bytes)} by removing ` +
    'runs, corpora or uploaded checkpoints you no longer need on the Train page, then try again; what was saved before is intact.'
  );
}

/** The error to throw for a refused write of `bytes` to `path`. */
export async function storageFull(path: string, bytes: number): Promise<LabError> {
  const use: StorageUse = await navigator.storage.estimate().catch(() => ({}));
  return new LabError('storage-full', storageFullMessage(path, bytes, use));
}
