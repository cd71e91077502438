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
