// Character vocabulary for CTC, as in the paper: blank = 0, then `|` (word boundary), A-Z and the apostrophe
// (29 symbols with the blank). Transcripts everywhere (manifests, decoders, WER) are normalised text over A-Z,
// apostrophe and single spaces; `|` only appears in label sequences, standing for a space.

export const BLANK = 0;
export const VOCAB: readonly string[] = ['<blank>', '|', ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "'"];
export const VOCAB_SIZE = VOCAB.length; // 29

const INDEX = new Map<string, number>(VOCAB.map((c, i) => [c, i]));

/** Punctuation dropped silently by normalisation (hyphens and dashes become spaces). */
const DROPPED = /[.,;:!?"()[\]{}«»“”‘’`]/g;
const SPACED = /[-–—_/\s]+/g;

export interface Normalised {
  /** Upper-case A-Z, apostrophe, single spaces, trimmed. */
  text: string;
  /** Characters that are outside the alphabet after dropping punctuation (empty when the text is usable). */
  bad: string[];
}

/**
 * Normalise free text to the transcript alphabet: upper-case, curly apostrophes -> `'`, common punctuation
 * dropped, hyphens/dashes/underscores -> space, whitespace collapsed. Anything else left (digits, accented
 * letters, symbols) is reported in `bad` and removed from `text`.
 */
export function normaliseTranscript(raw: string): Normalised {
  const s = raw.replace(/[’‘]/g, "'").replace(DROPPED, '').replace(SPACED, ' ').toUpperCase();
  const bad = new Set<string>();
  let out = '';
  for (const ch of s) {
    if ((ch >= 'A' && ch <= 'Z') || ch === "'" || ch === ' ') out += ch;
    else bad.add(ch);
  }
  return { text: out.replace(/ +/g, ' ').trim(), bad: [...bad] };
}

/** True when `text` is already normalised (what a manifest must hold). */
export function isNormalised(text: string): boolean {
  return /^[A-Z']+( [A-Z']+)*$/.test(text);
}

/** Text (normalised) -> label ids, spaces as `|`. Throws on a character outside the alphabet. */
export function encodeText(text: string): Int32Array {
  const ids = new Int32Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] === ' ' ? '|' : text[i];
    const id = INDEX.get(ch);
    if (id === undefined || id === BLANK) throw new Error(`encodeText: character ${JSON.stringify(text[i])} is outside the vocabulary`);
    ids[i] = id;
  }
  return ids;
}

/** Label ids -> text (`|` -> space, blanks skipped, no CTC collapsing: see ctcCollapse). */
export function decodeIds(ids: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === BLANK) continue;
    const ch = VOCAB[id];
    if (ch === undefined) throw new Error(`decodeIds: id ${id} is outside the vocabulary (0..${VOCAB_SIZE - 1})`);
    s += ch === '|' ? ' ' : ch;
  }
  return s.replace(/ +/g, ' ').trim();
}

/** Greedy CTC collapse: merge repeats, then drop blanks; returns the text. */
export function ctcCollapse(frameIds: ArrayLike<number>): string {
  const kept: number[] = [];
  let prev = -1;
  for (let i = 0; i < frameIds.length; i++) {
    const id = frameIds[i];
    if (id !== prev && id !== BLANK) kept.push(id);
    prev = id;
  }
  return decodeIds(kept);
}
