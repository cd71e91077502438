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
  /** ||grad_t||: the typical size of <grad_t, v>, a floor of the error's scale. */
  gradNorm: number;
  relError: number;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** |analytic - numeric| relative to max(|analytic|, |numeric|, ||grad_t||, 1e-3). */
function relativeError(analytic: number, numeric: number, gradNorm: number): number {
  return Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), gradNorm, 1e-3);
}

/** Richardson extrapolation of two estimates at h and h / 2 whose error grows as h^2. */
function richardson(coarse: number, fine: number): number {
  return (4 * fine - coarse) / 3;
}

/** One input or parameter under check: the analytic directional derivative, and central differences on demand. */
interface Probe {
  tensor: string;
  analytic: number;
  gradNorm: number;
  /** The central difference of the loss along v at step h (each step computed once). */
  central(h: number): Promise<number>;
}

/** Probe each input and parameter in turn with `visit`, each along its own random direction. */
async function probe<T>(gpu: Gpu, subject: GradCheckSubject, seed: number, visit: (p: Probe) => Promise<T>): Promise<T[]> {
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
  const results: T[] = [];
  for (const t of targets) {
    if (t.value.dtype !== 'f32') continue;
    const base = (await t.value.read()) as Float32Array;
    const v = randomNormal(base.length, rand);
    const grad = t.grad ? await t.grad.read() : new Float32Array(base.length);
    const done = new Map<number, number>();
    const central = async (h: number): Promise<number> => {
      if (!done.has(h)) {
        gpu.upload(t.value, base.map((x, i) => x + h * v[i]));
        const up = await loss();
        gpu.upload(t.value, base.map((x, i) => x - h * v[i]));
        const down = await loss();
        done.set(h, (up - down) / (2 * h));
      }
      return done.get(h)!;
    };
    results.push(await visit({ tensor: t.name, analytic: dot(grad, v), gradNorm: Math.sqrt(dot(grad, grad)), central }));
    gpu.upload(t.value, base);
  }
  for (const g of inputGrads) g?.release();
  return results;
}

/** The central differences at h and h / 2, extrapolated, against the analytic value, for every input and parameter. */
export async function gradCheck(gpu: Gpu, subject: GradCheckSubject, seed: number, h = 1e-2): Promise<GradCheckResult[]> {
  return probe(gpu, subject, seed, async ({ tensor, analytic, gradNorm, central }) => {
    const numeric = richardson(await central(h), await central(h / 2));
    return { tensor, analytic, numeric, gradNorm, relError: relativeError(analytic, numeric, gradNorm) };
  });
}

// The policy every gradient check follows (module tests, nn/checks.ts, models/checks.ts).

/** A correct backward agrees with float32 finite differences within 1% (relative error as gradCheck's). */
export const GRAD_TOLERANCE = 1e-2;
/** An estimate this close settles a tensor: the later steps are not tried (most tensors agree at the first step). */
const SETTLED = 1e-3;

/** The coarse finite-difference steps h, tried in order (each also at h / 2 and h / 4): the default suits unit-scale modules. */
export const DEFAULT_STEPS: readonly number[] = [1e-2];
/**
 * Adds a larger step where gradients are small against the float32 noise of the loss over h: the Mamba mixers'
 * A_log and dt at toy sizes (~1e-2), and every parameter behind a post-LN block, whose norm divides the gradient
 * by the activations' scale.
 */
export const SMALL_GRADIENT_STEPS: readonly number[] = [1e-2, 4e-2];
/**
 * A whole model, through a head's loss or not, needs both ends: steps down to 6e-4 for the extractor's weights,
 * along which the loss curves enough to spoil the coarse steps (errors of 3e-2 seen at 2.5e-3 through the CTC
 * loss, and 9.5e-2 at 1e-2 for the first conv behind its per-frame layer norm, seed 2126008741 of the masked
 * encoder check), and up to 0.16 for the Mamba kinds' A_log and dt, whose gradients behind two post-LN blocks
 * can be ~1e-3, where the loss's float32 noise (amplified by the cosine logits' temperature) is ~5e-5 of the
 * derivative at the smaller steps.
 */
export const WHOLE_MODEL_STEPS: readonly number[] = [1e-2, 4e-2, 2.5e-3, 1.6e-1];

export interface GradError {
  tensor: string;
  analytic: number;
  /** The estimate that came closest. */
  numeric: number;
  error: number;
}

/**
 * Per input and parameter, the relative error of a gradient check: for each coarse step h in turn, gradCheck's
 * estimate at h and at h / 2 (each extrapolated from its step and half of it) and their own extrapolation (the
 * norms' and GELU's curvature make the truncation error grow as h^2); the best estimate counts, since float32
 * noise of the loss over h spoils the small steps where the directional derivative is small, and curvature the
 * large ones. Attention's k_proj.bias has an exactly zero gradient (a shift of every key moves each score row by
 * a constant, which softmax ignores): there the analytic value must be float32 noise (error 0, else Infinity).
 */
export async function gradErrors(gpu: Gpu, subject: GradCheckSubject, seed: number, steps: readonly number[] = DEFAULT_STEPS): Promise<GradError[]> {
  return probe(gpu, subject, seed, async ({ tensor, analytic, gradNorm, central }) => {
    if (tensor.endsWith('k_proj.bias')) return { tensor, analytic, numeric: 0, error: Math.abs(analytic) < 1e-4 ? 0 : Infinity };
    let best = { numeric: NaN, error: Infinity };
    for (const h of steps) {
      const coarse = richardson(await central(h), await central(h / 2));
      const fine = richardson(await central(h / 2), await central(h / 4));
      for (const numeric of [coarse, fine, richardson(coarse, fine)]) {
        const error = relativeError(analytic, numeric, gradNorm);
        if (error < best.error) best = { numeric, error };
      }
      if (best.error <= SETTLED) break;
    }
    return { tensor, analytic, ...best };
  });
}

/** The largest of gradErrors (Infinity for NaN): what a check reports. */
export async function worstGradError(gpu: Gpu, subject: GradCheckSubject, seed: number, steps: readonly number[] = DEFAULT_STEPS): Promise<number> {
  return Math.max(0, ...(await gradErrors(gpu, subject, seed, steps)).map((e) => e.error));
}
