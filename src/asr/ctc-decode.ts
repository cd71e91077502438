// Incremental CTC decoders, fed one frame of log-probabilities at a time: greedy (best label per frame) and a CTC
// prefix beam search with an optional word n-gram language model (ngram.ts) applied at word boundaries (`|`) and at
// the end of a segment. Both give the words of their best hypothesis with times from the CTC spikes (the frames each
// emitted character occupies), in seconds of the stream (absolute frame numbers times the frame duration).
//
// Scores are natural logs: acoustic ln P(prefix) + lmWeight * ln P_lm(words) + wordBonus * (number of words), the
// word in progress charged as the LM's unknown-word speller prices its letters so far until it ends. With `lexicon`,
// only the LM's words are spelt: a letter no known word continues with is not tried, `|` follows whole known words only.
// The prefix search keeps, per prefix, the probability of its alignments ending in blank (pb) and in its last label
// (pnb), as in Hannun et al. (2014). A repeated `|`, or `|` at the start, leaves the text unchanged and stays the same
// prefix. With width 1 it follows the greedy path whenever each frame's best label has probability above 1/2 (then
// that label alone outweighs staying); in general width 1 is not greedy, which is why the recognizer routes beam
// 0 or 1 without a language model to the greedy decoder.
import { LabError } from '../gpu/errors.ts';
import { BLANK, VOCAB, VOCAB_SIZE } from '../speech/vocab.ts';
import type { TimedWord } from './greedy.ts';
import type { LmContext, NgramLm } from './ngram.ts';

const BOUNDARY = VOCAB.indexOf('|');

export interface DecoderOptions {
  /** Beam width; 0 or 1 without a language model: greedy (default 0). */
  beam?: number;
  lm?: NgramLm;
  /** Weight of the language model's log-probability (default 0.5). */
  lmWeight?: number;
  /** Added per word (default 0). */
  wordBonus?: number;
  /** Spell only the language model's words: a prefix no known word begins with is not tried (default false). */
  lexicon?: boolean;
  /** Labels more than this below the frame's best (natural log) are not tried as extensions (default 12). */
  prune?: number;
}

export interface Hypothesis {
  text: string;
  words: TimedWord[];
}

/** A decoder fed frame by frame; `finish` closes the segment (end-of-sentence LM score) and `reset` starts anew. */
export interface CtcDecoder {
  /** One frame's log-probabilities (at least the vocabulary's 29 entries), its absolute frame number t. */
  step(row: ArrayLike<number>, t: number): void;
  /** The current best hypothesis (it may still change). */
  partial(): Hypothesis;
  /** The best hypothesis of the segment so far, scored as complete. */
  finish(): Hypothesis;
  reset(): void;
  /** True when the current best hypothesis has no word. */
  readonly empty: boolean;
}

/** The beam a decoder with a language model runs: the given one, or LM_BEAM when greedy was given (an LM acts only in the beam search). */
export const LM_BEAM = 8;
export function beamWithLm(beam: number, lm: boolean): number {
  return lm ? Math.max(1, beam || LM_BEAM) : beam;
}

export function makeDecoder(opts: DecoderOptions, frameSeconds: number): CtcDecoder {
  const beam = opts.beam ?? 0;
  if (!(Number.isInteger(beam) && beam >= 0)) throw new LabError('bad-input', `beam ${beam}: it must be a whole number of at least 0`);
  if (opts.lmWeight !== undefined && !Number.isFinite(opts.lmWeight)) throw new LabError('bad-input', `LM weight ${opts.lmWeight}: it must be a number`);
  if (opts.wordBonus !== undefined && !Number.isFinite(opts.wordBonus)) throw new LabError('bad-input', `word bonus ${opts.wordBonus}: it must be a number`);
  if (opts.lexicon && !opts.lm) throw new LabError('bad-input', 'a lexicon needs a language model: its words are the lexicon');
  return beam <= 1 && !opts.lm ? new GreedyDecoder(frameSeconds) : new PrefixBeamSearch({ ...opts, beam: Math.max(1, beam) }, frameSeconds);
}

/** The best label of a row among the vocabulary's labels (the head's extra outputs are never candidates). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < VOCAB_SIZE; v++) if (row[v] > row[best]) best = v;
  return best;
}

interface Spike {
  id: number;
  first: number;
  last: number;
}

function wordOf(chars: readonly Spike[], fs: number): TimedWord {
  return { word: chars.map((c) => VOCAB[c.id]).join(''), start: chars[0].first * fs, end: (chars[chars.length - 1].last + 1) * fs };
}

/** Greedy decoding, incrementally: the same words and times as greedy.ts's greedyTranscript over the same frames. */
export class GreedyDecoder implements CtcDecoder {
  private words: TimedWord[] = [];
  private chars: Spike[] = [];
  private last: Spike | undefined;
  private prev = BLANK;

  constructor(readonly frameSeconds: number) {}

  step(row: ArrayLike<number>, t: number): void {
    const id = argmax(row);
    if (id !== BLANK) {
      if (id === this.prev && this.last) this.last.last = t;
      else {
        this.last = { id, first: t, last: t };
        if (id === BOUNDARY) this.flush();
        else this.chars.push(this.last);
      }
    }
    this.prev = id;
  }

  private flush(): void {
    if (this.chars.length) this.words.push(wordOf(this.chars, this.frameSeconds));
    this.chars = [];
  }

  partial(): Hypothesis {
    const words = this.chars.length ? [...this.words, wordOf(this.chars, this.frameSeconds)] : [...this.words];
    return { text: words.map((w) => w.word).join(' '), words };
  }

  finish(): Hypothesis {
    return this.partial();
  }

  reset(): void {
    this.words = [];
    this.chars = [];
    this.last = undefined;
    this.prev = BLANK;
  }

  get empty(): boolean {
    return this.words.length === 0 && this.chars.length === 0;
  }
}

/** A prefix: its last label, parent, the frames its last label spans, and the LM's view of its words. */
interface Node {
  uid: number;
  /** The last label (-1 for the empty prefix). */
  id: number;
  parent: Node | undefined;
  /**
   * Frames of its label's spike: from the first frame the label is the frame's best, on while it stays the best;
   * until it has been the best anywhere, the frame where it was most probable so far.
   */
  first: number;
  last: number;
  /** Whether the label has been a frame's best (then `first` is fixed). */
  peaked: boolean;
  /** Until then, the label's log-probability at `first`. */
  best: number;
  /** Sum of the LM log-probabilities of its completed words. */
  lm: number;
  /** Completed words. */
  words: number;
  context: LmContext;
  /** Characters of the word in progress. */
  word: string;
  /** The LM's charge for the word in progress so far (NgramLm.partialLogProb; 0 without one). */
  partial: number;
}

interface Entry {
  node: Node;
  pb: number;
  pnb: number;
}

const NEG = -Infinity;

function lse(a: number, b: number): number {
  if (a === NEG) return b;
  if (b === NEG) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** CTC prefix beam search with an optional word n-gram LM. */
export class PrefixBeamSearch implements CtcDecoder {
  private beam: Entry[] = [];
  private uid = 0;
  private readonly width: number;
  private readonly weight: number;
  private readonly bonus: number;
  private readonly prune: number;
  private readonly lexicon: NgramLm | undefined;

  constructor(
    private readonly opts: DecoderOptions & { beam: number },
    readonly frameSeconds: number,
  ) {
    this.width = opts.beam;
    this.weight = opts.lm ? (opts.lmWeight ?? 0.5) : 0;
    this.bonus = opts.wordBonus ?? 0;
    this.prune = opts.prune ?? 12;
    this.lexicon = opts.lexicon ? opts.lm : undefined;
    this.reset();
  }

  /** Under the lexicon: whether label c after `node` keeps to the LM's words (a letter that begins or goes on with one, or `|` after a whole one). */
  private spells(node: Node, c: number): boolean {
    return c === BOUNDARY ? this.lexicon!.wordId(node.word) !== undefined : this.lexicon!.isPrefix(node.word + VOCAB[c]);
  }

  reset(): void {
    const root: Node = { uid: this.uid++, id: -1, parent: undefined, first: 0, last: 0, peaked: true, best: 0, lm: 0, words: 0, context: this.opts.lm?.start() ?? [], word: '', partial: 0 };
    this.beam = [{ node: root, pb: 0, pnb: NEG }];
  }

  private child(parent: Node, id: number, t: number): Node {
    const node: Node = { uid: this.uid++, id, parent, first: t, last: t, peaked: false, best: -Infinity, lm: parent.lm, words: parent.words, context: parent.context, word: '', partial: 0 };
    if (id === BOUNDARY) {
      // parent.word is non-empty here: `|` at the start or after `|` never makes a child.
      node.words++;
      if (this.opts.lm) {
        const s = this.opts.lm.score(parent.context, parent.word);
        node.lm += s.logProb;
        node.context = s.context;
      }
    } else {
      node.word = parent.word + VOCAB[id];
      if (this.opts.lm) node.partial = this.opts.lm.partialLogProb(node.context, node.word);
    }
    return node;
  }

  private score(e: Entry): number {
    return lse(e.pb, e.pnb) + this.weight * (e.node.lm + e.node.partial) + this.bonus * e.node.words;
  }

  step(row: ArrayLike<number>, t: number): void {
    const next = new Map<number, Entry>();
    const at = (node: Node): Entry => {
      let e = next.get(node.uid);
      if (!e) next.set(node.uid, (e = { node, pb: NEG, pnb: NEG }));
      return e;
    };
    // Prefixes of the beam by (parent uid, label), so that an extension that is already in the beam merges with it.
    const known = new Map<string, Node>();
    for (const { node } of this.beam) if (node.parent) known.set(`${node.parent.uid}:${node.id}`, node);
    const top = argmax(row);
    const floor = row[top] - this.prune;
    for (const { node, pb, pnb } of this.beam) {
      const total = lse(pb, pnb);
      const stay = at(node);
      stay.pb = lse(stay.pb, total + row[BLANK]);
      if (node.id >= 1) {
        stay.pnb = lse(stay.pnb, pnb + row[node.id]);
        spike(node, t, row, top);
      }
      for (let c = 1; c < VOCAB_SIZE; c++) {
        const lp = row[c];
        if (lp < floor) continue;
        if (c === BOUNDARY && node.id === -1) {
          stay.pb = lse(stay.pb, total + lp); // a leading `|` emits nothing
          continue;
        }
        if (c === BOUNDARY && node.id === BOUNDARY) {
          stay.pnb = lse(stay.pnb, pb + lp); // `|`, blank, `|`: still one space
          continue;
        }
        if (this.lexicon && !this.spells(node, c)) continue;
        const key = `${node.uid}:${c}`;
        let ch = known.get(key);
        if (!ch) known.set(key, (ch = this.child(node, c, t)));
        spike(ch, t, row, top);
        const e = at(ch);
        e.pnb = lse(e.pnb, (c === node.id ? pb : total) + lp);
      }
    }
    const scored = [...next.values()].map((e) => ({ e, s: this.score(e) }));
    scored.sort((a, b) => b.s - a.s);
    this.beam = scored.slice(0, this.width).map((x) => x.e);
  }

  /** The final score of an entry: the LM scores the word in progress (in place of its charge so far) and the end. */
  private closing(e: Entry): number {
    const { node } = e;
    if (this.lexicon && node.word && this.lexicon.wordId(node.word) === undefined) return NEG;
    let s = this.score(e) - this.weight * node.partial;
    if (node.word) s += this.bonus;
    if (this.opts.lm) {
      let ctx = node.context;
      if (node.word) {
        const w = this.opts.lm.score(ctx, node.word);
        s += this.weight * w.logProb;
        ctx = w.context;
      }
      s += this.weight * this.opts.lm.end(ctx);
    }
    return s;
  }

  private hypothesis(node: Node): Hypothesis {
    const labels: Node[] = [];
    for (let n: Node | undefined = node; n && n.id >= 0; n = n.parent) labels.push(n);
    labels.reverse();
    const words: TimedWord[] = [];
    let chars: Spike[] = [];
    const flush = () => {
      if (chars.length) words.push(wordOf(chars, this.frameSeconds));
      chars = [];
    };
    for (const n of labels) {
      if (n.id === BOUNDARY) flush();
      else chars.push({ id: n.id, first: n.first, last: n.last });
    }
    flush();
    return { text: words.map((w) => w.word).join(' '), words };
  }

  partial(): Hypothesis {
    return this.hypothesis(this.beam[0].node);
  }

  finish(): Hypothesis {
    let best = this.beam[0];
    let bestScore = this.closing(best);
    for (const e of this.beam.slice(1)) {
      const s = this.closing(e);
      if (s > bestScore) [best, bestScore] = [e, s];
    }
    if (this.lexicon && bestScore === NEG) return this.hypothesis(beforeWord(best.node)); // no prefix ends in a known word: drop the start of one
    return this.hypothesis(best.node);
  }

  get empty(): boolean {
    return this.beam[0].node.id === -1;
  }

  /** The beam's prefixes and scores, best first (for tests and inspection). */
  hypotheses(): { text: string; score: number }[] {
    return this.beam.map((e) => ({ text: this.hypothesis(e.node).text, score: this.score(e) }));
  }
}

/** The prefix without its word in progress. */
function beforeWord(node: Node): Node {
  let n = node;
  while (n.parent && n.id !== BOUNDARY) n = n.parent;
  return n;
}

/** Frame t (log-probabilities `row`, best label `top`) for the spike of a prefix's last label (Node.first). */
function spike(node: Node, t: number, row: ArrayLike<number>, top: number): void {
  if (top === node.id) {
    if (!node.peaked) {
      node.first = node.last = t;
      node.peaked = true;
    } else if (node.last === t - 1) node.last = t;
  } else if (!node.peaked && row[node.id] > node.best) {
    node.first = node.last = t;
    node.best = row[node.id];
  }
}

/** Decode a whole (frames, V) row-major log-probability matrix. */
export function decodeLogProbs(logProbs: ArrayLike<number>, V: number, frames: number, frameSeconds: number, opts: DecoderOptions = {}): Hypothesis {
  const d = makeDecoder(opts, frameSeconds);
  const row = new Float64Array(V);
  for (let t = 0; t < frames; t++) {
    for (let v = 0; v < V; v++) row[v] = logProbs[t * V + v];
    d.step(row, t);
  }
  return d.finish();
}
