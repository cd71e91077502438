import { afterEach, describe, expect, it, vi } from 'vitest';
import { LabError } from '../../src/gpu/errors.ts';
import { isQuotaExceeded, storageFull, storageFullMessage } from '../../src/workers/storage-full.ts';

describe('a full disk while saving', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('knows the browser quota error from other failures', () => {
    expect(isQuotaExceeded(new DOMException('The quota has been exceeded.', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaExceeded(new DOMException('gone', 'NotFoundError'))).toBe(false);
    expect(isQuotaExceeded(new Error('QuotaExceededError'))).toBe(false);
  });

  it('says what was refused, how much room it needs and what to free, in one line', () => {
    const m = storageFullMessage('runs/r1/step-0000002.safetensors', 3.5 * 2 ** 20, { usage: 9.9 * 2 ** 30, quota: 10 * 2 ** 30 });
    expect(m).toBe(
      'Storage is full: saving runs/r1/step-0000002.safetensors (3.5 MiB) was refused (the lab holds 9.90 GiB of the 10.00 GiB this browser allows it). ' +
        'Free at least 3.5 MiB by removing runs, corpora or uploaded checkpoints you no longer need on the Train page, then try again; what was saved before is intact.',
    );
    expect(m).not.toContain('\n');
    // Without an estimate the rest still holds.
    expect(storageFullMessage('uploads/a.safetensors', 2048)).toBe(
      'Storage is full: saving uploads/a.safetensors (2.0 KiB) was refused. Free at least 2.0 KiB by removing runs, corpora or uploaded checkpoints you no longer need on the Train page, then try again; what was saved before is intact.',
    );
  });

  it('asks the browser how full its storage is, and does without when it cannot say', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ usage: 2 ** 20, quota: 2 ** 30 }) } });
    const e = await storageFull('corpora/c/manifest.jsonl', 100);
    expect(e).toBeInstanceOf(LabError);
    expect(e.code).toBe('storage-full');
    expect(e.message).toContain('(the lab holds 1.0 MiB of the 1.00 GiB this browser allows it)');
    vi.stubGlobal('navigator', { storage: { estimate: () => Promise.reject(new Error('no')) } });
    expect((await storageFull('corpora/c/manifest.jsonl', 100)).message).toMatch(/^Storage is full: saving corpora\/c\/manifest\.jsonl \(100 B\) was refused\. Free at least 100 B/);
  });
});
