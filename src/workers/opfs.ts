// The browser's origin-private file system (OPFS) as the lab's stores: a folder per corpus (`corpora/<name>/`)
// and per training run (`runs/<name>/`), read and written by workers. No DOM here.
//
// Atomic writes: the bytes go to a temporary file in the same folder (`.<name>.<random>.part`), which is then
// renamed over the destination with FileSystemFileHandle.move() (Chromium replaces an existing destination in
// one step). After a kill the destination holds either its old bytes or the new ones; a left-over `.part` file
// is never listed and is swept when a run starts. Where move() is missing (older browsers), the destination is
// written through createWritable(), which by the File System standard writes to a swap file and swaps it in
// only on close(), so that path is atomic as well; then the temporary file is removed.
//
// Appends (a run's log.jsonl) are queued per file, so events land in the order they were emitted even though the
// trainer does not wait for them, and reads of a file wait for its queued appends.
import type { RunStore } from '../train/checkpoints.ts';
import type { CorpusStore } from '../speech/store.ts';
import { LabError } from '../gpu/errors.ts';
import { isQuotaExceeded, storageFull } from './storage-full.ts';

// Parts of the File System standard that TypeScript's DOM library does not declare yet.
declare global {
  interface FileSystemDirectoryHandle {
    entries(): AsyncIterableIterator<[string, FileSystemHandle]>;
  }
  interface FileSystemFileHandle {
    /** Rename within the folder (Chromium 110+: replaces an existing file of that name). */
    move?(name: string): Promise<void>;
  }
}

const TEMP = /^\..*\.part$/;

function segments(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw new LabError('bad-input', `OPFS path "${path}" leaves its folder`);
  return parts;
}

const notFound = (e: unknown) => e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError');

/** The folder at `path` under the OPFS root; undefined when it does not exist and `create` is false. */
export async function opfsFolder(path: string, create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
  let dir = await navigator.storage.getDirectory();
  try {
    for (const p of segments(path)) dir = await dir.getDirectoryHandle(p, { create });
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
  return dir;
}

/** Names of the folders directly under `path` (none when it does not exist). */
export async function opfsFolders(path: string): Promise<string[]> {
  const dir = await opfsFolder(path, false);
  const names: string[] = [];
  if (dir) for await (const [name, h] of dir.entries()) if (h.kind === 'directory') names.push(name);
  return names.sort();
}

/** Remove the folder at `path` and everything in it. */
export async function removeOpfsFolder(path: string): Promise<void> {
  const parts = segments(path);
  const parent = await opfsFolder(parts.slice(0, -1).join('/'), false);
  await parent?.removeEntry(parts[parts.length - 1], { recursive: true }).catch((e) => {
    if (!notFound(e)) throw e;
  });
}

// Work queued per file (appends, and reads that must see them), keyed by the file's full path.
const queues = new Map<string, Promise<unknown>>();
function queued<T>(key: string, work: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(work, work);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}

/** Write `bytes` at `at` (an append) or as the whole file. In a worker a sync access handle writes in place. */
async function writeAll(handle: FileSystemFileHandle, bytes: Uint8Array, at?: number): Promise<void> {
  if (typeof WorkerGlobalScope !== 'undefined' && typeof handle.createSyncAccessHandle === 'function') {
    const h = await handle.createSyncAccessHandle();
    try {
      if (at === undefined) h.truncate(0);
      const start = at ?? 0;
      let done = 0;
      while (done < bytes.length) done += h.write(bytes.subarray(done), { at: start + done });
      h.flush();
    } finally {
      h.close();
    }
  } else await writeStream(handle, bytes, at);
}

/** Write through a writable stream: the file changes only when the stream closes (a swap file until then). */
async function writeStream(handle: FileSystemFileHandle, bytes: Uint8Array, at?: number): Promise<void> {
  const w = await handle.createWritable({ keepExistingData: at !== undefined });
  try {
    if (at !== undefined) await w.seek(at);
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
}

/** A folder in OPFS as a corpus store and a run store. Paths inside it are relative, with forward slashes. */
export class OpfsStore implements CorpusStore, RunStore {
  constructor(readonly path: string) {
    segments(path);
  }

  private async locate(path: string, create: boolean): Promise<{ dir: FileSystemDirectoryHandle; name: string } | undefined> {
    const parts = segments(path);
    const name = parts.pop();
    if (!name) throw new LabError('bad-input', `OPFS: "${path}" names no file`);
    const dir = await opfsFolder([this.path, ...parts].join('/'), create);
    return dir && { dir, name };
  }

  private key(path: string): string {
    return `${this.path}/${segments(path).join('/')}`;
  }

  /** The file's bytes as a File (no copy: good for downloads), or undefined. */
  async file(path: string): Promise<File | undefined> {
    return queued(this.key(path), async () => {
      const at = await this.locate(path, false);
      if (!at) return undefined;
      try {
        return await (await at.dir.getFileHandle(at.name)).getFile();
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    });
  }

  async read(path: string): Promise<Uint8Array | undefined> {
    const f = await this.file(path);
    return f && new Uint8Array(await f.arrayBuffer());
  }

  async write(path: string, bytes: Uint8Array): Promise<void> {
    const { dir, name } = (await this.locate(path, true))!;
    const temp = `.${name}.${Math.random().toString(36).slice(2, 10)}.part`;
    const handle = await dir.getFileHandle(temp, { create: true });
    try {
      if (handle.move) {
        await writeAll(handle, bytes);
        await handle.move(name);
      } else {
        await writeAll(handle, bytes); // the copy that survives a failure below
        await writeStream(await dir.getFileHandle(name, { create: true }), bytes);
        await dir.removeEntry(temp);
      }
    } catch (e) {
      await dir.removeEntry(temp).catch(() => undefined);
      throw isQuotaExceeded(e) ? await storageFull(this.key(path), bytes.length) : e;
    }
  }

  append(path: string, text: string): Promise<void> {
    return queued(this.key(path), async () => {
      const { dir, name } = (await this.locate(path, true))!;
      const handle = await dir.getFileHandle(name, { create: true });
      const bytes = new TextEncoder().encode(text);
      try {
        await writeAll(handle, bytes, (await handle.getFile()).size);
      } catch (e) {
        throw isQuotaExceeded(e) ? await storageFull(this.key(path), bytes.length) : e;
      }
    });
  }

  /** Files directly in this folder (temporary files of unfinished writes left out). */
  async list(): Promise<string[]> {
    return (await this.entries()).map((e) => e.name);
  }

  /** Files directly in this folder with their sizes and modification times. */
  async entries(): Promise<{ name: string; bytes: number; modified: number }[]> {
    const dir = await opfsFolder(this.path, false);
    const out: { name: string; bytes: number; modified: number }[] = [];
    if (!dir) return out;
    for await (const [name, h] of dir.entries()) {
      if (h.kind !== 'file' || TEMP.test(name)) continue;
      const f = await (h as FileSystemFileHandle).getFile();
      out.push({ name, bytes: f.size, modified: f.lastModified });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async remove(path: string): Promise<void> {
    const at = await this.locate(path, false);
    await at?.dir.removeEntry(at.name).catch((e) => {
      if (!notFound(e)) throw e;
    });
  }

  /** Remove temporary files left by writes that a kill interrupted. */
  async sweep(): Promise<void> {
    const dir = await opfsFolder(this.path, false);
    if (!dir) return;
    const stale: string[] = [];
    for await (const [name, h] of dir.entries()) if (h.kind === 'file' && TEMP.test(name)) stale.push(name);
    for (const name of stale) await dir.removeEntry(name).catch(() => undefined);
  }
}
