import { describe, expect, it } from 'vitest';
import { greedyDecode } from '../../src/asr/greedy.ts';
import {
  audioForModel,
  canStream,
  loadRecognizer,
  planWindows,
  PRETRAINED_MESSAGE,
  transcribeFile,
  transcribeSamples,
  wholeFileProblem,
  type Transcript,
} from '../../src/asr/transcribe.ts';
import type { EncoderKind } from '../../src/models/config.ts';
import { framesFor, hopSamples } from '../../src/models/config.ts';
import { HubertModel } from '../../src/models/hubert.ts';
import { saveModel } from '../../src/models/load.ts';
import { resample } from '../../src/speech/resample.ts';
import { testGpu } from '../gpu.ts';
import { asrConfig, ctcModel, encodeWavChannels, joinedEval } from './fixtures.ts';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Frames whose best label differs between a and b, with a's margin (best - second best) there. */
function disagreements(a: Transcript, b: Transcript): { frame: number; margin: number }[] {
  const V = a.vocab;
  const out: { frame: number; margin: number }[] = [];
  for (let t = 0; t < a.frames; t++) {
    const row = (lp: Float32Array) => Array.from(lp.subarray(t * V, t * V + 29));
    const ra = row(a.logProbs!);
    const rb = row(b.logProbs!);
    const [ia, ib] = [ra.indexOf(Math.max(...ra)), rb.indexOf(Math.max(...rb))];
    if (ia !== ib) out.push({ frame: t, margin: ra[ia] - [...ra].sort((x, y) => y - x)[1] });
  }
  return out;
}

describe('streaming transcription of a causal model', () => {
  for (const kind of ['mamba', 'causal-transformer'] as EncoderKind[]) {
    it(`${kind}: 160 ms chunks give the offline greedy decoding, words and times included`, async () => {
      const gpu = await testGpu();
      const model = ctcModel(gpu, asrConfig(kind));
      const audio = await joinedEval(6); // about 12 s
      expect(canStream(model)).toBe(true);
      const progress: number[] = [];
      const streamed = await transcribeSamples(model, audio, { keepLogProbs: true, onProgress: (done, total) => progress.push(done / total) });
      const offline = await transcribeSamples(model, audio, { keepLogProbs: true, mode: 'offline' });
      expect(streamed.method).toEqual({ mode: 'stream', chunkSamples: 2560, chunks: Math.ceil(audio.length / 2560) });
      expect(offline.method).toEqual({ mode: 'whole' });
      expect(streamed.frames).toBe(framesFor(model.config, audio.length));
      expect(maxAbsDiff(streamed.logProbs!, offline.logProbs!)).toBeLessThan(1e-3);
      expect(streamed.text).toBe(offline.text);
      expect(streamed.words).toEqual(offline.words);
      expect(streamed.text.length).toBeGreaterThan(0);
      // An independent offline path: the model's forward and greedyDecode.
      const x = gpu.tensor([1, audio.length], 'f32', audio, 'audio');
      const lp = gpu.run((enc) => {
        const r = model.forward({ enc, train: false }, x);
        const y = model.ctcHead!.logProbs({ enc, train: false }, r.out);
        enc.releaseAfter(r.out, x);
        return y;
      });
      expect(greedyDecode((await lp.read()) as Float32Array, lp.shape, [lp.shape[1]])).toEqual([streamed.text]);
      lp.release();
      // Progress rises to the whole file; odd chunk sizes stream to the same text.
      expect(progress[progress.length - 1]).toBe(1);
      expect(progress.every((p, i) => i === 0 || p > progress[i - 1])).toBe(true);
      const odd = await transcribeSamples(model, audio, { chunkSamples: 1777 });
      expect(odd.text).toBe(streamed.text);
      model.release();
    });
  }

  it("refuses mode 'stream' for a model that cannot stream, and a model without the CTC head", async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('extbimamba'));
    await expect(transcribeSamples(model, new Float32Array(8000), { mode: 'stream' })).rejects.toThrow(/streaming needs a causal model/);
    model.release();
    const pre = HubertModel.create(gpu, asrConfig('mamba'), 1);
    await expect(transcribeSamples(pre, new Float32Array(8000))).rejects.toThrow(PRETRAINED_MESSAGE);
    expect(() => loadRecognizer(gpu, new Uint8Array(0))).toThrow(/safetensors|header/);
    const bytes = await saveModel(pre);
    expect(() => loadRecognizer(gpu, bytes)).toThrow(PRETRAINED_MESSAGE);
    pre.release();
  });

  it('stops at an aborted signal; audio shorter than one frame gives no text', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('mamba'));
    const ac = new AbortController();
    ac.abort();
    await expect(transcribeSamples(model, new Float32Array(32000), { signal: ac.signal })).rejects.toThrow(/abort/i);
    const tiny = await transcribeSamples(model, new Float32Array(300));
    expect([tiny.text, tiny.frames, tiny.words]).toEqual(['', 0, []]);
    model.release();
  });
});

describe('overlapping windows for the non-causal kinds', () => {
  it('a window plan covers every frame once, each from the window where it lies farthest from an edge', () => {
    const hop = 320;
    const frames = (n: number) => (n < 400 ? 0 : Math.floor((n - 400) / hop) + 1);
    const samples = 10 * 16000 + 123;
    const plan = planWindows(samples, hop, frames, 3 * 16000 + 100, 16000);
    const W = Math.floor((3 * 16000 + 100) / hop) * hop;
    expect(plan[0]).toMatchObject({ start: 0, length: W, from: 0 });
    expect(plan.every((w) => w.start % hop === 0 && w.length <= W)).toBe(true);
    expect(plan[plan.length - 1].start + plan[plan.length - 1].length).toBe(samples);
    for (let i = 1; i < plan.length; i++) expect(plan[i].from).toBe(plan[i - 1].to);
    expect(plan[plan.length - 1].to).toBe(frames(samples));
    // Inside the file, a kept frame is at least about half the overlap from its window's edges.
    const half = Math.floor(16000 / hop / 2) - 1;
    for (const [i, w] of plan.entries()) {
      const [first, last] = [w.start / hop, w.start / hop + frames(w.length) - 1];
      if (i > 0) expect(w.from - first).toBeGreaterThanOrEqual(half);
      if (i < plan.length - 1) expect(last - (w.to - 1)).toBeGreaterThanOrEqual(half);
    }
    expect(planWindows(1000, hop, frames, 48000, 8000)).toEqual([{ start: 0, length: 1000, from: 0, to: 2 }]);
    expect(() => planWindows(samples, hop, frames, 300, 0)).toThrow(/shorter than one model frame/);
    expect(() => planWindows(samples, hop, frames, 16000, 16000)).toThrow(/overlap/);
  });

  it('extbimamba (per-frame front): stitched windows give the whole-file transcript', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('extbimamba', 'layer'));
    const audio = await joinedEval(8); // about 16.7 s: 6 windows of 4 s
    const whole = await transcribeSamples(model, audio, { keepLogProbs: true });
    const windows = await transcribeSamples(model, audio, { keepLogProbs: true, windowSamples: 4 * 16000, overlapSamples: 16000 });
    expect(whole.method).toEqual({ mode: 'whole' });
    expect(windows.method).toMatchObject({ mode: 'windows', windows: 6, windowSamples: 64000, overlapSamples: 16000 });
    const diff = maxAbsDiff(windows.logProbs!, whole.logProbs!);
    expect(diff).toBeLessThan(5e-3);
    // Any frame whose best label changed was a near tie.
    for (const d of disagreements(whole, windows)) expect(d.margin, `frame ${d.frame}`).toBeLessThan(2 * diff);
    expect(windows.text).toBe(whole.text);
    expect(windows.words).toEqual(whole.words);
    model.release();
  });

  it('the whole file is refused ahead when an extractor output would not fit one binding', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('extbimamba'));
    const limited = { config: model.config, gpu: { maxBindingBytes: 4 << 20 } } as unknown as HubertModel;
    expect(wholeFileProblem(limited, 16000 * 10)).toBeUndefined();
    // The group-norm front cannot run in segments: 32 channels x (samples / 5) x 4 bytes > 4 MiB from about 10.2 s.
    expect(wholeFileProblem(limited, 16000 * 11)).toBe("the feature extractor's output [35199, 32] would need 4.3 MiB, over the 4.0 MiB a binding allows");
    // A per-frame front runs in segments; then the encoder's widest activation sets the bound.
    const perFrame = { config: asrConfig('extbimamba', 'layer'), gpu: { maxBindingBytes: 4 << 20 } } as unknown as HubertModel;
    expect(wholeFileProblem(perFrame, 16000 * 11)).toBeUndefined();
    expect(wholeFileProblem(perFrame, 16000 * 200)).toMatch(/^the encoder's widest activation \[9999, 256\] would need 9.8 MiB, over the 4.0 MiB a binding allows$/);
    model.release();
  });
});

describe('file input', () => {
  it('stereo at 48 kHz is mixed down and resampled to 16 kHz', async () => {
    const gpu = await testGpu();
    const model = ctcModel(gpu, asrConfig('mamba'));
    const speech = await joinedEval(1);
    const up = resample(speech, 16000, 48000);
    const left = up.map((x) => 0.5 * x);
    const right = up.map((x) => 1.5 * x);
    const bytes = encodeWavChannels([left, right], 48000);
    const { samples, input } = audioForModel(bytes);
    expect(input).toEqual({ sampleRate: 48000, channels: 2, seconds: up.length / 48000 });
    expect(samples.length).toBe(Math.ceil((up.length * 16000) / 48000));
    const t = await transcribeFile(model, bytes);
    expect(t.input.channels).toBe(2);
    expect(t.seconds).toBeCloseTo(speech.length / 16000, 3);
    expect(t.frames).toBe(framesFor(model.config, samples.length));
    expect(hopSamples(model.config) / 16000).toBe(t.frameSeconds);
    // The 16 kHz mix of the file is what the model heard.
    expect(t.text).toBe((await transcribeSamples(model, samples)).text);
    expect(() => audioForModel(new Uint8Array([1, 2, 3, 4]))).toThrow(/unknown audio format/);
    model.release();
  });
});
