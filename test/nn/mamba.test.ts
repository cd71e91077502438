import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { LabError, ShapeError } from '../../src/gpu/errors.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { freshSeed, randomNormal, randomUniform, seeded } from '../../src/kernels/random.ts';
import { depthwiseConvRef } from '../../src/kernels/reference/depthwise.ts';
import { channelSliceRef } from '../../src/kernels/reference/layout.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { scanForwardRef } from '../../src/kernels/reference/scan.ts';
import { preset } from '../../src/models/presets.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { gradCheck } from '../../src/nn/gradcheck.ts';
import { MambaMixer, type MambaDims, type MambaOptions } from '../../src/nn/mamba.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { testGpu } from '../gpu.ts';

const PREFIX = 'encoder.layers.0.mixer';
const DIMS: MambaDims = { d_model: 8, expand: 2, d_state: 4, dt_rank: 2, d_conv: 4 };

/**
 * The mixer's parameters, named and shaped by the model schema, with values that keep every part active: dt
 * around softplus^-1(0.5) (not the near-zero steps of the initialisation), A_log near log(1..n), D near 1.
 */
function mixerParams(gpu: Gpu, seed: number, dims = DIMS) {
  const cfg = { ...preset('mamba', 'tiny'), ...dims, n_layers: 1 };
  const rand = seeded(seed);
  const params = new ParameterSet();
  const values = new Map<string, Float32Array>();
  for (const s of parameterSpecs(cfg, {}).filter((p) => p.name.startsWith(`${PREFIX}.`))) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const leaf = s.name.slice(PREFIX.length + 1);
    let v: Float32Array;
    if (leaf === 'A_log') v = Float32Array.from({ length: n }, (_, i) => Math.log(1 + (i % dims.d_state)) + 0.2 * (rand() - 0.5));
    else if (leaf === 'D') v = randomUniform(n, rand, 0.5, 1.5);
    else if (leaf === 'dt_proj.bias') v = randomUniform(n, rand, -1.5, 0.5);
    else if (leaf === 'conv1d.bias') v = randomNormal(n, rand, 0.3);
    else v = randomNormal(n, rand, 1 / Math.sqrt(s.shape.slice(1).reduce((a, b) => a * b, 1)));
    values.set(leaf, v);
    params.add(new Parameter(s.name, gpu.tensor(s.shape, 'f32', v, s.name), s.decay));
  }
  return { params, values };
}

/**
 * GPU forward vs the float64 twins' composition: the scan alone is held to 1e-4 against its twin, and here its
 * inputs also carry the float32 rounding of in_proj, conv + SiLU, x_proj and dt_proj, which exp(delta A)
 * amplifies; the largest seen over 150 seeds is 1.4e-4.
 */
const FORWARD_TOLERANCE = 3e-4;

/** Bound on checkGradients' relative errors (the largest seen over 100 seeds: 2e-3, on A_log). */
const GRAD_TOLERANCE = 1e-2;

/** The mixer on the CPU, composed from the kernel twins (float64 where the twins are). */
function mambaRef(v: Map<string, Float32Array>, x: ArrayLike<number>, b: number, l: number, dims = DIMS): Float32Array {
  const { d_model: dm, d_state: n, dt_rank: r, d_conv: k } = dims;
  const di = dims.expand * dm;
  const rows = b * l;
  const lin = (a: ArrayLike<number>, w: string, K: number, N: number) => matmulRef(a, v.get(w)!, { batch: 1, M: rows, N, K, transB: true });
  const xz = lin(x, 'in_proj.weight', dm, 2 * di);
  const z = channelSliceRef(xz, rows, 2 * di, di, di);
  const u = depthwiseConvRef(channelSliceRef(xz, rows, 2 * di, 0, di), v.get('conv1d.weight')!, { b, l, c: di, k, silu: true }, v.get('conv1d.bias'));
  const xdbl = lin(u, 'x_proj.weight', di, r + 2 * n);
  const dt = lin(channelSliceRef(xdbl, rows, r + 2 * n, 0, r), 'dt_proj.weight', r, di);
  const y = scanForwardRef(
    {
      u,
      dt,
      dtBias: v.get('dt_proj.bias')!,
      aLog: v.get('A_log')!,
      B: channelSliceRef(xdbl, rows, r + 2 * n, r, n),
      C: channelSliceRef(xdbl, rows, r + 2 * n, r + n, n),
      D: v.get('D')!,
      z,
    },
    { b, l, d: di, n },
  ).out;
  return lin(y, 'out_proj.weight', di, dm);
}

async function offline(gpu: Gpu, mixer: MambaMixer, x: Float32Array, b: number, l: number): Promise<Float32Array> {
  const xt = gpu.tensor([b, l, DIMS.d_model], 'f32', x, 'x');
  const y = gpu.run((enc) => mixer.forward({ enc, train: false }, xt));
  const out = (await y.read()) as Float32Array;
  xt.release();
  y.release();
  return out;
}

/** Wait until the submitted work is done and the encoders' deferred releases have run. */
async function settled(gpu: Gpu): Promise<void> {
  await gpu.device.queue.onSubmittedWorkDone();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** Frames t0 .. t0 + m - 1 of every utterance of x (b, l, c). */
function frames(x: ArrayLike<number>, b: number, l: number, c: number, t0: number, m: number): Float32Array {
  const out = new Float32Array(b * m * c);
  for (let bi = 0; bi < b; bi++) for (let t = 0; t < m; t++) for (let ch = 0; ch < c; ch++) out[(bi * m + t) * c + ch] = x[(bi * l + t0 + t) * c + ch];
  return out;
}

describe('MambaMixer', () => {
  for (const opts of [{ scanForm: 'chunked', scanChunk: 3 }, { scanForm: 'chunked' }, { scanForm: 'sequential', scanChunk: 4 }] as MambaOptions[]) {
    it(`forward equals the CPU composition of the kernel twins (${opts.scanForm}, chunk ${opts.scanChunk ?? 'default'})`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const [b, l] = [2, 9];
      const { params, values } = mixerParams(gpu, seed);
      const mixer = new MambaMixer(params, PREFIX, DIMS, opts);
      const x = randomNormal(b * l * DIMS.d_model, seeded(seed + 1));
      const got = await offline(gpu, mixer, x, b, l);
      expect(got.length).toBe(b * l * DIMS.d_model);
      expect(maxRelError(got, mambaRef(values, x, b, l)), `seed ${seed}`).toBeLessThan(FORWARD_TOLERANCE);
      params.release();
    });
  }

  it('sequential and chunked scan forms agree, forward and gradients', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const [b, l] = [2, 8];
    const x = randomNormal(b * l * DIMS.d_model, seeded(seed + 1));
    const dy = randomNormal(b * l * DIMS.d_model, seeded(seed + 2));
    const results: Float32Array[][] = [];
    for (const opts of [{ scanForm: 'sequential' }, { scanForm: 'chunked', scanChunk: 3 }] as MambaOptions[]) {
      const { params } = mixerParams(gpu, seed);
      const mixer = new MambaMixer(params, PREFIX, DIMS, opts);
      const xt = gpu.tensor([b, l, DIMS.d_model], 'f32', x, 'x');
      const dyt = gpu.tensor([b, l, DIMS.d_model], 'f32', dy, 'dy');
      const [y, dx] = gpu.run((enc) => {
        const out = mixer.forward({ enc, train: true }, xt);
        return [out, mixer.backward({ enc, train: true }, dyt)];
      });
      results.push((await Promise.all([y, dx, ...params.all().map((p) => p.grad!)].map((t) => t.read()))) as Float32Array[]);
      [xt, dyt, y, dx].forEach((t) => t.release());
      params.release();
    }
    const [seq, chunked] = results;
    expect(seq.length).toBe(2 + 9);
    seq.forEach((want, i) => expect(maxRelError(chunked[i], want), `tensor ${i}, seed ${seed}`).toBeLessThan(1e-4));
  });

  it('backward matches finite differences for x and every parameter', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const { params } = mixerParams(gpu, seed);
    const mixer = new MambaMixer(params, PREFIX, DIMS, { scanChunk: 3 });
    const x = gpu.tensor([2, 7, DIMS.d_model], 'f32', randomNormal(2 * 7 * DIMS.d_model, seeded(seed + 1)), 'x');
    const results = await gradCheck(
      gpu,
      { params, inputs: [x], forward: (pass, [input]) => mixer.forward(pass, input), backward: (pass, dy) => [mixer.backward(pass, dy)] },
      seed,
    );
    expect(results.map((r) => r.tensor)).toEqual([
      'input 0 (x)',
      ...['in_proj.weight', 'conv1d.weight', 'conv1d.bias', 'x_proj.weight', 'dt_proj.weight', 'dt_proj.bias', 'A_log', 'D', 'out_proj.weight'].map((n) => `${PREFIX}.${n}`),
    ]);
    for (const r of results) expect(r.relError, `${r.tensor} seed ${seed}: ${r.analytic} vs ${r.numeric}`).toBeLessThan(GRAD_TOLERANCE);
    x.release();
    params.release();
  });

  it('gradients accumulate over two backward passes', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const { params } = mixerParams(gpu, seed);
    const mixer = new MambaMixer(params, PREFIX, DIMS);
    const x = gpu.tensor([1, 5, DIMS.d_model], 'f32', randomNormal(5 * DIMS.d_model, seeded(seed + 1)), 'x');
    const dy = gpu.tensor([1, 5, DIMS.d_model], 'f32', randomNormal(5 * DIMS.d_model, seeded(seed + 2)), 'dy');
    const once: Float32Array[] = [];
    for (let k = 0; k < 2; k++) {
      const dx = gpu.run((enc) => {
        enc.releaseAfter(mixer.forward({ enc, train: true }, x));
        return mixer.backward({ enc, train: true }, dy);
      });
      await dx.read();
      dx.release();
      if (k === 0) for (const p of params.all()) once.push((await p.grad!.read()) as Float32Array);
    }
    const twice = await Promise.all(params.all().map((p) => p.grad!.read()));
    twice.forEach((g, i) => expect(maxRelError(g, once[i].map((v) => 2 * v)), `${params.all()[i].name} seed ${seed}`).toBeLessThan(1e-5));
    [x, dy].forEach((t) => t.release());
    params.release();
  });

  it('releases every temporary: inference, training and streaming', async () => {
    const gpu = await testGpu();
    const seed = freshSeed();
    const { params } = mixerParams(gpu, seed);
    const mixer = new MambaMixer(params, PREFIX, DIMS, { scanChunk: 3 });
    const x = gpu.tensor([2, 7, DIMS.d_model], 'f32', randomNormal(2 * 7 * DIMS.d_model, seeded(seed)), 'x');
    const dy = gpu.tensor([2, 7, DIMS.d_model], 'f32', randomNormal(2 * 7 * DIMS.d_model, seeded(seed + 1)), 'dy');
    const trainStep = async () => {
      const dx = gpu.run((enc) => {
        enc.releaseAfter(mixer.forward({ enc, train: true }, x));
        return mixer.backward({ enc, train: true }, dy);
      });
      dx.release();
      await settled(gpu);
    };
    await trainStep(); // allocates the gradients
    const live = gpu.pool.liveBytes;
    await trainStep();
    expect(gpu.pool.liveBytes, 'training step').toBe(live);
    gpu.run((enc) => enc.releaseAfter(mixer.forward({ enc, train: false }, x)));
    await settled(gpu);
    expect(gpu.pool.liveBytes, 'inference').toBe(live);
    const state = mixer.startState(gpu, 2);
    await settled(gpu);
    const withState = gpu.pool.liveBytes;
    for (let k = 0; k < 2; k++) gpu.run((enc) => enc.releaseAfter(mixer.step({ enc, train: false }, x, state)));
    await settled(gpu);
    expect(gpu.pool.liveBytes, 'streaming').toBe(withState);
    state.release();
    [x, dy].forEach((t) => t.release());
    params.release();
  });

  const chunkings: [string, number[]][] = [
    ['1 frame', Array(10).fill(1)],
    ['3 frames', [3, 3, 3, 1]],
    ['mixed', [2, 1, 4, 1, 2]],
    ['whole', [10]],
  ];
  for (const [label, sizes] of chunkings) {
    it(`streaming in chunks (${label}) equals the offline forward`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const [b, l, dm] = [2, 10, DIMS.d_model];
      const { params } = mixerParams(gpu, seed);
      const mixer = new MambaMixer(params, PREFIX, DIMS, { scanChunk: 4 });
      const x = randomNormal(b * l * dm, seeded(seed + 1));
      const want = await offline(gpu, mixer, x, b, l);
      const state = mixer.startState(gpu, b);
      const got = new Float32Array(b * l * dm);
      let t0 = 0;
      for (const m of sizes) {
        const xc = gpu.tensor([b, m, dm], 'f32', frames(x, b, l, dm, t0, m), 'chunk');
        const y = gpu.run((enc) => mixer.step({ enc, train: false }, xc, state));
        expect(y.shape).toEqual([b, m, dm]);
        const yc = await y.read();
        for (let bi = 0; bi < b; bi++) got.set(yc.subarray(bi * m * dm, (bi + 1) * m * dm), (bi * l + t0) * dm);
        xc.release();
        y.release();
        t0 += m;
      }
      expect(maxRelError(got, want), `seed ${seed}`).toBeLessThan(1e-4);
      state.release();
      params.release();
    });
  }

  it('rejects bad input with ShapeError naming the tensor and its shape', async () => {
    const gpu = await testGpu();
    const { params } = mixerParams(gpu, 1);
    const mixer = new MambaMixer(params, PREFIX, DIMS);
    const wide = gpu.tensor([2, 5, 9], 'f32', undefined, 'frames');
    const flat = gpu.tensor([5, 8], 'f32', undefined, 'frames');
    const x = gpu.tensor([3, 2, 8], 'f32', undefined, 'chunk');
    const enc = gpu.encoder();
    for (const bad of [wide, flat]) {
      expect(() => mixer.forward({ enc, train: false }, bad)).toThrow(ShapeError);
      expect(() => mixer.forward({ enc, train: false }, bad)).toThrow(`${PREFIX}: input frames[${bad.shape.join(', ')}] should be (b, l, d_model=8)`);
    }
    const state = mixer.startState(gpu, 2);
    expect(() => mixer.step({ enc, train: false }, x, state)).toThrow(ShapeError);
    expect(() => mixer.step({ enc, train: false }, x, state)).toThrow(/state depthwise\.state\[2, 3, 16\] .* does not fit input chunk\[3, 2, 8\]/);
    expect(() => mixer.step({ enc, train: true }, x, state)).toThrow(/step is for inference/);
    expect(() => mixer.backward({ enc, train: true }, x)).toThrow(LabError);
    expect(() => mixer.backward({ enc, train: true }, x)).toThrow(/backward without a training forward/);
    expect(enc.length).toBe(0);
    // Parameters of another size than the mixer's dimensions.
    expect(() => new MambaMixer(params, PREFIX, { ...DIMS, d_state: 5 })).toThrow(LabError);
    expect(() => new MambaMixer(params, PREFIX, { ...DIMS, d_state: 5 })).toThrow(/parameter encoder\.layers\.0\.mixer\.x_proj\.weight is \[10, 16\], the module needs \[12, 16\]/);
    expect(() => new MambaMixer(params, 'encoder.layers.1.mixer', DIMS)).toThrow(/parameter encoder\.layers\.1\.mixer\.in_proj\.weight does not exist/);
    [wide, flat, x].forEach((t) => t.release());
    state.release();
    params.release();
  });
});
