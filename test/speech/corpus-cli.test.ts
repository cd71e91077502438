// `lab corpus build` flag checking: every mistake is one clear line (a UsageError), found before any synthesis.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.ts';
import { corpus } from '../../src/cli/commands/corpus.ts';

const run = (line: string) => corpus.run(parseArgs(['build', '--out', join(tmpdir(), 'never-made'), ...line.split(' ').filter(Boolean)]));

describe('corpus build flags', () => {
  const bad: [string, RegExp][] = [
    ['--engines espeak,festival', /unknown engine festival/],
    ['--engines espeak,espeak', /listed twice/],
    ['--engines espeak:0', /weight of "espeak" must be a positive number/],
    ['--text kjv,nosuch', /"nosuch" is neither a text \(kjv, austen, everyday\) nor a file/],
    ['--text kjv --sentences x.txt', /not both/],
    ['--minutes 0', /--minutes must be > 0/],
    ['--count 2.5', /--count must be a whole number/],
    ['--count 3 --minutes 2', /not both/],
    ['--split holdout', /--split is train, dev or test/],
    ['--snr 30:5', /lo <= hi/],
    ['--snr 5:90', /--snr must lie within -10..60 dB/],
    ['--noise white,brown --snr 5:20', /unknown kind brown/],
    ['--noise pink', /--noise needs --snr/],
    ['--reverb 0.2:9', /RT60/],
    ['--drr 0:10', /--drr needs --reverb/],
    ['--telephone 1.5', /probability between 0 and 1/],
    ['--tilt -20:3', /--tilt must lie within -12..12/],
    ['--speed 0.9,3', /between 0.5 and 2/],
    ['--aug-prob 0.5', /needs an augmentation flag/],
    ['--augment yes', /takes no value/],
    ['--min-words 9 --max-words 4', /--min-words must be >= 1 and <= --max-words/],
    ['--rate 20:100', /--rate must lie within 80..450/],
    ['--prefix a/b', /letters, digits/],
    ['--seed -1', /whole number/],
  ];
  for (const [line, msg] of bad) {
    it(`refuses ${line}`, async () => {
      const err = await run(line).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
    });
  }

  it('an unknown voice or a split without voices is one line too (from the builder)', async () => {
    await expect(run('--count 1 --engines pico --voices pico:en-AU')).rejects.toThrow(/^unknown voice pico:en-AU for engines pico$/);
  });

  it("without Pico's language files, says which file is missing and how to get it", async () => {
    const saved = process.env.PICO_LANG_DIR;
    process.env.PICO_LANG_DIR = mkdtempSync(join(tmpdir(), 'no-pico-'));
    try {
      const out = mkdtempSync(join(tmpdir(), 'corpus-cli-'));
      const err = await corpus.run(parseArgs(['build', '--out', out, '--engines', 'pico', '--split', 'test', '--count', '1'])).then(() => null, (e: unknown) => e);
      expect((err as Error).message).toMatch(/^engine file pico\/en-\S+\.bin is missing \(looked for .*no-pico-.*\); install Debian's libttspico-data/);
    } finally {
      if (saved === undefined) delete process.env.PICO_LANG_DIR;
      else process.env.PICO_LANG_DIR = saved;
    }
  }, 60_000);

  it('builds a small held-out engine set and says minutes per engine, voice and text', async () => {
    const out = mkdtempSync(join(tmpdir(), 'corpus-cli-'));
    const res = await corpus.run(parseArgs(['build', '--out', out, '--engines', 'pico', '--text', 'kjv,everyday', '--split', 'test', '--count', '3', '--seed', '5']));
    expect(res.text).toMatch(/by engine:\n {2}pico +3 utterances +[0-9.]+ min {2}\(pico-en-(US|GB) [0-9.]+ min/);
    expect(res.text).toMatch(/by text:\n/);
    expect(res.text).toMatch(/no phone alignments from pico/);
    const info = JSON.parse(readFileSync(join(out, 'corpus.json'), 'utf8'));
    expect(info.textSources).toEqual(['kjv', 'everyday']);
    expect(info.utterances).toBe(3);
  }, 60_000);
});
