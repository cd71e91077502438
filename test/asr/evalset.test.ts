import { describe, expect, it } from 'vitest';
import { missingAudio, openEvalSet, parseJsonlSet, parseTsvManifest, type EvalStore } from '../../src/asr/evalset.ts';
import { LabError } from '../../src/gpu/errors.ts';
import { bytesOf, MemoryStore } from '../../src/speech/store.ts';

const HEADER = 'id\twav_relative_path\ttranscript';

function store(files: Record<string, string>, name?: string): EvalStore & MemoryStore {
  const s = new MemoryStore() as MemoryStore & EvalStore;
  for (const [k, v] of Object.entries(files)) s.files.set(k, bytesOf(v));
  s.exists = async (p: string) => s.files.has(p);
  if (name) s.name = name;
  return s;
}

describe('manifest.tsv', () => {
  it('reads id, relative WAV path and transcript, normalised; an optional speaker column; CRLF and a BOM', () => {
    const text = `\uFEFF${HEADER}\r\nu1\twav/a.wav\tHello, world!\r\n\r\nu2\tb.wav\t  it's   the END-game. \r\n`;
    expect(parseTsvManifest(text)).toEqual([
      { id: 'u1', audio: 'wav/a.wav', text: 'HELLO WORLD', speaker: '-', line: 2 },
      { id: 'u2', audio: 'b.wav', text: "IT'S THE END GAME", speaker: '-', line: 4 },
    ]);
    const withSpeaker = parseTsvManifest(`${HEADER}\tspeaker\nu1\ta.wav\tyes\tann\nu2\ta2.wav\tno\t\n`);
    expect(withSpeaker.map((u) => u.speaker)).toEqual(['ann', '-']);
  });

  it('refuses a missing or wrong header, naming the line', () => {
    expect(() => parseTsvManifest('u1\ta.wav\tHELLO\n')).toThrow(/manifest\.tsv: line 1 must be the header id<TAB>wav_relative_path<TAB>transcript, found "u1\\ta\.wav\\tHELLO"/);
    expect(() => parseTsvManifest('id,wav_relative_path,transcript\n')).toThrow(/line 1 must be the header/);
    expect(() => parseTsvManifest('\n\n')).toThrow(/manifest\.tsv: the file is empty/);
  });

  it('refuses bad rows with their line, the first one named and the rest counted', () => {
    const text = [HEADER, 'u1\ta.wav\tONE', 'u2\tb.wav', 'u1\tc.wav\tTWO', 'u4\t/abs/d.wav\tFOUR', 'u5\te.wav\tROOM 101', 'u6\t\tSIX', 'u7\tg.wav\t...'].join('\n');
    let err: unknown;
    try {
      parseTsvManifest(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LabError);
    const msg = (err as Error).message;
    expect(msg).toBe('manifest.tsv: line 3: expected 3 tab-separated columns (id, wav_relative_path, transcript), found 2 (and 5 more problems)');
    expect(msg).not.toContain('\n');
    const one = (row: string) => () => parseTsvManifest(`${HEADER}\nu1\ta.wav\tONE\n${row}\n`);
    expect(one('u1\tc.wav\tTWO')).toThrow(/line 3: id "u1" appears twice/);
    expect(one('u4\t/abs/d.wav\tFOUR')).toThrow(/line 3: wav_relative_path "\/abs\/d\.wav" is absolute/);
    expect(one('u5\te.wav\tROOM 101')).toThrow(/line 3 \(u5\): transcript has characters outside A-Z and the apostrophe: "1" "0" \(spell numbers out\)/);
    expect(one('u6\t\tSIX')).toThrow(/line 3: wav_relative_path is empty/);
    expect(one('u7\tg.wav\t...')).toThrow(/line 3 \(u7\): transcript is empty/);
  });
});

describe('evaluation sets', () => {
  it('a corpus folder: manifest.jsonl first, speaker or voice as the speaker', async () => {
    const lines = [
      { id: 'a', audio: 'wav/a.wav', samples: 1, duration: 1 / 16000, sample_rate: 16000, speaker: 'en+f3', text: 'HELLO' },
      { id: 'b', audio: 'wav/b.wav', samples: 1, duration: 1 / 16000, sample_rate: 16000, voice: 'slt', text: 'AGAIN' },
    ].map((e) => JSON.stringify(e));
    const s = store({ 'manifest.jsonl': lines.join('\n') + '\n', 'manifest.tsv': `${HEADER}\nx\tx.wav\tX\n` });
    const set = await openEvalSet(s);
    expect(set.file).toBe('manifest.jsonl');
    expect(set.utterances.map((u) => [u.id, u.speaker, u.text, u.line])).toEqual([
      ['a', 'en+f3', 'HELLO', 1],
      ['b', 'slt', 'AGAIN', 2],
    ]);
    expect(() => parseJsonlSet('{"id":"a","audio":"a.wav","samples":3,"text":"NO 2"}\n')).toThrow(/manifest\.jsonl: line 1 \(a\): transcript has characters outside/);
    expect(() => parseJsonlSet('not json\n')).toThrow(/manifest\.jsonl: line 1: not valid JSON/);
  });

  it('a plain folder with manifest.tsv', async () => {
    const set = await openEvalSet(store({ 'manifest.tsv': `${HEADER}\nx\tx.wav\tyes\n` }));
    expect(set.file).toBe('manifest.tsv');
    expect(set.utterances).toHaveLength(1);
  });

  it('refuses a folder with neither manifest, an empty set, and names missing audio', async () => {
    await expect(openEvalSet(store({ 'notes.txt': 'hi' }, 'sets/x'))).rejects.toThrow(
      /^sets\/x: neither manifest\.jsonl nor manifest\.tsv here: .*id<TAB>wav_relative_path<TAB>transcript$/,
    );
    await expect(openEvalSet(store({ 'manifest.tsv': `${HEADER}\n` }, 'sets/x'))).rejects.toThrow('sets/x/manifest.tsv lists no utterance: the set is empty');
    await expect(openEvalSet(store({ 'manifest.jsonl': '\n' }))).rejects.toThrow('manifest.jsonl lists no utterance: the set is empty');
    const s = store({ 'manifest.tsv': `${HEADER}\nx\tx.wav\tyes\ny\twav/y.wav\tno\nz\tz.wav\tno\n`, 'x.wav': '' }, 'sets/x');
    const set = await openEvalSet(s);
    await expect(missingAudio(s, set)).rejects.toThrow('sets/x/manifest.tsv line 3 (y): audio wav/y.wav is missing (and 1 more missing)');
    await expect(missingAudio(s, set, set.utterances.slice(0, 1))).resolves.toBeUndefined();
  });
});
