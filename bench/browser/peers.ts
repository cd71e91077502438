// TensorFlow.js's WebGPU backend as a peer: the same operations at the same shapes, timed the same way
// (GPU timestamps through tf.time where the adapter has them, else wall clock up to the result's readback).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';

export interface PeerResult {
  peer: 'tfjs-webgpu';
  family: string;
  /** Same key as our benchmark's `${name} ${shape}` match uses: family + shape. */
  shape: string;
  ms: number;
  gflops: number;
  timing: 'timestamp-query' | 'wall-clock';
}

interface PeerCase {
  family: string;
  shape: string;
  flops: number;
  make: () => tf.Tensor[];
  op: (inputs: tf.Tensor[]) => tf.Tensor;
}

function matmulCase(n: number): PeerCase {
  return {
    family: 'matmul',
    shape: `${n}x${n}x${n}`,
    flops: 2 * n ** 3,
    make: () => [tf.randomNormal([n, n]), tf.randomNormal([n, n])],
    op: ([a, b]) => tf.matMul(a, b),
  };
}

/** x (1, l, cIn) conv1d kernel k stride s -> cOut, valid padding. */
function convCase(l: number, cIn: number, cOut: number, k: number, s: number): PeerCase {
  const lOut = Math.floor((l - k) / s) + 1;
  return {
    family: 'conv',
    shape: `[1, ${l}, ${cIn}] k${k} s${s} -> ${cOut}`,
    flops: 2 * lOut * cOut * cIn * k,
    make: () => [tf.randomNormal([1, l, cIn]), tf.randomNormal([k, cIn, cOut])],
    op: ([x, w]) => tf.conv1d(x as tf.Tensor3D, w as tf.Tensor3D, s, 'valid'),
  };
}

const CASES: PeerCase[] = [
  matmulCase(256),
  matmulCase(512),
  matmulCase(1024),
  convCase(16000, 1, 512, 10, 5),
  convCase(800, 512, 512, 3, 2),
  convCase(800, 64, 64, 3, 2),
  convCase(16000, 1, 64, 10, 5),
];

async function timeOnce(c: PeerCase, inputs: tf.Tensor[]): Promise<{ ms: number; timing: PeerResult['timing'] }> {
  const t0 = performance.now();
  let out: tf.Tensor | undefined;
  const info = await tf.time(() => {
    out = c.op(inputs);
  });
  await out!.data();
  const wall = performance.now() - t0;
  out!.dispose();
  const k = info.kernelMs;
  return typeof k === 'number' && k > 0 ? { ms: k, timing: 'timestamp-query' } : { ms: wall, timing: 'wall-clock' };
}

export async function peerBenches(families: string[], progress: (done: number, total: number, label: string) => void): Promise<PeerResult[]> {
  await tf.setBackend('webgpu');
  await tf.ready();
  const cases = CASES.filter((c) => families.includes(c.family));
  const results: PeerResult[] = [];
  for (const c of cases) {
    progress(results.length, cases.length, `tfjs ${c.family} ${c.shape}`);
    const inputs = c.make();
    await timeOnce(c, inputs); // warm-up: compiles the program
    const samples: { ms: number; timing: PeerResult['timing'] }[] = [];
    for (let i = 0; i < 5; i++) samples.push(await timeOnce(c, inputs));
    inputs.forEach((t) => t.dispose());
    samples.sort((a, b) => a.ms - b.ms);
    const med = samples[2];
    results.push({ peer: 'tfjs-webgpu', family: c.family, shape: c.shape, ms: med.ms, gflops: c.flops / med.ms / 1e6, timing: med.timing });
  }
  return results;
}
