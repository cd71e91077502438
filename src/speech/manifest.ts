// Corpus manifests: JSON lines, one utterance per line, the same for synthetic and imported corpora.
//
//   {"id":"syn7-000042","audio":"wav/syn7-000042.wav","samples":51360,"duration":3.21,"sample_rate":16000,
//    "speaker":"en-us+f3","split":"train","text":"AND GOD SAW THE LIGHT",
//    "phones":[["sil",0,0.1425],["ae",0.1425,0.21],...], "source":{...}}
//
// `audio` is relative to the manifest's folder and always a 16 kHz mono 16-bit WAV; `duration` = samples /
// 16000 s; `text` is normalised (A-Z, apostrophe, single spaces); `phones` (when known) tile [0, duration]
// exactly with labels from the inventory in phones.ts.
import { isPhone, type PhoneInterval } from './phones.ts';
import { isNormalised } from './vocab.ts';
import { wavInfo } from './wav.ts';

export type Split = 'train' | 'dev' | 'test';

export interface ManifestEntry {
  id: string;
  audio: string;
  samples: number;
  duration: number;
  sample_rate: number;
  speaker: string;
  split?: Split;
  text: string;
  phones?: PhoneInterval[];
  source?: Record<string, unknown>;
}

export const MANIFEST_FILE = 'manifest.jsonl';

export function formatManifest(entries: readonly ManifestEntry[]): string {
  return entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : '');
}

/** Parse JSON lines; a line that is not a JSON object with id/audio/samples/text is reported, not fatal. */
export function parseManifest(text: string): { entries: ManifestEntry[]; problems: string[] } {
  const entries: ManifestEntry[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const e = JSON.parse(line) as ManifestEntry;
      if (typeof e !== 'object' || !e || typeof e.id !== 'string' || typeof e.audio !== 'string' || typeof e.samples !== 'number' || typeof e.text !== 'string') {
        problems.push(`line ${i + 1}: not a manifest entry`);
      } else entries.push(e);
    } catch {
      problems.push(`line ${i + 1}: not valid JSON`);
    }
  });
  return { entries, problems };
}

/** Time of a sample boundary as stored in manifests (the same function everywhere, so boundaries tile exactly). */
export function sampleTime(sample: number, sampleRate = 16000): number {
  return sample / sampleRate;
}

/** Problems with one entry (empty when valid). `wav` is the audio file's bytes, or undefined if missing. */
export function validateEntry(e: ManifestEntry, wav: Uint8Array | undefined): string[] {
  const p: string[] = [];
  if (!isNormalised(e.text)) p.push(`transcript is not normalised: ${JSON.stringify(e.text)}`);
  if (e.sample_rate !== 16000) p.push(`sample_rate ${e.sample_rate}, expected 16000`);
  if (Math.abs(e.duration - e.samples / 16000) > 1e-6) p.push(`duration ${e.duration} != samples / 16000 = ${e.samples / 16000}`);
  if (!wav) p.push(`audio ${e.audio} is missing`);
  else {
    const info = wavInfo(wav);
    if (!info) p.push(`audio ${e.audio} is not a readable WAV`);
    else {
      if (info.sampleRate !== 16000 || info.channels !== 1) p.push(`audio ${e.audio} is ${info.channels} ch at ${info.sampleRate} Hz, expected mono 16 kHz`);
      if (info.samples !== e.samples) p.push(`audio ${e.audio} has ${info.samples} samples, manifest says ${e.samples}`);
    }
  }
  if (e.phones) {
    if (e.phones.length === 0) p.push('phones is empty');
    let t = 0;
    for (const [k, iv] of e.phones.entries()) {
      const [ph, s, end] = iv;
      if (!isPhone(ph)) p.push(`phone ${k} "${ph}" is not in the inventory`);
      if (Math.abs(s - t) > 1e-9) p.push(`phone ${k} starts at ${s}, previous ends at ${t} (gap or overlap)`);
      if (!(end > s)) p.push(`phone ${k} has end ${end} <= start ${s}`);
      t = end;
    }
    if (e.phones.length && Math.abs(t - e.duration) > 1e-9) p.push(`phones end at ${t}, utterance lasts ${e.duration}`);
  }
  return p;
}

export interface ValidationReport {
  utterances: number;
  seconds: number;
  valid: number;
  problems: { id: string; problems: string[] }[];
}

/** Validate every entry of a corpus folder's manifest against its audio files. */
export async function validateCorpus(
  read: (path: string) => Promise<Uint8Array | undefined>,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number, label: string) => void } = {},
): Promise<ValidationReport> {
  const text = await read(MANIFEST_FILE);
  if (!text) return { utterances: 0, seconds: 0, valid: 0, problems: [{ id: MANIFEST_FILE, problems: ['manifest is missing'] }] };
  const { entries, problems: parse } = parseManifest(new TextDecoder().decode(text));
  const problems = parse.map((p) => ({ id: MANIFEST_FILE, problems: [p] }));
  const seen = new Set<string>();
  let valid = 0, seconds = 0;
  for (const [i, e] of entries.entries()) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    const p = validateEntry(e, await read(e.audio));
    if (seen.has(e.id)) p.push('duplicate id');
    seen.add(e.id);
    if (p.length) problems.push({ id: e.id, problems: p });
    else valid++;
    seconds += e.duration;
    opts.onProgress?.(i + 1, entries.length, e.id);
  }
  return { utterances: entries.length, seconds, valid, problems };
}
