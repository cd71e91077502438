// Finite-difference check of a module's hand-written backward, on the GPU, tensor by tensor: for each input
// and parameter t, a random direction v on t alone; the analytic directional derivative <grad_t, v> must match
// (L(t + h v) - L(t - h v)) / 2h, where L = <forward(...), r> for a fixed random r (so dy = r).
import type { Gpu } from '../gpu/device.ts';
import type { Tensor } from '../gpu/tensor.ts';
import { randomNormal, seeded } from '../kernels/random.ts';
import type { ParameterSet, Pass } from './module.ts';

export interface GradCheckSubject {
  params: ParameterSet;
  inputs: Tensor[];
  /** Run the forward; returns the output. */
  forward(pass: Pass, inputs: Tensor[]): Tensor;
  /** Run the backward of the last training forward; returns one gradient per input (undefined: not differentiable). */
  backward(pass: Pass, dy: Tensor): (Tensor | undefined)[];
}

export interface GradCheckResult {
  tensor: string;
  analytic: number;
  numeric: number;
  relError: number;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export async function gradCheck(gpu: Gpu, subject: GradCheckSubject, seed: number, h = 1e-2): Promise<GradCheckResult[]> {
  const rand = seeded(seed);
  const loss = async (): Promise<number> => {
    const enc = gpu.encoder();
    const y = subject.forward({ enc, train: false }, subject.inputs);
    enc.submit();
    const out = await y.read();
    y.release();
    return dot(out, r);
  };
  // r: the output weighting, sized by one inference forward.
  let r: Float32Array = new Float32Array(0);
  {
    const enc = gpu.encoder();
    const y = subject.forward({ enc, train: false }, subject.inputs);
    enc.submit();
    r = randomNormal((await y.read()).length, rand);
    y.release();
  }
  // Analytic gradients.
  for (const p of subject.params.all()) p.grad?.release();
  for (const p of subject.params.all()) p.grad = undefined;
  const enc = gpu.encoder();
  const y = subject.forward({ enc, train: true }, subject.inputs);
  const dy = gpu.tensor(y.shape, 'f32', r, 'dy');
  const inputGrads = subject.backward({ enc, train: true }, dy);
  enc.releaseAfter(y, dy);
  enc.submit();

  const targets: { name: string; value: Tensor; grad: Tensor | undefined }[] = [
    ...subject.inputs.map((t, i) => ({ name: `input ${i} (${t.name})`, value: t, grad: inputGrads[i] })),
    ...subject.params.all().map((p) => ({ name: p.name, value: p.value, grad: p.grad })),
  ];
  const results: GradCheckResult[] = [];
  for (const t of targets) {
    if (t.value.dtype !== 'f32') continue;
    const base = (await t.value.read()) as Float32Array;
    const v = randomNormal(base.length, rand);
    const grad = t.grad ? await t.grad.read() : new Float32Array(base.length);
    const analytic = dot(grad, v);
    gpu.upload(t.value, base.map((x, i) => x + h * v[i]));
    const up = await loss();
    gpu.upload(t.value, base.map((x, i) => x - h * v[i]));
    const down = await loss();
    gpu.upload(t.value, base);
    const numeric = (up - down) / (2 * h);
    const scale = Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3);
    results.push({ tensor: t.name, analytic, numeric, relError: Math.abs(analytic - numeric) / scale });
  }
  for (const g of inputGrads) g?.release();
  return results;
}
