import { describe, expect, it } from 'vitest';
import { ENCODER_KINDS, framesFor, hopSamples } from '../../src/models/config.ts';
import { countParameters, parameterSpecs } from '../../src/models/parameters.ts';
import { preset, presetByName } from '../../src/models/presets.ts';

// PAPER.md: derived whole-model counts (pre-training model with its masked-prediction head, K = 504).
const PAPER: [string, number][] = [
  ['mamba-base', 78.2e6],
  ['transformer-base', 94.7e6],
  ['causal-transformer-base', 94.7e6],
  ['mamba-mlp-base', 94.75e6],
  ['extbimamba-base', 146.7e6],
  ['mamba-small', 23.5e6],
  ['transformer-small', 22.4e6],
  ['mamba-mlp-small', 33.0e6],
];

describe('parameter counts', () => {
  for (const [name, want] of PAPER) {
    it(`${name} has ${(want / 1e6).toFixed(2)}M parameters (within 0.1M)`, () => {
      const got = countParameters(presetByName(name));
      expect(Math.abs(got - want)).toBeLessThan(0.1e6);
    });
  }

  it('InnBiMamba shares in/out projections: between Mamba and ExtBiMamba', () => {
    const inn = countParameters(preset('innbimamba', 'base'));
    expect(inn).toBeGreaterThan(countParameters(preset('mamba', 'base')));
    expect(inn).toBeLessThan(countParameters(preset('extbimamba', 'base')));
  });

  it('names are unique and follow mamba_ssm / fairseq naming', () => {
    for (const kind of ENCODER_KINDS) {
      const names = parameterSpecs(preset(kind, 'tiny'), { pretrainHead: true, ctcHead: true }).map((p) => p.name);
      expect(new Set(names).size).toBe(names.length);
    }
    const mamba = parameterSpecs(preset('mamba', 'base')).map((p) => p.name);
    for (const n of ['in_proj.weight', 'conv1d.weight', 'conv1d.bias', 'x_proj.weight', 'dt_proj.weight', 'dt_proj.bias', 'A_log', 'D', 'out_proj.weight']) {
      expect(mamba).toContain(`encoder.layers.0.mixer.${n}`);
    }
    const inn = parameterSpecs(preset('innbimamba', 'base')).map((p) => p.name);
    expect(inn).toContain('encoder.layers.11.mixer.A_b_log');
    expect(inn).toContain('encoder.layers.11.mixer.conv1d_b.weight');
  });
});

describe('frame arithmetic', () => {
  it('the extractor hops 320 samples (20 ms at 16 kHz) and makes 49 frames from one second', () => {
    const c = preset('mamba', 'base');
    expect(hopSamples(c)).toBe(320);
    expect(framesFor(c, 16000)).toBe(49);
    expect(framesFor(c, 400)).toBe(1);
    expect(framesFor(c, 399)).toBe(0);
  });
});
