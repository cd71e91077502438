import { describe, expect, it } from 'vitest';
import { NgramLm } from '../../src/asr/ngram.ts';
import { Recognizer, SegmentDecoder, streamStateBytes, type RecognizerUpdate, type Segment } from '../../src/asr/recognizer.ts';
import { startStream, streamStep } from '../../src/models/streaming.ts';
import type { MambaState } from '../../src/nn/mamba.ts';
import { transcribeSamples } from '../../src/asr/transcribe.ts';
import { decodeLogProbs } from '../../src/asr/ctc-decode.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { VOCAB } from '../../src/speech/vocab.ts';
import { testGpu } from '../gpu.ts';
import { asrConfig, ctcModel, joinedEval } from './fixtures.ts';

/** Push `audio` in chunks of the given sizes (cycled), then finish; all updates. `release`: give the state back. */
async function feed(r: Recognizer, audio: Float32Array, sizes: number[], release = true): Promise<RecognizerUpdate[]> {
  const out: RecognizerUpdate[] = [];
  for (let at = 0, i = 0; at < audio.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(await r.push(audio.subarray(at, at + n)));
    at += n;
  }
  out.push(await r.finish());
  if (release) r.release();
  return out;
}

const finalsOf = (us: RecognizerUpdate[]): Segment[] => us.flatMap((u) => u.finals);

describe('Recognizer (streaming, random-init causal models)', () => {
  it('mamba: any chunking (1 sample, 80 ms, odd sizes) gives the finals of one push; greedy text equals offline', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('mamba'));
    const audio = (await joinedEval(2)).subarray(0, 3 * 16000 + 123);
    const offline = await transcribeSamples(model, audio, { mode: 'offline', keepLogProbs: true });
    expect(offline.text.length).toBeGreaterThan(0);
    // A random model rarely makes blank its best label: count a frame silent when its blank probability is above the
    // median, so that segments end here and there.
    const blank = Array.from({ length: offline.frames }, (_, t) => Math.exp(offline.logProbs![t * offline.vocab])).sort((a, b) => a - b);
    const mid = Math.floor(blank.length / 2);
    const blankProb = (blank[mid] + blank[mid + 1]) / 2; // between two frames' values: float noise cannot flip one
    expect(blank[mid + 1] - blank[mid]).toBeGreaterThan(1e-5);
    // Without endpointing: one segment whose words are the offline greedy words.
    const one = new Recognizer(model, { endpoint: false });
    const whole = await feed(one, audio, [audio.length]);
    const segs = finalsOf(whole);
    expect(segs).toHaveLength(1);
    expect(segs[0].text).toBe(offline.text);
    expect(segs[0].words).toEqual(offline.words);
    // With endpointing, every chunking gives the same finals.
    const opts = { endpoint: { silenceMs: 60, blankProb } };
    const ref = finalsOf(await feed(new Recognizer(model, opts), audio, [audio.length]));
    expect(ref.length).toBeGreaterThan(1);
    for (const sizes of [[1], [1280], [1777, 333, 5], [320, 7]]) {
      const r = new Recognizer(model, opts);
      const us = await feed(r, audio, sizes, false);
      expect(finalsOf(us), `chunks ${sizes}`).toEqual(ref);
      // Stream time and stats add up.
      const last = us[us.length - 1].chunk;
      expect(last.streamSeconds).toBeCloseTo(audio.length / 16000, 9);
      expect(us.reduce((s, u) => s + u.chunk.frames, 0)).toBe(offline.frames);
      r.release();
    }
    // The beam search (width 8, no LM) streams too, the same under any chunking.
    const beamRef = finalsOf(await feed(new Recognizer(model, { beam: 8, ...opts }), audio, [audio.length]));
    expect(finalsOf(await feed(new Recognizer(model, { beam: 8, ...opts }), audio, [1777]))).toEqual(beamRef);
    model.release();
  });

  it('causal-transformer: the streamed greedy finals equal the offline greedy decoding; odd chunks the same', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('causal-transformer'));
    const audio = (await joinedEval(2)).subarray(0, 2 * 16000 + 77);
    const offline = await transcribeSamples(model, audio, { mode: 'offline' });
    expect(offline.text.length).toBeGreaterThan(0);
    const a = finalsOf(await feed(new Recognizer(model, { endpoint: false }), audio, [audio.length]));
    expect(a.map((x) => x.text).join(' ')).toBe(offline.text);
    expect(a.flatMap((x) => x.words)).toEqual(offline.words);
    expect(finalsOf(await feed(new Recognizer(model, { endpoint: false }), audio, [999, 1]))).toEqual(a);
    model.release();
  });

  it('chunk stats: latency covers compute and the audio not yet in a frame; partial words are the open segment', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('mamba'));
    const audio = (await joinedEval(1)).subarray(0, 2 * 16000);
    const r = new Recognizer(model, { endpoint: false });
    const u = await r.push(audio.subarray(0, 2560));
    expect(u.chunk.audioSeconds).toBeCloseTo(0.16, 9);
    // 2560 samples = 8 hops; frames complete up to (8 - 1) * 320 + 400 = 2640 > 2560: 7 frames, 560 samples waiting.
    expect(u.chunk.frames).toBe(7);
    expect(u.chunk.latencyMs).toBeCloseTo(u.chunk.computeMs + (2560 - (6 * 320 + 400)) / 16, 6);
    expect(u.chunk.rtf).toBeCloseTo(u.chunk.computeMs / 160, 6);
    const small = await r.push(audio.subarray(2560, 2600)); // less than a hop: nothing reaches the model
    expect(small.chunk.frames).toBe(0);
    const rest = await r.push(audio.subarray(2600));
    expect(rest.partial).toBe(rest.partialWords.map((w) => w.word).join(' '));
    const end = await r.finish();
    expect(end.partial).toBe('');
    expect(end.finals.map((s) => s.text).join(' ')).toBe(rest.partial.length ? end.finals.map((s) => s.text).join(' ') : '');
    await expect(r.push(audio)).rejects.toThrow(/reset\(\)/);
    r.reset();
    const again = await r.push(audio.subarray(0, 2560));
    expect(again.chunk.streamSeconds).toBeCloseTo(0.16, 9);
    expect(again.partial).toBe(u.partial);
    r.release();
    await expect(r.push(audio)).rejects.toThrow(/released/);
    model.release();
  });

  it('state bytes are the carried tensors only: the tails, the conv and SSM states (not the packed conv weights)', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('mamba'));
    const state = startStream(model, 1);
    const audio = gpu.tensor([1, 2560], 'f32', (await joinedEval(1)).subarray(0, 2560), 'audio');
    const out = gpu.run((enc) => streamStep(model, { enc, train: false }, audio, state).out);
    await out.read();
    expect(state.extractor.convs.some((c) => c.packed) || state.posConv.packed).toBeTruthy();
    const carried = [...state.extractor.convs.map((c) => c.tail), state.posConv.tail, ...state.layers.flatMap((l) => [(l as MambaState).conv, (l as MambaState).ssm])];
    expect(streamStateBytes(state).used).toBe(carried.reduce((n, t) => n + t.bytes, 0));
    out.release();
    audio.release();
    state.release();
    model.release();
  });

  it("state bytes: Mamba's stay constant, the causal Transformer's KV cache grows with every chunk", async () => {
    const gpu = await testGpu();
    const audio = (await joinedEval(2)).subarray(0, 3 * 16000);
    const series: Record<string, number[]> = {};
    for (const kind of ['mamba', 'causal-transformer'] as const) {
      const model = ctcModel(gpu, asrConfig(kind));
      const r = new Recognizer(model);
      const bytes: number[] = [];
      for (let at = 0; at < audio.length; at += 2560) bytes.push((await r.push(audio.subarray(at, at + 2560))).chunk.stateBytes);
      series[kind] = bytes;
      r.release();
      model.release();
    }
    const m = series.mamba;
    expect(m[0]).toBeGreaterThan(0);
    expect(new Set(m).size).toBe(1);
    const t = series['causal-transformer'];
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThan(t[i - 1]);
    // 2 layers x (k + v) x d_model 64 x 4 bytes per frame, plus the constant extractor and positional-conv tails.
    const perFrame = 2 * 2 * 64 * 4;
    expect(t[t.length - 1] - t[0]).toBe(perFrame * (Math.floor((audio.length - 400) / 320) + 1 - 7));
  });

  it('refuses a model without the CTC head and one that cannot stream', async () => {
    const gpu = await testGpu();
    const pre = HubertModel.create(gpu, asrConfig('mamba'), 1);
    expect(() => new Recognizer(pre)).toThrow(/pre-trained model/);
    pre.release();
    const bi = ctcModel(gpu, asrConfig('extbimamba'));
    expect(() => new Recognizer(bi)).toThrow(/streaming needs a causal model/);
    bi.release();
  });
});

describe('endpointing (SegmentDecoder on hand-made frames)', () => {
  const V = 30;
  const id = (ch: string) => (ch === '_' ? 0 : ch === ' ' ? VOCAB.indexOf('|') : VOCAB.indexOf(ch));
  /** One frame per character of `s` ('_' blank), the character at probability 0.9. */
  const frames = (s: string) => {
    const out = new Float32Array(s.length * V).fill(Math.log(0.1 / (V - 1)));
    [...s].forEach((ch, t) => (out[t * V + id(ch)] = Math.log(0.9)));
    return out;
  };

  it('a run of blank frames as long as silenceMs ends the segment; shorter runs do not', () => {
    const d = new SegmentDecoder({ endpoint: { silenceMs: 100 } }, 0.02); // 5 frames
    const text = 'HI THERE' + '_____' + 'YOU___' + 'AL_L';
    const finals = d.push(frames(text), V);
    expect(finals.map((s) => s.text)).toEqual(['HI THERE']);
    expect(finals[0]).toMatchObject({ start: 0, end: 0.16 });
    expect(d.partial().text).toBe('YOUALL');
    expect(d.finish().map((s) => [s.text, s.start, s.end])).toEqual([['YOUALL', expect.closeTo(0.26, 9), expect.closeTo(0.46, 9)]]);
    // Fed frame by frame, the same.
    const e = new SegmentDecoder({ endpoint: { silenceMs: 100 } }, 0.02);
    const all = frames(text);
    const byFrame = Array.from({ length: text.length }, (_, t) => e.push(all.subarray(t * V, (t + 1) * V), V)).flat();
    expect(byFrame).toEqual(finals);
    // Off: one segment at the end; the words are the whole-matrix greedy decoding's.
    const off = new SegmentDecoder({ endpoint: false }, 0.02);
    expect(off.push(all, V)).toEqual([]);
    expect(off.finish()[0].words).toEqual(decodeLogProbs(all, V, text.length, 0.02).words);
  });

  it('blankProb counts a frame as silent when blank is likely though not the best label', () => {
    const all = frames('AB' + 'CCCCC' + 'D');
    for (let t = 2; t < 7; t++) all[t * V] = Math.log(0.45); // blank at 0.45 under C's 0.9 (not normalised: a test row)
    const plain = new SegmentDecoder({ endpoint: { silenceMs: 100 } }, 0.02);
    expect(plain.push(all, V)).toEqual([]);
    const loose = new SegmentDecoder({ endpoint: { silenceMs: 100, blankProb: 0.4 } }, 0.02);
    expect(loose.push(all, V).map((s) => s.text)).toEqual(['ABC']);
    expect(loose.partial().text).toBe('D');
    expect(() => new SegmentDecoder({ endpoint: { silenceMs: 0 } }, 0.02)).toThrow(/silence/);
  });

  it('with an LM, each segment is scored as its own sentence', () => {
    const lm = NgramLm.build(['hi there', 'you all']);
    const d = new SegmentDecoder({ beam: 4, lm, endpoint: { silenceMs: 100 } }, 0.02);
    const finals = [...d.push(frames('HI THERE______YOU AL_L'), V), ...d.finish()];
    expect(finals.map((s) => s.text)).toEqual(['HI THERE', 'YOU ALL']);
  });
});
