// Where the workers find checkpoints and sets: training runs and uploads kept in OPFS (`runs/<run>/`,
// `uploads/`), and what the lab's own server ships (`models/`, listed in `models/index.json`; `eval/`). One
// naming for the train, analyse and asr workers.
import { LabError } from '../gpu/errors.ts';
import { loadCheckpoint, type Checkpoint } from '../models/checkpoint.ts';
import { bytesOf, textOf } from '../speech/store.ts';
import { HttpStore } from './http-store.ts';
import { OpfsStore } from './opfs.ts';
import { refLabel, type CheckpointRef } from './refs.ts';

export const RUNS = 'runs';
export const UPLOADS = 'uploads';
export const CORPORA = 'corpora';
/** Language models the user gave the Transcribe page, kept as lm.json. */
export const LMS = 'lms';

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

/** An uploaded file checked as a checkpoint of this lab (on the CPU, in full); refused in one line naming the file. */
export async function readUpload(file: File): Promise<{ bytes: Uint8Array; checkpoint: Checkpoint }> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return { bytes, checkpoint: loadCheckpoint(bytes) };
  } catch (e) {
    const why = String((e as Error)?.message ?? e).replace(/^(safetensors|checkpoint): /, '');
    throw new LabError('bad-input', why.includes('not a checkpoint of this lab') ? `${file.name}: ${why}` : `${file.name} is not a checkpoint of this lab: ${why}`);
  }
}

/** Keep a checked upload in uploads/ with its sidecar `<name>.json` (what the lists show); returns the name kept. */
export async function keepUpload(fileName: string, bytes: Uint8Array, sidecar: object): Promise<string> {
  const name = safeName(fileName.replace(/\.safetensors$/i, '')) + '.safetensors';
  const store = new OpfsStore(UPLOADS);
  await store.write(name, bytes);
  await store.write(`${name}.json`, bytesOf(JSON.stringify(sidecar)));
  return name;
}

/** A shipped model as `models/index.json` lists it. */
export interface ShippedModel {
  file: string;
  /** The heads it holds ("pretrain", "ctc"), when the index says. */
  heads?: string[];
  /** Its kind and size (e.g. "mamba-tiny"), when the index says. */
  model?: string;
  /** Greedy scores on the shipped sets (e.g. "eval", "heldout"), as its card states them. */
  scores?: Record<string, SetScore>;
}

export interface SetScore {
  utterances: number;
  wer: number;
  cer: number;
}

function scoresOf(x: unknown): Record<string, SetScore> | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const ok = Object.entries(x as Record<string, Partial<SetScore>>).filter(([, v]) => typeof v?.wer === 'number' && typeof v.cer === 'number');
  return ok.length ? Object.fromEntries(ok.map(([k, v]) => [k, { utterances: Number(v.utterances ?? 0), wer: v.wer!, cer: v.cer! }])) : undefined;
}

/** `models/index.json`: ["a.safetensors", ...] or [{ "file", "heads", "model", "scores" }, ...]; none when absent or unreadable. */
export async function shippedIndex(): Promise<ShippedModel[]> {
  const text = textOf(await shippedModels().read('index.json').catch(() => undefined));
  if (!text) return [];
  try {
    const list = JSON.parse(text) as (string | { file?: string; name?: string; model?: string; heads?: unknown; scores?: unknown })[];
    return list
      .map((x): ShippedModel => {
        if (typeof x === 'string') return { file: x };
        const heads = Array.isArray(x.heads) ? x.heads.map(String) : undefined;
        return { file: x.file ?? x.name ?? '', model: x.model, heads, scores: scoresOf(x.scores) };
      })
      .filter((x) => x.file.endsWith('.safetensors'));
  } catch {
    return [];
  }
}

/** A shipped language model as `models/lms.json` lists it. */
export interface ShippedLm {
  file: string;
  /** One line on what it was built from. */
  about?: string;
}

/** The shipped language models (`models/lms.json`); none when it is missing or unreadable. */
export async function shippedLms(): Promise<ShippedLm[]> {
  const text = textOf(await shippedModels().read('lms.json').catch(() => undefined));
  if (!text) return [];
  try {
    const list = JSON.parse(text) as { file?: unknown; about?: unknown }[];
    return list
      .filter((x) => typeof x?.file === 'string' && x.file.endsWith('.json'))
      .map((x) => ({ file: x.file as string, about: typeof x.about === 'string' ? x.about : undefined }));
  } catch {
    return [];
  }
}
