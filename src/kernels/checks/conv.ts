import type { Gpu } from '../../gpu/device.ts';
import { releaseAll } from '../../gpu/tensor.ts';
import { maxRelError, readAll } from '../compare.ts';
import { conv1d, conv1dBackward, conv1dStreamStart, conv1dStreamStep, convPads, type ConvPadding, type ConvVariant } from '../conv.ts';
import { randomNormal, seeded } from '../random.ts';
import { conv1dBackwardRef, conv1dOutLength, conv1dRef, type Conv1dShape } from '../reference/conv.ts';
import type { Check } from '../check.ts';
import type { KernelBench } from '../suite-types.ts';

export interface ConvCase {
  b: number;
  l: number;
  cIn: number;
  cOut: number;
  k: number;
  stride?: number;
  groups?: number;
  padding?: ConvPadding;
  bias?: boolean;
  variant?: ConvVariant;
  /** The forward's fused GELU. */
  gelu?: boolean;
}

export function describeConv(c: ConvCase): string {
  const pad = typeof c.padding === 'object' ? `pad ${c.padding.left}/${c.padding.right}` : (c.padding ?? 'valid');
  return (
    `[${c.b}, ${c.l}, ${c.cIn}] k${c.k} s${c.stride ?? 1}${(c.groups ?? 1) > 1 ? ` g${c.groups}` : ''} -> ${c.cOut} ${pad}` +
    `${c.bias ? ' +bias' : ''}${c.gelu ? ' gelu' : ''}${c.variant ? ` ${c.variant}` : ''}`
  );
}

export function convShape(c: ConvCase): Conv1dShape {
  const { left, right } = convPads(c.padding ?? 'valid', c.k);
  return { b: c.b, l: c.l, cIn: c.cIn, cOut: c.cOut, k: c.k, stride: c.stride ?? 1, groups: c.groups ?? 1, padLeft: left, padRight: right };
}

interface ConvData {
  x: Float32Array;
  w: Float32Array;
  bias?: Float32Array;
  dy: Float32Array;
}

function convData(c: ConvCase, seed: number): ConvData {
  const s = convShape(c);
  const rand = seeded(seed);
  const fanIn = (c.cIn / s.groups) * c.k;
  return {
    x: randomNormal(c.b * c.l * c.cIn, rand),
    w: randomNormal(c.cOut * (c.cIn / s.groups) * c.k, rand, 1 / Math.sqrt(fanIn)),
    bias: c.bias ? randomNormal(c.cOut, rand) : undefined,
    dy: randomNormal(c.b * conv1dOutLength(s) * c.cOut, rand),
  };
}

function convTensors(gpu: Gpu, c: ConvCase, d: ConvData) {
  const s = convShape(c);
  return {
    x: gpu.tensor([c.b, c.l, c.cIn], 'f32', d.x, 'x'),
    w: gpu.tensor([c.cOut, c.cIn / s.groups, c.k], 'f32', d.w, 'weight'),
    bias: d.bias ? gpu.tensor([c.cOut], 'f32', d.bias, 'bias') : undefined,
  };
}

export async function checkConvForward(gpu: Gpu, c: ConvCase, seed: number): Promise<number> {
  const d = convData(c, seed);
  const { x, w, bias } = convTensors(gpu, c, d);
  const y = gpu.run((enc) => conv1d(enc, x, w, { stride: c.stride, groups: c.groups, padding: c.padding, bias, variant: c.variant, gelu: c.gelu }));
  const [got] = await readAll([y, x, w, bias]);
  return maxRelError(got!, conv1dRef(d.x, d.w, convShape(c), d.bias, c.gelu));
}

export async function checkConvBackward(gpu: Gpu, c: ConvCase, seed: number): Promise<number> {
  const d = convData(c, seed);
  const s = convShape(c);
  const { x, w, bias } = convTensors(gpu, c, d);
  const dy = gpu.tensor([c.b, conv1dOutLength(s), c.cOut], 'f32', d.dy, 'dy');
  const g = gpu.run((enc) =>
    conv1dBackward(enc, x, w, dy, { stride: c.stride, groups: c.groups, padding: c.padding, bias, variant: c.variant }),
  );
  const [dx, dweight, dbias] = await readAll([g.dx, g.dweight, g.dbias, x, w, bias, dy]);
  const want = conv1dBackwardRef(d.x, d.w, d.dy, s);
  let err = Math.max(maxRelError(dx!, want.dx), maxRelError(dweight!, want.dweight));
  if (c.bias) err = Math.max(err, dbias ? maxRelError(dbias, want.dbias) : Infinity);
  return err;
}

/**
 * Stream x through conv1dStreamStep in chunks of the given sizes (cycled); the concatenated outputs must
 * equal the twin's offline conv (the case's padding must have no right part).
 */
export async function checkConvStream(gpu: Gpu, c: ConvCase, chunks: number[], seed: number): Promise<number> {
  const d = convData(c, seed);
  const { x: xAll, w, bias } = convTensors(gpu, c, d);
  xAll.release();
  const opts = { stride: c.stride, groups: c.groups, padding: c.padding, bias, variant: c.variant, gelu: c.gelu };
  let stream = conv1dStreamStart(gpu, w, c.b, opts);
  const want = conv1dRef(d.x, d.w, convShape(c), d.bias, c.gelu);
  const lOut = want.length / (c.b * c.cOut);
  const got = new Float32Array(want.length);
  let done = 0;
  for (let t0 = 0, i = 0; t0 < c.l; i++) {
    const m = Math.min(chunks[i % chunks.length], c.l - t0);
    const part = new Float32Array(c.b * m * c.cIn);
    for (let bb = 0; bb < c.b; bb++) part.set(d.x.subarray((bb * c.l + t0) * c.cIn, (bb * c.l + t0 + m) * c.cIn), bb * m * c.cIn);
    const x = gpu.tensor([c.b, m, c.cIn], 'f32', part, 'x');
    const r = gpu.run((enc) => conv1dStreamStep(enc, stream, x, w, opts));
    stream = r.stream;
    const n = r.y.shape[1];
    const [y] = await readAll([r.y, x]);
    if (done + n > lOut) return Infinity;
    for (let bb = 0; bb < c.b; bb++) got.set(y!.subarray(bb * n * c.cOut, (bb + 1) * n * c.cOut), (bb * lOut + done) * c.cOut);
    done += n;
    t0 += m;
  }
  await readAll([stream.tail, w, bias, stream.packed]);
  return done === lOut ? maxRelError(got, want) : Infinity;
}

// Small awkward shapes (well under a second each on a CPU adapter).
const CONV_CASES: ConvCase[] = [
  { b: 2, l: 103, cIn: 1, cOut: 12, k: 10, stride: 5 },
  { b: 1, l: 41, cIn: 16, cOut: 20, k: 3, stride: 2, bias: true },
  { b: 1, l: 11, cIn: 8, cOut: 8, k: 2, stride: 2 },
  { b: 2, l: 29, cIn: 32, cOut: 32, k: 16, groups: 4, padding: 'same', bias: true },
  { b: 1, l: 19, cIn: 15, cOut: 10, k: 6, groups: 5, padding: 'causal', bias: true },
];

export const convChecks: Check[] = [
  ...CONV_CASES.flatMap((c): Check[] => [
    { family: 'conv', name: `conv1d forward ${describeConv(c)}`, tolerance: 5e-4, run: (gpu, seed) => checkConvForward(gpu, c, seed) },
    { family: 'conv', name: `conv1d backward ${describeConv(c)}`, tolerance: 5e-4, run: (gpu, seed) => checkConvBackward(gpu, c, seed) },
  ]),
  {
    family: 'conv',
    name: 'conv1d streaming in chunks 7,1,13 == offline [1, 97, 1] k10 s5 -> 8',
    tolerance: 1e-4,
    run: (gpu, seed) => checkConvStream(gpu, { b: 1, l: 97, cIn: 1, cOut: 8, k: 10, stride: 5, bias: true }, [7, 1, 13], seed),
  },
  {
    family: 'conv',
    name: 'conv1d streaming in chunks 5,2 == offline [2, 23, 16] k8 g4 causal',
    tolerance: 1e-4,
    run: (gpu, seed) => checkConvStream(gpu, { b: 2, l: 23, cIn: 16, cOut: 16, k: 8, groups: 4, padding: 'causal', bias: true }, [5, 2], seed),
  },
];

// ---------------------------------------------------------------------------------------------------
// Benchmarks.

export function convBench(c: ConvCase, name = 'conv1d forward', backward = false): KernelBench {
  const s = convShape(c);
  const lOut = conv1dOutLength(s);
  const macs = c.b * lOut * c.cOut * (c.cIn / s.groups) * c.k;
  return {
    family: 'conv',
    name,
    shape: `[${c.b}, ${c.l}, ${c.cIn}] k${c.k} s${s.stride}${s.groups > 1 ? ` g${s.groups}` : ''} -> ${c.cOut}`,
    // backward: dx and dweight each cost the forward's MACs
    flops: (backward ? 4 : 2) * macs,
    bytes: 4 * (c.b * c.l * c.cIn + c.cOut * (c.cIn / s.groups) * c.k + c.b * lOut * c.cOut) * (backward ? 2 : 1),
    setup(gpu) {
      const d = convData(c, 1234);
      const { x, w, bias } = convTensors(gpu, c, d);
      const opts = { stride: c.stride, groups: c.groups, padding: c.padding, bias };
      const y = gpu.tensor([c.b, lOut, c.cOut], 'f32', d.dy, 'y');
      const dweight = gpu.tensor(w.shape, 'f32', undefined, 'dweight');
      const dbias = bias ? gpu.tensor([c.cOut], 'f32', undefined, 'dbias') : undefined;
      return {
        record: (enc) => {
          if (!backward) conv1d(enc, x, w, { ...opts, out: y });
          else enc.releaseAfter(conv1dBackward(enc, x, w, y, { ...opts, dweight, dbias }).dx!);
        },
        dispose: () => releaseAll(x, w, bias, y, dweight, dbias),
      };
    },
  };
}

export const convBenches: KernelBench[] = [
  convBench({ b: 1, l: 16000, cIn: 1, cOut: 512, k: 10, stride: 5 }),
  convBench({ b: 1, l: 800, cIn: 512, cOut: 512, k: 3, stride: 2 }),
  convBench({ b: 1, l: 800, cIn: 64, cOut: 64, k: 3, stride: 2 }),
  convBench({ b: 1, l: 16000, cIn: 1, cOut: 64, k: 10, stride: 5 }),
  convBench({ b: 1, l: 500, cIn: 768, cOut: 768, k: 128, groups: 16, padding: 'same', bias: true }, 'positional conv forward'),
  convBench({ b: 1, l: 800, cIn: 512, cOut: 512, k: 3, stride: 2 }, 'conv1d backward', true),
];
