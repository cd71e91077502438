// Importing real corpora into the manifest format (manifest.ts): LibriSpeech (`*.flac` + `*.trans.txt`),
// TIMIT (`.wav` [NIST SPHERE or RIFF] + `.txt` + `.phn`, phones folded onto phones.ts) and a plain folder of
// audio with TSV transcripts. Input is a list of {path, bytes} or {path, read()} (a dropped browser folder or the
// CLI's directory walk); no Node APIs. A bad file is reported with its name and skipped; the rest go on.
// Into a store that already holds a corpus the import adds: entries are merged by id (an id already there with
// another transcript or source is refused before anything is written); an import that finds nothing writes nothing.
//
// Folder TSVs: either `key<TAB>transcript[<TAB>speaker]` per line, or a header row naming the columns (key:
// path|file|filename|audio|id; text: sentence|text|transcript|transcription; speaker: speaker|client_id). The key
// matches an audio file by relative path, by file name, or by file name without extension.
import { LabError } from '../gpu/errors.ts';
import { SAMPLE_RATE, decodeAudio, toMono } from './audio.ts';
import { MANIFEST_FILE, formatManifest, parseManifest, sampleTime, validateEntry, type ManifestEntry, type Split } from './manifest.ts';
import { SIL, fromTimit, type PhoneInterval } from './phones.ts';
import { resample } from './resample.ts';
import { bytesOf, textOf, throwIfAborted, type CorpusStore, type WorkflowOptions } from './store.ts';
import { normaliseTranscript } from './vocab.ts';
import { encodeWav16 } from './wav.ts';

export type ImportFormat = 'librispeech' | 'timit' | 'folder';

export type SourceFile = { path: string; bytes: Uint8Array } | { path: string; read(): Promise<Uint8Array> };

export interface ImportProblem {
  file: string;
  problem: string;
}

export interface ImportSummary {
  format: ImportFormat;
  imported: number;
  skipped: number;
  seconds: number;
  problems: ImportProblem[];
  /** Entries that were in the corpus before and are not part of this import: kept as they were. */
  kept: number;
  /** Entries in the corpus's manifest after the import (kept + imported). */
  utterances: number;
}

const AUDIO_EXT = /\.(wav|flac|sph)$/i;
const OTHER_AUDIO_EXT = /\.(mp3|ogg|oga|opus|m4a|aac|wma|aiff?|webm)$/i;

async function bytesOfFile(f: SourceFile): Promise<Uint8Array> {
  return 'bytes' in f ? f.bytes : f.read();
}

const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const dir = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const stem = (p: string) => {
  const b = base(p);
  const dot = b.indexOf('.');
  return dot > 0 ? b.slice(0, dot) : b;
};
const safeId = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_');

function splitFromPath(path: string): Split | undefined {
  for (const part of path.toLowerCase().split('/')) {
    if (part.startsWith('train')) return 'train';
    if (part.startsWith('dev') || part.startsWith('valid')) return 'dev';
    if (part.startsWith('test')) return 'test';
  }
  return undefined;
}

/** One utterance to import: where its audio is, its transcript and optional sample-exact phones. */
interface Item {
  id: string;
  audio: SourceFile;
  text: string;
  speaker: string;
  split?: Split;
  /** [label, startSample, endSample] at the source rate, still in source labels (TIMIT). */
  phn?: [string, number, number][];
  source: Record<string, unknown>;
}

/**
 * A transcript file's text: UTF-8 (a BOM dropped) or UTF-16 with its byte-order mark. NUL bytes (UTF-16 without a
 * mark, or not text at all) and bytes that are not UTF-8 give a problem for the file instead (undefined), so no NUL
 * or mojibake reaches a manifest or a message.
 */
export function transcriptText(bytes: Uint8Array, path: string, problems: ImportProblem[]): string | undefined {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes.includes(0)) {
    problems.push({ file: path, problem: 'holds NUL bytes (UTF-16 without a byte-order mark, or not text); save it as UTF-8 text' });
    return undefined;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    problems.push({ file: path, problem: 'is not UTF-8 text (Latin-1 or another encoding?); save it as UTF-8' });
    return undefined;
  }
}

async function readTextFiles(files: SourceFile[], problems: ImportProblem[]): Promise<{ file: SourceFile; text: string }[]> {
  const read = await Promise.all(files.map(async (file) => ({ file, text: transcriptText(await bytesOfFile(file), file.path, problems) })));
  return read.filter((r): r is { file: SourceFile; text: string } => r.text !== undefined);
}

async function planLibrispeech(files: SourceFile[], problems: ImportProblem[]): Promise<Item[]> {
  const audio = new Map<string, SourceFile>();
  for (const f of files) if (/\.(flac|wav)$/i.test(f.path)) audio.set(`${dir(f.path)}/${stem(f.path)}`, f);
  const items: Item[] = [];
  const used = new Set<string>();
  const trans = files.filter((f) => /\.trans\.txt$/i.test(f.path));
  if (!trans.length) problems.push({ file: '(source)', problem: 'no *.trans.txt files: is this a LibriSpeech layout?' });
  for (const { file, text } of await readTextFiles(trans, problems)) {
    text.split('\n').forEach((line, i) => {
      const m = /^(\S+)\s+(.*)$/.exec(line.trim());
      if (!line.trim()) return;
      if (!m) {
        problems.push({ file: `${file.path}:${i + 1}`, problem: 'line has an id but no transcript' });
        return;
      }
      const key = `${dir(file.path)}/${m[1]}`;
      const a = audio.get(key);
      if (!a) {
        problems.push({ file: `${file.path}:${i + 1}`, problem: `no audio ${m[1]}.flac next to the transcript` });
        return;
      }
      used.add(key);
      items.push({ id: safeId(m[1]), audio: a, text: m[2], speaker: m[1].split('-')[0], split: splitFromPath(file.path), source: { format: 'librispeech', path: a.path } });
    });
  }
  for (const [key, f] of audio) if (!used.has(key)) problems.push({ file: f.path, problem: 'no transcript line for this audio' });
  return items;
}

async function planTimit(files: SourceFile[], problems: ImportProblem[]): Promise<Item[]> {
  const groups = new Map<string, { wav?: SourceFile; txt?: SourceFile; phn?: SourceFile }>();
  for (const f of files) {
    const ext = /\.(wav|txt|phn)$/i.exec(f.path)?.[1]?.toLowerCase() as 'wav' | 'txt' | 'phn' | undefined;
    if (!ext) continue;
    // TIMIT copies often hold both FOO.WAV (SPHERE) and FOO.WAV.wav (RIFF); keep the first seen per stem.
    const key = `${dir(f.path)}/${stem(f.path)}`.toLowerCase();
    const g = groups.get(key) ?? {};
    if (!g[ext]) g[ext] = f;
    groups.set(key, g);
  }
  if (!groups.size) problems.push({ file: '(source)', problem: 'no .wav/.txt/.phn files: is this a TIMIT layout?' });
  const items: Item[] = [];
  for (const [, g] of groups) {
    const any = (g.wav ?? g.txt ?? g.phn)!;
    if (!g.wav) { problems.push({ file: any.path, problem: 'no .wav for this utterance' }); continue; }
    if (!g.txt) { problems.push({ file: g.wav.path, problem: 'missing transcript (.txt)' }); continue; }
    const txtText = transcriptText(await bytesOfFile(g.txt), g.txt.path, problems);
    if (txtText === undefined) continue;
    const txt = txtText.trim();
    const text = txt.replace(/^\d+\s+\d+\s+/, '');
    let phn: [string, number, number][] | undefined;
    const phnProblems: ImportProblem[] = [];
    const phnText = g.phn ? transcriptText(await bytesOfFile(g.phn), g.phn.path, phnProblems) : undefined;
    for (const p of phnProblems) problems.push({ file: p.file, problem: `${p.problem}; imported without phones` });
    if (g.phn && phnText !== undefined) {
      phn = [];
      for (const line of phnText.split('\n')) {
        const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s*$/.exec(line);
        if (m) phn.push([m[3], Number(m[1]), Number(m[2])]);
        else if (line.trim()) { phn = undefined; problems.push({ file: g.phn.path, problem: `bad .phn line "${line.trim()}"; imported without phones` }); break; }
      }
    } else if (!g.phn) problems.push({ file: g.wav.path, problem: 'no .phn file; imported without phones' });
    const speaker = base(dir(g.wav.path)) || 'unknown';
    items.push({ id: safeId(`${speaker}_${stem(g.wav.path)}`.toLowerCase()), audio: g.wav, text, speaker, split: splitFromPath(g.wav.path), phn, source: { format: 'timit', path: g.wav.path } });
  }
  return items;
}

async function planFolder(files: SourceFile[], problems: ImportProblem[]): Promise<Item[]> {
  const audio = files.filter((f) => AUDIO_EXT.test(f.path));
  for (const f of files) if (OTHER_AUDIO_EXT.test(f.path)) problems.push({ file: f.path, problem: 'unknown audio format (WAV, FLAC or SPHERE expected)' });
  const byKey = new Map<string, SourceFile>();
  for (const f of audio) {
    for (const k of [f.path, base(f.path), stem(f.path)]) if (!byKey.has(k)) byKey.set(k, f);
  }
  const tsvs = files.filter((f) => /\.tsv$/i.test(f.path));
  if (!tsvs.length) problems.push({ file: '(source)', problem: 'no .tsv transcript file in the folder' });
  const items: Item[] = [];
  const used = new Set<SourceFile>();
  for (const { file, text } of await readTextFiles(tsvs, problems)) {
    const lines = text.split(/\r?\n/);
    let kc = 0, tc = 1, sc = 2;
    const head = lines[0]?.split('\t').map((h) => h.trim().toLowerCase()) ?? [];
    const hk = head.findIndex((h) => ['path', 'file', 'filename', 'audio', 'id'].includes(h));
    const ht = head.findIndex((h) => ['sentence', 'text', 'transcript', 'transcription'].includes(h));
    let first = 0;
    if (hk >= 0 && ht >= 0 && !byKey.has(lines[0].split('\t')[hk])) {
      kc = hk; tc = ht; sc = head.findIndex((h) => h === 'speaker' || h === 'client_id');
      first = 1;
    }
    for (let i = first; i < lines.length; i++) {
      if (!lines[i].trim()) continue;
      const cols = lines[i].split('\t');
      const where = `${file.path}:${i + 1}`;
      const key = (cols[kc] ?? '').trim();
      const a = byKey.get(key) ?? byKey.get(`${dir(file.path) ? `${dir(file.path)}/` : ''}${key}`);
      if (!a) { problems.push({ file: where, problem: `no audio file for "${key}"` }); continue; }
      if (cols[tc] === undefined || !cols[tc].trim()) { problems.push({ file: a.path, problem: 'missing transcript (empty TSV field)' }); used.add(a); continue; }
      used.add(a);
      const speaker = (sc >= 0 && cols[sc]?.trim()) || base(dir(a.path)) || 'unknown';
      items.push({ id: safeId(a.path.replace(AUDIO_EXT, '')), audio: a, text: cols[tc], speaker, split: splitFromPath(a.path), source: { format: 'folder', path: a.path } });
    }
  }
  for (const f of audio) if (!used.has(f)) problems.push({ file: f.path, problem: 'missing transcript (not listed in any .tsv)' });
  return items;
}

/** Fold TIMIT phone labels (sample positions at `rate`) onto the inventory, tiling [0, n) at 16 kHz. */
export function timitPhones(phn: [string, number, number][], rate: number, n: number): { phones: PhoneInterval[]; unknown: string[] } {
  const scale = SAMPLE_RATE / rate;
  const ivs: { ph: string; s: number; e: number }[] = [];
  const unknown: string[] = [];
  for (const [label, s0, e0] of phn) {
    const s = Math.min(n, Math.round(s0 * scale)), e = Math.min(n, Math.round(e0 * scale));
    const ph = fromTimit(label);
    if (ph === undefined) unknown.push(label);
    if (ivs.length === 0 && s > 0 && e > s) ivs.push({ ph: SIL, s: 0, e: s }); // unlabelled start: silence
    const last = ivs[ivs.length - 1];
    if (last && s > last.e) {
      // a gap between labels: silence
      if (last.ph === SIL) last.e = s;
      else ivs.push({ ph: SIL, s: last.e, e: s });
    }
    if (e <= s) continue;
    const prev = ivs[ivs.length - 1];
    const start = prev ? prev.e : 0; // overlaps are clipped; the first interval starts at 0
    if (e <= start) continue;
    if (ph === null || ph === undefined) {
      // q (and unknown labels) merge into the previous phone, or start the utterance as silence
      if (prev) prev.e = e;
      else ivs.push({ ph: SIL, s: 0, e });
    } else if (prev && prev.ph === ph && ph === SIL) prev.e = e;
    else ivs.push({ ph, s: start, e });
  }
  const last = ivs[ivs.length - 1];
  if (!last) return { phones: n > 0 ? [[SIL, 0, sampleTime(n)]] : [], unknown };
  if (last.e < n) {
    if (last.ph === SIL) last.e = n;
    else ivs.push({ ph: SIL, s: last.e, e: n });
  }
  return { phones: ivs.map((iv) => [iv.ph, sampleTime(iv.s), sampleTime(iv.e)]), unknown };
}

export async function importCorpus(files: SourceFile[], format: ImportFormat, store: CorpusStore, wf: WorkflowOptions = {}): Promise<ImportSummary> {
  const problems: ImportProblem[] = [];
  let items: Item[];
  if (format === 'librispeech') items = await planLibrispeech(files, problems);
  else if (format === 'timit') items = await planTimit(files, problems);
  else if (format === 'folder') items = await planFolder(files, problems);
  else throw new LabError('bad-input', `unknown import format "${format as string}" (librispeech, timit or folder)`);
  const planned = items.length;
  const skippedBeforeDecode = problems.filter((p) => !/imported without phones/.test(p.problem) && p.file !== '(source)').length;

  // An existing corpus here is added to, never replaced: its entries stay, merged by id with this import's.
  const old = new Map<string, ManifestEntry>();
  const oldText = textOf(await store.read(MANIFEST_FILE));
  const info = textOf(await store.read('corpus.json'));
  if (info !== undefined) {
    let kind: unknown;
    try {
      kind = (JSON.parse(info) as { kind?: unknown }).kind;
    } catch {
      throw new LabError('bad-input', 'the output folder has a corpus.json that is not valid JSON; import into a new folder');
    }
    if (kind === 'synthetic') throw new LabError('bad-input', 'the output folder holds a synthetic corpus (corpus build); import into a new folder, not into it');
  }
  if (oldText) {
    const parsed = parseManifest(oldText);
    if (parsed.problems.length) {
      throw new LabError('bad-input', `the output folder's ${MANIFEST_FILE} has lines that are not entries (${parsed.problems[0]}); fix it or import into a new folder`);
    }
    for (const e of parsed.entries) old.set(e.id, e);
  }
  // Ids first (no decoding, nothing written): an id already in the corpus with other content is refused.
  {
    const seen = new Set<string>();
    for (const it of items) {
      let id = it.id;
      for (let k = 2; seen.has(id); k++) id = `${it.id}_${k}`;
      seen.add(id);
      const prev = old.get(id);
      if (!prev) continue;
      const norm = normaliseTranscript(it.text).text;
      const prevPath = (prev.source as { path?: unknown } | undefined)?.path;
      if (prev.text !== norm || prevPath !== it.source.path || prev.audio !== `wav/${id}.wav`) {
        throw new LabError('bad-input', `id ${id} is already in the output folder's ${MANIFEST_FILE} with other content (${prev.text !== norm ? 'transcript' : 'source'}); import into a new folder`);
      }
    }
  }

  const entries: ManifestEntry[] = [];
  const ids = new Set<string>();
  let seconds = 0, failed = 0;
  for (const [i, it] of items.entries()) {
    throwIfAborted(wf.signal);
    wf.onProgress?.(i + 1, planned, it.audio.path);
    let id = it.id;
    for (let k = 2; ids.has(id); k++) id = `${it.id}_${k}`;
    const norm = normaliseTranscript(it.text);
    if (norm.bad.length) { problems.push({ file: it.audio.path, problem: `transcript has characters outside A-Z, apostrophe and space: ${norm.bad.map((c) => JSON.stringify(c)).join(' ')}` }); failed++; continue; }
    if (!norm.text) { problems.push({ file: it.audio.path, problem: 'missing transcript (empty after normalisation)' }); failed++; continue; }
    const prev = old.get(id);
    if (prev && prev.text === norm.text && validateEntry(prev, await store.read(prev.audio)).length === 0) {
      ids.add(id);
      entries.push(prev);
      seconds += prev.duration;
      continue;
    }
    let samples: Float32Array, rate: number;
    try {
      const audio = decodeAudio(await bytesOfFile(it.audio));
      rate = audio.sampleRate;
      const mono = toMono(audio);
      samples = rate === SAMPLE_RATE ? mono : resample(mono, rate, SAMPLE_RATE);
    } catch (e) {
      problems.push({ file: it.audio.path, problem: `cannot decode audio: ${(e as Error).message}` });
      failed++;
      continue;
    }
    if (samples.length === 0) { problems.push({ file: it.audio.path, problem: 'no audio samples' }); failed++; continue; }
    ids.add(id);
    const entry: ManifestEntry = {
      id, audio: `wav/${id}.wav`, samples: samples.length, duration: sampleTime(samples.length), sample_rate: SAMPLE_RATE,
      speaker: it.speaker, ...(it.split ? { split: it.split } : {}), text: norm.text, source: { ...it.source, sample_rate: rate },
    };
    if (it.phn) {
      const { phones, unknown } = timitPhones(it.phn, rate, samples.length);
      if (unknown.length) problems.push({ file: it.audio.path, problem: `unknown TIMIT labels merged into neighbours: ${[...new Set(unknown)].join(' ')}` });
      if (phones.length) entry.phones = phones;
    }
    await store.write(entry.audio, encodeWav16(samples, SAMPLE_RATE));
    entries.push(entry);
    seconds += entry.duration;
  }
  const imported = new Set(entries.map((e) => e.id));
  const keptEntries = [...old.values()].filter((e) => !imported.has(e.id));
  const summary: ImportSummary = {
    format, imported: entries.length, skipped: skippedBeforeDecode + failed, seconds, problems, kept: keptEntries.length,
    utterances: keptEntries.length + entries.length,
  };
  // Nothing imported: nothing written (an existing corpus is left exactly as it was).
  if (entries.length === 0) return summary;
  // Old entries in their order (replaced in place by this import's version of the same id), then the new ones.
  const byId = new Map(entries.map((e) => [e.id, e]));
  const merged = [...[...old.values()].map((e) => byId.get(e.id) ?? e), ...entries.filter((e) => !old.has(e.id))];
  await store.write(MANIFEST_FILE, bytesOf(formatManifest(merged)));
  await store.write('corpus.json', bytesOf(JSON.stringify({ kind: 'import', ...summary }, null, 2)));
  return summary;
}
