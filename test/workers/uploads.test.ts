import { describe, expect, it } from 'vitest';
import { badCheckpoints, checkpoint } from '../../e2e/bad-files.ts';
import { readUpload } from '../../src/workers/checkpoints.ts';

const asFile = (f: { name: string; buffer: Buffer }) => new File([new Uint8Array(f.buffer)], f.name);

describe('an uploaded checkpoint', () => {
  it.each(badCheckpoints().map((c) => [c.file.name, c] as const))('%s is refused in one line naming the file', async (_, { file, says }) => {
    const refusal = readUpload(asFile(file));
    await expect(refusal).rejects.toThrow(says);
    await expect(refusal).rejects.toThrow(/^[^\n]+$/);
  });

  it('of this lab is read in full', async () => {
    const { bytes, checkpoint: ck } = await readUpload(asFile(checkpoint('mamba', { ctcHead: true })));
    expect(bytes.length).toBeGreaterThan(1000);
    expect(`${ck.config.kind}-${ck.config.size}`).toBe('mamba-tiny');
    expect(ck.heads.ctcHead).toBe(true);
  });
});
