// A dropped corpus folder: every file under it, at any depth, with its path inside the drop, however many batches
// the directory reader hands its entries out in.
import { describe, expect, it } from 'vitest';
import { fromDrop } from '../../src/app/pages/train/folder.ts';

/** A directory entry as Chromium's FileSystem API gives it: readEntries returns at most `batch` entries per call. */
function dir(fullPath: string, children: FileSystemEntry[], batch = 100): FileSystemEntry {
  return {
    isFile: false,
    isDirectory: true,
    name: fullPath.split('/').pop()!,
    fullPath,
    createReader: () => {
      let at = 0;
      return {
        readEntries(ok: (entries: FileSystemEntry[]) => void) {
          const part = children.slice(at, at + batch);
          at += part.length;
          setTimeout(() => ok(part), 0);
        },
      };
    },
  } as unknown as FileSystemEntry;
}

function file(fullPath: string): FileSystemEntry {
  const name = fullPath.split('/').pop()!;
  return { isFile: true, isDirectory: false, name, fullPath, file: (ok: (f: File) => void) => ok(new File([name], name)) } as unknown as FileSystemEntry;
}

const dropOf = (entries: FileSystemEntry[]) => ({ items: entries.map((e) => ({ webkitGetAsEntry: () => e })) }) as unknown as DataTransfer;

describe('a dropped corpus folder', () => {
  it('yields every file with its path, past the reader\'s batches, under the folder\'s name', async () => {
    const wavs = Array.from({ length: 250 }, (_, i) => file(`/mycorpus/wav/u${i}.wav`));
    const root = dir('/mycorpus', [file('/mycorpus/manifest.tsv'), dir('/mycorpus/wav', wavs, 100), dir('/mycorpus/empty', [])], 2);
    const { name, files } = await fromDrop(dropOf([root]));
    expect(name).toBe('mycorpus');
    expect(files.map((f) => f.path)).toEqual(['mycorpus/manifest.tsv', ...wavs.map((_, i) => `mycorpus/wav/u${i}.wav`)]);
    expect(await files[0].file.text()).toBe('manifest.tsv');
  });

  it('loose files are a corpus named "corpus"; a drop with nothing in it yields no file', async () => {
    const loose = await fromDrop(dropOf([file('/a.wav'), file('/manifest.tsv')]));
    expect(loose).toMatchObject({ name: 'corpus' });
    expect(loose.files.map((f) => f.path)).toEqual(['a.wav', 'manifest.tsv']);
    const none = await fromDrop({ items: [{ webkitGetAsEntry: () => null }] } as unknown as DataTransfer);
    expect(none).toEqual({ name: 'corpus', files: [] });
  });
});
