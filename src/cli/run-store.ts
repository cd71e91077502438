// A training run's folder on disk as a RunStore: atomic writes (temporary file, then rename), JSON-lines appends.
import { appendFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunStore } from '../train/checkpoints.ts';

export function folderRunStore(root: string): RunStore {
  const made = mkdir(root, { recursive: true });
  return {
    async read(name) {
      try {
        return new Uint8Array(await readFile(join(root, name)));
      } catch {
        return undefined;
      }
    },
    async write(name, bytes) {
      await made;
      const tmp = join(root, `.${name}.${process.pid}.part`);
      await writeFile(tmp, bytes);
      await rename(tmp, join(root, name));
    },
    async append(name, text) {
      await made;
      await appendFile(join(root, name), text);
    },
    async list() {
      await made;
      return readdir(root);
    },
    async remove(name) {
      await rm(join(root, name), { force: true });
    },
  };
}
