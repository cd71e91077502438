import { describe, expect, it } from 'vitest';
import { importCorpus, timitPhones, type SourceFile } from '../../src/speech/import.ts';
import { MANIFEST_FILE, parseManifest, validateCorpus } from '../../src/speech/manifest.ts';
import { MemoryStore } from '../../src/speech/store.ts';
import { encodeFlac, makeSphere, makeWav, testSignal } from './fixtures.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const manifestOf = (s: MemoryStore) => parseManifest(new TextDecoder().decode(s.files.get(MANIFEST_FILE))).entries;
const flac = (n: number, seed: number, rate = 16000) => encodeFlac([testSignal(n, 16, seed)], { sampleRate: rate, bps: 16, kinds: ['lpc', 'fixed2'] });

describe('LibriSpeech import', () => {
  it('imports good utterances and reports each bad file by name', async () => {
    const good = flac(8000, 1);
    const corrupt = good.slice();
    corrupt[Math.floor(corrupt.length / 2)] ^= 0x5a;
    const files: SourceFile[] = [
      { path: 'train-clean-5/19/198/19-198.trans.txt', bytes: enc('19-198-0000 NORTHANGER ABBEY\n19-198-0001 IT WAS A DARK NIGHT\n19-198-0002 MISSING AUDIO HERE\n19-198-0003 TRUNCATED ONE\n19-198-0004 CORRUPT ONE\n19-198-0005 ROOM 101\n') },
      { path: 'train-clean-5/19/198/19-198-0000.flac', bytes: good },
      { path: 'train-clean-5/19/198/19-198-0001.flac', read: async () => flac(5000, 2, 44100) },
      { path: 'train-clean-5/19/198/19-198-0003.flac', bytes: good.subarray(0, 600) },
      { path: 'train-clean-5/19/198/19-198-0004.flac', bytes: corrupt },
      { path: 'train-clean-5/19/198/19-198-0005.flac', bytes: good },
      { path: 'train-clean-5/19/198/19-198-0009.flac', bytes: good },
      { path: 'train-clean-5/19/198/19-198-0010.flac', bytes: new Uint8Array(0) },
    ];
    const store = new MemoryStore();
    const s = await importCorpus(files, 'librispeech', store);
    expect(s.imported).toBe(2);
    expect(s.skipped).toBe(6);
    const msg = s.problems.map((p) => `${p.file}: ${p.problem}`).join('\n');
    expect(msg).toMatch(/19-198.trans.txt:3: no audio 19-198-0002.flac/);
    expect(msg).toMatch(/19-198-0003.flac: cannot decode audio: .*truncated/);
    expect(msg).toMatch(/19-198-0004.flac: cannot decode audio/);
    expect(msg).toMatch(/19-198-0005.flac: transcript has characters outside/);
    expect(msg).toMatch(/19-198-0009.flac: no transcript line/);
    expect(msg).toMatch(/19-198-0010.flac: no transcript line/);
    const es = manifestOf(store);
    expect(es.map((e) => [e.id, e.speaker, e.split, e.text])).toEqual([
      ['19-198-0000', '19', 'train', 'NORTHANGER ABBEY'],
      ['19-198-0001', '19', 'train', 'IT WAS A DARK NIGHT'],
    ]);
    expect(es[0].samples).toBe(8000);
    expect(es[1].samples).toBe(Math.ceil((5000 * 16000) / 44100));
    expect((await validateCorpus(async (p) => store.files.get(p))).problems).toEqual([]);
  });
});

describe('TIMIT import', () => {
  it('reads SPHERE/RIFF audio, transcripts and sample-exact phones folded onto the inventory', async () => {
    const n = 9000;
    const phn = '0 1000 h#\n1000 1800 sh\n1800 2600 iy\n2600 2700 q\n2700 3400 hv\n3400 3900 ae\n3900 4300 dcl\n4300 4600 d\n4600 8900 ix\n8900 9000 h#\n';
    const files: SourceFile[] = [
      { path: 'TIMIT/TRAIN/DR1/FCJF0/SA1.WAV', bytes: makeSphere(testSignal(n, 16, 3)) },
      { path: 'TIMIT/TRAIN/DR1/FCJF0/SA1.TXT', bytes: enc('0 9000 She had your dark suit.\n') },
      { path: 'TIMIT/TRAIN/DR1/FCJF0/SA1.PHN', bytes: enc(phn) },
      { path: 'TIMIT/TEST/DR2/MABC0/SX1.wav', bytes: makeWav([testSignal(4000, 16, 4)], 16000, 'i16') },
      { path: 'TIMIT/TEST/DR2/MABC0/SX1.txt', bytes: enc('0 4000 Greasy wash water.') },
      { path: 'TIMIT/TEST/DR2/MABC0/SX2.wav', bytes: makeWav([testSignal(4000, 16, 5)], 16000, 'i16') },
      { path: 'TIMIT/TEST/DR2/MABC0/SX3.WAV', bytes: enc('not audio at all, just text pretending') },
      { path: 'TIMIT/TEST/DR2/MABC0/SX3.TXT', bytes: enc('0 100 Hello.') },
    ];
    const store = new MemoryStore();
    const s = await importCorpus(files, 'timit', store);
    expect(s.imported).toBe(2);
    expect(s.skipped).toBe(2);
    const msg = s.problems.map((p) => `${p.file}: ${p.problem}`).join('\n');
    expect(msg).toMatch(/SX2.wav: missing transcript/);
    expect(msg).toMatch(/SX3.WAV: cannot decode audio: unknown audio format/);
    expect(msg).toMatch(/SX1.wav: no .phn file; imported without phones/);
    const [a, b] = manifestOf(store);
    expect(a).toMatchObject({ id: 'fcjf0_sa1', speaker: 'FCJF0', split: 'train', text: 'SHE HAD YOUR DARK SUIT', samples: n });
    const t = (x: number) => x / 16000;
    expect(a.phones).toEqual([
      ['sil', 0, t(1000)], ['sh', t(1000), t(1800)], ['iy', t(1800), t(2700)], ['hh', t(2700), t(3400)], ['ae', t(3400), t(3900)],
      ['sil', t(3900), t(4300)], ['d', t(4300), t(4600)], ['ih', t(4600), t(8900)], ['sil', t(8900), t(9000)],
    ]);
    expect(b).toMatchObject({ id: 'mabc0_sx1', split: 'test', text: 'GREASY WASH WATER' });
    expect(b.phones).toBeUndefined();
    expect((await validateCorpus(async (p) => store.files.get(p))).problems).toEqual([]);
  });
  it('tiles [0, n) even when labels stop short or leave gaps', () => {
    const { phones } = timitPhones([['sh', 100, 200], ['iy', 250, 300]], 16000, 400);
    expect(phones.map((p) => p[0])).toEqual(['sil', 'sh', 'sil', 'iy', 'sil']);
    expect(phones[0][1]).toBe(0);
    expect(phones[phones.length - 1][2]).toBe(400 / 16000);
  });
});

describe('folder import', () => {
  it('matches a TSV (with header) to audio and reports bad entries', async () => {
    const files: SourceFile[] = [
      { path: 'clips/a.wav', bytes: makeWav([testSignal(3000, 16, 7), testSignal(3000, 16, 8)], 48000, 'i24') },
      { path: 'clips/b.flac', bytes: flac(2000, 9, 16000) },
      { path: 'clips/c.wav', bytes: new Uint8Array(0) },
      { path: 'clips/d.wav', bytes: makeWav([testSignal(300, 16, 1)], 16000, 'i16') },
      { path: 'clips/e.wav', bytes: makeWav([testSignal(300, 16, 1)], 16000, 'f32') },
      { path: 'clips/f.mp3', bytes: enc('ID3...') },
      { path: 'transcripts.tsv', bytes: enc('path\tsentence\tclient_id\na.wav\tHello, world!\tspk1\nclips/b.flac\tIt’s fine\tspk2\nc.wav\tEmpty file\tspk3\nd.wav\t\tspk4\nzzz.wav\tNo audio\tspk5\n') },
    ];
    const store = new MemoryStore();
    const s = await importCorpus(files, 'folder', store);
    expect(s.imported).toBe(2);
    const msg = s.problems.map((p) => `${p.file}: ${p.problem}`).join('\n');
    expect(msg).toMatch(/clips\/c.wav: cannot decode audio: empty file/);
    expect(msg).toMatch(/clips\/d.wav: missing transcript/);
    expect(msg).toMatch(/clips\/e.wav: missing transcript \(not listed/);
    expect(msg).toMatch(/clips\/f.mp3: unknown audio format/);
    expect(msg).toMatch(/transcripts.tsv:6: no audio file for "zzz.wav"/);
    expect(s.skipped).toBe(5);
    const es = manifestOf(store);
    expect(es.map((e) => [e.speaker, e.text, e.samples])).toEqual([['spk1', 'HELLO WORLD', 1000], ['spk2', "IT'S FINE", 2000]]);
    expect((await validateCorpus(async (p) => store.files.get(p))).problems).toEqual([]);
  });
});
