// Where the workers find checkpoints and sets: training runs and uploads kept in OPFS (`runs/<run>/`,
// `uploads/`), and what the lab's own server ships (`models/`, listed in `models/index.json`; `eval/`). One
// naming for the train, analyse and asr workers.
import { LabError } from '../gpu/errors.ts';
import { textOf } from '../speech/store.ts';
import { HttpStore } from './http-store.ts';
import { OpfsStore } from './opfs.ts';
import { refLabel, type CheckpointRef } from './refs.ts';

export const RUNS = 'runs';
export const UPLOADS = 'uploads';
export const CORPORA = 'corpora';

/** The lab's own origin and base path, as a URL to resolve shipped files against. */
const labBase = () => new URL(import.meta.env.BASE_URL, self.location.origin).href;
export const shippedModels = () => new HttpStore(new URL('models/', labBase()).href, 'the shipped models');
export const shippedEvalSet = () => new HttpStore(new URL('eval/', labBase()).href, 'the shipped evaluation set');

/** A name made safe as one OPFS path component. */
export function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  if (!s) throw new LabError('bad-input', `"${name}" is not usable as a name`);
  return s;
}

export async function checkpointBytes(ref: CheckpointRef): Promise<Uint8Array> {
  const bytes =
    'run' in ref
      ? await new OpfsStore(`${RUNS}/${safeName(ref.run)}`).read(ref.name)
      : 'upload' in ref
        ? await new OpfsStore(UPLOADS).read(safeName(ref.upload))
        : await shippedModels().read(ref.shipped);
  if (!bytes) throw new LabError('bad-input', `checkpoint ${refLabel(ref)} is gone`);
  return bytes;
}

/** A shipped model as `models/index.json` lists it. */
export interface ShippedModel {
  file: string;
  /** The heads it holds ("pretrain", "ctc"), when the index says. */
  heads?: string[];
  /** Its kind and size (e.g. "mamba-tiny"), when the index says. */
  model?: string;
}

/** `models/index.json`: ["a.safetensors", ...] or [{ "file", "heads", "model" }, ...]; none when absent or unreadable. */
export async function shippedIndex(): Promise<ShippedModel[]> {
  const text = textOf(await shippedModels().read('index.json').catch(() => undefined));
  if (!text) return [];
  try {
    const list = JSON.parse(text) as (string | { file?: string; name?: string; model?: string; heads?: unknown })[];
    return list
      .map((x): ShippedModel => {
        if (typeof x === 'string') return { file: x };
        const heads = Array.isArray(x.heads) ? x.heads.map(String) : undefined;
        return { file: x.file ?? x.name ?? '', model: x.model, heads };
      })
      .filter((x) => x.file.endsWith('.safetensors'));
  } catch {
    return [];
  }
}
