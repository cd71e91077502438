// Word and character error rates by Levenshtein alignment: (substitutions + deletions + insertions) / reference
// length. Corpus-level rates sum the edits and the reference lengths over utterances (not a mean of ratios).

export interface ErrorCounts {
  /** Edits of the best alignment. */
  edits: number;
  /** Reference tokens. */
  length: number;
}

/** Minimum edits turning `hyp` into `ref`. */
export function editDistance<T>(ref: readonly T[], hyp: readonly T[]): number {
  let prev = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const cur = [i];
    for (let j = 1; j <= hyp.length; j++) {
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[hyp.length];
}

const words = (s: string): string[] => s.split(' ').filter(Boolean);

export function wordErrors(ref: string, hyp: string): ErrorCounts {
  const r = words(ref);
  return { edits: editDistance(r, words(hyp)), length: r.length };
}

/** Characters of the words joined by single spaces (spaces count, as in the usual CER). */
export function charErrors(ref: string, hyp: string): ErrorCounts {
  const r = [...words(ref).join(' ')];
  return { edits: editDistance(r, [...words(hyp).join(' ')]), length: r.length };
}

/** Corpus-level WER and CER of (reference, hypothesis) pairs, as fractions. */
export function errorRates(pairs: readonly { ref: string; hyp: string }[]): { wer: number; cer: number; words: number } {
  let we = 0, wl = 0, ce = 0, cl = 0;
  for (const { ref, hyp } of pairs) {
    const w = wordErrors(ref, hyp);
    const c = charErrors(ref, hyp);
    [we, wl, ce, cl] = [we + w.edits, wl + w.length, ce + c.edits, cl + c.length];
  }
  return { wer: wl ? we / wl : 0, cer: cl ? ce / cl : 0, words: wl };
}

/** Edits of a best alignment by kind, with the reference length. */
export interface ErrorTally {
  substitutions: number;
  deletions: number;
  insertions: number;
  /** Reference tokens. */
  length: number;
}

export type AlignOp = 'ok' | 'sub' | 'del' | 'ins';

/** One step of an alignment: a reference token, a hypothesis token, or both. */
export interface AlignStep<T> {
  op: AlignOp;
  ref?: T;
  hyp?: T;
}

export const emptyTally = (): ErrorTally => ({ substitutions: 0, deletions: 0, insertions: 0, length: 0 });

export const tallyEdits = (t: ErrorTally): number => t.substitutions + t.deletions + t.insertions;

export function addTally(a: ErrorTally, b: ErrorTally): ErrorTally {
  return { substitutions: a.substitutions + b.substitutions, deletions: a.deletions + b.deletions, insertions: a.insertions + b.insertions, length: a.length + b.length };
}

/** Edits per reference token (0 for an empty reference). */
export const errorRate = (t: ErrorTally): number => (t.length ? tallyEdits(t) / t.length : 0);

/**
 * A minimum-edit alignment of `hyp` against `ref` (Levenshtein with a backtrace; among equally short alignments
 * it prefers a match or substitution, then a deletion, then an insertion at each step from the end).
 */
export function align<T>(ref: readonly T[], hyp: readonly T[]): { steps: AlignStep<T>[]; tally: ErrorTally } {
  const [n, m] = [ref.length, hyp.length];
  const w = m + 1;
  const cost = new Int32Array((n + 1) * w);
  for (let j = 0; j <= m; j++) cost[j] = j;
  for (let i = 1; i <= n; i++) {
    cost[i * w] = i;
    for (let j = 1; j <= m; j++) {
      const diag = cost[(i - 1) * w + j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1);
      cost[i * w + j] = Math.min(diag, cost[(i - 1) * w + j] + 1, cost[i * w + j - 1] + 1);
    }
  }
  const steps: AlignStep<T>[] = [];
  const tally: ErrorTally = { ...emptyTally(), length: n };
  let [i, j] = [n, m];
  while (i > 0 || j > 0) {
    const c = cost[i * w + j];
    if (i > 0 && j > 0 && c === cost[(i - 1) * w + j - 1] + (ref[i - 1] === hyp[j - 1] ? 0 : 1)) {
      const same = ref[i - 1] === hyp[j - 1];
      steps.push({ op: same ? 'ok' : 'sub', ref: ref[i - 1], hyp: hyp[j - 1] });
      if (!same) tally.substitutions++;
      i--, j--;
    } else if (i > 0 && c === cost[(i - 1) * w + j] + 1) {
      steps.push({ op: 'del', ref: ref[i - 1] });
      tally.deletions++;
      i--;
    } else {
      steps.push({ op: 'ins', hyp: hyp[j - 1] });
      tally.insertions++;
      j--;
    }
  }
  return { steps: steps.reverse(), tally };
}

/** Word alignment of two normalised transcripts. */
export function alignWords(ref: string, hyp: string): { steps: AlignStep<string>[]; tally: ErrorTally } {
  return align(words(ref), words(hyp));
}

/** Character alignment (spaces count, as in charErrors). */
export function alignChars(ref: string, hyp: string): { steps: AlignStep<string>[]; tally: ErrorTally } {
  return align([...words(ref).join(' ')], [...words(hyp).join(' ')]);
}

/**
 * The word alignment as two aligned lines, sclite style: deleted words as stars in HYP, inserted ones as stars in
 * REF, substituted and erroneous words upper-cased as they are and the correct ones lower-cased.
 */
export function alignmentLines(steps: readonly AlignStep<string>[]): { ref: string; hyp: string } {
  const r: string[] = [];
  const h: string[] = [];
  for (const s of steps) {
    const a = s.ref ?? '*'.repeat(s.hyp!.length);
    const b = s.hyp ?? '*'.repeat(s.ref!.length);
    const width = Math.max(a.length, b.length);
    const show = (x: string) => (s.op === 'ok' ? x.toLowerCase() : x).padEnd(width);
    r.push(show(a));
    h.push(show(b));
  }
  return { ref: r.join(' ').trimEnd(), hyp: h.join(' ').trimEnd() };
}
