// Language models for the asr worker: the shipped ones (`models/lms.json` on the lab's own server) and those the user
// gave the Transcribe page (a text file built into an LM here, or an lm.json of `lab lm build`), kept in OPFS `lms/`
// as lm.json so that they survive a reload. The one in use is kept parsed between jobs.
import { beamWithLm, type DecoderOptions } from '../asr/ctc-decode.ts';
import { lmFromText, type NgramLm } from '../asr/ngram.ts';
import { LabError } from '../gpu/errors.ts';
import { bytesOf, textOf } from '../speech/store.ts';
import { LMS, safeName, shippedLms, shippedModels } from './checkpoints.ts';
import { OpfsStore } from './opfs.ts';

export type LmRef = { shipped: string } | { upload: string };

export interface LmChoice {
  ref: LmRef;
  label: string;
  group: 'shipped' | 'upload';
  /** One line on what it was built from (shipped ones). */
  about?: string;
}

export const lmLabel = (ref: LmRef): string => ('shipped' in ref ? `shipped:${ref.shipped}` : `upload:${ref.upload}`);

/** Every language model the page can choose, shipped ones first. */
export async function lmChoices(): Promise<LmChoice[]> {
  const shipped = (await shippedLms()).map((m): LmChoice => ({ ref: { shipped: m.file }, label: `shipped:${m.file}`, group: 'shipped', about: m.about }));
  const uploads = (await new OpfsStore(LMS).list()).filter((n) => n.endsWith('.json')).map((name): LmChoice => ({ ref: { upload: name }, label: `upload:${name}`, group: 'upload' }));
  return [...shipped, ...uploads];
}

let kept: { label: string; lm: NgramLm } | undefined;

/** A text file or an lm.json, checked (built when it is text) and kept in lms/; refused in one line naming the file. */
export async function keepLm(file: File): Promise<LmChoice> {
  const lm = lmFromText(await file.text(), file.name);
  const name = safeName(file.name.replace(/\.(json|txt)$/i, '')) + '.json';
  await new OpfsStore(LMS).write(name, bytesOf(JSON.stringify(lm.toJSON())));
  const ref = { upload: name };
  kept = { label: lmLabel(ref), lm };
  return { ref, label: lmLabel(ref), group: 'upload' };
}

/** The language model for ref, parsed (the last one is kept). */
export async function useLm(ref: LmRef): Promise<NgramLm> {
  const label = lmLabel(ref);
  if (kept?.label === label) return kept.lm;
  const bytes = 'shipped' in ref ? await shippedModels().read(ref.shipped) : await new OpfsStore(LMS).read(safeName(ref.upload));
  const text = textOf(bytes);
  if (text === undefined) throw new LabError('bad-input', `language model ${label} is gone`);
  kept = { label, lm: lmFromText(text, label) };
  return kept.lm;
}

/** How the page asks to decode: beam (0: greedy), and a language model with its weight (and whether to spell only its words). */
export interface DecodeSettings {
  beam?: number;
  lm?: LmRef;
  lmWeight?: number;
  lexicon?: boolean;
}

/** The decoder options for these settings: an LM is loaded, and a greedy beam widened to LM_BEAM (as the CLI does). */
export async function decoderOptions(s: DecodeSettings): Promise<DecoderOptions> {
  const lm = s.lm ? await useLm(s.lm) : undefined;
  return { beam: beamWithLm(s.beam ?? 0, !!lm), lm, lmWeight: lm ? s.lmWeight : undefined, lexicon: !!lm && !!s.lexicon };
}
