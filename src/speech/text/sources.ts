// Text sources for the corpus builder: the sentences an engine speaks, and which split each belongs to.
//
//   kjv       data/kjv-sentences.txt: King James Bible clauses (public domain); split by line number
//   austen    data/austen-sentences.txt: sentences from Jane Austen's six novels (public domain); split by line
//   everyday  text/everyday.ts: the project's own seeded grammar of modern everyday English; split by the words
//   FILE      any file of one sentence per line (`--text path.txt`); split by line number
//
// Line-number splits: line i is test when i mod 10 = 0, dev when i mod 10 = 1, else train. Hosts read the files
// and hand the lines down (no file system below the hosts).
import type { Split } from '../manifest.ts';
import { everydaySentences, everydaySplit, EVERYDAY_COUNT } from './everyday.ts';

export interface TextSource {
  /** Short name, used in manifests (`source.text`) and summaries. */
  name: string;
  sentences: readonly string[];
  /** The split of sentence i (fixed for all seeds). */
  split(i: number): Split;
}

/** The texts that ship with the lab. */
export const TEXTS = ['kjv', 'austen', 'everyday'] as const;
export type TextName = (typeof TEXTS)[number];

/** Files in data/ holding the line-split texts. */
export const TEXT_FILES: Record<Exclude<TextName, 'everyday'>, string> = {
  kjv: 'kjv-sentences.txt',
  austen: 'austen-sentences.txt',
};

/** The split a sentence belongs to, by line number (kjv, austen and user files). */
export function sentenceSplit(i: number): Split {
  return i % 10 === 0 ? 'test' : i % 10 === 1 ? 'dev' : 'train';
}

/** Parse a sentence file: one sentence per line. */
export function parseSentences(text: string): string[] {
  return text.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A text split by line number. */
export function lineSource(name: string, fileText: string): TextSource {
  return { name, sentences: parseSentences(fileText), split: sentenceSplit };
}

/** The everyday grammar's sentences (default 60,000), split by their words. */
export function everydaySource(count = EVERYDAY_COUNT, seed = 1): TextSource {
  const sentences = everydaySentences(count, seed);
  const splits = sentences.map(everydaySplit);
  return { name: 'everyday', sentences, split: (i) => splits[i] };
}
