import { describe, expect, it } from 'vitest';
import { initialValues } from '../../src/models/init.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { preset } from '../../src/models/presets.ts';

const softplus = (x: number) => Math.log1p(Math.exp(x));

describe('initial values follow the paper', () => {
  const c = preset('innbimamba', 'tiny');
  const specs = parameterSpecs(c, { pretrainHead: true, ctcHead: true });
  const v = initialValues(specs, c, 7);

  it('gives every parameter a finite value of the right size', () => {
    for (const s of specs) {
      const x = v.get(s.name)!;
      expect(x.length, s.name).toBe(s.shape.reduce((a, b) => a * b, 1));
      expect(x.every(Number.isFinite), s.name).toBe(true);
    }
  });

  it('A_log = log(1..n) per channel, D = 1, for both directions', () => {
    for (const name of ['encoder.layers.0.mixer.A_log', 'encoder.layers.0.mixer.A_b_log']) {
      const a = v.get(name)!;
      for (let s = 0; s < c.d_state; s++) expect(a[5 * c.d_state + s]).toBeCloseTo(Math.log(s + 1), 6);
    }
    expect(v.get('encoder.layers.1.mixer.D_b')!.every((x) => x === 1)).toBe(true);
  });

  it('dt_proj.bias is softplus^-1 of a dt in [1e-3, 0.1], dt_proj.weight within +-dt_rank^-0.5', () => {
    const dt = Array.from(v.get('encoder.layers.0.mixer.dt_proj.bias')!, softplus);
    expect(Math.min(...dt)).toBeGreaterThanOrEqual(1e-3 * 0.999);
    expect(Math.max(...dt)).toBeLessThanOrEqual(0.1 * 1.001);
    const w = v.get('encoder.layers.0.mixer.dt_proj.weight')!;
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(c.dt_rank ** -0.5);
  });

  it('norms start at weight 1, bias 0; it is deterministic for a seed', () => {
    expect(v.get('encoder.layers.0.norm.weight')!.every((x) => x === 1)).toBe(true);
    expect(v.get('encoder.layer_norm.bias')!.every((x) => x === 0)).toBe(true);
    const again = initialValues(specs, c, 7);
    expect(again.get('final_proj.weight')).toEqual(v.get('final_proj.weight'));
  });
});
