import { describe, expect, it } from 'vitest';
import { cuesFromWords, cuesOf, srtTime, toJson, toSrt, toText } from '../../src/app/pages/transcribe/formats.ts';

const w = (word: string, start: number, end: number) => ({ word, start, end });

describe('transcript formats', () => {
  it('writes SRT times as HH:MM:SS,mmm', () => {
    expect(srtTime(0)).toBe('00:00:00,000');
    expect(srtTime(3725.5)).toBe('01:02:05,500');
    expect(srtTime(59.9996)).toBe('00:01:00,000');
  });

  it('groups words into lines at pauses and at the word limit', () => {
    const words = [w('A', 0, 0.2), w('B', 0.3, 0.5), w('C', 2, 2.2), ...Array.from({ length: 10 }, (_, i) => w(`W${i}`, 3 + i * 0.3, 3.2 + i * 0.3))];
    const cues = cuesFromWords(words);
    expect(cues[0]).toEqual({ start: 0, end: 0.5, text: 'A B' });
    expect(cues[1].text.startsWith('C')).toBe(true);
    expect(cues.flatMap((c) => c.text.split(' '))).toEqual(words.map((x) => x.word));
    expect(cues.every((c) => c.text.split(' ').length <= 8)).toBe(true);
  });

  it('writes numbered SRT cues, text and JSON of segments', () => {
    const segs = [
      { text: 'HELLO WORLD', words: [w('HELLO', 0.1, 0.5), w('WORLD', 0.6, 1)], start: 0.1, end: 1 },
      { text: 'NO WORDS', words: [], start: 2, end: 3 },
    ];
    expect(toSrt(cuesOf(segs))).toBe('1\n00:00:00,100 --> 00:00:01,000\nHELLO WORLD\n\n2\n00:00:02,000 --> 00:00:03,000\nNO WORDS\n');
    expect(toText(segs)).toBe('HELLO WORLD\nNO WORDS\n');
    const j = JSON.parse(toJson(segs, { model: 'm' }));
    expect(j.model).toBe('m');
    expect(j.text).toBe('HELLO WORLD NO WORDS');
    expect(j.segments[0].words[1]).toEqual({ word: 'WORLD', start: 0.6, end: 1 });
  });
});
