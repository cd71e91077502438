import { describe, expect, it } from 'vitest';
import { nodeAssets } from '../../src/cli/commands/corpus.ts';
import { ENGINES } from '../../src/speech/engines/index.ts';
import { parsePsdur } from '../../src/speech/engines/flite.ts';
import { runWasi } from '../../src/speech/engines/wasi.ts';
import { fromArpabet, isPhone } from '../../src/speech/phones.ts';

const TEXT = 'Please turn off the kitchen lights.';
const P = { rate: 175, pitch: 50, range: 50 };
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

describe('speech engines', () => {
  for (const engine of Object.values(ENGINES)) {
    const voices = engine.name === 'espeak' ? ['en-us+f3', 'en-gb-x-rp+m2'] : engine.voices;
    it(`${engine.name}: every voice speaks a short sentence, plausibly long, ${engine.phones ? 'with phones' : 'without phones'}, deterministically`, async () => {
      const s = await engine.session(nodeAssets);
      const first = new Map<string, Float32Array>();
      for (const v of voices) {
        const out = await s.synthesize(TEXT, v, P);
        first.set(v, out.pcm);
        const seconds = out.pcm.length / out.sampleRate;
        expect(seconds, v).toBeGreaterThan(1);
        expect(seconds, v).toBeLessThan(4.5);
        expect(rms(out.pcm), v).toBeGreaterThan(0.01);
        expect([8000, 16000, 22050]).toContain(out.sampleRate);
        if (engine.phones) {
          const marks = out.marks!;
          expect(marks.every((m) => m.phones !== null), `${v}: ${marks.filter((m) => m.phones === null).map((m) => m.name)}`).toBe(true);
          const phones = marks.flatMap((m) => m.phones!).filter((p) => p !== 'sil');
          expect(phones.length, v).toBeGreaterThan(18); // p l iy z t er n ao f dh ah k ih ch ah n l ay t s
          expect(phones.every(isPhone)).toBe(true);
          for (let k = 1; k < marks.length; k++) expect(marks[k].start).toBeGreaterThanOrEqual(marks[k - 1].start);
          expect(marks[marks.length - 1].start).toBeLessThan(seconds);
        } else {
          expect(out.marks).toBeUndefined();
        }
        expect(engine.speaker(v)).toBeTruthy();
      }
      s.close();
      // Determinism: a fresh session gives the same samples (a stateless engine also after other calls).
      const t = await engine.session(nodeAssets);
      if (!engine.stateful) await t.synthesize('Something else first, to disturb any state.', voices[voices.length - 1], { rate: 200, pitch: 70, range: 40 });
      const again = await t.synthesize(TEXT, voices[0], P);
      expect(same(again.pcm, first.get(voices[0])!)).toBe(true);
      // Prosody: a slower rate makes longer audio.
      const slow = await t.synthesize(TEXT, voices[0], { ...P, rate: 120 });
      expect(slow.pcm.length).toBeGreaterThan(first.get(voices[0])!.length * 1.2);
      t.close();
    }, 60_000);
  }

  it('flite -psdur output becomes marks with start times; ARPAbet maps onto the inventory', () => {
    const marks = parsePsdur('pau:0.164 hh:0.255 ax:0.304 l:0.412 ow1:0.523 pau:0.700\n');
    expect(marks.map((m) => [m.name, m.start])).toEqual([['pau', 0], ['hh', 0.164], ['ax', 0.255], ['l', 0.304], ['ow1', 0.412], ['pau', 0.523]]);
    expect(marks.map((m) => m.phones)).toEqual([['sil'], ['hh'], ['ah'], ['l'], ['ow'], ['sil']]);
    expect(fromArpabet('AXR')).toEqual(['er']);
    expect(fromArpabet('zh')).toEqual(['zh']);
    expect(fromArpabet('qq')).toBeNull();
  });

  it('the WASI host runs flite with files in, stdout and files out, and exit codes back', async () => {
    const mod = await WebAssembly.compile((await nodeAssets('flite.wasm')) as Uint8Array<ArrayBuffer>);
    const files = new Map([['in.txt', new TextEncoder().encode('Read this from a file.')]]);
    const run = await runWasi(mod, { args: ['flite', '-f', '/work/in.txt', '-o', '/work/out.wav', '-psdur'], files });
    expect(run.exitCode).toBe(0);
    expect(parsePsdur(run.stdout).map((m) => m.name).join(' ')).toBe('pau r eh d dh ih s f r aa m ax f ay l pau') // "read" as in the past tense, flite's choice;
    expect(new TextDecoder().decode(run.files.get('out.wav')!.subarray(0, 4))).toBe('RIFF');
    const version = await runWasi(mod, { args: ['flite', '--version'] });
    expect(version.exitCode).toBe(1); // flite exits through proc_exit(1) after printing its version
    expect(version.stdout).toMatch(/flite-2/);
  });
});
