// The synthetic corpus builder: speech engines (engines/: espeak-ng, flite, SVOX Pico) speak sentences from text
// sources (text/: the King James Bible, Jane Austen, an everyday-English grammar) in many voices, rates and
// pitches; the audio is resampled to 16 kHz, optionally augmented (augment.ts), and written as 16-bit WAVs with a
// manifest (manifest.ts) whose phone intervals come from the engine's own alignment, mapped onto phones.ts
// (engines without alignments, such as Pico, give entries without `phones`).
//
// Determinism: utterance u's choices (split, engine, text, voice, sentence, rate, pitch, range, padding,
// augmentation) come from generators seeded with hash(seed, u); the corpus is a function of the seed and the
// options. A stateful engine (espeak-ng keeps state between utterances) runs in blocks of BLOCK utterances, each
// block in a fresh session; stateless engines (flite, Pico) give the same output for the same call anyway.
// Resuming: utterances already in the manifest whose WAV is present and valid are kept, the rest are (re)made,
// replaying the block's earlier utterances of a stateful engine first (without writing them), so that the result
// is byte-identical to an uninterrupted build. An espeak-only build of the King James text draws exactly the
// random numbers it drew before other engines and texts existed, so its output is unchanged.
//
// Splits are fixed for every seed. Voices: espeak's 600 by hash(voice) mod 10 (0 -> test, 1 -> dev, else
// train); flite's and Pico's few voices are in every split. Sentences: by line number for file texts (i mod 10)
// and by the words for the everyday grammar (text/), so test text is never heard in training; a sentence that
// two texts share (after normalisation) stays in the split of the first text that has it. A wholly unseen voice
// comes from an engine left out of training (`--engines pico --split test`).
import { LabError } from '../gpu/errors.ts';
import {
  NOISE_KINDS, addAtSnr, babbleNoise, bandLimit, convolve, pinkNoise, roomImpulseResponse, spectralTilt, speechPower as activePower,
  type NoiseKind,
} from './augment.ts';
import { ENGINES } from './engines/index.ts';
import { noAssets, type AssetLoader, type Engine, type EngineName, type EngineSession, type Synthesis } from './engines/engine.ts';
import { MANIFEST_FILE, formatManifest, parseManifest, sampleTime, validateEntry, type ManifestEntry, type Split } from './manifest.ts';
import { SIL, type PhoneInterval } from './phones.ts';
import { resample } from './resample.ts';
import { gaussian, hash32, pick, rng, uniform } from './rng.ts';
import { bytesOf, textOf, throwIfAborted, type CorpusStore, type WorkflowOptions } from './store.ts';
import { lineSource, type TextSource } from './text/sources.ts';
import { normaliseTranscript } from './vocab.ts';
import { encodeWav16 } from './wav.ts';

export { voiceSplit } from './engines/espeak.ts';
export { parseSentences, sentenceSplit } from './text/sources.ts';

const SR = 16000;
/** Utterances per session of a stateful engine. */
export const BLOCK = 32;
/** Clean utterances per split in the babble bank. */
export const BABBLE_BANK = 8;

export interface AugmentOptions {
  /** Probability that an utterance is augmented at all (default 0.5). */
  prob?: number;
  /** Additive noise at an SNR drawn from [lo, hi] dB (relative to the speech power). */
  snrDb?: [number, number];
  /** Kinds of noise to draw from for the SNR (default ['white']); babble is made from other utterances. */
  noise?: NoiseKind[];
  /** Gain drawn from [lo, hi] dB (peaks are limited to 0.99). */
  gainDb?: [number, number];
  /** Speed perturbation factors to draw from (e.g. [0.9, 1, 1.1]); changes tempo and pitch, as Kaldi's does. */
  speeds?: number[];
  /** Reverberation by a synthetic room: probability within augmented utterances, RT60 and direct/reverb ranges. */
  reverb?: { prob: number; rt60: [number, number]; drrDb: [number, number] };
  /** Probability (within augmented utterances) of telephone band limiting, 300-3400 Hz. */
  telephone?: number;
  /** Microphone-like spectral tilt: probability within augmented utterances and dB-per-octave range. */
  tilt?: { prob: number; dbPerOctave: [number, number] };
}

/** What `--augment` turns on: every effect, at settings in the range of the usual recipes. */
export const DEFAULT_AUGMENT: Required<AugmentOptions> = {
  prob: 0.7,
  snrDb: [5, 30],
  noise: ['white', 'pink', 'babble'],
  gainDb: [-6, 6],
  speeds: [0.9, 1, 1.1],
  reverb: { prob: 0.3, rt60: [0.2, 0.9], drrDb: [0, 12] },
  telephone: 0.15,
  tilt: { prob: 0.3, dbPerOctave: [-3, 3] },
};

export interface BuildOptions {
  seed: number;
  /** Stop once the corpus holds at least this much audio... */
  minutes?: number;
  /** ...or exactly this many utterances. */
  count?: number;
  /** Share of utterances per split (default train 0.8, dev 0.1, test 0.1). */
  splits?: Partial<Record<Split, number>>;
  /** Engines to draw from (default ['espeak']), with optional relative weights (default equal). */
  engines?: EngineName[];
  engineWeights?: number[];
  /** Relative weights of the text sources given to buildCorpus (default equal). */
  textWeights?: number[];
  /** Only these voices ("engine:voice" or a bare voice name); default all. */
  voices?: string[];
  minWords?: number;
  maxWords?: number;
  /** Words per minute range (default 130..210), pitch 0..100 (default 25..75), range (default 30..80). */
  rate?: [number, number];
  pitch?: [number, number];
  range?: [number, number];
  /** Silence added before and after the speech, seconds (default 0.05..0.3). */
  pad?: [number, number];
  augment?: AugmentOptions;
  /** Utterance id prefix (default `syn<seed>`). */
  prefix?: string;
}

export interface BuildRuntime extends WorkflowOptions {
  /** Where engines find their files (flite's wasm, Pico's lingware); not needed for espeak-ng. */
  assets?: AssetLoader;
}

export interface Tally {
  utterances: number;
  seconds: number;
}

export interface BuildSummary {
  out: string;
  utterances: number;
  seconds: number;
  made: number;
  reused: number;
  splits: Record<Split, { utterances: number; seconds: number; voices: number }>;
  /** Totals by engine, by speaker (voice) within each engine, and by text source. */
  engines: Record<string, Tally>;
  voices: Record<string, Record<string, Tally>>;
  texts: Record<string, Tally>;
  /** Engines in this corpus whose entries carry no phone alignment. */
  withoutPhones: string[];
  unmappedPhonemes: Record<string, number>;
}

const SPLITS: Split[] = ['train', 'dev', 'test'];

interface Plan {
  id: string;
  split: Split;
  engine: number;
  text: number;
  voice: string;
  sentence: number;
  rate: number;
  pitch: number;
  range: number;
  lead: number;
  trail: number;
  speed: number;
  gainDb: number | null;
  snrDb: number | null;
  noise: NoiseKind;
  noiseSeed: number;
  reverb: { rt60: number; drrDb: number; seed: number } | null;
  telephone: boolean;
  tiltDb: number | null;
}

/** Keys sorted at every level, so the same options always give the same string. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Everything that changes utterance content, not how many there are. */
function configKey(o: BuildOptions, texts: readonly string[]): string {
  const { minutes: _m, count: _c, ...rest } = o;
  return JSON.stringify(canonical({ ...rest, texts }));
}

/**
 * The key corpora built before engines and texts were options stored (only top-level keys survive its replacer
 * array, so nested settings were not compared); still accepted for an espeak-only build of one text, so such a
 * corpus can be resumed.
 */
function legacyConfigKey(o: BuildOptions): string {
  const { minutes: _m, count: _c, ...rest } = o;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

function weighted(r: () => number, weights: readonly number[]): number {
  const sum = weights.reduce((a, b) => a + b, 0);
  let x = r() * sum;
  for (let i = 0; i < weights.length; i++) {
    x -= weights[i];
    if (x < 0) return i;
  }
  return weights.length - 1;
}

/**
 * Build (or resume) a synthetic corpus. `texts`: the text sources to speak (a plain list of sentences is taken as
 * one text split by line number, as the King James file is).
 */
export async function buildCorpus(
  texts: readonly TextSource[] | readonly string[],
  store: CorpusStore,
  opts: BuildOptions,
  rt: BuildRuntime = {},
): Promise<BuildSummary> {
  const { signal, onProgress } = rt;
  const assets = rt.assets ?? noAssets;
  if (!(opts.minutes && opts.minutes > 0) && !(opts.count && opts.count > 0)) throw new LabError('bad-input', 'corpus build needs minutes > 0 or count > 0');
  const sources: TextSource[] = texts.length && typeof texts[0] === 'string'
    ? [{ ...lineSource('kjv', ''), sentences: texts as readonly string[] }]
    : [...(texts as readonly TextSource[])];
  if (!sources.length) throw new LabError('bad-input', 'corpus build needs at least one text');
  const engineNames = opts.engines?.length ? opts.engines : (['espeak'] as EngineName[]);
  const engines: Engine[] = engineNames.map((n) => {
    const e = ENGINES[n];
    if (!e) throw new LabError('bad-input', `unknown engine "${n}" (engines: ${Object.keys(ENGINES).join(', ')})`);
    return e;
  });
  if (new Set(engineNames).size !== engineNames.length) throw new LabError('bad-input', 'an engine is listed twice');
  const engineWeights = opts.engineWeights ?? engines.map(() => 1);
  const textWeights = opts.textWeights ?? sources.map(() => 1);
  if (engineWeights.length !== engines.length || engineWeights.some((w) => !(w > 0))) throw new LabError('bad-input', 'engine weights must be positive, one per engine');
  if (textWeights.length !== sources.length || textWeights.some((w) => !(w > 0))) throw new LabError('bad-input', 'text weights must be positive, one per text');

  const prefix = opts.prefix ?? `syn${opts.seed}`;
  const minW = opts.minWords ?? 3, maxW = opts.maxWords ?? 14;
  const weights = opts.splits ?? { train: 0.8, dev: 0.1, test: 0.1 };
  const usable = SPLITS.filter((s) => (weights[s] ?? 0) > 0);
  const wsum = usable.reduce((a, s) => a + (weights[s] ?? 0), 0);

  // Voices per engine and split.
  const wanted = opts.voices?.length ? new Set(opts.voices) : null;
  const voices: Record<Split, string[]>[] = engines.map((e) => {
    const v: Record<Split, string[]> = { train: [], dev: [], test: [] };
    const list = e.voices.filter((x) => !wanted || wanted.has(x) || wanted.has(`${e.name}:${x}`));
    for (const x of list) {
      if (e.voiceSplits === 'by-voice') v[e.voiceSplit!(x)].push(x);
      else for (const s of SPLITS) v[s].push(x);
    }
    return v;
  });
  if (wanted) {
    const known = new Set(engines.flatMap((e) => e.voices.flatMap((x) => [x, `${e.name}:${x}`])));
    const unknown = [...wanted].filter((x) => !known.has(x));
    if (unknown.length) throw new LabError('bad-input', `unknown voice${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} for engines ${engineNames.join(', ')}`);
  }
  // Sentences per text and split; a sentence that an earlier text already has in another split is left out.
  const claimed = new Map<string, Split>();
  const pools: Record<Split, number[]>[] = sources.map((src) => {
    const pool: Record<Split, number[]> = { train: [], dev: [], test: [] };
    const mine = new Map<string, Split>();
    src.sentences.forEach((s, i) => {
      const words = s.split(/\s+/).length;
      const norm = normaliseTranscript(s);
      if (!(words >= minW && words <= maxW && norm.bad.length === 0 && norm.text)) return;
      const split = src.split(i);
      const other = claimed.get(norm.text);
      if (other !== undefined && other !== split) return;
      mine.set(norm.text, split);
      pool[split].push(i);
    });
    for (const [k, v] of mine) if (!claimed.has(k)) claimed.set(k, v);
    return pool;
  });
  for (const s of usable) {
    sources.forEach((src, t) => {
      if (!pools[t][s].length) throw new LabError('bad-input', `no sentences with ${minW}..${maxW} words in the ${s} split of text "${src.name}"`);
    });
    engines.forEach((e, k) => {
      if (!voices[k][s].length) throw new LabError('bad-input', `engine ${e.name} has no voices in the ${s} split${wanted ? ' among the chosen voices' : ''}`);
    });
  }
  const a = opts.augment;
  if (a?.noise?.some((k) => !NOISE_KINDS.includes(k))) throw new LabError('bad-input', `noise kinds are ${NOISE_KINDS.join(', ')}`);

  // Options must match an existing corpus in this folder.
  const textNames = sources.map((s) => s.name);
  const key = configKey({ ...opts, engines: engineNames }, textNames);
  const legacyOk = engineNames.length === 1 && engineNames[0] === 'espeak' && sources.length === 1;
  const info = textOf(await store.read('corpus.json'));
  const oldText = textOf(await store.read(MANIFEST_FILE));
  if (info) {
    let prev: { config?: string; key?: string; kind?: unknown };
    try {
      prev = JSON.parse(info) as typeof prev;
    } catch {
      throw new LabError('bad-input', 'the output folder has a corpus.json that is not valid JSON (not made by corpus build?); use a new --out');
    }
    if (prev?.kind !== undefined && prev.kind !== 'synthetic') {
      throw new LabError('bad-input', `the output folder holds a corpus that corpus build did not make (kind ${JSON.stringify(prev.kind)}); use a new --out`);
    }
    const same = prev.key !== undefined ? prev.key === key : prev.config === undefined || (legacyOk && prev.config === legacyConfigKey(opts));
    if (!same) {
      throw new LabError('bad-input', 'the output folder holds a corpus built with other options (seed, engines, texts, ranges or augmentation); use a new --out or the same options');
    }
  } else if (oldText?.trim()) {
    throw new LabError('bad-input', `the output folder holds a ${MANIFEST_FILE} that corpus build did not make (no corpus.json with these options); use a new --out`);
  }
  const old = new Map<string, ManifestEntry>();
  if (oldText) {
    const parsed = parseManifest(oldText);
    // A line cut short by a kill mid-append is only the last one; anything else means a foreign or damaged file.
    const lines = oldText.split('\n').filter((l) => l.trim()).length;
    const torn = parsed.problems.length === 1 && lines > 0 && parsed.problems[0].startsWith(`line ${oldText.replace(/\n+$/, '').split('\n').length}:`);
    if (parsed.problems.length && !torn) {
      throw new LabError('bad-input', `the output folder's ${MANIFEST_FILE} has lines that are not entries (${parsed.problems[0]}); use a new --out`);
    }
    const foreign = parsed.entries.find((e) => !e.id.startsWith(`${prefix}-`));
    if (foreign) throw new LabError('bad-input', `the output folder's ${MANIFEST_FILE} holds entry ${foreign.id}, not one this build makes; use a new --out`);
    for (const e of parsed.entries) old.set(e.id, e);
  }
  // A smaller rerun must not shrink the manifest (nor leave WAVs it made unlisted): refuse before writing anything.
  if (old.size) {
    let last = -1;
    for (const id of old.keys()) last = Math.max(last, Number(id.slice(prefix.length + 1)));
    let stop: number;
    if (opts.count) stop = opts.count;
    else {
      // Utterance u's duration is known for those already made; the build stops once the total reaches the target.
      let total = 0;
      stop = 0;
      for (let u = 0; u <= last; u++) {
        const e = old.get(`${prefix}-${String(u).padStart(6, '0')}`);
        if (!e) { stop = last + 1; break; }
        total += e.duration;
        stop = u + 1;
        if (total >= (opts.minutes ?? 0) * 60) break;
      }
    }
    if (stop <= last) {
      const has = opts.count ? `${old.size} utterances` : `${old.size} utterances reaching past ${opts.minutes} min`;
      throw new LabError('bad-input', `the output folder already holds ${has}, more than this build makes; it would be left out of the manifest: use a new --out, or the same --${opts.count ? 'count' : 'minutes'} or a larger one`);
    }
  }
  const header = { kind: 'synthetic', key, config: legacyConfigKey(opts) };
  await store.write('corpus.json', bytesOf(JSON.stringify({ ...header, building: true }, null, 2)));

  const plan = (u: number): Plan => {
    const r = rng(hash32(opts.seed, u, 'utt'));
    // Choices that did not exist when the builder spoke espeak and one text draw from their own stream, so the
    // stream `r` is what it always was.
    const r2 = rng(hash32(opts.seed, u, 'mix'));
    let x = r() * wsum;
    let split = usable[usable.length - 1];
    for (const s of usable) {
      x -= weights[s] ?? 0;
      if (x < 0) { split = s; break; }
    }
    const augmented = !!a && r() < (a.prob ?? 0.5);
    const engine = engines.length > 1 ? weighted(r2, engineWeights) : 0;
    const text = sources.length > 1 ? weighted(r2, textWeights) : 0;
    const [rl, rh] = opts.rate ?? [130, 210];
    const [pl, ph] = opts.pitch ?? [25, 75];
    const [gl, gh] = opts.range ?? [30, 80];
    const [dl, dh] = opts.pad ?? [0.05, 0.3];
    const p: Plan = {
      id: `${prefix}-${String(u).padStart(6, '0')}`,
      split,
      engine,
      text,
      voice: pick(r, voices[engine][split]),
      sentence: pick(r, pools[text][split]),
      rate: Math.round(uniform(r, rl, rh)),
      pitch: Math.round(uniform(r, pl, ph)),
      range: Math.round(uniform(r, gl, gh)),
      lead: uniform(r, dl, dh),
      trail: uniform(r, dl, dh),
      speed: augmented && a?.speeds?.length ? pick(r, a.speeds) : 1,
      gainDb: augmented && a?.gainDb ? uniform(r, a.gainDb[0], a.gainDb[1]) : null,
      snrDb: augmented && a?.snrDb ? uniform(r, a.snrDb[0], a.snrDb[1]) : null,
      noise: 'white',
      noiseSeed: hash32(opts.seed, u, 'noise'),
      reverb: null,
      telephone: false,
      tiltDb: null,
    };
    if (p.snrDb !== null && a?.noise && a.noise.length) p.noise = a.noise.length > 1 ? pick(r2, a.noise) : a.noise[0];
    if (augmented && a?.reverb && r2() < a.reverb.prob) {
      p.reverb = { rt60: uniform(r2, ...a.reverb.rt60), drrDb: uniform(r2, ...a.reverb.drrDb), seed: hash32(opts.seed, u, 'room') };
    }
    if (augmented && a?.telephone && r2() < a.telephone) p.telephone = true;
    if (augmented && a?.tilt && r2() < a.tilt.prob) p.tiltDb = uniform(r2, ...a.tilt.dbPerOctave);
    return p;
  };

  // Sessions: per engine; a stateful engine's session belongs to one block.
  const sessions = new Map<number, { s: EngineSession; block: number; pos: number }>();
  const prosodyOf = (q: Plan) => ({ rate: q.rate, pitch: q.pitch, range: q.range });
  const synthesize = async (u: number, p: Plan): Promise<Synthesis> => {
    const e = engines[p.engine];
    const blockStart = e.stateful ? u - (u % BLOCK) : 0;
    let st = sessions.get(p.engine);
    if (!st || (e.stateful && st.block !== blockStart)) {
      st?.s.close();
      st = { s: await e.session(assets), block: blockStart, pos: blockStart };
      sessions.set(p.engine, st);
    }
    if (e.stateful) {
      for (; st.pos < u; st.pos++) {
        const q = plan(st.pos);
        if (q.engine === p.engine) await st.s.synthesize(sources[q.text].sentences[q.sentence], q.voice, prosodyOf(q));
      }
      st.pos = u + 1;
    }
    return st.s.synthesize(sources[p.text].sentences[p.sentence], p.voice, prosodyOf(p));
  };

  // Babble: per split, a bank of clean utterances from this build's engines, texts and split (made on first use).
  const banks = new Map<Split, Float32Array[]>();
  const babbleBank = async (split: Split): Promise<Float32Array[]> => {
    let bank = banks.get(split);
    if (bank) return bank;
    bank = [];
    const own = new Map<number, EngineSession>();
    for (let j = 0; j < BABBLE_BANK; j++) {
      const r = rng(hash32(opts.seed, split, j, 'babble'));
      const k = weighted(r, engineWeights), t = weighted(r, textWeights);
      let s = own.get(k);
      if (!s) own.set(k, (s = await engines[k].session(assets)));
      const syn = await s.synthesize(sources[t].sentences[pick(r, pools[t][split])], pick(r, voices[k][split]), { rate: Math.round(uniform(r, 140, 200)), pitch: Math.round(uniform(r, 30, 70)), range: 50 });
      bank.push(resample(syn.pcm, syn.sampleRate, SR));
    }
    for (const s of own.values()) s.close();
    banks.set(split, bank);
    return bank;
  };

  const entries: ManifestEntry[] = [];
  const plans: Plan[] = [];
  const unmapped: Record<string, number> = {};
  let seconds = 0, made = 0, reused = 0;
  const targetSeconds = opts.count ? 0 : (opts.minutes ?? 0) * 60;
  const done = (u: number) => (opts.count ? u >= opts.count : seconds >= targetSeconds);
  const textField = !(sources.length === 1 && sources[0].name === 'kjv');
  try {
    for (let u = 0; !done(u); u++) {
      throwIfAborted(signal);
      const p = plan(u);
      const prev = old.get(p.id);
      let entry: ManifestEntry | undefined;
      if (prev && validateEntry(prev, await store.read(prev.audio)).length === 0) {
        entry = prev;
        reused++;
      } else {
        const syn = await synthesize(u, p);
        const bank = p.snrDb !== null && p.noise === 'babble' ? await babbleBank(p.split) : [];
        const e = engines[p.engine];
        const { entry: made1, wav } = makeUtterance(syn, e, p, sources[p.text], textField, unmapped, bank);
        await store.write(made1.audio, wav);
        await store.append(MANIFEST_FILE, `${JSON.stringify(made1)}\n`);
        entry = made1;
        made++;
      }
      entries.push(entry);
      plans.push(p);
      seconds += entry.duration;
      onProgress?.(
        opts.count ? u + 1 : Math.min(Math.round(seconds), targetSeconds),
        opts.count ? opts.count : targetSeconds,
        `${entry.id} ${entry.speaker}${entry === prev ? ' (kept)' : ''}`,
      );
    }
  } finally {
    for (const st of sessions.values()) st.s.close();
  }
  await store.write(MANIFEST_FILE, bytesOf(formatManifest(entries)));
  const splits = Object.fromEntries(SPLITS.map((s) => {
    const es = entries.filter((e) => e.split === s);
    return [s, { utterances: es.length, seconds: es.reduce((acc, e) => acc + e.duration, 0), voices: new Set(es.map((e) => e.speaker)).size }];
  })) as BuildSummary['splits'];
  const tally = (keyOf: (e: ManifestEntry, p: Plan) => string | null) => {
    const out: Record<string, Tally> = {};
    entries.forEach((e, i) => {
      const k = keyOf(e, plans[i]);
      if (k === null) return;
      const t = (out[k] ??= { utterances: 0, seconds: 0 });
      t.utterances++;
      t.seconds += e.duration;
    });
    return out;
  };
  const summary: BuildSummary = {
    out: '', utterances: entries.length, seconds, made, reused, splits,
    engines: tally((_, p) => engines[p.engine].name),
    voices: Object.fromEntries(engines.map((e, k) => [e.name, tally((x, p) => (p.engine === k ? x.speaker : null))])),
    texts: tally((_, p) => sources[p.text].name),
    withoutPhones: engines.filter((e) => !e.phones).map((e) => e.name),
    unmappedPhonemes: unmapped,
  };
  await store.write('corpus.json', bytesOf(JSON.stringify({
    ...header, seed: opts.seed, options: opts, textSources: textNames,
    engineInfo: engines.map((e) => ({ name: e.name, synth: e.synth, licence: e.licence, phones: e.phones, voiceSplits: e.voiceSplits })),
    ...summary,
  }, null, 2)));
  return summary;
}

type Iv = { ph: string; s: number; e: number };

function makeUtterance(
  syn: Synthesis, engine: Engine, p: Plan, text: TextSource, textField: boolean, unmapped: Record<string, number>, bank: Float32Array[],
): { entry: ManifestEntry; wav: Uint8Array } {
  let audio = resample(syn.pcm, syn.sampleRate, SR);
  // The engine's own leading and trailing silence goes (for engines that add some); marks move with the audio.
  let cut = 0;
  if (engine.trim) {
    let peak = 0;
    for (let i = 0; i < audio.length; i++) peak = Math.max(peak, Math.abs(audio[i]));
    const floor = peak * 10 ** (-50 / 20), margin = Math.round(0.02 * SR);
    let first = 0, last = audio.length - 1;
    while (first < audio.length && Math.abs(audio[first]) <= floor) first++;
    while (last > first && Math.abs(audio[last]) <= floor) last--;
    if (first < audio.length) {
      cut = Math.max(0, first - margin);
      audio = audio.slice(cut, Math.min(audio.length, last + margin + 1));
    }
  }
  const n0 = audio.length;
  let ivs: Iv[] | null = null;
  const pushIv = (ph: string, s: number, e: number) => {
    if (e <= s) return;
    const last = ivs![ivs!.length - 1];
    if (last && last.ph === SIL && ph === SIL) last.e = e;
    else ivs!.push({ ph, s, e });
  };
  if (syn.marks) {
    ivs = [];
    // Phone boundaries in 16 kHz samples; a phone lasts until the next mark (the last one until the end), and
    // nothing runs past the audio.
    const raw = syn.marks.map((m) => ({ ...m, s: Math.max(0, Math.min(n0, Math.round(m.start * SR) - cut)) }));
    if (raw.length === 0 || raw[0].s > 0) pushIv(SIL, 0, raw.length ? raw[0].s : n0);
    for (let k = 0; k < raw.length; k++) {
      const s = raw[k].s;
      const e = k + 1 < raw.length ? raw[k + 1].s : n0;
      if (e <= s) continue;
      let phones = raw[k].phones;
      if (phones === null) {
        const name = engine.name === 'espeak' ? raw[k].name : `${engine.name}:${raw[k].name}`;
        unmapped[name] = (unmapped[name] ?? 0) + 1;
        phones = [];
      }
      if (phones.length === 0) {
        // merge into the previous interval (or label silence at the very start)
        const last = ivs[ivs.length - 1];
        if (last) last.e = e;
        else pushIv(SIL, s, e);
        continue;
      }
      const m = phones.length;
      for (let j = 0; j < m; j++) pushIv(phones[j], s + Math.round(((e - s) * j) / m), s + Math.round(((e - s) * (j + 1)) / m));
    }
  }
  // Leading and trailing silence.
  const lead = Math.round(p.lead * SR), trail = Math.round(p.trail * SR);
  const padded = new Float32Array(lead + n0 + trail);
  padded.set(audio, lead);
  audio = padded;
  if (ivs) {
    const shifted = ivs.map((iv) => ({ ...iv, s: iv.s + lead, e: iv.e + lead }));
    ivs = [];
    pushIv(SIL, 0, lead);
    for (const iv of shifted) pushIv(iv.ph, iv.s, iv.e);
    pushIv(SIL, lead + n0, audio.length);
  }
  // Speed perturbation: play the 16 kHz signal as if it were at 16 kHz * speed.
  if (p.speed !== 1) {
    const n = audio.length;
    audio = resample(audio, Math.round(SR * p.speed), SR);
    if (ivs) {
      const scale = audio.length / n;
      const old = ivs;
      ivs = [];
      for (const iv of old) pushIv(iv.ph, Math.round(iv.s * scale), iv === old[old.length - 1] ? audio.length : Math.round(iv.e * scale));
    }
  }
  // Reverberation keeps the direct sound where it was, so the phone boundaries stand.
  if (p.reverb) audio = convolve(audio, roomImpulseResponse(p.reverb.rt60, p.reverb.drrDb, p.reverb.seed, SR));
  const speechPower = ivs
    ? (() => {
        let s = 0, c = 0;
        for (const iv of ivs) if (iv.ph !== SIL) for (let i = iv.s; i < iv.e; i++) { s += audio[i] * audio[i]; c++; }
        return c ? s / c : 0;
      })()
    : activePower(audio, SR);
  if (p.gainDb !== null) {
    const g = 10 ** (p.gainDb / 20);
    for (let i = 0; i < audio.length; i++) audio[i] *= g;
  }
  if (p.snrDb !== null && speechPower > 0) {
    const g = p.gainDb !== null ? 10 ** (p.gainDb / 10) : 1;
    if (p.noise === 'white') {
      const sigma = Math.sqrt((speechPower * g) / 10 ** (p.snrDb / 10));
      const r = rng(p.noiseSeed);
      for (let i = 0; i < audio.length; i++) audio[i] += sigma * gaussian(r);
    } else {
      const noise = p.noise === 'pink' ? pinkNoise(audio.length, p.noiseSeed, SR) : babbleNoise(audio.length, p.noiseSeed, bank);
      addAtSnr(audio, noise, speechPower * g, p.snrDb);
    }
  }
  if (p.tiltDb !== null) audio = spectralTilt(audio, SR, p.tiltDb);
  if (p.telephone) audio = bandLimit(audio, SR);
  let peak = 0;
  for (let i = 0; i < audio.length; i++) peak = Math.max(peak, Math.abs(audio[i]));
  if (peak > 0.99) for (let i = 0; i < audio.length; i++) audio[i] *= 0.99 / peak;
  const phones: PhoneInterval[] | undefined = ivs?.map((iv) => [iv.ph, sampleTime(iv.s), sampleTime(iv.e)]);
  const sentence = text.sentences[p.sentence];
  const voice = engine.name === 'espeak'
    ? (() => { const [accent, variant] = p.voice.split('+'); return { accent, variant }; })()
    : { voice: p.voice };
  const entry: ManifestEntry = {
    id: p.id,
    audio: `wav/${p.id}.wav`,
    samples: audio.length,
    duration: sampleTime(audio.length),
    sample_rate: SR,
    speaker: engine.speaker(p.voice),
    split: p.split,
    text: normaliseTranscript(sentence).text,
    ...(phones ? { phones } : {}),
    source: {
      synth: engine.synth, ...voice, rate: p.rate, pitch: p.pitch, range: p.range, sentence: p.sentence,
      ...(textField ? { text: text.name } : {}),
      ...(p.speed !== 1 ? { speed: p.speed } : {}),
      ...(p.gainDb !== null ? { gain_db: +p.gainDb.toFixed(2) } : {}),
      ...(p.snrDb !== null ? { snr_db: +p.snrDb.toFixed(2) } : {}),
      ...(p.snrDb !== null && p.noise !== 'white' ? { noise: p.noise } : {}),
      ...(p.reverb ? { rt60: +p.reverb.rt60.toFixed(3), drr_db: +p.reverb.drrDb.toFixed(2) } : {}),
      ...(p.telephone ? { band: 'telephone' } : {}),
      ...(p.tiltDb !== null ? { tilt_db_per_octave: +p.tiltDb.toFixed(2) } : {}),
    },
  };
  return { entry, wav: encodeWav16(audio, SR) };
}
