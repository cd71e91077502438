import { describe, expect, it } from 'vitest';
import { freshSeed, seeded } from '../../src/kernels/random.ts';
import { makeBatches, padBatch, padLabels } from '../../src/speech/batching.ts';
import { PHONES, PHONE_COUNT, foldTo39, fromEspeak, fromTimit, phoneIndex } from '../../src/speech/phones.ts';
import { BLANK, VOCAB, VOCAB_SIZE, ctcCollapse, decodeIds, encodeText, isNormalised, normaliseTranscript } from '../../src/speech/vocab.ts';

const seed = freshSeed();

describe('character vocabulary', () => {
  it('has blank = 0, then |, A-Z, apostrophe (29)', () => {
    expect(VOCAB_SIZE).toBe(29);
    expect(VOCAB[BLANK]).toBe('<blank>');
    expect(VOCAB[1]).toBe('|');
    expect(VOCAB[2]).toBe('A');
    expect(VOCAB[27]).toBe('Z');
    expect(VOCAB[28]).toBe("'");
  });
  it('normalises text and reports characters outside the alphabet', () => {
    expect(normaliseTranscript("  And God said, Let there be light: and it's — so!  ")).toEqual({ text: "AND GOD SAID LET THERE BE LIGHT AND IT'S SO", bad: [] });
    expect(normaliseTranscript('Room 101 café').bad.sort()).toEqual(['0', '1', 'É'].sort());
    expect(isNormalised("IT'S A DOG")).toBe(true);
    expect(isNormalised('it is')).toBe(false);
    expect(isNormalised('A  B')).toBe(false);
  });
  it('encodes and decodes, and collapses CTC paths', () => {
    const ids = encodeText("HE'S OK");
    expect(Array.from(ids)).toEqual([9, 6, 28, 20, 1, 16, 12]);
    expect(decodeIds(ids)).toBe("HE'S OK");
    expect(ctcCollapse([0, 9, 9, 0, 6, 6, 1, 1, 0, 13, 0, 13])).toBe('HE LL');
    expect(() => encodeText('A1')).toThrow(/outside/);
  });
});

describe('phone inventory', () => {
  const TIMIT61 = 'aa ae ah ao aw ax ax-h axr ay b bcl ch d dcl dh dx eh el em en eng epi er ey f g gcl h# hh hv ih ix iy jh k kcl l m n ng nx ow oy p pau pcl q r s sh t tcl th uh uw ux v w y z zh'.split(' ');
  it('has 40 phones plus silence', () => {
    expect(PHONE_COUNT).toBe(41);
    expect(new Set(PHONES).size).toBe(41);
    expect(phoneIndex('sil')).toBe(0);
  });
  it('maps all 61 TIMIT labels (q removed) and folds to 39 for scoring', () => {
    expect(TIMIT61.length).toBe(61);
    for (const l of TIMIT61) {
      const p = fromTimit(l);
      if (l === 'q') expect(p).toBeNull();
      else expect(PHONES, l).toContain(p);
    }
    expect(new Set(TIMIT61.map(fromTimit).filter((p): p is string => !!p)).size).toBe(41);
    expect(new Set(TIMIT61.map(fromTimit).filter((p): p is string => !!p).map(foldTo39)).size).toBe(39);
    expect(fromTimit('xx')).toBeUndefined();
  });
  it('maps espeak-ng IPA mnemonics', () => {
    expect(fromEspeak('ˈeɪ')).toEqual(['ey']);
    expect(fromEspeak('ɑːɹ')).toEqual(['aa', 'r']);
    expect(fromEspeak('ɪə')).toEqual(['ih', 'ah']);
    expect(fromEspeak('')).toEqual(['sil']);
    expect(fromEspeak('ʔ')).toEqual([]);
    expect(fromEspeak('ɡ')).toEqual(['g']);
    expect(fromEspeak('tʃ')).toEqual(['ch']);
    expect(fromEspeak('ʘ')).toBeNull();
  });
});

describe('batching', () => {
  const rand = seeded(seed);
  const lengths = Array.from({ length: 500 }, () => 1 + Math.floor(rand() * 400));
  lengths.push(0, 5000);
  it('covers every batchable utterance once, respects the frame cap, and is deterministic per (seed, epoch)', () => {
    const a = makeBatches(lengths, { maxFrames: 1000, seed, epoch: 3, bucket: 64 });
    expect(a.dropped.sort((x, y) => x - y)).toEqual([500, 501]);
    const seen = a.batches.flatMap((b) => b.indices).sort((x, y) => x - y);
    expect(seen, `seed ${seed}`).toEqual(Array.from({ length: 500 }, (_, i) => i));
    for (const b of a.batches) {
      expect(b.indices.length * b.maxLen).toBeLessThanOrEqual(1000);
      expect(b.maxLen).toBe(Math.max(...b.indices.map((i) => lengths[i])));
    }
    expect(makeBatches(lengths, { maxFrames: 1000, seed, epoch: 3, bucket: 64 })).toEqual(a);
    expect(makeBatches(lengths, { maxFrames: 1000, seed, epoch: 4, bucket: 64 }).batches).not.toEqual(a.batches);
    // bucketing keeps padding low compared with random batches of the same count
    const pad = a.batches.reduce((s, b) => s + b.indices.length * b.maxLen - b.lengths.reduce((x, y) => x + y, 0), 0);
    const real = lengths.slice(0, 500).reduce((x, y) => x + y, 0);
    expect(pad / real, `seed ${seed}`).toBeLessThan(0.25);
  });
  it('pads features and labels with masks', () => {
    const p = padBatch([new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6])], 2);
    expect(p.b).toBe(2);
    expect(p.l).toBe(2);
    expect(Array.from(p.data)).toEqual([1, 2, 3, 4, 5, 6, 0, 0]);
    expect(Array.from(p.mask)).toEqual([1, 1, 1, 0]);
    expect(Array.from(p.lengths)).toEqual([2, 1]);
    const l = padLabels([Int32Array.from([3, 4, 5]), Int32Array.from([7])]);
    expect(Array.from(l.data)).toEqual([3, 4, 5, 7, 0, 0]);
    expect(Array.from(l.lengths)).toEqual([3, 1]);
  });
});
