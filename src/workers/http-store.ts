// A read-only corpus store over files the lab's own server serves (the shipped evaluation set at /eval/).
// Requests stay on the page's origin. No DOM here.
import { LabError } from '../gpu/errors.ts';
import type { CorpusStore } from '../speech/store.ts';

export class HttpStore implements CorpusStore {
  /** `base`: an absolute URL of a folder, ending in '/'. */
  constructor(
    readonly base: string,
    readonly label: string,
  ) {}

  async read(path: string): Promise<Uint8Array | undefined> {
    const r = await fetch(new URL(path, this.base));
    // A single-page server answers a missing file with index.html: that is not the file either.
    if (!r.ok || (r.headers.get('content-type') ?? '').startsWith('text/html')) return undefined;
    return new Uint8Array(await r.arrayBuffer());
  }

  async write(path: string): Promise<void> {
    throw new LabError('bad-input', `${this.label} is read-only (writing ${path})`);
  }

  async append(path: string): Promise<void> {
    return this.write(path);
  }
}
