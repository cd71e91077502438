// `lab lm build --text FILE|--corpus DIR --out lm.json [--order 3]`: a word n-gram language model (interpolated
// Witten-Bell, character fallback for unknown words: src/asr/ngram.ts) for `lab transcribe --lm` and `lab eval --lm`
// and the Transcribe page. `lab lm score --lm lm.json "TEXT"...` prints sentences' log-probabilities.
import { readFile, writeFile } from 'node:fs/promises';
import { NgramLm, sentencesOf } from '../../asr/ngram.ts';
import { LabError } from '../../gpu/errors.ts';
import { MANIFEST_FILE, parseManifest, type Split } from '../../speech/manifest.ts';
import { normaliseTranscript } from '../../speech/vocab.ts';
import { TEXTS } from '../../speech/text/sources.ts';
import { listFlag, readTextFile, UsageError, type Args, type FlagSpecs } from '../args.ts';
import type { Command } from '../command.ts';
import { join } from 'node:path';
import { loadTexts } from './corpus.ts';

const FLAGS: FlagSpecs = {
  text: { type: 'list', sub: ['build'] },
  corpus: { type: 'dir', sub: ['build'] },
  split: { type: 'string', choices: ['train', 'dev', 'test'], sub: ['build'] },
  out: { type: 'string', sub: ['build'] },
  order: { type: 'int', min: 1, max: 8, sub: ['build'] },
  'char-order': { type: 'int', min: 1, max: 8, sub: ['build'] },
  'min-count': { type: 'int', min: 1, max: 1e9, sub: ['build'] },
  lm: { type: 'file', sub: ['score'] },
};

/** Read an LM file written by `lab lm build`; errors name the file. */
export async function readLm(path: string): Promise<NgramLm> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new LabError('bad-input', `--lm ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  try {
    return NgramLm.fromJSON(JSON.parse(text));
  } catch (e) {
    throw new LabError('bad-input', `--lm ${path}: ${e instanceof SyntaxError ? 'not JSON' : (e as Error).message}`);
  }
}

async function sentencesFrom(args: Args): Promise<{ source: string; sentences: string[] }> {
  const texts = args.flags.text === undefined ? undefined : listFlag(args, 'text', []);
  const dir = args.flags.corpus;
  if ((texts === undefined) === (dir === undefined)) throw new UsageError('lm build needs one of --text kjv,austen,everyday,FILE or --corpus DIR');
  // --split train keeps an LM to the text a model trained on: the dev and test sentences stay unseen. The named
  // texts and files split as `corpus build` splits them (files by line number), corpora by their manifest.
  const split = args.flags.split as Split | undefined;
  const source = (what: string) => what + (split ? ` (${split} split)` : '');
  if (texts) {
    const sentences: string[] = [];
    for (const t of texts) {
      if (!split && !(TEXTS as readonly string[]).includes(t)) sentences.push(...sentencesOf(await readTextFile(t, `--text ${t}`)));
      else for (const src of await loadTexts([t])) sentences.push(...src.sentences.filter((_, i) => !split || src.split(i) === split));
    }
    return { source: source(texts.join(', ')), sentences };
  }
  const corpus = dir as string;
  let manifest: string;
  try {
    manifest = await readFile(join(corpus, MANIFEST_FILE), 'utf8');
  } catch {
    throw new LabError('bad-input', `--corpus ${corpus}: no ${MANIFEST_FILE} here (a lab corpus folder, e.g. public/eval)`);
  }
  const entries = parseManifest(manifest).entries.filter((e) => !split || e.split === split);
  if (entries.length === 0) throw new LabError('bad-input', `--corpus ${corpus}: no utterance in the ${split} split`);
  return { source: source(join(corpus, MANIFEST_FILE)), sentences: entries.map((e) => e.text) };
}

export const lm: Command = {
  summary: 'Build a word n-gram language model (Witten-Bell, character fallback) from text or a corpus\'s transcripts.',
  usage:
    'npm run -s lab -- lm build (--text kjv,austen,everyday,FILE | --corpus DIR) [--split train] --out lm.json [--order 3] [--char-order 4] [--min-count 1] [--json]\n' +
    '       npm run -s lab -- lm score --lm lm.json "SENTENCE"... [--json]\n' +
    '  FILE: plain text, one sentence per line or split at . ! ?; DIR: a corpus folder with manifest.jsonl (its transcripts);\n' +
    '  --split: only that split\'s sentences (texts and files split as corpus build splits them, corpora by their manifest)',
  flags: FLAGS,
  async run(args) {
    const sub = args.positionals[0];
    if (sub === 'score') {
      if (typeof args.flags.lm !== 'string') throw new UsageError('lm score needs --lm lm.json');
      const model = await readLm(args.flags.lm);
      const rows = args.positionals.slice(1).map((raw) => {
        const text = normaliseTranscript(raw).text;
        const logProb = model.sentenceLogProb(text);
        const words = text ? text.split(' ').length : 0;
        return { text, logProb, perWord: logProb / (words + 1), unknown: text.split(' ').filter((w) => w && model.wordId(w) === undefined) };
      });
      return { json: { sentences: rows }, text: rows.map((r) => `${r.logProb.toFixed(2)}\t${r.text}${r.unknown.length ? `\t(unknown: ${r.unknown.join(' ')})` : ''}`).join('\n') };
    }
    if (sub !== 'build') throw new UsageError(`lm needs a subcommand: build or score (got ${sub === undefined ? 'none' : JSON.stringify(sub)})`);
    if (args.positionals.length > 1) throw new UsageError(`lm build takes no other arguments (got ${args.positionals.slice(1).join(' ')})`);
    const out = args.flags.out;
    if (typeof out !== 'string') throw new UsageError('lm build needs --out lm.json');
    const { source, sentences } = await sentencesFrom(args);
    const order = args.flags.order === undefined ? 3 : Number(args.flags.order);
    const charOrder = args.flags['char-order'] === undefined ? 4 : Number(args.flags['char-order']);
    const minCount = args.flags['min-count'] === undefined ? 1 : Number(args.flags['min-count']);
    const model = NgramLm.build(sentences, { order, charOrder, minCount });
    const json = JSON.stringify(model.toJSON());
    await writeFile(out, json);
    const ngrams = model.toJSON().counts.map((c, i) => c.length / (i + 2));
    const summary = { out, source, order, charOrder, minCount, smoothing: 'witten-bell', sentences: model.sentences, tokens: model.tokens, vocabulary: model.vocabulary.length, ngrams, bytes: json.length };
    return {
      json: summary,
      text: `${out}: order ${order}, ${model.vocabulary.length} words, ${ngrams.join(' / ')} n-grams from ${model.sentences} sentences (${model.tokens} words) of ${source}; ${(json.length / 1024).toFixed(1)} KiB`,
    };
  },
};
