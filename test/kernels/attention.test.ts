import { describe, expect, it } from 'vitest';
import { LabError, ShapeError, TooLargeError } from '../../src/gpu/errors.ts';
import {
  attentionDecode,
  attentionMaterialised,
  attentionMaterialisedBackward,
  attentionTiled,
  attentionTiledBackward,
  createKvCache,
} from '../../src/kernels/attention.ts';
import {
  attentionInputs,
  decodeInChunks,
  describeAttention,
  runAttentionGpu,
  type AttentionCase,
} from '../../src/kernels/checks/attention.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { freshSeed, seeded } from '../../src/kernels/random.ts';
import { attentionBackwardRef, attentionRef, type AttentionShape } from '../../src/kernels/reference/attention.ts';
import { testGpu } from '../gpu.ts';

const FORWARD_BOUND = 5e-4;
const BACKWARD_BOUND = 1e-3;

// Awkward shapes: length 1, odd lengths, dh = 6 and 5 (not multiples of 4), a longer sequence, b > 1.
const SHAPES = [
  { b: 1, l: 1, dModel: 8, heads: 2 },
  { b: 2, l: 37, dModel: 12, heads: 2 },
  { b: 1, l: 130, dModel: 20, heads: 4 },
  { b: 1, l: 300, dModel: 64, heads: 2 },
];
const CASES: AttentionCase[] = [];
for (const form of ['materialised', 'tiled'] as const)
  for (const causal of [false, true]) {
    for (const s of SHAPES) CASES.push({ form, causal, ...s });
    // A padded batch: keys past each utterance's length are hidden.
    CASES.push({ form, causal, b: 3, l: 90, dModel: 12, heads: 2, padded: true });
  }

describe('attention against its CPU twin (forward and backward)', () => {
  for (const c of CASES) {
    it(describeAttention(c), async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const x = attentionInputs(c, seed);
      const got = await runAttentionGpu(gpu, c, x);
      const shape = { ...c, keyLengths: x.keyLengths };
      const want = attentionRef(x.q, x.k, x.v, shape);
      const grads = attentionBackwardRef(x.q, x.k, x.v, x.dout, shape);
      expect(maxRelError(got.out, want.out), `out, seed ${seed}`).toBeLessThan(FORWARD_BOUND);
      const saved = c.form === 'materialised' ? want.probs : want.lse;
      expect(maxRelError(got.saved, saved), `${c.form === 'materialised' ? 'probs' : 'lse'}, seed ${seed}`).toBeLessThan(FORWARD_BOUND);
      expect(maxRelError(got.dq, grads.dq), `dq, seed ${seed}`).toBeLessThan(BACKWARD_BOUND);
      expect(maxRelError(got.dk, grads.dk), `dk, seed ${seed}`).toBeLessThan(BACKWARD_BOUND);
      expect(maxRelError(got.dv, grads.dv), `dv, seed ${seed}`).toBeLessThan(BACKWARD_BOUND);
    });
  }
});

describe('the two forms agree with each other', () => {
  for (const causal of [false, true]) {
    it(`b2 l77 d24 h3${causal ? ' causal' : ''}: out, dq, dk, dv`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const s = { b: 2, l: 77, dModel: 24, heads: 3, causal };
      const x = attentionInputs(s, seed);
      const a = await runAttentionGpu(gpu, { ...s, form: 'materialised' }, x);
      const t = await runAttentionGpu(gpu, { ...s, form: 'tiled' }, x);
      for (const key of ['out', 'dq', 'dk', 'dv'] as const) {
        expect(maxRelError(t[key], a[key]), `${key}, seed ${seed}`).toBeLessThan(BACKWARD_BOUND);
      }
      // What the tiled form saves for its backward, against the twin.
      const want = attentionRef(x.q, x.k, x.v, s);
      expect(maxRelError(t.saved, want.lse), `lse, seed ${seed}`).toBeLessThan(FORWARD_BOUND);
    });
  }
});

describe('twin backward against central finite differences of the twin forward (float64)', () => {
  for (const [causal, keyLengths] of [[false], [true], [false, [3, 5]]] as [boolean, number[]?][]) {
    it(`b2 l5 d6 h2${causal ? ' causal' : ''}${keyLengths ? ` key lengths ${keyLengths}` : ''}: dq, dk, dv`, () => {
      const seed = freshSeed();
      const rand = seeded(seed);
      const s: AttentionShape = { b: 2, l: 5, dModel: 6, heads: 2, causal, keyLengths };
      const n = s.b * s.l * s.dModel;
      const gen = () => Float64Array.from({ length: n }, () => rand() * 2 - 1);
      const [q, k, v, dout] = [gen(), gen(), gen(), gen()];
      const loss = () => attentionRef(q, k, v, s).out.reduce((acc, o, i) => acc + o * dout[i], 0);
      const g = attentionBackwardRef(q, k, v, dout, s);
      const eps = 1e-5;
      for (const [name, x, grad] of [
        ['dq', q, g.dq],
        ['dk', k, g.dk],
        ['dv', v, g.dv],
      ] as const) {
        let scale = 0;
        for (const val of grad) scale = Math.max(scale, Math.abs(val));
        expect(scale, `${name} is not all zero, seed ${seed}`).toBeGreaterThan(1e-3);
        for (let i = 0; i < x.length; i++) {
          const save = x[i];
          x[i] = save + eps;
          const up = loss();
          x[i] = save - eps;
          const down = loss();
          x[i] = save;
          const fd = (up - down) / (2 * eps);
          expect(Math.abs(grad[i] - fd), `${name}[${i}] = ${grad[i]} vs ${fd}, seed ${seed}`).toBeLessThan(1e-7 + 1e-6 * scale);
        }
      }
    });
  }
});

describe('decode over a KV cache', () => {
  it('stepping in arbitrary chunks equals the causal full forward (GPU tiled and twin)', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const rand = seeded(seed ^ 0x5bd1e995);
    const s = { b: 2, l: 97, dModel: 20, heads: 4 }; // dh = 5
    const chunks: number[] = [];
    for (let left = s.l; left > 0; ) {
      const m = Math.min(left, 1 + Math.floor(rand() * 20));
      chunks.push(m);
      left -= m;
    }
    const x = attentionInputs(s, seed);
    const stepped = await decodeInChunks(gpu, { ...s, capacity: 120 }, x, chunks);
    const full = await runAttentionGpu(gpu, { ...s, causal: true, form: 'tiled' }, x, false);
    const want = attentionRef(x.q, x.k, x.v, { ...s, causal: true });
    expect(maxRelError(stepped, full.out), `vs GPU full forward, chunks ${chunks}, seed ${seed}`).toBeLessThan(1e-5);
    expect(maxRelError(stepped, want.out), `vs twin, chunks ${chunks}, seed ${seed}`).toBeLessThan(FORWARD_BOUND);
  });

  it('one frame at a time, and the whole sequence in one step', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const s = { b: 1, l: 23, dModel: 16, heads: 2 };
    const x = attentionInputs(s, seed);
    const want = attentionRef(x.q, x.k, x.v, { ...s, causal: true });
    const ones = await decodeInChunks(gpu, s, x, Array(s.l).fill(1));
    const whole = await decodeInChunks(gpu, s, x, [s.l]);
    expect(maxRelError(ones, want.out), `frame by frame, seed ${seed}`).toBeLessThan(FORWARD_BOUND);
    expect(maxRelError(whole, want.out), `one step, seed ${seed}`).toBeLessThan(FORWARD_BOUND);
  });

  it('refuses to overflow the cache with a clear error, and accepts frames again after reset', async () => {
    const gpu = await testGpu();
    const cache = createKvCache(gpu, 1, 10, 8);
    const t = (m: number) => gpu.tensor([1, m, 8], 'f32', new Float32Array(m * 8), 'x');
    const [q6, q5] = [t(6), t(5)];
    gpu.run((enc) => attentionDecode(enc, cache, q6, q6, q6, { heads: 2 }).release());
    expect(cache.length).toBe(6);
    const step = () => gpu.run((enc) => attentionDecode(enc, cache, q5, q5, q5, { heads: 2 }));
    expect(step).toThrow(LabError);
    expect(step).toThrow(/KV cache kv cache k\[1, 10, 8\] holds 10 frames; 6 are used and 5 more/);
    expect(cache.length).toBe(6);
    cache.reset();
    step().release();
    expect(cache.length).toBe(5);
    for (const x of [q6, q5]) x.release();
    cache.release();
  });
});

describe('attention bad input', () => {
  it('the materialised form throws TooLargeError once the scores exceed the device limit', async () => {
    const gpu = await testGpu();
    for (const heads of [1, 4]) {
      // Smallest l with heads * l * l * 4 bytes > maxBindingBytes (b = 1); q, k, v stay tiny (d_model = heads).
      let l = Math.floor(Math.sqrt(gpu.maxBindingBytes / (4 * heads)));
      while (heads * l * l * 4 <= gpu.maxBindingBytes) l++;
      const x = gpu.tensor([1, l, heads], 'f32', undefined, 'x');
      const call = () => gpu.run((enc) => attentionMaterialised(enc, x, x, x, { heads, causal: true }));
      expect(call).toThrow(TooLargeError);
      expect(call).toThrow(new RegExp(`attention scores \\[1, ${heads}, ${l}, ${l}\\] f32 needs .* at most`));
      x.release();
    }
  });

  it('shape errors name the tensor and its shape', async () => {
    const gpu = await testGpu();
    const q = gpu.tensor([2, 9, 12], 'f32', undefined, 'q');
    const k = gpu.tensor([2, 8, 12], 'f32', undefined, 'k');
    const wide = gpu.tensor([1, 3, 258], 'f32', undefined, 'wide');
    const lse = gpu.tensor([2, 3, 8], 'f32', undefined, 'lse');
    const opts = { heads: 3, causal: false };
    expect(() => gpu.run((enc) => attentionTiled(enc, q, k, q, opts))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => attentionTiled(enc, q, k, q, opts))).toThrow(/k\[2, 8, 12\] must have the shape of q q\[2, 9, 12\]/);
    expect(() => gpu.run((enc) => attentionMaterialised(enc, q, q, q, { heads: 5, causal: true }))).toThrow(
      /d_model 12 of q\[2, 9, 12\] is not a multiple of h = 5/,
    );
    expect(() => gpu.run((enc) => attentionTiled(enc, wide, wide, wide, { heads: 2, causal: false }))).toThrow(
      /dh = 129 of wide\[1, 3, 258\] with h = 2 exceeds 128/,
    );
    expect(() => gpu.run((enc) => attentionTiledBackward(enc, q, q, q, q, lse, q, opts))).toThrow(/lse\[2, 3, 8\] should be \[2, 3, 9\]/);
    expect(() => gpu.run((enc) => attentionMaterialisedBackward(enc, q, q, q, lse, q, opts))).toThrow(/lse\[2, 3, 8\] should be \[2, 3, 9, 9\]/);
    expect(() => gpu.run((enc) => attentionMaterialisedBackward(enc, q, q, q, lse, k, opts))).toThrow(/k\[2, 8, 12\] must have the shape of q/);
    const cache = createKvCache(gpu, 1, 16, 12);
    expect(() => gpu.run((enc) => attentionDecode(enc, cache, q, q, q, { heads: 3 }))).toThrow(
      /cache kv cache k\[1, 16, 12\] does not match q q\[2, 9, 12\]/,
    );
    for (const t of [q, k, wide, lse]) t.release();
    cache.release();
  });
});
