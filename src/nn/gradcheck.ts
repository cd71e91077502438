// Finite-difference check of a module's hand-written backward, on the GPU, tensor by tensor: for each input
// and parameter t, a random direction v on t alone; the analytic directional derivative <grad_t, v> must match
// the central difference of L = <forward(...), r> for a fixed random r (so dy = r) along v.
// The central differences at h and h/2 are combined by Richardson extrapolation ((4 D(h/2) - D(h)) / 3), so
// their O(h^2) truncation error drops out (large for big tensors, whose direction has norm h sqrt(size)).
// The error is relative to max(|analytic|, |numeric|, ||grad_t||): <g, v> for a normal v is typically ||g||,
// and a draw nearly orthogonal to g says nothing beyond the float32 noise of the loss.
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
    const central = async (step: number) => {
      gpu.upload(t.value, base.map((x, i) => x + step * v[i]));
      const up = await loss();
      gpu.upload(t.value, base.map((x, i) => x - step * v[i]));
      const down = await loss();
      return (up - down) / (2 * step);
    };
    const coarse = await central(h);
    const fine = await central(h / 2);
    gpu.upload(t.value, base);
    const numeric = (4 * fine - coarse) / 3;
    const scale = Math.max(Math.abs(analytic), Math.abs(numeric), Math.sqrt(dot(grad, grad)), 1e-3);
    results.push({ tensor: t.name, analytic, numeric, relError: Math.abs(analytic - numeric) / scale });
  }
  for (const g of inputGrads) g?.release();
  return results;
}
