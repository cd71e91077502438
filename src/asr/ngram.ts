// A word n-gram language model for the CTC beam search, built from text (a corpus's transcripts, a user's text
// file), with a character n-gram for the spelling of words it has never seen.
//
// Smoothing: interpolated Witten-Bell at every order, the usual choice for small corpora and simple to keep exact:
//   P_k(w | h) = (c(h, w) + T(h) * P_{k-1}(w | h')) / (c(h) + T(h))        (c(h) > 0; else P_{k-1}(w | h'))
// where c(h) counts the tokens seen after the context h, T(h) their distinct types and h' drops h's oldest word.
// At order 1 the Witten-Bell "novel type" mass T / (N + T) goes to <unk>, so over the model's words, </s> and
// <unk> the probabilities of any context sum to 1. An unknown word w scores P(<unk> | h) * P_char(w): the character
// model (Witten-Bell over A-Z, apostrophe and end-of-word, uniform at the base) spells it; it spreads <unk>'s mass
// over all spellings, known words included (a small leak, as in most open-vocabulary toolkits).
//
// The JSON form keeps only the raw counts of each order (contexts' totals are recomputed on load): a few hundred KiB
// for ten thousand sentences, small enough for the page.
import { LabError } from '../gpu/errors.ts';
import { normaliseTranscript } from '../speech/vocab.ts';

export const LM_FORMAT = 'lab-ngram';
export const LM_VERSION = 1;

/** Word ids that every model has: end of sentence, unknown word, start of sentence (context only). */
const END = 0;
const UNK = 1;
const START = 2;
const RESERVED = ['</s>', '<unk>', '<s>'];

/** Character ids: end of word, start of word (context only), then the letters. */
const CHAR_END = 0;
const CHAR_START = 1;
const LETTERS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZ'"];
const CHAR_SYMBOLS = 2 + LETTERS.length;

/** The JSON document of a model. */
export interface NgramLmJson {
  format: typeof LM_FORMAT;
  version: number;
  smoothing: 'witten-bell';
  order: number;
  /** Word ids: 0 </s>, 1 <unk>, 2 <s>, then the vocabulary. */
  words: string[];
  /** Per order k = 1..order: k-grams as flat [id_1, ..., id_k, count, ...]. */
  counts: number[][];
  /** The character model: order and counts over ids 0 end-of-word, 1 start-of-word, then A-Z and '. */
  chars: { order: number; counts: number[][] };
  /** Sentences and word tokens it was built from. */
  sentences: number;
  tokens: number;
}

/**
 * Counts of k-grams over integer ids, with Witten-Bell interpolation. `base(id)` is the order-0 distribution the
 * first order interpolates with; `symbols` the ids that can be predicted (for the sum checks).
 */
class WittenBell {
  /** Per order k (index k - 1): "id id ... id" of the k-gram -> count. */
  readonly grams: Map<string, number>[];
  /** Per order k: context key (k - 1 ids) -> [total count, distinct followers]. */
  private contexts: Map<string, [number, number]>[] = [];
  private total = 0;
  private types = 0;

  constructor(
    readonly order: number,
    private readonly base: (id: number) => number,
  ) {
    this.grams = Array.from({ length: order }, () => new Map());
  }

  /** Count one sequence: `order - 1` start ids, then `ids` (each predicted, the last usually the end id). */
  add(ids: readonly number[], start: number): void {
    const seq = [...new Array<number>(this.order - 1).fill(start), ...ids];
    for (let i = this.order - 1; i < seq.length; i++) {
      for (let k = 1; k <= this.order; k++) {
        const key = seq.slice(i - k + 1, i + 1).join(' ');
        const m = this.grams[k - 1];
        m.set(key, (m.get(key) ?? 0) + 1);
      }
    }
  }

  /** Drop the k-grams of order 2 and up seen fewer than `min` times (the lower orders keep every count). */
  prune(min: number): void {
    for (const m of this.grams.slice(1)) for (const [key, c] of m) if (c < min) m.delete(key);
  }

  /** Recompute the contexts' totals and type counts from the k-gram counts. */
  index(): void {
    this.contexts = this.grams.map((m) => {
      const ctx = new Map<string, [number, number]>();
      for (const [key, c] of m) {
        const cut = key.lastIndexOf(' ');
        const h = cut < 0 ? '' : key.slice(0, cut);
        const e = ctx.get(h) ?? [0, 0];
        e[0] += c;
        e[1] += 1;
        ctx.set(h, e);
      }
      return ctx;
    });
    const uni = this.contexts[0].get('') ?? [0, 0];
    [this.total, this.types] = uni;
  }

  /** P(id | history), history = the preceding ids (only the last order - 1 are used). */
  prob(history: readonly number[], id: number): number {
    const h = history.slice(Math.max(0, history.length - (this.order - 1)));
    let p = this.total + this.types > 0 ? (this.grams[0].get(String(id)) ?? 0) / (this.total + this.types) + (this.types / (this.total + this.types)) * this.base(id) : this.base(id);
    for (let k = 2; k <= this.order && k - 1 <= h.length; k++) {
      const ctx = h.slice(h.length - (k - 1)).join(' ');
      const stats = this.contexts[k - 1].get(ctx);
      if (!stats) break; // an unseen context: longer ones are unseen too
      const [c, t] = stats;
      p = ((this.grams[k - 1].get(`${ctx} ${id}`) ?? 0) + t * p) / (c + t);
    }
    return p;
  }

  toCounts(): number[][] {
    return this.grams.map((m) => {
      const flat: number[] = [];
      for (const [key, c] of m) flat.push(...key.split(' ').map(Number), c);
      return flat;
    });
  }

  static fromCounts(order: number, base: (id: number) => number, counts: readonly (readonly number[])[], symbols: number): WittenBell {
    const wb = new WittenBell(order, base);
    if (counts.length !== order) throw new LabError('bad-input', `language model: ${counts.length} count tables for order ${order}`);
    counts.forEach((flat, i) => {
      const k = i + 1;
      if (flat.length % (k + 1) !== 0) throw new LabError('bad-input', `language model: order-${k} counts are not a whole number of ${k}-grams`);
      for (let j = 0; j < flat.length; j += k + 1) {
        const ids = flat.slice(j, j + k);
        const c = flat[j + k];
        if (!ids.every((x) => Number.isInteger(x) && x >= 0 && x < symbols) || !(Number.isInteger(c) && c > 0)) {
          throw new LabError('bad-input', `language model: bad order-${k} entry at ${j}`);
        }
        wb.grams[i].set(ids.join(' '), c);
      }
    });
    wb.index();
    return wb;
  }
}

/** The words of a context: the last order - 1 word ids (start-of-sentence ids at first). Immutable. */
export type LmContext = readonly number[];

export interface NgramBuildOptions {
  /** Word order (default 3). */
  order?: number;
  /** Character order of the unknown-word speller (default 4). */
  charOrder?: number;
  /** Keep n-grams of order 2 and up seen at least this often (default 1: all); smaller files, a little worse. */
  minCount?: number;
}

export class NgramLm {
  private readonly index: Map<string, number>;
  private readonly spellCache = new Map<string, number>();
  /** Every prefix of a known word (the empty one included), made on first use. */
  private prefixes: Set<string> | undefined;

  private constructor(
    readonly order: number,
    /** Word ids: 0 </s>, 1 <unk>, 2 <s>, then the vocabulary. */
    readonly words: readonly string[],
    private readonly model: WittenBell,
    private readonly speller: WittenBell,
    readonly sentences: number,
    readonly tokens: number,
  ) {
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  /** Build from sentences of free text (normalised to the transcript alphabet; empty ones skipped). */
  static build(texts: Iterable<string>, opts: NgramBuildOptions = {}): NgramLm {
    const order = opts.order ?? 3;
    const charOrder = opts.charOrder ?? 4;
    for (const [name, v] of [['order', order], ['charOrder', charOrder]] as const) {
      if (!(Number.isInteger(v) && v >= 1 && v <= 8)) throw new LabError('bad-input', `language model ${name} ${v}: it must be a whole number from 1 to 8`);
    }
    const words = [...RESERVED];
    const index = new Map(words.map((w, i) => [w, i]));
    const model = new WittenBell(order, (id) => (id === UNK ? 1 : 0));
    const speller = new WittenBell(charOrder, uniformChars);
    let sentences = 0, tokens = 0;
    for (const raw of texts) {
      const text = normaliseTranscript(raw).text;
      if (!text) continue;
      const ids = text.split(' ').map((w) => {
        let id = index.get(w);
        if (id === undefined) {
          id = words.length;
          words.push(w);
          index.set(w, id);
          speller.add(spell(w), CHAR_START);
        }
        return id;
      });
      model.add([...ids, END], START);
      sentences++;
      tokens += ids.length;
    }
    if (sentences === 0) throw new LabError('bad-input', 'language model: the text holds no sentence (nothing left after normalising to A-Z and apostrophes)');
    const minCount = opts.minCount ?? 1;
    if (!(Number.isInteger(minCount) && minCount >= 1)) throw new LabError('bad-input', `language model minCount ${minCount}: it must be a whole number of at least 1`);
    if (minCount > 1) model.prune(minCount);
    model.index();
    speller.index();
    return new NgramLm(order, words, model, speller, sentences, tokens);
  }

  static fromJSON(json: unknown): NgramLm {
    const j = json as Partial<NgramLmJson>;
    if (!j || typeof j !== 'object' || j.format !== LM_FORMAT) throw new LabError('bad-input', `not a language model of this lab (format "${LM_FORMAT}" expected)`);
    if (j.version !== LM_VERSION) throw new LabError('bad-input', `language model version ${j.version}; this lab reads version ${LM_VERSION}`);
    const { order, words, counts, chars } = j;
    if (!Number.isInteger(order) || !Array.isArray(words) || !Array.isArray(counts) || !chars || !Array.isArray(chars.counts)) {
      throw new LabError('bad-input', 'language model: order, words, counts or chars missing');
    }
    if (words.slice(0, 3).join(' ') !== RESERVED.join(' ')) throw new LabError('bad-input', `language model: the first words must be ${RESERVED.join(' ')}`);
    const model = WittenBell.fromCounts(order!, (id) => (id === UNK ? 1 : 0), counts, words.length);
    const speller = WittenBell.fromCounts(chars.order, uniformChars, chars.counts, CHAR_SYMBOLS);
    return new NgramLm(order!, words, model, speller, j.sentences ?? 0, j.tokens ?? 0);
  }

  toJSON(): NgramLmJson {
    return {
      format: LM_FORMAT,
      version: LM_VERSION,
      smoothing: 'witten-bell',
      order: this.order,
      words: [...this.words],
      counts: this.model.toCounts(),
      chars: { order: this.speller.order, counts: this.speller.toCounts() },
      sentences: this.sentences,
      tokens: this.tokens,
    };
  }

  /** Known words (without </s>, <unk>, <s>). */
  get vocabulary(): string[] {
    return this.words.slice(RESERVED.length);
  }

  /** The context at the start of a sentence. */
  start(): LmContext {
    return new Array<number>(Math.max(0, this.order - 1)).fill(START);
  }

  /** The id of a known word, or undefined. */
  wordId(word: string): number | undefined {
    const id = this.index.get(word);
    return id !== undefined && id >= RESERVED.length ? id : undefined;
  }

  /** Whether some known word begins with `prefix`. */
  isPrefix(prefix: string): boolean {
    if (!this.prefixes) {
      this.prefixes = new Set(['']);
      for (const w of this.vocabulary) for (let i = 1; i <= w.length; i++) this.prefixes.add(w.slice(0, i));
    }
    return this.prefixes.has(prefix);
  }

  /** P(id | context) of a word id (including </s> = 0 and <unk> = 1). */
  prob(context: LmContext, id: number): number {
    return this.model.prob(context, id);
  }

  /** Natural log of P(spelling) under the character model (end-of-word included). */
  spellingLogProb(word: string): number {
    return this.lettersLogProb(word, true);
  }

  /**
   * What a word in progress has cost so far, `prefix` being its first letters: ln P(<unk> | context) + ln P_char(prefix)
   * without the end of word. The beam search charges it until the word ends, when the word's own score replaces it
   * (otherwise an unfinished word would cost nothing, and prefixes that never end a word would win the beam).
   */
  partialLogProb(context: LmContext, prefix: string): number {
    return Math.log(this.model.prob(context, UNK)) + this.lettersLogProb(prefix, false);
  }

  private lettersLogProb(letters: string, ended: boolean): number {
    const key = ended ? `${letters}$` : letters;
    let lp = this.spellCache.get(key);
    if (lp === undefined) {
      const ids = spell(letters);
      if (!ended) ids.pop();
      const hist: number[] = new Array<number>(this.speller.order - 1).fill(CHAR_START);
      lp = 0;
      for (const id of ids) {
        lp += Math.log(this.speller.prob(hist, id));
        hist.push(id);
      }
      if (this.spellCache.size > 10000) this.spellCache.clear();
      this.spellCache.set(key, lp);
    }
    return lp;
  }

  /** ln P(word | context) (unknown words: ln P(<unk> | context) + ln P_char(word)) and the context after it. */
  score(context: LmContext, word: string): { logProb: number; context: LmContext } {
    const known = this.wordId(word);
    const id = known ?? UNK;
    let logProb = Math.log(this.model.prob(context, id));
    if (known === undefined) logProb += this.spellingLogProb(word);
    return { logProb, context: this.order > 1 ? [...context, id].slice(-(this.order - 1)) : [] };
  }

  /** ln P(</s> | context). */
  end(context: LmContext): number {
    return Math.log(this.model.prob(context, END));
  }

  /** ln P(sentence) of a normalised text, </s> included. */
  sentenceLogProb(text: string): number {
    let ctx = this.start();
    let lp = 0;
    for (const w of text.split(' ').filter(Boolean)) {
      const s = this.score(ctx, w);
      lp += s.logProb;
      ctx = s.context;
    }
    return lp + this.end(ctx);
  }
}

function uniformChars(id: number): number {
  return id === CHAR_START ? 0 : 1 / (CHAR_SYMBOLS - 1);
}

/** A word's character ids, end-of-word last (characters outside A-Z and ' are skipped). */
function spell(word: string): number[] {
  const ids: number[] = [];
  for (const ch of word) {
    const i = LETTERS.indexOf(ch);
    if (i >= 0) ids.push(2 + i);
  }
  ids.push(CHAR_END);
  return ids;
}

/** Sentences of a text file: one per line, and lines split further at sentence ends (. ! ?). */
export function sentencesOf(text: string): string[] {
  return text
    .split(/\r?\n|(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * A language model from a file's text, as the Transcribe page takes one: an lm.json of `lab lm build` (text that
 * opens with "{"), else free text to build one from (order 3; one sentence per line, or split at . ! ?). Bad input is
 * refused in one line that names the file.
 */
export function lmFromText(text: string, name: string): NgramLm {
  const t = text.replace(/^\uFEFF/, '');
  if (/[\u0000\uFFFD]/.test(t)) throw new LabError('bad-input', `${name}: not a text file (a language model is built from text, or read from a lab lm.json)`);
  if (/^\s*\{/.test(t)) {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch {
      throw new LabError('bad-input', `${name}: not valid JSON (an lm.json of \`lab lm build\` was expected)`);
    }
    try {
      return NgramLm.fromJSON(json);
    } catch (e) {
      throw new LabError('bad-input', `${name}: ${(e as Error).message}`);
    }
  }
  try {
    return NgramLm.build(sentencesOf(t));
  } catch (e) {
    throw new LabError('bad-input', `${name}: ${(e as Error).message}`);
  }
}
