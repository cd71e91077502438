// Scoring a CTC model on an evaluation set (evalset.ts): every utterance transcribed as a file would be
// (transcribe.ts: causal models streamed, the others whole or in windows), greedy decoding, then corpus-level WER
// and CER with substitutions, deletions and insertions, the real-time factor (compute seconds over audio seconds),
// one row per speaker and the worst utterances. Utterances run one at a time, exactly as `lab transcribe` runs a
// file, so a number here is a number a user gets.
import { LabError } from '../gpu/errors.ts';
import type { HubertModel } from '../models/hubert.ts';
import { SAMPLE_RATE } from '../speech/audio.ts';
import { throwIfAborted, type ProgressFn } from '../speech/store.ts';
import { manifestName, missingAudio, openEvalSet, type EvalStore, type EvalUtterance } from './evalset.ts';
import { greedyTranscript } from './greedy.ts';
import { audioForModel, transcribeSamples, type Method, type TranscribeOptions } from './transcribe.ts';
import { addTally, alignChars, alignmentLines, alignWords, emptyTally, errorRate, tallyEdits, type ErrorTally } from './wer.ts';

export interface EvalOptions extends Omit<TranscribeOptions, 'onProgress' | 'keepLogProbs'> {
  /** The first N utterances of the manifest only. */
  limit?: number;
  /** Worst utterances to list (default 5). */
  worst?: number;
  /** Compile the pipelines on a second of silence before timing (default true). */
  warmup?: boolean;
  /** (utterances done, utterances in all, id). */
  onProgress?: ProgressFn;
}

export interface UtteranceScore {
  id: string;
  speaker: string;
  seconds: number;
  ref: string;
  hyp: string;
  words: ErrorTally;
  chars: ErrorTally;
  wer: number;
  cer: number;
  computeSeconds: number;
}

export interface SpeakerScore {
  speaker: string;
  utterances: number;
  seconds: number;
  words: ErrorTally;
  chars: ErrorTally;
  wer: number;
  cer: number;
}

export interface WorstUtterance extends UtteranceScore {
  /** The word alignment, sclite style: errors upper case, matches lower case, stars for the missing side. */
  alignment: { ref: string; hyp: string };
}

export interface EvalReport {
  set: { file: string; utterances: number; inSet: number; seconds: number };
  wer: number;
  cer: number;
  words: ErrorTally;
  chars: ErrorTally;
  /** Compute seconds / audio seconds. */
  rtf: number;
  computeSeconds: number;
  audioSeconds: number;
  /** How the files were run (of the first utterance; the mode is the same for all unless lengths differ). */
  method: Method['mode'];
  methods: Partial<Record<Method['mode'], number>>;
  speakers: SpeakerScore[];
  worst: WorstUtterance[];
  utterances: UtteranceScore[];
  /** With a beam search or LM (options.decode): greedy decoding of the same log-probabilities, for comparison. */
  greedy?: { wer: number; cer: number; words: ErrorTally; chars: ErrorTally };
}

function speakerRows(scores: readonly UtteranceScore[]): SpeakerScore[] {
  const by = new Map<string, SpeakerScore>();
  for (const s of scores) {
    const row = by.get(s.speaker) ?? { speaker: s.speaker, utterances: 0, seconds: 0, words: emptyTally(), chars: emptyTally(), wer: 0, cer: 0 };
    row.utterances++;
    row.seconds += s.seconds;
    row.words = addTally(row.words, s.words);
    row.chars = addTally(row.chars, s.chars);
    by.set(s.speaker, row);
  }
  return [...by.values()].map((r) => ({ ...r, wer: errorRate(r.words), cer: errorRate(r.chars) })).sort((a, b) => (a.speaker < b.speaker ? -1 : a.speaker > b.speaker ? 1 : 0));
}

/** The utterances with the highest WER (then the most word edits, then the highest CER). */
function worstOf(scores: readonly UtteranceScore[], n: number): WorstUtterance[] {
  return [...scores]
    .sort((a, b) => b.wer - a.wer || tallyEdits(b.words) - tallyEdits(a.words) || b.cer - a.cer || (a.id < b.id ? -1 : 1))
    .slice(0, n)
    .map((s) => ({ ...s, alignment: alignmentLines(alignWords(s.ref, s.hyp).steps) }));
}

/** Score one transcript against its reference. */
export function scoreUtterance(u: Pick<EvalUtterance, 'id' | 'speaker' | 'text'>, hyp: string, seconds: number, computeSeconds: number): UtteranceScore {
  const words = alignWords(u.text, hyp).tally;
  const chars = alignChars(u.text, hyp).tally;
  return { id: u.id, speaker: u.speaker, seconds, ref: u.text, hyp, words, chars, wer: errorRate(words), cer: errorRate(chars), computeSeconds };
}

/** Corpus-level report from per-utterance scores. */
export function summarise(scores: readonly UtteranceScore[], set: { file: string; inSet: number }, methods: Partial<Record<Method['mode'], number>>, worst = 5): EvalReport {
  const words = scores.reduce((t, s) => addTally(t, s.words), emptyTally());
  const chars = scores.reduce((t, s) => addTally(t, s.chars), emptyTally());
  const audioSeconds = scores.reduce((t, s) => t + s.seconds, 0);
  const computeSeconds = scores.reduce((t, s) => t + s.computeSeconds, 0);
  const method = (Object.entries(methods).sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'whole') as Method['mode'];
  return {
    set: { file: set.file, utterances: scores.length, inSet: set.inSet, seconds: audioSeconds },
    wer: errorRate(words),
    cer: errorRate(chars),
    words,
    chars,
    rtf: audioSeconds ? computeSeconds / audioSeconds : 0,
    computeSeconds,
    audioSeconds,
    method,
    methods,
    speakers: speakerRows(scores),
    worst: worstOf(scores, worst),
    utterances: [...scores],
  };
}

/** Transcribe and score every utterance of the set in `store`. */
export async function evaluateSet(model: HubertModel, store: EvalStore, opts: EvalOptions = {}): Promise<EvalReport> {
  const set = await openEvalSet(store);
  if (opts.limit !== undefined && !(Number.isInteger(opts.limit) && opts.limit >= 1)) throw new LabError('bad-input', `limit ${opts.limit}: it must be a whole number of at least 1`);
  const chosen = set.utterances.slice(0, opts.limit);
  await missingAudio(store, set, chosen);
  const { limit: _l, worst: _w, warmup, onProgress, ...transcribe } = opts;
  if (warmup ?? true) await transcribeSamples(model, new Float32Array(SAMPLE_RATE), { ...transcribe, signal: opts.signal });
  const scores: UtteranceScore[] = [];
  const greedy: UtteranceScore[] = [];
  const beam = !!opts.decode && ((opts.decode.beam ?? 0) > 1 || !!opts.decode.lm);
  const methods: Partial<Record<Method['mode'], number>> = {};
  for (const [i, u] of chosen.entries()) {
    throwIfAborted(opts.signal);
    const bytes = await store.read(u.audio);
    const where = manifestName(store, set.file);
    if (!bytes) throw new LabError('bad-input', `${where} line ${u.line} (${u.id}): audio ${u.audio} is missing`);
    let samples: Float32Array;
    try {
      samples = audioForModel(bytes).samples;
    } catch (e) {
      throw new LabError('bad-input', `${where} line ${u.line} (${u.id}): audio ${u.audio} does not decode: ${(e as Error).message}`);
    }
    const t = await transcribeSamples(model, samples, beam ? { ...transcribe, keepLogProbs: true } : transcribe);
    methods[t.method.mode] = (methods[t.method.mode] ?? 0) + 1;
    scores.push(scoreUtterance(u, t.text, t.seconds, t.computeSeconds));
    if (beam) greedy.push(scoreUtterance(u, greedyTranscript(t.logProbs!, t.vocab, t.frames, t.frameSeconds).text, t.seconds, 0));
    onProgress?.(i + 1, chosen.length, u.id);
  }
  const report = summarise(scores, { file: set.file, inSet: set.utterances.length }, methods, opts.worst ?? 5);
  if (beam) {
    const g = summarise(greedy, { file: set.file, inSet: set.utterances.length }, methods, 0);
    report.greedy = { wer: g.wer, cer: g.cer, words: g.words, chars: g.chars };
  }
  return report;
}
