// Corpus paths that must never lose a user's data or hang (issue 14, classes 1 and 6): imports and builds into a
// folder that already holds something add to it or refuse in one line, writes are atomic, the corpus command's
// options go through the shared parser, and folderStore reads only regular files inside the corpus folder.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/cli/args.ts';
import { CORPUS_FLAGS, corpus, folderStore, tempNameOf } from '../../src/cli/commands/corpus.ts';
import { lab } from '../../src/cli/lab.ts';
import { importCorpus } from '../../src/speech/import.ts';
import { MANIFEST_FILE, parseManifest } from '../../src/speech/manifest.ts';
import { encodeWav16 } from '../../src/speech/wav.ts';

const root = mkdtempSync(join(tmpdir(), 'corpus-safety-'));
let n = 0;
const fresh = (name: string) => {
  const d = join(root, `${name}-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};
afterAll(() => execFileSync('rm', ['-rf', root]));

/** Every file under `dir` with its bytes (to assert that nothing changed). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const it of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, it.name);
      if (it.isDirectory()) walk(p, `${rel}${it.name}/`);
      else if (it.isFile()) out[`${rel}${it.name}`] = readFileSync(p).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

/** Run `lab ...args`: exit code and what it printed. */
async function runLab(...args: string[]): Promise<{ code: number; out: string; err: string; ms: number }> {
  let out = '', err = '';
  const t0 = Date.now();
  const code = await lab(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err, ms: Date.now() - t0 };
}

const tone = (seconds: number, f: number) => {
  const x = new Float32Array(Math.round(seconds * 16000));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * f * i) / 16000);
  return encodeWav16(x, 16000);
};

/** A source folder in the `folder` import layout: WAVs and a TSV naming them. */
function folderSource(rows: [string, string][]): string {
  const d = fresh('src');
  for (const [name] of rows) writeFileSync(join(d, `${name}.wav`), tone(0.3, 200 + name.length * 40));
  writeFileSync(join(d, 'list.tsv'), rows.map(([name, text]) => `${name}.wav\t${text}`).join('\n') + '\n');
  return d;
}

const manifestIds = (dir: string) => parseManifest(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).entries.map((e) => e.id).sort();

describe('corpus import into a folder that holds a corpus', () => {
  it('adds to it, merged by id; a rerun of the same source changes no entry', async () => {
    const out = join(fresh('imp'), 'corpus');
    const a = folderSource([['alpha', 'one two three'], ['beta', 'four five']]);
    const b = folderSource([['gamma', 'six seven'], ['delta', 'eight']]);
    const r1 = await runLab('corpus', 'import', '--format', 'folder', a, '--out', out);
    expect(r1.code, r1.err).toBe(0);
    expect(manifestIds(out)).toEqual(['alpha', 'beta']);
    const r2 = await runLab('corpus', 'import', '--format', 'folder', b, '--out', out, '--json');
    expect(r2.code, r2.err).toBe(0);
    expect(JSON.parse(r2.out)).toMatchObject({ imported: 2, kept: 2, utterances: 4 });
    expect(manifestIds(out)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const before = snapshot(out);
    const r3 = await runLab('corpus', 'import', '--format', 'folder', a, '--out', out);
    expect(r3.code, r3.err).toBe(0);
    expect(manifestIds(out)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    const after = snapshot(out);
    for (const k of Object.keys(before)) if (k !== 'corpus.json' && k !== MANIFEST_FILE) expect(after[k], k).toBe(before[k]);
    expect((await runLab('corpus', 'validate', out)).code).toBe(0);
  });

  it('refuses an id that is already there with other content, in one line, changing nothing', async () => {
    const out = join(fresh('imp'), 'corpus');
    expect((await runLab('corpus', 'import', '--format', 'folder', folderSource([['alpha', 'one two three']]), '--out', out)).code).toBe(0);
    const before = snapshot(out);
    const clash = folderSource([['alpha', 'something else entirely'], ['omega', 'new words']]);
    const r = await runLab('corpus', 'import', '--format', 'folder', clash, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^lab: id alpha is already in the output folder's manifest\.jsonl with other content \(transcript\); import into a new folder\n$/);
    expect(snapshot(out)).toEqual(before);
  });

  it('importing nothing exits 1 with a message and writes nothing', async () => {
    const out = join(fresh('imp'), 'corpus');
    expect((await runLab('corpus', 'import', '--format', 'folder', folderSource([['alpha', 'one two']]), '--out', out)).code).toBe(0);
    const before = snapshot(out);
    const empty = fresh('empty-src');
    writeFileSync(join(empty, 'notes.txt'), 'nothing here');
    const r = await runLab('corpus', 'import', '--format', 'folder', empty, '--out', out);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^corpus import: nothing imported from .*empty-src.* as folder; 1 problem, first: \(source\): no \.tsv transcript file/);
    expect(snapshot(out)).toEqual(before);
    // into a new folder: nothing is left there either
    const out2 = join(fresh('imp'), 'new');
    expect((await runLab('corpus', 'import', '--format', 'librispeech', empty, '--out', out2)).code).toBe(1);
    expect(existsSync(join(out2, MANIFEST_FILE))).toBe(false);
  });

  it('refuses to import into a synthetic corpus, or over a manifest with damaged lines', async () => {
    const src = folderSource([['alpha', 'one two']]);
    const syn = fresh('syn');
    writeFileSync(join(syn, 'corpus.json'), JSON.stringify({ kind: 'synthetic', key: 'x' }));
    writeFileSync(join(syn, MANIFEST_FILE), '');
    const before = snapshot(syn);
    const r = await runLab('corpus', 'import', '--format', 'folder', src, '--out', syn);
    expect([r.code, r.err]).toEqual([1, 'lab: the output folder holds a synthetic corpus (corpus build); import into a new folder, not into it\n']);
    expect(snapshot(syn)).toEqual(before);
    const bad = fresh('bad');
    writeFileSync(join(bad, MANIFEST_FILE), '{"id":"x","audio":"wav/x.wav","samples":1,"text":"A"}\nnot json\n');
    const before2 = snapshot(bad);
    const r2 = await runLab('corpus', 'import', '--format', 'folder', src, '--out', bad);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/^lab: the output folder's manifest\.jsonl has lines that are not entries \(line 2: not valid JSON\); fix it or import into a new folder\n$/);
    expect(snapshot(bad)).toEqual(before2);
  });

  it('refuses --out inside the source, and a missing --format or source, in one line', async () => {
    const src = folderSource([['alpha', 'one two']]);
    const before = snapshot(src);
    const r = await runLab('corpus', 'import', '--format', 'folder', src, '--out', join(src, 'corpus'));
    expect([r.code, r.err]).toEqual([2, `lab: --out ${join(src, 'corpus')} lies inside the source folder ${src}; choose a folder outside it\n`]);
    const r2 = await runLab('corpus', 'import', '--format', 'folder', src, '--out', src);
    expect(r2.code).toBe(2);
    expect(snapshot(src)).toEqual(before);
    const r3 = await runLab('corpus', 'import', src, '--out', fresh('o'));
    expect([r3.code, r3.err]).toEqual([2, 'lab: --format is needed\n']);
    const r4 = await runLab('corpus', 'import', '--format', 'timit', '--out', fresh('o'));
    expect([r4.code, r4.err]).toEqual([2, 'lab: corpus import needs a source folder\n']);
  });

  it('transcripts: UTF-16 with a byte-order mark is read; without one, or Latin-1, is a problem naming the file (no NULs)', async () => {
    const src = folderSource([['alpha', 'one two']]);
    writeFileSync(join(src, 'list.tsv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('alpha.wav\tone two\n', 'utf16le')]));
    const out = join(fresh('imp'), 'c');
    const r = await runLab('corpus', 'import', '--format', 'folder', src, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(parseManifest(readFileSync(join(out, MANIFEST_FILE), 'utf8')).entries.map((e) => e.text)).toEqual(['ONE TWO']);
    writeFileSync(join(src, 'list.tsv'), Buffer.from('alpha.wav\tone two\n', 'utf16le'));
    const r2 = await runLab('corpus', 'import', '--format', 'folder', src, '--out', join(fresh('imp'), 'c'));
    expect(r2.code).toBe(1);
    expect(r2.out).toContain('list.tsv: holds NUL bytes (UTF-16 without a byte-order mark, or not text); save it as UTF-8 text');
    expect(r2.out).not.toContain('\0');
    writeFileSync(join(src, 'list.tsv'), Buffer.from('alpha.wav\tcaf\xe9 ol\xe9\n', 'latin1'));
    const r3 = await runLab('corpus', 'import', '--format', 'folder', src, '--out', join(fresh('imp'), 'c'));
    expect(r3.code).toBe(1);
    expect(r3.out).toContain('list.tsv: is not UTF-8 text (Latin-1 or another encoding?); save it as UTF-8');
  });

  it('the library leaves a store untouched when nothing is imported', async () => {
    const store = folderStore(fresh('lib'));
    const s = await importCorpus([], 'folder', store);
    expect([s.imported, s.utterances]).toEqual([0, 0]);
    expect(await store.read(MANIFEST_FILE)).toBeUndefined();
    expect(await store.read('corpus.json')).toBeUndefined();
  });
});

describe('corpus build into a folder that holds something', () => {
  it("refuses a manifest.jsonl it did not make, or another tool's corpus.json, changing nothing", async () => {
    const dir = fresh('foreign');
    writeFileSync(join(dir, MANIFEST_FILE), '{"id":"mine","audio":"wav/mine.wav","samples":16000,"text":"HELLO"}\n');
    const before = snapshot(dir);
    const r = await runLab('corpus', 'build', '--out', dir, '--count', '1');
    expect(r.code).toBe(1);
    expect(r.err).toBe("lab: the output folder holds a manifest.jsonl that corpus build did not make (no corpus.json with these options); use a new --out\n");
    expect(snapshot(dir)).toEqual(before);
    writeFileSync(join(dir, 'corpus.json'), JSON.stringify({ kind: 'import', imported: 1 }));
    const before2 = snapshot(dir);
    const r2 = await runLab('corpus', 'build', '--out', dir, '--count', '1');
    expect(r2.err).toBe('lab: the output folder holds a corpus that corpus build did not make (kind "import"); use a new --out\n');
    expect(snapshot(dir)).toEqual(before2);
    writeFileSync(join(dir, 'corpus.json'), '{ not json');
    const r3 = await runLab('corpus', 'build', '--out', dir, '--count', '1');
    expect([r3.code, r3.err]).toEqual([1, 'lab: the output folder has a corpus.json that is not valid JSON (not made by corpus build?); use a new --out\n']);
  });

  it('a smaller rerun is refused (no shrunk manifest, no unlisted WAVs); the same count resumes', async () => {
    const dir = fresh('shrink');
    const r1 = await runLab('corpus', 'build', '--out', dir, '--count', '3', '--max-words', '5');
    expect(r1.code, r1.err).toBe(0);
    const before = snapshot(dir);
    const r2 = await runLab('corpus', 'build', '--out', dir, '--count', '2', '--max-words', '5');
    expect([r2.code, r2.err]).toEqual([1, 'lab: the output folder already holds 3 utterances, more than this build makes; it would be left out of the manifest: use a new --out, or the same --count or a larger one\n']);
    expect(snapshot(dir)).toEqual(before);
    const r3 = await runLab('corpus', 'build', '--out', dir, '--minutes', '0.01', '--max-words', '5');
    expect(r3.code).toBe(1);
    expect(r3.err).toMatch(/^lab: the output folder already holds 3 utterances reaching past 0\.01 min, more than this build makes; .* the same --minutes or a larger one\n$/);
    expect(snapshot(dir)).toEqual(before);
    const r4 = await runLab('corpus', 'build', '--out', dir, '--count', '3', '--max-words', '5', '--json');
    expect(r4.code, r4.err).toBe(0);
    expect(JSON.parse(r4.out)).toMatchObject({ utterances: 3, made: 0, reused: 3 });
    expect(manifestIds(dir)).toHaveLength(3);
    expect(readdirSync(join(dir, 'wav'))).toHaveLength(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 60_000);
});

describe('--out and --sentences are checked first', () => {
  it('corpus build --out /proc/1/nope/x fails in seconds with one line', async () => {
    const r = await runLab('corpus', 'build', '--out', '/proc/1/nope/x', '--count', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^lab: --out \/proc\/1\/nope\/x: cannot create \/proc\/1\/nope: [^\n]+\n$/);
    expect(r.ms).toBeLessThan(5000);
  });

  it('a file where the folder should be, and import --out the same way', async () => {
    const f = join(fresh('file'), 'plain');
    writeFileSync(f, 'x');
    const r = await runLab('corpus', 'build', '--out', f, '--count', '1');
    expect([r.code, r.err]).toEqual([1, `lab: --out ${f}: is a file, not a folder (choose a folder)\n`]);
    const r2 = await runLab('corpus', 'import', '--format', 'folder', folderSource([['a', 'b c']]), '--out', join(f, 'sub'));
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/is a file, not a folder \(check the path\)\n$/);
    expect(readFileSync(f, 'utf8')).toBe('x');
  });

  it('--sentences: a pipe is refused at once, a missing file in one line, UTF-16 without a mark refused', async () => {
    const d = fresh('sent');
    const fifo = join(d, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const out = join(d, 'out');
    const r = await runLab('corpus', 'build', '--out', out, '--sentences', fifo, '--count', '1');
    expect([r.code, r.err]).toEqual([1, `lab: --sentences ${fifo}: not a regular file (a pipe, socket or device; give a file)\n`]);
    const r2 = await runLab('corpus', 'build', '--out', out, '--sentences', join(d, 'missing.txt'));
    expect([r2.code, r2.err]).toEqual([1, `lab: --sentences ${join(d, 'missing.txt')}: no such file (check the path)\n`]);
    const u16 = join(d, 'u16.txt');
    writeFileSync(u16, Buffer.from('hello there world\n', 'utf16le'));
    const r3 = await corpus.run(parseArgs(['build', '--out', out, '--sentences', u16, '--count', '1'])).then(() => null, (e: unknown) => e);
    expect((r3 as Error).message).toMatch(/u16\.txt: looks like UTF-16 text without a byte-order mark; save it as UTF-8 text$/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the corpus command declares its options (shared parser)', () => {
  const parse = (...a: string[]) => parseArgs(a, CORPUS_FLAGS, { command: 'corpus', maxPositionals: 2 });
  it('options that may take a value or none', () => {
    expect(parse('build', '--telephone', '--out', 'x').flags.telephone).toBe(true);
    expect(parse('build', '--out', 'x', '--telephone').flags.telephone).toBe(true);
    expect(parse('build', '--telephone', '0.3').flags.telephone).toBe('0.3');
    expect(parse('build', '--telephone=0.25').flags.telephone).toBe('0.25');
    expect(parse('build', '--speed', '--reverb', '--tilt', '-3:3', '--snr').flags).toMatchObject({ speed: true, reverb: true, tilt: '-3:3', snr: true });
    expect(parse('build', '--speed', '0.9,1.1').flags.speed).toBe('0.9,1.1');
    expect(parse('build', '--augment').flags.augment).toBe(true);
  });
  it('accepts every documented command line (README, public/*/README, usage)', () => {
    const lines = [
      'build --out public/heldout --engines pico --text kjv,everyday --split test --count 70 --max-words 6 --seed 2027 --prefix heldout --pad 0.05:0.1',
      'build --out public/eval --count 100 --split test --max-words 7 --seed 2026 --prefix eval --pad 0.05:0.15',
      'build --out .corpus/train10h --minutes 600 --seed 1 --engines espeak,flite --text kjv,austen,everyday --max-words 20 --augment',
      'build --out d --minutes 1 --engines espeak:2,flite,pico --voices en-us,flite:slt --min-words 3 --rate 130:210 --pitch 25:75 --range 30:80',
      'build --out d --count 5 --aug-prob 0.7 --speed 0.9,1,1.1 --gain -6:6 --snr 5:30 --noise white,pink,babble --reverb 0.2:0.9 --drr 0:12 --reverb-prob 0.3 --telephone 0.15 --tilt -3:3 --tilt-prob 0.3 --json',
      'build --out d --count 5 --sentences my.txt',
      'import --format librispeech SRC --out DIR --json',
      'validate DIR --json',
    ];
    for (const l of lines) expect(() => parse(...l.split(' ')), l).not.toThrow();
  });
  const bad: [string[], RegExp][] = [
    [['build', '--telephone', '1.5'], /^--telephone needs a number >= 0 and <= 1, not 1\.5$/],
    [['build', '--speed', ','], /^--speed needs a comma-separated list with at least one item/],
    [['build', '--augment=yes'], /^corpus: --augment is a switch and takes no value/],
    [['build', '--jsn'], /^corpus: unknown option --jsn \(did you mean --json\?\)/],
    [['build', '--out'], /^corpus: --out needs a value$/],
    [['build', '--count', '0'], /^--count needs an integer >= 1/],
    [['build', '--split', 'holdout'], /^--split "holdout" is not one of train, dev, test$/],
    [['build', '--format', 'timit'], /^corpus: --format does not apply to build; it is for import$/],
    [['validate', 'x', '--out', 'y'], /^corpus: --out does not apply to validate/],
    [['import', '--format', 'mp3'], /^--format "mp3" is not one of librispeech, timit, folder/],
  ];
  for (const [argv, msg] of bad) {
    it(`refuses ${argv.join(' ')}`, () => {
      let err: unknown;
      try {
        parse(...argv);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
    });
  }
  it('through lab: exit 2, one line', async () => {
    const y = await runLab('corpus', 'build', '--augment', 'yes', '--out', fresh('u'));
    expect([y.code, y.err]).toEqual([2, 'lab: corpus: unexpected argument "yes" (build takes only options)\n']);
    const r = await runLab('corpus', 'build', '--out', fresh('u'), '--jsn');
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toHaveLength(2);
  });
});

describe('folderStore', () => {
  it('writes through a temporary name and a rename: a failed (or killed) write leaves the old file whole', async () => {
    const dir = fresh('atomic');
    const store = folderStore(dir);
    await store.write(MANIFEST_FILE, new TextEncoder().encode('old\n'));
    // The temporary name is taken (as a killed write's leftover could be, here by a folder): the write fails
    // before it reaches the real name, which keeps its old bytes.
    mkdirSync(tempNameOf(join(dir, MANIFEST_FILE)));
    writeFileSync(join(tempNameOf(join(dir, MANIFEST_FILE)), 'x'), '');
    const err = await store.write(MANIFEST_FILE, new TextEncoder().encode('new\n')).then(() => null, (e: unknown) => e);
    expect((err as Error).message).toMatch(/manifest\.jsonl: cannot write: is a folder, not a file/);
    expect((err as Error).message).not.toContain('\n');
    expect(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).toBe('old\n');
    execFileSync('rm', ['-rf', tempNameOf(join(dir, MANIFEST_FILE))]);
    // A kill after part of the new bytes went out: only the temporary file holds them.
    writeFileSync(tempNameOf(join(dir, MANIFEST_FILE)), 'ne');
    expect(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).toBe('old\n');
    await store.write(MANIFEST_FILE, new TextEncoder().encode('new\n'));
    expect(readFileSync(join(dir, MANIFEST_FILE), 'utf8')).toBe('new\n');
    expect(readdirSync(dir)).toEqual([MANIFEST_FILE]);
    await store.write('corpus.json', new TextEncoder().encode('{}'));
    expect(readdirSync(dir).sort()).toEqual(['corpus.json', MANIFEST_FILE]);
  });

  it('reads regular files inside the folder only', async () => {
    const dir = fresh('read');
    const store = folderStore(dir);
    mkdirSync(join(dir, 'wav'));
    writeFileSync(join(dir, 'wav', 'a.wav'), 'abc');
    expect(new TextDecoder().decode(await store.read('wav/a.wav'))).toBe('abc');
    expect(await store.read('wav/missing.wav')).toBeUndefined();
    expect(await store.read('wav/a.wav/under')).toBeUndefined();
    for (const p of ['../../dev/zero', '../x', '/etc/passwd', 'wav/../../x', '..']) {
      await expect(store.read(p), p).rejects.toThrow(/leads outside the corpus folder/);
      await expect(store.write(p, new Uint8Array(1)), p).rejects.toThrow(/leads outside the corpus folder/);
    }
    await expect(store.read('wav')).rejects.toThrow(/wav: is a folder, not a file/);
    execFileSync('mkfifo', [join(dir, 'wav', 'p.wav')]);
    await expect(store.read('wav/p.wav')).rejects.toThrow(/p\.wav: not a regular file \(a pipe, socket or device\)/);
    execFileSync('ln', ['-s', '/dev/zero', join(dir, 'wav', 'z.wav')]);
    await expect(store.read('wav/z.wav')).rejects.toThrow(/z\.wav: not a regular file/);
  });

  it('corpus validate of a manifest naming ../../dev/zero or a pipe: one line, exit 1, at once', async () => {
    const dir = fresh('val');
    writeFileSync(join(dir, MANIFEST_FILE), '{"id":"z","audio":"../../dev/zero","samples":16000,"duration":1,"sample_rate":16000,"text":"A"}\n');
    const r = await runLab('corpus', 'validate', dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^lab: corpus path "\.\.\/\.\.\/dev\/zero" leads outside the corpus folder .*val-\d+ \(paths in a corpus are relative, inside its folder\)\n$/);
    const dir2 = fresh('val');
    mkdirSync(join(dir2, 'wav'));
    execFileSync('mkfifo', [join(dir2, 'wav', 'p.wav')]);
    writeFileSync(join(dir2, MANIFEST_FILE), '{"id":"p","audio":"wav/p.wav","samples":16000,"duration":1,"sample_rate":16000,"text":"A"}\n');
    const r2 = await runLab('corpus', 'validate', dir2);
    expect(r2.code).toBe(1);
    expect(r2.err).toMatch(/^lab: .*wav\/p\.wav: not a regular file/);
    expect(r2.ms).toBeLessThan(5000);
  });
});
