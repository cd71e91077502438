// Evaluation sets: a folder with our JSONL manifest (manifest.jsonl + wav/, as `lab corpus build` and
// `lab corpus import` write, e.g. public/eval) or a plain folder with a `manifest.tsv`:
//
//   id<TAB>wav_relative_path<TAB>transcript[<TAB>speaker]      (the header line, then one utterance a line)
//
// Transcripts are normalised with vocab.ts (upper case, punctuation dropped); a transcript with characters the
// vocabulary cannot spell (digits, accented letters) is refused with its line, since scoring against an altered
// reference would mislead. Paths are relative to the folder. The speaker of a row is the manifest's
// speaker (or voice) field; a TSV without a speaker column has one speaker, "-".
import { LabError } from '../gpu/errors.ts';
import { MANIFEST_FILE, parseManifest } from '../speech/manifest.ts';
import { textOf } from '../speech/store.ts';
import { normaliseTranscript } from '../speech/vocab.ts';

export const TSV_FILE = 'manifest.tsv';
export const TSV_HEADER = ['id', 'wav_relative_path', 'transcript'] as const;

export interface EvalUtterance {
  id: string;
  /** Audio path relative to the set's folder. */
  audio: string;
  /** Normalised reference transcript. */
  text: string;
  speaker: string;
  /** Line of the manifest (1-based), for messages. */
  line: number;
}

export interface EvalSet {
  /** The manifest read: manifest.jsonl or manifest.tsv. */
  file: string;
  utterances: EvalUtterance[];
}

/** What a set is read from: a folder in the CLI, OPFS or memory in the browser. */
export interface EvalStore {
  read(path: string): Promise<Uint8Array | undefined>;
  /** Cheap existence check, used to name every missing audio file before any model runs. */
  exists?(path: string): Promise<boolean>;
  /** The folder's name in messages (e.g. its path in the CLI). */
  name?: string;
}

/** The manifest as messages name it: `DIR/manifest.tsv` when the store has a name. */
export const manifestName = (store: EvalStore, file: string): string => (store.name ? `${store.name.replace(/\/+$/, '')}/${file}` : file);

const HEADER_TEXT = TSV_HEADER.join('<TAB>');

/** One line: the first problem, with how many more there are. */
function refuse(file: string, problems: string[], store?: EvalStore): never {
  if (store) file = manifestName(store, file);
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  throw new LabError('bad-input', `${file}: ${problems[0]}${more}`);
}

function reference(raw: string): { text: string; problem?: string } {
  const { text, bad } = normaliseTranscript(raw);
  if (bad.length) return { text, problem: `transcript has characters outside A-Z and the apostrophe: ${bad.map((c) => JSON.stringify(c)).join(' ')} (spell numbers out)` };
  if (!text) return { text, problem: 'transcript is empty' };
  return { text };
}

function badPath(p: string): string | undefined {
  if (/^([a-z]:)?[\\/]/i.test(p)) return `wav_relative_path ${JSON.stringify(p)} is absolute; give it relative to the folder`;
  return undefined;
}

/** Parse a manifest.tsv (header line, then id, relative WAV path, transcript and optionally speaker per line). */
export function parseTsvManifest(text: string, store?: EvalStore): EvalUtterance[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) refuse(TSV_FILE, ['the file is empty; its first line must be the header ' + HEADER_TEXT], store);
  const header = lines[first].split('\t').map((h) => h.trim().toLowerCase());
  if (header.length < 3 || TSV_HEADER.some((h, i) => header[i] !== h)) {
    const found = lines[first].length > 60 ? `${lines[first].slice(0, 60)}...` : lines[first];
    refuse(TSV_FILE, [`line ${first + 1} must be the header ${HEADER_TEXT}, found ${JSON.stringify(found)}`], store);
  }
  const speakerCol = header.indexOf('speaker');
  const problems: string[] = [];
  const out: EvalUtterance[] = [];
  const seen = new Set<string>();
  for (let i = first + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const at = `line ${i + 1}`;
    const cols = lines[i].split('\t');
    if (cols.length < 3) {
      problems.push(`${at}: expected ${header.length} tab-separated columns (${header.join(', ')}), found ${cols.length}`);
      continue;
    }
    const [id, audio] = [cols[0].trim(), cols[1].trim()];
    if (!id) problems.push(`${at}: the id is empty`);
    else if (seen.has(id)) problems.push(`${at}: id ${JSON.stringify(id)} appears twice`);
    seen.add(id);
    if (!audio) problems.push(`${at}: wav_relative_path is empty`);
    const pathProblem = audio ? badPath(audio) : undefined;
    if (pathProblem) problems.push(`${at}: ${pathProblem}`);
    const ref = reference(cols[2]);
    if (ref.problem) problems.push(`${at} (${id}): ${ref.problem}`);
    const speaker = speakerCol >= 0 ? (cols[speakerCol] ?? '').trim() || '-' : '-';
    out.push({ id, audio, text: ref.text, speaker, line: i + 1 });
  }
  if (problems.length) refuse(TSV_FILE, problems, store);
  return out;
}

/** Parse a manifest.jsonl into evaluation utterances (JSON problems and unusable transcripts are refused). */
export function parseJsonlSet(text: string, store?: EvalStore): EvalUtterance[] {
  const { entries, problems } = parseManifest(text);
  const all = [...problems];
  // parseManifest skips blank lines; recover each entry's line for messages.
  const lineOf = new Map<string, number>();
  text.split('\n').forEach((l, i) => {
    const m = /"id"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(l);
    if (m && !lineOf.has(m[1])) lineOf.set(m[1], i + 1);
  });
  const seen = new Set<string>();
  const out = entries.map((e) => {
    const line = lineOf.get(e.id) ?? 0;
    if (seen.has(e.id)) all.push(`line ${line}: id ${JSON.stringify(e.id)} appears twice`);
    seen.add(e.id);
    const ref = reference(e.text);
    if (ref.problem) all.push(`line ${line} (${e.id}): ${ref.problem}`);
    const voice = (e as { voice?: unknown }).voice;
    const speaker = typeof e.speaker === 'string' && e.speaker ? e.speaker : typeof voice === 'string' && voice ? voice : '-';
    return { id: e.id, audio: e.audio, text: ref.text, speaker, line };
  });
  if (all.length) refuse(MANIFEST_FILE, all, store);
  return out;
}

/**
 * Open an evaluation set: manifest.jsonl when the folder has one, else manifest.tsv. Refuses a folder with
 * neither, a manifest with problems (the first named, with its line) and an empty set.
 */
export async function openEvalSet(store: EvalStore): Promise<EvalSet> {
  const jsonl = textOf(await store.read(MANIFEST_FILE));
  const tsv = jsonl === undefined ? textOf(await store.read(TSV_FILE)) : undefined;
  if (jsonl === undefined && tsv === undefined) {
    throw new LabError(
      'bad-input',
      `${store.name ? `${store.name}: ` : ''}neither ${MANIFEST_FILE} nor ${TSV_FILE} here: a set is a corpus folder (\`lab corpus build\` / \`lab corpus import\`) or a folder of WAV files with a ${TSV_FILE} whose header is ${HEADER_TEXT}`,
    );
  }
  const file = jsonl !== undefined ? MANIFEST_FILE : TSV_FILE;
  const utterances = jsonl !== undefined ? parseJsonlSet(jsonl, store) : parseTsvManifest(tsv!, store);
  if (utterances.length === 0) throw new LabError('bad-input', `${manifestName(store, file)} lists no utterance: the set is empty`);
  return { file, utterances };
}

/** Names every utterance whose audio file is missing (needs store.exists; nothing is checked without it). */
export async function missingAudio(store: EvalStore, set: EvalSet, utterances = set.utterances): Promise<void> {
  if (!store.exists) return;
  const missing: EvalUtterance[] = [];
  for (const u of utterances) if (!(await store.exists(u.audio))) missing.push(u);
  if (missing.length) {
    const u = missing[0];
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more missing)` : '';
    throw new LabError('bad-input', `${manifestName(store, set.file)} line ${u.line} (${u.id}): audio ${u.audio} is missing${more}`);
  }
}
