import { describe, expect, it } from 'vitest';
import {
  checkAccumulateFill,
  checkBinary,
  checkUnary,
  binaryTolerance,
  ELEMENTWISE_TOLERANCE,
  unaryTolerance,
} from '../../src/kernels/checks/elementwise.ts';
import { accumulate, binary, binaryBackward, copy, gate, unary, unaryBackward } from '../../src/kernels/elementwise.ts';
import { freshSeed, randomNormal, seeded } from '../../src/kernels/random.ts';
import {
  binaryBackwardRef,
  binaryRef,
  unaryBackwardRef,
  unaryRef,
  type BinaryOp,
  type UnaryOp,
} from '../../src/kernels/reference/elementwise.ts';
import { ShapeError } from '../../src/gpu/errors.ts';
import { testGpu } from '../gpu.ts';

const SIZES = [1, 7, 33, 257, 1000, 1025, 1000003];
const UNARY: UnaryOp[] = ['silu', 'gelu', 'softplus', 'scale'];
const BINARY: BinaryOp[] = ['add', 'mul', 'gate'];

describe('elementwise kernels against their CPU twins', () => {
  for (const op of UNARY)
    for (const n of SIZES) {
      it(`${op} forward and backward, n=${n}`, async () => {
        const gpu = await testGpu();
        const seed = freshSeed();
        const [fwd, bwd] = await checkUnary(gpu, op, n, seed);
        expect(fwd, `forward, seed ${seed}`).toBeLessThan(unaryTolerance(op));
        expect(bwd, `backward, seed ${seed}`).toBeLessThan(unaryTolerance(op));
      });
    }
  for (const op of BINARY)
    for (const n of SIZES) {
      it(`${op} forward and backward, n=${n}`, async () => {
        const gpu = await testGpu();
        const seed = freshSeed();
        const [fwd, bwd] = await checkBinary(gpu, op, n, seed);
        expect(fwd, `forward, seed ${seed}`).toBeLessThan(binaryTolerance(op));
        expect(bwd, `backward, seed ${seed}`).toBeLessThan(binaryTolerance(op));
      });
    }
  for (const n of [1, 7, 1025, 300001]) {
    it(`accumulate and fill, n=${n}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      expect(await checkAccumulateFill(gpu, n, seed), `seed ${seed}`).toBeLessThan(ELEMENTWISE_TOLERANCE);
    });
  }

  it('softplus stays finite and accurate in both tails', async () => {
    const gpu = await testGpu();
    const xs = [-120, -30, -10, -1e-3, 0, 1e-3, 10, 30, 120];
    const x = gpu.tensor([xs.length], 'f32', xs, 'x');
    const got = await gpu.run((enc) => unary(enc, 'softplus', x)).read();
    const want = unaryRef('softplus', Float32Array.from(xs));
    for (let i = 0; i < xs.length; i++) {
      // WGSL's exp may be off by 3 + 2|x| ULP (2^-23 relative each); below float32's smallest normal
      // number (1.2e-38) the result may flush to zero.
      const bound = (4 + 2 * Math.abs(xs[i])) * 2 ** -23 * Math.abs(want[i]) + 1.2e-38;
      expect(Math.abs(got[i] - want[i]), `softplus(${xs[i]}) = ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(bound);
    }
  });

  it('copy still copies exactly at a length that is not a multiple of 4', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const data = randomNormal(1031, seeded(seed));
    const x = gpu.tensor([1031], 'f32', data, 'x');
    expect(Array.from(await gpu.run((enc) => copy(enc, x)).read()), `seed ${seed}`).toEqual(Array.from(data));
  });
});

describe('the twins\' derivatives match finite differences of their forward', () => {
  const h = 1e-6;
  for (const op of UNARY) {
    it(`${op}'`, () => {
      const seed = freshSeed();
      const x = Float64Array.from(randomNormal(200, seeded(seed), 4));
      const dy = Float64Array.from(randomNormal(200, seeded(seed + 1)));
      const got = unaryBackwardRef(op, x, dy, 1.7);
      for (let i = 0; i < x.length; i++) {
        const fd = (unaryRef(op, [x[i] + h], 1.7)[0] - unaryRef(op, [x[i] - h], 1.7)[0]) / (2 * h);
        expect(Math.abs(got[i] - dy[i] * fd), `x=${x[i]}, seed ${seed}`).toBeLessThan(1e-6 * (1 + Math.abs(got[i])));
      }
    });
  }
  for (const op of BINARY) {
    it(`${op}: d/da and d/db`, () => {
      const seed = freshSeed();
      const rand = seeded(seed);
      const a = Float64Array.from(randomNormal(200, rand, 4));
      const b = Float64Array.from(randomNormal(200, rand, 4));
      const g = Float64Array.from(randomNormal(200, rand));
      const { da, db } = binaryBackwardRef(op, a, b, g);
      for (let i = 0; i < a.length; i++) {
        const fa = (binaryRef(op, [a[i] + h], [b[i]])[0] - binaryRef(op, [a[i] - h], [b[i]])[0]) / (2 * h);
        const fb = (binaryRef(op, [a[i]], [b[i] + h])[0] - binaryRef(op, [a[i]], [b[i] - h])[0]) / (2 * h);
        expect(Math.abs(da[i] - g[i] * fa), `da at a=${a[i]} b=${b[i]}, seed ${seed}`).toBeLessThan(1e-6 * (1 + Math.abs(da[i])));
        expect(Math.abs(db[i] - g[i] * fb), `db at a=${a[i]} b=${b[i]}, seed ${seed}`).toBeLessThan(1e-6 * (1 + Math.abs(db[i])));
      }
    });
  }
});

describe('elementwise bad input', () => {
  it('names both tensors and their shapes', async () => {
    const gpu = await testGpu();
    const y = gpu.tensor([2, 3, 8], 'f32', undefined, 'y');
    const z = gpu.tensor([2, 3, 7], 'f32', undefined, 'z');
    const dy = gpu.tensor([5], 'f32', undefined, 'dy');
    expect(() => gpu.run((enc) => gate(enc, y, z))).toThrow(ShapeError);
    expect(() => gpu.run((enc) => gate(enc, y, z))).toThrow(/y\[2, 3, 8\] and z\[2, 3, 7\]/);
    expect(() => gpu.run((enc) => binary(enc, 'add', y, z))).toThrow(/add: y\[2, 3, 8\].*z\[2, 3, 7\]/);
    expect(() => gpu.run((enc) => binaryBackward(enc, 'gate', y, y, dy))).toThrow(/gate backward: y\[2, 3, 8\] and dy\[5\]/);
    expect(() => gpu.run((enc) => unaryBackward(enc, 'silu', y, dy))).toThrow(/silu backward: y\[2, 3, 8\] and dy\[5\]/);
    expect(() => gpu.run((enc) => unary(enc, 'gelu', y, { out: z }))).toThrow(/gelu: y\[2, 3, 8\].*z\[2, 3, 7\]/);
    expect(() => gpu.run((enc) => accumulate(enc, y, dy))).toThrow(/accumulate: y\[2, 3, 8\] and dy\[5\]/);
  });
});
