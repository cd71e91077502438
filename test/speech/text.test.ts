import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { everydaySentence, everydaySentences, everydaySplit } from '../../src/speech/text/everyday.ts';
import { cardinal, clockTime, date, digits, money, ordinal, year } from '../../src/speech/text/numbers.ts';
import { TEXT_FILES, everydaySource, lineSource, sentenceSplit } from '../../src/speech/text/sources.ts';
import { rng } from '../../src/speech/rng.ts';
import { normaliseTranscript } from '../../src/speech/vocab.ts';

const file = (name: string) => readFileSync(new URL(`../../data/${name}`, import.meta.url), 'utf8');

describe('text sources', () => {
  it('numbers, dates, times and amounts in words', () => {
    expect(cardinal(0)).toBe('zero');
    expect(cardinal(42)).toBe('forty two');
    expect(cardinal(342)).toBe('three hundred forty two');
    expect(cardinal(342, { and: true })).toBe('three hundred and forty two');
    expect(cardinal(1_000_005, { and: true })).toBe('one million and five');
    expect(cardinal(21_512)).toBe('twenty one thousand five hundred twelve');
    expect(cardinal(-7)).toBe('minus seven');
    expect([1, 2, 3, 5, 8, 9, 12, 20, 21, 40, 100].map(ordinal)).toEqual(
      ['first', 'second', 'third', 'fifth', 'eighth', 'ninth', 'twelfth', 'twentieth', 'twenty first', 'fortieth', 'one hundredth']);
    expect([1986, 2005, 1900, 2024, 1805].map(year)).toEqual(
      ['nineteen eighty six', 'two thousand five', 'nineteen hundred', 'twenty twenty four', 'eighteen oh five']);
    expect(digits('5550', 'oh')).toBe('five five five oh');
    expect(clockTime(19, 30, 1)).toBe('half past seven');
    expect(clockTime(8, 45, 1)).toBe('a quarter to nine');
    expect(clockTime(7, 5, 2)).toBe('seven oh five a m');
    expect(clockTime(12, 0, 3)).toBe('noon');
    expect(clockTime(15, 0, 0)).toBe("three o'clock");
    expect(date(2, 3, 1)).toBe('the third of March');
    expect(() => date(1, 30, 0)).toThrow();
    expect(money(42, 50)).toBe('forty two dollars and fifty cents');
    expect(money(1, 1)).toBe('one dollar and one cent');
  });

  it('the everyday grammar: tens of thousands of distinct, clean sentences, the same for the same seed', () => {
    const s = everydaySentences(30000);
    expect(s.length).toBe(30000);
    const norm = s.map((x) => normaliseTranscript(x));
    expect(s.filter((_, i) => norm[i].bad.length)).toEqual([]);
    expect(new Set(norm.map((n) => n.text)).size).toBe(30000);
    expect(s.some((x) => /\d/.test(x))).toBe(false);
    expect(everydaySentences(500)).toEqual(s.slice(0, 500));
    expect(everydaySentences(500, 2)).not.toEqual(s.slice(0, 500));
    const words = new Set(norm.flatMap((n) => n.text.split(' ')));
    expect(words.size).toBeGreaterThan(1200);
    // the families are all there: commands, questions, numbers, names, conversation
    for (const re of [/^TURN (ON|OFF) /, /^WHAT TIME DOES /, / DOLLARS/, /^MY FLIGHT LEAVES /, /^I WAS BORN ON /, /O'CLOCK/, /^THANKS SO MUCH /]) {
      expect(norm.some((n) => re.test(n.text)), String(re)).toBe(true);
    }
    const r = rng(5);
    for (let i = 0; i < 2000; i++) expect(normaliseTranscript(everydaySentence(r)).bad).toEqual([]);
  });

  it('everyday splits depend on the words alone, about 8:1:1, so no sentence is in two splits', () => {
    const src = everydaySource(20000);
    const count = { train: 0, dev: 0, test: 0 };
    const byText = new Map<string, string>();
    src.sentences.forEach((s, i) => {
      const sp = src.split(i);
      count[sp]++;
      expect(sp).toBe(everydaySplit(s));
      const k = normaliseTranscript(s).text;
      expect(byText.get(k) ?? sp).toBe(sp);
      byText.set(k, sp);
    });
    expect(count.test / 20000).toBeGreaterThan(0.08);
    expect(count.test / 20000).toBeLessThan(0.12);
    expect(count.dev / 20000).toBeGreaterThan(0.08);
    expect(count.dev / 20000).toBeLessThan(0.12);
    // the same words written differently fall in the same split
    expect(everydaySplit('Call me at nine.')).toBe(everydaySplit('call me at nine'));
  });

  it('the committed texts are clean, modest in size, and split by line', () => {
    for (const [name, f] of Object.entries(TEXT_FILES)) {
      const src = lineSource(name, file(f));
      expect(src.sentences.length, name).toBeGreaterThan(5000);
      expect(src.sentences.filter((s) => normaliseTranscript(s).bad.length), name).toEqual([]);
      expect(src.split(10)).toBe('test');
      expect(src.split(11)).toBe('dev');
      expect(src.split(12)).toBe('train');
      expect(sentenceSplit(30)).toBe('test');
    }
    const austen = lineSource('austen', file('austen-sentences.txt')).sentences;
    expect(new Set(austen.map((s) => normaliseTranscript(s).text)).size).toBe(austen.length);
    expect(austen.every((s) => { const n = s.split(' ').length; return n >= 3 && n <= 14; })).toBe(true);
  });
});
