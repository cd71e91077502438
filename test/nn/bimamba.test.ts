import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { LabError, ShapeError } from '../../src/gpu/errors.ts';
import type { Tensor } from '../../src/gpu/tensor.ts';
import { maxRelError } from '../../src/kernels/compare.ts';
import { freshSeed, randomNormal, randomUniform, seeded } from '../../src/kernels/random.ts';
import { depthwiseConvRef } from '../../src/kernels/reference/depthwise.ts';
import { channelSliceRef, reverseFramesRef } from '../../src/kernels/reference/layout.ts';
import { matmulRef } from '../../src/kernels/reference/matmul.ts';
import { scanForwardRef } from '../../src/kernels/reference/scan.ts';
import type { EncoderKind } from '../../src/models/config.ts';
import { preset } from '../../src/models/presets.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { ExtBiMamba, InnBiMamba } from '../../src/nn/bimamba.ts';
import { gradCheck } from '../../src/nn/gradcheck.ts';
import { MambaMixer, type MambaDims } from '../../src/nn/mamba.ts';
import { Parameter, ParameterSet } from '../../src/nn/module.ts';
import { testGpu } from '../gpu.ts';

const PREFIX = 'encoder.layers.0.mixer';
const DIMS: MambaDims = { d_model: 8, expand: 2, d_state: 4, dt_rank: 2, d_conv: 4 };
const DI = DIMS.expand * DIMS.d_model;

/**
 * The layer's mixer parameters (both directions), named and shaped by the model schema, with values that keep
 * every part active: dt around softplus^-1(0.5), A_log near log(1..n), D near 1. Keyed by full name.
 */
function mixerParams(gpu: Gpu, kind: EncoderKind, seed: number) {
  const cfg = { ...preset(kind, 'tiny'), ...DIMS, n_layers: 1 };
  const rand = seeded(seed);
  const params = new ParameterSet();
  const values = new Map<string, Float32Array>();
  for (const s of parameterSpecs(cfg, {}).filter((p) => p.name.startsWith(PREFIX))) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    let v: Float32Array;
    if (/A(_b)?_log$/.test(s.name)) v = Float32Array.from({ length: n }, (_, i) => Math.log(1 + (i % DIMS.d_state)) + 0.2 * (rand() - 0.5));
    else if (/\.D(_b)?$/.test(s.name)) v = randomUniform(n, rand, 0.5, 1.5);
    else if (/dt_proj(_b)?\.bias$/.test(s.name)) v = randomUniform(n, rand, -1.5, 0.5);
    else if (/conv1d(_b)?\.bias$/.test(s.name)) v = randomNormal(n, rand, 0.3);
    else v = randomNormal(n, rand, 1 / Math.sqrt(s.shape.slice(1).reduce((a, b) => a * b, 1)));
    values.set(s.name, v);
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

/** Bound on checkGradients' relative errors (as in mamba.test.ts). */
const GRAD_TOLERANCE = 1e-2;

/** InnBiMamba on the CPU, composed from the kernel twins. */
function innRef(v: Map<string, Float32Array>, x: ArrayLike<number>, b: number, l: number, lengths?: number[]): Float32Array {
  const { d_model: dm, d_state: n, dt_rank: r, d_conv: k } = DIMS;
  const rows = b * l;
  const w = (name: string) => v.get(`${PREFIX}.${name}`)!;
  const lin = (a: ArrayLike<number>, name: string, K: number, N: number) => matmulRef(a, w(name), { batch: 1, M: rows, N, K, transB: true });
  const branch = (xIn: ArrayLike<number>, z: ArrayLike<number>, sfx: '' | '_b') => {
    const u = depthwiseConvRef(xIn, w(`conv1d${sfx}.weight`), { b, l, c: DI, k, silu: true }, w(`conv1d${sfx}.bias`));
    const xdbl = lin(u, `x_proj${sfx}.weight`, DI, r + 2 * n);
    const dt = lin(channelSliceRef(xdbl, rows, r + 2 * n, 0, r), `dt_proj${sfx}.weight`, r, DI);
    const B = channelSliceRef(xdbl, rows, r + 2 * n, r, n);
    const C = channelSliceRef(xdbl, rows, r + 2 * n, r + n, n);
    const aLog = w(sfx ? 'A_b_log' : 'A_log');
    return scanForwardRef({ u, dt, dtBias: w(`dt_proj${sfx}.bias`), aLog, B, C, D: w(sfx ? 'D_b' : 'D'), z }, { b, l, d: DI, n }).out;
  };
  const xz = lin(x, 'in_proj.weight', dm, 2 * DI);
  const xIn = channelSliceRef(xz, rows, 2 * DI, 0, DI);
  const z = channelSliceRef(xz, rows, 2 * DI, DI, DI);
  const rev = (t: ArrayLike<number>) => reverseFramesRef(t, b, l, DI, lengths);
  const yF = branch(xIn, z, '');
  const yB = rev(branch(rev(xIn), rev(z), '_b'));
  return lin(
    yF.map((y, i) => y + yB[i]),
    'out_proj.weight',
    DI,
    dm,
  );
}

async function run(gpu: Gpu, f: (enc: import('../../src/gpu/encoder.ts').Encoder) => Tensor): Promise<Float32Array> {
  const y = gpu.run(f);
  const out = (await y.read()) as Float32Array;
  y.release();
  return out;
}

/** Wait until the submitted work is done and the encoders' deferred releases have run. */
async function settled(gpu: Gpu): Promise<void> {
  await gpu.device.queue.onSubmittedWorkDone();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('ExtBiMamba', () => {
  for (const lens of [undefined, [9, 6]]) {
    it(`equals MambaMixer on x plus MambaMixer on x reversed (in TS), reversed back${lens ? ', with lengths' : ''}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const [b, l, dm] = [2, 9, DIMS.d_model];
      const { params } = mixerParams(gpu, 'extbimamba', seed);
      const ext = new ExtBiMamba(params, PREFIX, DIMS, { scanChunk: 4 });
      const fwd = new MambaMixer(params, PREFIX, DIMS, { scanChunk: 4 });
      const bwd = new MambaMixer(params, `${PREFIX}_backward`, DIMS, { scanChunk: 4 });
      const xData = randomNormal(b * l * dm, seeded(seed + 1));
      const x = gpu.tensor([b, l, dm], 'f32', xData, 'x');
      const xr = gpu.tensor([b, l, dm], 'f32', reverseFramesRef(xData, b, l, dm, lens), 'x_reversed');
      const lengths = lens ? gpu.tensor([b], 'i32', lens, 'lengths') : undefined;
      const got = await run(gpu, (enc) => ext.forward({ enc, train: false }, x, lengths));
      const y1 = await run(gpu, (enc) => fwd.forward({ enc, train: false }, x));
      const yr = reverseFramesRef(await run(gpu, (enc) => bwd.forward({ enc, train: false }, xr)), b, l, dm, lens);
      expect(maxRelError(got, y1.map((v, i) => v + yr[i])), `seed ${seed}`).toBeLessThan(1e-5);
      if (lens) {
        // The valid frames of the shorter utterance do not depend on its padding.
        const alone = gpu.tensor([1, lens[1], dm], 'f32', xData.subarray(l * dm, (l + lens[1]) * dm), 'x_alone');
        const want = await run(gpu, (enc) => ext.forward({ enc, train: false }, alone));
        expect(maxRelError(got.subarray(l * dm, (l + lens[1]) * dm), want), `seed ${seed}`).toBeLessThan(1e-5);
        alone.release();
      }
      [x, xr, lengths].forEach((t) => t?.release());
      params.release();
    });
  }

  for (const lens of [undefined, [7, 4]]) {
    it(`backward matches finite differences for x and every parameter of both Mambas${lens ? ', with lengths' : ''}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const { params } = mixerParams(gpu, 'extbimamba', seed);
      const ext = new ExtBiMamba(params, PREFIX, DIMS, { scanChunk: 3 });
      const x = gpu.tensor([2, 7, DIMS.d_model], 'f32', randomNormal(2 * 7 * DIMS.d_model, seeded(seed + 1)), 'x');
      const lengths = lens ? gpu.tensor([2], 'i32', lens, 'lengths') : undefined;
      const results = await gradCheck(
        gpu,
        { params, inputs: [x], forward: (pass, [input]) => ext.forward(pass, input, lengths), backward: (pass, dy) => [ext.backward(pass, dy)] },
        seed,
      );
      expect(results.length).toBe(1 + 18);
      expect(results.filter((r) => r.tensor.includes('mixer_backward.')).length).toBe(9);
      for (const r of results) expect(r.relError, `${r.tensor} seed ${seed}: ${r.analytic} vs ${r.numeric}`).toBeLessThan(GRAD_TOLERANCE);
      [x, lengths].forEach((t) => t?.release());
      params.release();
    });
  }
});

describe('InnBiMamba', () => {
  for (const lens of [undefined, [9, 5]]) {
    it(`forward equals the CPU composition of the kernel twins${lens ? ', with lengths' : ''}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const [b, l, dm] = [2, 9, DIMS.d_model];
      const { params, values } = mixerParams(gpu, 'innbimamba', seed);
      const inn = new InnBiMamba(params, PREFIX, DIMS, { scanChunk: 4 });
      const xData = randomNormal(b * l * dm, seeded(seed + 1));
      const x = gpu.tensor([b, l, dm], 'f32', xData, 'x');
      const lengths = lens ? gpu.tensor([b], 'i32', lens, 'lengths') : undefined;
      const got = await run(gpu, (enc) => inn.forward({ enc, train: false }, x, lengths));
      expect(maxRelError(got, innRef(values, xData, b, l, lens)), `seed ${seed}`).toBeLessThan(FORWARD_TOLERANCE);
      [x, lengths].forEach((t) => t?.release());
      params.release();
    });
  }

  for (const lens of [undefined, [6, 7]]) {
    it(`backward matches finite differences for x and every parameter${lens ? ', with lengths' : ''}`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const { params } = mixerParams(gpu, 'innbimamba', seed);
      const inn = new InnBiMamba(params, PREFIX, DIMS, { scanChunk: 3, scanForm: lens ? 'sequential' : 'chunked' });
      const x = gpu.tensor([2, 7, DIMS.d_model], 'f32', randomNormal(2 * 7 * DIMS.d_model, seeded(seed + 1)), 'x');
      const lengths = lens ? gpu.tensor([2], 'i32', lens, 'lengths') : undefined;
      const results = await gradCheck(
        gpu,
        { params, inputs: [x], forward: (pass, [input]) => inn.forward(pass, input, lengths), backward: (pass, dy) => [inn.backward(pass, dy)] },
        seed,
      );
      expect(results.map((r) => r.tensor.replace(`${PREFIX}.`, ''))).toEqual([
        'input 0 (x)',
        'in_proj.weight',
        ...['conv1d.weight', 'conv1d.bias', 'x_proj.weight', 'dt_proj.weight', 'dt_proj.bias', 'A_log', 'D'],
        ...['conv1d_b.weight', 'conv1d_b.bias', 'x_proj_b.weight', 'dt_proj_b.weight', 'dt_proj_b.bias', 'A_b_log', 'D_b'],
        'out_proj.weight',
      ]);
      for (const r of results) expect(r.relError, `${r.tensor} seed ${seed}: ${r.analytic} vs ${r.numeric}`).toBeLessThan(GRAD_TOLERANCE);
      [x, lengths].forEach((t) => t?.release());
      params.release();
    });
  }
});

describe('bidirectional mixers release every temporary', () => {
  for (const kind of ['extbimamba', 'innbimamba'] as const) {
    it(`${kind}: inference and training with lengths`, async () => {
      const gpu = await testGpu();
      const seed = freshSeed();
      const { params } = mixerParams(gpu, kind, seed);
      const m = kind === 'extbimamba' ? new ExtBiMamba(params, PREFIX, DIMS, { scanChunk: 3 }) : new InnBiMamba(params, PREFIX, DIMS, { scanChunk: 3 });
      const x = gpu.tensor([2, 7, DIMS.d_model], 'f32', randomNormal(2 * 7 * DIMS.d_model, seeded(seed)), 'x');
      const dy = gpu.tensor([2, 7, DIMS.d_model], 'f32', randomNormal(2 * 7 * DIMS.d_model, seeded(seed + 1)), 'dy');
      const lengths = gpu.tensor([2], 'i32', [7, 5], 'lengths');
      const trainStep = async () => {
        const dx = gpu.run((enc) => {
          enc.releaseAfter(m.forward({ enc, train: true }, x, lengths));
          return m.backward({ enc, train: true }, dy);
        });
        dx.release();
        await settled(gpu);
      };
      await trainStep(); // allocates the gradients
      const live = gpu.pool.liveBytes;
      await trainStep();
      expect(gpu.pool.liveBytes, 'training step').toBe(live);
      gpu.run((enc) => enc.releaseAfter(m.forward({ enc, train: false }, x, lengths)));
      await settled(gpu);
      expect(gpu.pool.liveBytes, 'inference').toBe(live);
      [x, dy, lengths].forEach((t) => t.release());
      params.release();
    });
  }
});

describe('bidirectional mixers reject bad input', () => {
  it('names the tensor and its shape, and have no streaming step', async () => {
    const gpu = await testGpu();
    const ext = mixerParams(gpu, 'extbimamba', 1).params;
    const inn = mixerParams(gpu, 'innbimamba', 2).params;
    const mixers = [new ExtBiMamba(ext, PREFIX, DIMS), new InnBiMamba(inn, PREFIX, DIMS)];
    const wide = gpu.tensor([2, 5, 9], 'f32', undefined, 'frames');
    const x = gpu.tensor([2, 5, 8], 'f32', undefined, 'frames');
    const lengths = gpu.tensor([3], 'i32', undefined, 'lengths');
    const enc = gpu.encoder();
    for (const m of mixers) {
      expect('step' in m).toBe(false);
      expect(() => m.forward({ enc, train: false }, wide)).toThrow(ShapeError);
      expect(() => m.forward({ enc, train: false }, wide)).toThrow(`${PREFIX}: input frames[2, 5, 9] should be (b, l, d_model=8)`);
      expect(() => m.forward({ enc, train: false }, x, lengths)).toThrow(/lengths lengths\[3\]:i32 must be \(b=2\) integers/);
      expect(() => m.backward({ enc, train: true }, x)).toThrow(/backward without a training forward/);
    }
    expect(enc.length).toBe(0);
    // Each kind needs its own parameters: InnBiMamba's backward branch, ExtBiMamba's second Mamba.
    expect(() => new InnBiMamba(ext, PREFIX, DIMS)).toThrow(LabError);
    expect(() => new InnBiMamba(ext, PREFIX, DIMS)).toThrow(/parameter encoder\.layers\.0\.mixer\.conv1d_b\.weight does not exist/);
    expect(() => new ExtBiMamba(inn, PREFIX, DIMS)).toThrow(/parameter encoder\.layers\.0\.mixer_backward\.in_proj\.weight does not exist/);
    [wide, x, lengths].forEach((t) => t.release());
    ext.release();
    inn.release();
  });
});
