// The synthetic corpus builder: espeak-ng speaks public-domain sentences (data/kjv-sentences.txt) in many
// voices, rates and pitches; the audio is resampled to 16 kHz and written as 16-bit WAVs with a manifest
// (manifest.ts) whose phone intervals come from the synthesiser's phoneme events, mapped onto phones.ts.
//
// Determinism: utterance u's choices (split, voice, sentence, rate, pitch, range, padding, augmentation) come
// from a generator seeded with hash(seed, u); synthesis runs in blocks of BLOCK utterances, each block in a fresh
// espeak instance (espeak keeps state between utterances, see synth.ts), so the corpus is a function of the seed
// and options. Resuming: utterances already in the manifest whose WAV is present and valid are kept, the rest
// are (re)made, replaying the block's earlier utterances first (without writing them) so that the instance is
// in the same state as in an uninterrupted build: the result is byte-identical.
// Splits are by voice, fixed for every seed: hash(voice) mod 10 = 0 -> test, 1 -> dev, else train; sentences
// are split the same way by line number (i mod 10), so test text is never heard in training either.
import { LabError } from '../gpu/errors.ts';
import { MANIFEST_FILE, formatManifest, parseManifest, sampleTime, validateEntry, type ManifestEntry, type Split } from './manifest.ts';
import { SIL, fromEspeak, type PhoneInterval } from './phones.ts';
import { resample } from './resample.ts';
import { gaussian, hash32, pick, rng, uniform } from './rng.ts';
import { bytesOf, textOf, throwIfAborted, type CorpusStore, type WorkflowOptions } from './store.ts';
import { EspeakSession, allVoices } from './synth.ts';
import { normaliseTranscript } from './vocab.ts';
import { encodeWav16 } from './wav.ts';

const SR = 16000;
/** Utterances per espeak instance. */
export const BLOCK = 32;

export interface AugmentOptions {
  /** Probability that an utterance is augmented at all (default 0.5). */
  prob?: number;
  /** Additive white noise at an SNR drawn from [lo, hi] dB (relative to the speech power). */
  snrDb?: [number, number];
  /** Gain drawn from [lo, hi] dB (peaks are limited to 0.99). */
  gainDb?: [number, number];
  /** Speed perturbation factors to draw from (e.g. [0.9, 1, 1.1]); changes tempo and pitch, as Kaldi's does. */
  speeds?: number[];
}

export interface BuildOptions {
  seed: number;
  /** Stop once the corpus holds at least this much audio... */
  minutes?: number;
  /** ...or exactly this many utterances. */
  count?: number;
  /** Share of utterances per split (default train 0.8, dev 0.1, test 0.1). */
  splits?: Partial<Record<Split, number>>;
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

export interface BuildSummary {
  out: string;
  utterances: number;
  seconds: number;
  made: number;
  reused: number;
  splits: Record<Split, { utterances: number; seconds: number; voices: number }>;
  unmappedPhonemes: Record<string, number>;
}

const SPLITS: Split[] = ['train', 'dev', 'test'];

/** The split a voice belongs to (fixed for all seeds). */
export function voiceSplit(voice: string): Split {
  const h = hash32('voice', voice) % 10;
  return h === 0 ? 'test' : h === 1 ? 'dev' : 'train';
}

/** The split a sentence (by line number) belongs to. */
export function sentenceSplit(i: number): Split {
  return i % 10 === 0 ? 'test' : i % 10 === 1 ? 'dev' : 'train';
}

/** Parse the committed sentence file: one sentence per line. */
export function parseSentences(text: string): string[] {
  return text.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
}

interface Plan {
  id: string;
  split: Split;
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
  noiseSeed: number;
}

function configKey(o: BuildOptions): string {
  // Everything that changes utterance content, not how many there are.
  const { minutes: _m, count: _c, ...rest } = o;
  return JSON.stringify(rest, Object.keys(rest).sort());
}

export async function buildCorpus(sentences: readonly string[], store: CorpusStore, opts: BuildOptions, wf: WorkflowOptions = {}): Promise<BuildSummary> {
  const { signal, onProgress } = wf;
  if (!(opts.minutes && opts.minutes > 0) && !(opts.count && opts.count > 0)) throw new LabError('bad-input', 'corpus build needs minutes > 0 or count > 0');
  const prefix = opts.prefix ?? `syn${opts.seed}`;
  const minW = opts.minWords ?? 3, maxW = opts.maxWords ?? 14;
  const weights = opts.splits ?? { train: 0.8, dev: 0.1, test: 0.1 };
  const usable = SPLITS.filter((s) => (weights[s] ?? 0) > 0);
  const wsum = usable.reduce((a, s) => a + (weights[s] ?? 0), 0);
  const voices: Record<Split, string[]> = { train: [], dev: [], test: [] };
  for (const v of allVoices()) voices[voiceSplit(v)].push(v);
  const pool: Record<Split, number[]> = { train: [], dev: [], test: [] };
  sentences.forEach((s, i) => {
    const words = s.split(/\s+/).length;
    const norm = normaliseTranscript(s);
    if (words >= minW && words <= maxW && norm.bad.length === 0 && norm.text) pool[sentenceSplit(i)].push(i);
  });
  for (const s of usable) {
    if (!pool[s].length) throw new LabError('bad-input', `no sentences with ${minW}..${maxW} words for the ${s} split`);
  }

  // Options must match an existing corpus in this folder.
  const key = configKey(opts);
  const info = textOf(await store.read('corpus.json'));
  if (info) {
    const prev = JSON.parse(info) as { config?: string };
    if (prev.config !== undefined && prev.config !== key) {
      throw new LabError('bad-input', 'the output folder holds a corpus built with other options (seed, ranges or augmentation); use a new --out or the same options');
    }
  }
  await store.write('corpus.json', bytesOf(JSON.stringify({ kind: 'synthetic', config: key, building: true }, null, 2)));

  const old = new Map<string, ManifestEntry>();
  const oldText = textOf(await store.read(MANIFEST_FILE));
  if (oldText) for (const e of parseManifest(oldText).entries) old.set(e.id, e);

  const plan = (u: number): Plan => {
    const r = rng(hash32(opts.seed, u, 'utt'));
    let x = r() * wsum;
    let split = usable[usable.length - 1];
    for (const s of usable) {
      x -= weights[s] ?? 0;
      if (x < 0) { split = s; break; }
    }
    const a = opts.augment;
    const augmented = !!a && r() < (a.prob ?? 0.5);
    const [rl, rh] = opts.rate ?? [130, 210];
    const [pl, ph] = opts.pitch ?? [25, 75];
    const [gl, gh] = opts.range ?? [30, 80];
    const [dl, dh] = opts.pad ?? [0.05, 0.3];
    return {
      id: `${prefix}-${String(u).padStart(6, '0')}`,
      split,
      voice: pick(r, voices[split]),
      sentence: pick(r, pool[split]),
      rate: Math.round(uniform(r, rl, rh)),
      pitch: Math.round(uniform(r, pl, ph)),
      range: Math.round(uniform(r, gl, gh)),
      lead: uniform(r, dl, dh),
      trail: uniform(r, dl, dh),
      speed: augmented && a?.speeds?.length ? pick(r, a.speeds) : 1,
      gainDb: augmented && a?.gainDb ? uniform(r, a.gainDb[0], a.gainDb[1]) : null,
      snrDb: augmented && a?.snrDb ? uniform(r, a.snrDb[0], a.snrDb[1]) : null,
      noiseSeed: hash32(opts.seed, u, 'noise'),
    };
  };

  const entries: ManifestEntry[] = [];
  const unmapped: Record<string, number> = {};
  let seconds = 0, made = 0, reused = 0;
  let session: EspeakSession | undefined, sessionBlock = -1, sessionPos = 0;
  const targetSeconds = opts.count ? 0 : (opts.minutes ?? 0) * 60;
  const done = (u: number) => (opts.count ? u >= opts.count : seconds >= targetSeconds);
  for (let u = 0; !done(u); u++) {
    throwIfAborted(signal);
    const p = plan(u);
    const prev = old.get(p.id);
    let entry: ManifestEntry | undefined;
    if (prev && validateEntry(prev, await store.read(prev.audio)).length === 0) {
      entry = prev;
      reused++;
    } else {
      const blockStart = u - (u % BLOCK);
      if (!session || sessionBlock !== blockStart) {
        session = await EspeakSession.create();
        sessionBlock = blockStart;
        sessionPos = blockStart;
      }
      for (; sessionPos < u; sessionPos++) {
        const q = plan(sessionPos);
        session.synthesize(sentences[q.sentence], { voice: q.voice, rate: q.rate, pitch: q.pitch, range: q.range });
      }
      const { entry: e, wav } = makeUtterance(session, p, sentences[p.sentence], unmapped);
      sessionPos = u + 1;
      await store.write(e.audio, wav);
      await store.append(MANIFEST_FILE, `${JSON.stringify(e)}\n`);
      entry = e;
      made++;
    }
    entries.push(entry);
    seconds += entry.duration;
    onProgress?.(
      opts.count ? u + 1 : Math.min(Math.round(seconds), targetSeconds),
      opts.count ? opts.count : targetSeconds,
      `${entry.id} ${entry.speaker}${entry === prev ? ' (kept)' : ''}`,
    );
  }
  await store.write(MANIFEST_FILE, bytesOf(formatManifest(entries)));
  const splits = Object.fromEntries(SPLITS.map((s) => {
    const es = entries.filter((e) => e.split === s);
    return [s, { utterances: es.length, seconds: es.reduce((a, e) => a + e.duration, 0), voices: new Set(es.map((e) => e.speaker)).size }];
  })) as BuildSummary['splits'];
  const summary: BuildSummary = { out: '', utterances: entries.length, seconds, made, reused, splits, unmappedPhonemes: unmapped };
  await store.write('corpus.json', bytesOf(JSON.stringify({ kind: 'synthetic', config: key, seed: opts.seed, options: opts, ...summary }, null, 2)));
  return summary;
}

function makeUtterance(session: EspeakSession, p: Plan, sentence: string, unmapped: Record<string, number>): { entry: ManifestEntry; wav: Uint8Array } {
  const out = session.synthesize(sentence, { voice: p.voice, rate: p.rate, pitch: p.pitch, range: p.range });
  let audio = resample(out.pcm, out.sampleRate, SR);
  // Phone boundaries in 16 kHz samples; a phoneme lasts until the next event (the last one until the end).
  const n0 = audio.length;
  const raw: { name: string; s: number }[] = out.phonemes.map((e) => ({ name: e.name, s: Math.min(n0, Math.round(e.start * SR)) }));
  type Iv = { ph: string; s: number; e: number };
  let ivs: Iv[] = [];
  const pushIv = (ph: string, s: number, e: number) => {
    if (e <= s) return;
    const last = ivs[ivs.length - 1];
    if (last && last.ph === SIL && ph === SIL) last.e = e;
    else ivs.push({ ph, s, e });
  };
  if (raw.length === 0 || raw[0].s > 0) pushIv(SIL, 0, raw.length ? raw[0].s : n0);
  for (let k = 0; k < raw.length; k++) {
    const s = raw[k].s;
    const e = k + 1 < raw.length ? raw[k + 1].s : n0;
    if (e <= s) continue;
    let phones = fromEspeak(raw[k].name);
    if (phones === null) {
      unmapped[raw[k].name] = (unmapped[raw[k].name] ?? 0) + 1;
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
  // Leading and trailing silence.
  const lead = Math.round(p.lead * SR), trail = Math.round(p.trail * SR);
  const padded = new Float32Array(lead + n0 + trail);
  padded.set(audio, lead);
  audio = padded;
  const shifted = ivs.map((iv) => ({ ...iv, s: iv.s + lead, e: iv.e + lead }));
  ivs = [];
  pushIv(SIL, 0, lead);
  for (const iv of shifted) pushIv(iv.ph, iv.s, iv.e);
  pushIv(SIL, lead + n0, audio.length);
  // Speed perturbation: play the 16 kHz signal as if it were at 16 kHz * speed.
  if (p.speed !== 1) {
    const n = audio.length;
    audio = resample(audio, Math.round(SR * p.speed), SR);
    const scale = audio.length / n;
    const old = ivs;
    ivs = [];
    for (const iv of old) pushIv(iv.ph, Math.round(iv.s * scale), iv === old[old.length - 1] ? audio.length : Math.round(iv.e * scale));
  }
  const speechPower = (() => {
    let s = 0, c = 0;
    for (const iv of ivs) if (iv.ph !== SIL) for (let i = iv.s; i < iv.e; i++) { s += audio[i] * audio[i]; c++; }
    return c ? s / c : 0;
  })();
  if (p.gainDb !== null) {
    const g = 10 ** (p.gainDb / 20);
    for (let i = 0; i < audio.length; i++) audio[i] *= g;
  }
  if (p.snrDb !== null && speechPower > 0) {
    const g = p.gainDb !== null ? 10 ** (p.gainDb / 10) : 1;
    const sigma = Math.sqrt((speechPower * g) / 10 ** (p.snrDb / 10));
    const r = rng(p.noiseSeed);
    for (let i = 0; i < audio.length; i++) audio[i] += sigma * gaussian(r);
  }
  let peak = 0;
  for (let i = 0; i < audio.length; i++) peak = Math.max(peak, Math.abs(audio[i]));
  if (peak > 0.99) for (let i = 0; i < audio.length; i++) audio[i] *= 0.99 / peak;
  const phones: PhoneInterval[] = ivs.map((iv) => [iv.ph, sampleTime(iv.s), sampleTime(iv.e)]);
  const [accent, variant] = p.voice.split('+');
  const entry: ManifestEntry = {
    id: p.id,
    audio: `wav/${p.id}.wav`,
    samples: audio.length,
    duration: sampleTime(audio.length),
    sample_rate: SR,
    speaker: p.voice,
    split: p.split,
    text: normaliseTranscript(sentence).text,
    phones,
    source: {
      synth: 'espeak-ng', accent, variant, rate: p.rate, pitch: p.pitch, range: p.range, sentence: p.sentence,
      ...(p.speed !== 1 ? { speed: p.speed } : {}),
      ...(p.gainDb !== null ? { gain_db: +p.gainDb.toFixed(2) } : {}),
      ...(p.snrDb !== null ? { snr_db: +p.snrDb.toFixed(2) } : {}),
    },
  };
  return { entry, wav: encodeWav16(audio, SR) };
}
