import type { Gpu } from '../../gpu/device.ts';
import type { Encoder } from '../../gpu/encoder.ts';
import { releaseAll, type Tensor } from '../../gpu/tensor.ts';
import {
  attentionDecode,
  attentionMaterialised,
  attentionMaterialisedBackward,
  attentionTiled,
  attentionTiledBackward,
  createKvCache,
  type AttentionGrads,
} from '../attention.ts';
import { maxRelError } from '../compare.ts';
import { randomNormal, seeded } from '../random.ts';
import { attentionBackwardRef, attentionRef } from '../reference/attention.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

export type AttentionForm = 'materialised' | 'tiled';

export interface AttentionCase {
  form: AttentionForm;
  b: number;
  l: number;
  dModel: number;
  heads: number;
  causal: boolean;
  /** A padded batch: random key lengths in [1, l] per utterance. */
  padded?: boolean;
}

export function describeAttention(c: AttentionCase): string {
  return `${c.form} b${c.b} l${c.l} d${c.dModel} h${c.heads}${c.causal ? ' causal' : ''}${c.padded ? ' padded' : ''}`;
}

export interface AttentionInputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dout: Float32Array;
  keyLengths?: number[];
}

export function attentionInputs(c: { b: number; l: number; dModel: number; padded?: boolean }, seed: number): AttentionInputs {
  const rand = seeded(seed);
  const n = c.b * c.l * c.dModel;
  const x: AttentionInputs = { q: randomNormal(n, rand), k: randomNormal(n, rand), v: randomNormal(n, rand), dout: randomNormal(n, rand) };
  if (c.padded) x.keyLengths = Array.from({ length: c.b }, () => 1 + Math.floor(rand() * c.l));
  return x;
}

function upload(gpu: Gpu, c: AttentionCase, x: AttentionInputs) {
  const shape = [c.b, c.l, c.dModel];
  return {
    q: gpu.tensor(shape, 'f32', x.q, 'q'),
    k: gpu.tensor(shape, 'f32', x.k, 'k'),
    v: gpu.tensor(shape, 'f32', x.v, 'v'),
    dout: gpu.tensor(shape, 'f32', x.dout, 'dout'),
    keyLengths: x.keyLengths ? gpu.tensor([c.b], 'i32', Int32Array.from(x.keyLengths), 'key lengths') : undefined,
  };
}

export interface AttentionGpuResult {
  out: Float32Array;
  /** (b, h, l, l) for the materialised form, (b, h, l) logsumexp for the tiled one. */
  saved: Float32Array;
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
}

/** Forward and backward of one form on the GPU (one encoder each). */
export async function runAttentionGpu(gpu: Gpu, c: AttentionCase, x: AttentionInputs, backward = true): Promise<AttentionGpuResult> {
  const t = upload(gpu, c, x);
  const opts = { heads: c.heads, causal: c.causal, keyLengths: t.keyLengths };
  const held: (Tensor | undefined)[] = [t.q, t.k, t.v, t.dout, t.keyLengths];
  try {
    let out: Tensor<'f32'>;
    let saved: Tensor<'f32'>;
    let grads: AttentionGrads | undefined;
    if (c.form === 'materialised') {
      const f = gpu.run((enc) => attentionMaterialised(enc, t.q, t.k, t.v, opts));
      held.push(f.out, f.probs);
      [out, saved] = [f.out, f.probs];
      if (backward) grads = gpu.run((enc) => attentionMaterialisedBackward(enc, t.q, t.k, t.v, f.probs, t.dout, opts));
    } else {
      const f = gpu.run((enc) => attentionTiled(enc, t.q, t.k, t.v, opts));
      held.push(f.out, f.lse);
      [out, saved] = [f.out, f.lse];
      if (backward) grads = gpu.run((enc) => attentionTiledBackward(enc, t.q, t.k, t.v, f.out, f.lse, t.dout, opts));
    }
    if (grads) held.push(grads.dq, grads.dk, grads.dv);
    const empty = new Float32Array(0);
    return {
      out: await out.read(),
      saved: await saved.read(),
      dq: grads ? await grads.dq.read() : empty,
      dk: grads ? await grads.dk.read() : empty,
      dv: grads ? await grads.dv.read() : empty,
    };
  } finally {
    releaseAll(held);
  }
}

/** Max relative error of out and of what the form saves (probabilities or logsumexp) against the twin. */
export async function checkAttentionForward(gpu: Gpu, c: AttentionCase, seed: number): Promise<number> {
  const x = attentionInputs(c, seed);
  const got = await runAttentionGpu(gpu, c, x, false);
  const want = attentionRef(x.q, x.k, x.v, { ...c, keyLengths: x.keyLengths });
  return Math.max(maxRelError(got.out, want.out), maxRelError(got.saved, c.form === 'materialised' ? want.probs : want.lse));
}

/** Max relative error of dq, dk, dv against the twin's backward. */
export async function checkAttentionBackward(gpu: Gpu, c: AttentionCase, seed: number): Promise<number> {
  const x = attentionInputs(c, seed);
  const got = await runAttentionGpu(gpu, c, x, true);
  const want = attentionBackwardRef(x.q, x.k, x.v, x.dout, { ...c, keyLengths: x.keyLengths });
  return Math.max(maxRelError(got.dq, want.dq), maxRelError(got.dk, want.dk), maxRelError(got.dv, want.dv));
}

/**
 * Step a sequence through the KV cache in the given chunk sizes (summing to l) and compare the concatenated
 * outputs with the twin's causal full forward.
 */
export async function checkAttentionDecode(
  gpu: Gpu,
  c: { b: number; l: number; dModel: number; heads: number; capacity?: number },
  chunks: number[],
  seed: number,
): Promise<number> {
  const x = attentionInputs(c, seed);
  const got = await decodeInChunks(gpu, c, x, chunks);
  const want = attentionRef(x.q, x.k, x.v, { ...c, causal: true });
  return maxRelError(got, want.out);
}

/** The (b, l, d_model) output of stepping q, k, v through a KV cache chunk by chunk. */
export async function decodeInChunks(
  gpu: Gpu,
  c: { b: number; l: number; dModel: number; heads: number; capacity?: number },
  x: AttentionInputs,
  chunks: number[],
): Promise<Float32Array> {
  const { b, l, dModel } = c;
  const cache = createKvCache(gpu, b, c.capacity ?? l, dModel);
  const result = new Float32Array(b * l * dModel);
  try {
    let t0 = 0;
    for (const m of chunks) {
      const slice = (src: Float32Array) => {
        const o = new Float32Array(b * m * dModel);
        for (let bb = 0; bb < b; bb++) o.set(src.subarray((bb * l + t0) * dModel, (bb * l + t0 + m) * dModel), bb * m * dModel);
        return o;
      };
      const q = gpu.tensor([b, m, dModel], 'f32', slice(x.q), 'q');
      const k = gpu.tensor([b, m, dModel], 'f32', slice(x.k), 'k');
      const v = gpu.tensor([b, m, dModel], 'f32', slice(x.v), 'v');
      try {
        const out = gpu.run((enc) => attentionDecode(enc, cache, q, k, v, { heads: c.heads }));
        const got = await out.read();
        out.release();
        for (let bb = 0; bb < b; bb++) result.set(got.subarray(bb * m * dModel, (bb + 1) * m * dModel), (bb * l + t0) * dModel);
      } finally {
        releaseAll([q, k, v]);
      }
      t0 += m;
    }
  } finally {
    cache.release();
  }
  return result;
}

const FORWARD_TOL = 1e-3;
const BACKWARD_TOL = 3e-3;

const CASES: AttentionCase[] = [];
for (const form of ['materialised', 'tiled'] as const) {
  CASES.push({ form, b: 1, l: 1, dModel: 8, heads: 2, causal: false });
  CASES.push({ form, b: 2, l: 37, dModel: 12, heads: 2, causal: true }); // dh = 6
  CASES.push({ form, b: 1, l: 130, dModel: 32, heads: 4, causal: false });
  CASES.push({ form, b: 1, l: 67, dModel: 15, heads: 3, causal: true }); // dh = 5
  CASES.push({ form, b: 3, l: 70, dModel: 12, heads: 3, causal: false, padded: true });
  CASES.push({ form, b: 2, l: 45, dModel: 8, heads: 2, causal: true, padded: true });
}

export const attentionChecks: Check[] = [
  ...CASES.map((c) => ({
    family: 'attention',
    name: `forward ${describeAttention(c)}`,
    tolerance: FORWARD_TOL,
    run: (gpu: Gpu, seed: number) => checkAttentionForward(gpu, c, seed),
  })),
  ...CASES.map((c) => ({
    family: 'attention',
    name: `backward ${describeAttention(c)}`,
    tolerance: BACKWARD_TOL,
    run: (gpu: Gpu, seed: number) => checkAttentionBackward(gpu, c, seed),
  })),
  {
    family: 'attention',
    name: 'decode KV cache b2 l41 d12 h3, chunks 1,5,16,2,17',
    tolerance: FORWARD_TOL,
    run: (gpu, seed) => checkAttentionDecode(gpu, { b: 2, l: 41, dModel: 12, heads: 3, capacity: 50 }, [1, 5, 16, 2, 17], seed),
  },
];

/**
 * One forward call of one form (b = 1). The materialised form past the device limit reports out of memory.
 * Setup compiles the pipelines on a 2-frame input, so that long cases can skip the untimed warm-up run.
 */
export function attentionBench(
  form: AttentionForm,
  l: number,
  dModel: number,
  heads: number,
  { causal = false, warmup, reps }: { causal?: boolean; warmup?: number; reps?: number } = {},
): KernelBench {
  const b = 1;
  const frac = causal ? 0.5 : 1;
  const io = 4 * b * l * dModel * 4; // q, k, v read, out written
  const scores = form === 'materialised' ? 4 * b * heads * l * l * 4 * frac : 0; // written, softmax read+write, read by P.v
  const call = (enc: Encoder, q: Tensor, k: Tensor, v: Tensor) => {
    const opts = { heads, causal };
    if (form === 'materialised') {
      const f = attentionMaterialised(enc, q, k, v, opts);
      enc.releaseAfter(f.out, f.probs);
    } else {
      const f = attentionTiled(enc, q, k, v, opts);
      enc.releaseAfter(f.out, f.lse);
    }
  };
  return {
    family: 'attention',
    name: `attention ${form}${causal ? ' causal' : ''}`,
    shape: `l${l} d${dModel} h${heads}`,
    flops: 4 * b * l * l * dModel * frac,
    bytes: io + scores,
    warmup,
    reps,
    setup(gpu) {
      const rand = seeded(l);
      const tiny = gpu.tensor([b, 2, dModel], 'f32', randomNormal(b * 2 * dModel, rand), 'x');
      gpu.run((enc) => call(enc, tiny, tiny, tiny));
      tiny.release();
      const shape = [b, l, dModel];
      const t = ['q', 'k', 'v'].map((name) => gpu.tensor(shape, 'f32', randomNormal(b * l * dModel, rand), name));
      return { record: (enc) => call(enc, t[0], t[1], t[2]), dispose: () => releaseAll(t) };
    },
  };
}

// d_model 256, 4 heads at the lengths of the TF.js reference (490 / 3766 / 12666 ms for a whole layer);
// then a long input that only the tiled form can hold.
export const attentionBenches: KernelBench[] = [
  ...[250, 1000, 2000].flatMap((l) => {
    const few = l >= 2000 ? { warmup: 0, reps: 2 } : {};
    return [attentionBench('materialised', l, 256, 4, few), attentionBench('tiled', l, 256, 4, few)];
  }),
  attentionBench('tiled', 16000, 16, 2, { causal: true, warmup: 0, reps: 1 }),
  attentionBench('materialised', 16000, 16, 2, { causal: true, warmup: 0, reps: 1 }),
];
