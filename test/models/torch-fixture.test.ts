// A checkpoint written by an independent PyTorch implementation of mamba-tiny (test/fixtures/torch-tiny, see its
// README): the lab loads it as is and reproduces PyTorch's outputs for the same input, layer by layer, with both
// scan forms, offline and streaming. Guards the loader, the parameter names and the forward against drift.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRecognizer, transcribeSamples } from '../../src/asr/transcribe.ts';
import type { ScanForm } from '../../src/kernels/scan.ts';
import { testGpu } from '../gpu.ts';

const DIR = join(import.meta.dirname, '../fixtures/torch-tiny');
const f32 = (name: string) => {
  const b = readFileSync(join(DIR, name));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const torch = JSON.parse(readFileSync(join(DIR, 'torch_out.json'), 'utf8')) as { text: string; ids: number[]; shape_lp: number[] };
const input = f32('input.f32'); // 48,000 samples, 3 s
const [, L, V] = torch.shape_lp; // 149 frames, 30 symbols

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function argmaxRows(lp: Float32Array): number[] {
  return Array.from({ length: L }, (_, t) => {
    const row = lp.subarray(t * V, (t + 1) * V);
    return row.indexOf(Math.max(...row));
  });
}

describe('the PyTorch mamba-tiny fixture', () => {
  for (const scanForm of ['chunked', 'sequential'] as ScanForm[]) {
    it(`${scanForm} scan: every layer's output, the log-probabilities and the greedy text equal PyTorch's`, async () => {
      const gpu = await testGpu();
      const { model } = loadRecognizer(gpu, new Uint8Array(readFileSync(join(DIR, 'torch-tiny.safetensors'))), { scanForm });
      try {
        const audio = gpu.tensor([1, input.length], 'f32', input, 'audio');
        const layers = gpu.run((enc) => model.forward({ enc, train: false }, audio, { allLayers: true }).layers!);
        audio.release();
        expect(layers.length).toBe(5);
        for (let i = 0; i < layers.length; i++) {
          const ours = (await layers[i].read()) as Float32Array;
          layers[i].release();
          const ref = f32(`torch_layer${i}.f32`);
          const scale = Math.max(...ref.map(Math.abs));
          expect(maxAbsDiff(ours, ref), `layer ${i}`).toBeLessThan(1e-4 * Math.max(1, scale));
        }
        const offline = await transcribeSamples(model, input, { mode: 'offline', keepLogProbs: true });
        expect(maxAbsDiff(offline.logProbs!, f32('torch_logprobs.f32'))).toBeLessThan(5e-4);
        expect(argmaxRows(offline.logProbs!)).toEqual(torch.ids);
        expect(offline.text).toBe(torch.text);
        const streamed = await transcribeSamples(model, input, { mode: 'stream', chunkSamples: 2560 });
        expect(streamed.text).toBe(torch.text);
      } finally {
        model.release();
      }
    });
  }
});
