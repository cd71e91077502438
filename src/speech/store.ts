// Where workflows read and write corpus files. Hosts provide one: the CLI over a folder (node:fs), the browser
// over OPFS or memory. Paths are relative, with forward slashes.

export interface CorpusStore {
  read(path: string): Promise<Uint8Array | undefined>;
  write(path: string, bytes: Uint8Array): Promise<void>;
  /** Append text to a file (created if missing); used for manifests written line by line. */
  append(path: string, text: string): Promise<void>;
}

/** Progress as (done, total, label), the shape the CLI's progress line and the UI's bars take. */
export type ProgressFn = (done: number, total: number, label: string) => void;

export interface WorkflowOptions {
  signal?: AbortSignal;
  onProgress?: ProgressFn;
}

export class MemoryStore implements CorpusStore {
  readonly files = new Map<string, Uint8Array>();
  async read(path: string): Promise<Uint8Array | undefined> {
    return this.files.get(path);
  }
  async write(path: string, bytes: Uint8Array): Promise<void> {
    this.files.set(path, bytes.slice());
  }
  async append(path: string, text: string): Promise<void> {
    const old = this.files.get(path) ?? new Uint8Array(0);
    const add = new TextEncoder().encode(text);
    const out = new Uint8Array(old.length + add.length);
    out.set(old);
    out.set(add, old.length);
    this.files.set(path, out);
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
}

export const textOf = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);
export const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
