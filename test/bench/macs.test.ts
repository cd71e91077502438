import { describe, expect, it } from 'vitest';
import { forwardMacs } from '../../src/bench/macs.ts';
import { preset } from '../../src/models/presets.ts';

const SR = 16000;

describe('analytic MACs against the paper (PAPER.md, derived at batch 1)', () => {
  it('the CNN costs 2.45 GMAC per second of audio', () => {
    const m = forwardMacs(preset('mamba', 'base'), SR);
    expect(m.extractor / 1e9).toBeCloseTo(2.45, 2);
  });

  it('Mamba Base layers add about 3.49 GMAC per second', () => {
    const m = forwardMacs(preset('mamba', 'base'), 80 * SR);
    expect(m.layers / 80 / 1e9).toBeGreaterThan(3.49 * 0.98);
    expect(m.layers / 80 / 1e9).toBeLessThan(3.49 * 1.01);
  });

  // The paper's figures count the CNN and the encoder layers (not the projection or positional conv).
  for (const [kind, seconds, want] of [
    ['mamba', 80, 475e9],
    ['transformer', 80, 831e9],
    ['mamba', 320, 1.9e12],
    ['transformer', 320, 6.9e12],
  ] as const) {
    it(`${kind} base at ${seconds} s: ${want / 1e9} GMAC within 2%`, () => {
      const m = forwardMacs(preset(kind, 'base'), seconds * SR);
      expect(Math.abs(m.extractor + m.layers - want) / want).toBeLessThan(0.02);
    });
  }

  it("Mamba's MACs per second of audio are flat in length; the Transformer's grow", () => {
    const perSecond = (kind: 'mamba' | 'transformer', s: number) => forwardMacs(preset(kind, 'tiny'), s * SR).total / s;
    expect(Math.abs(perSecond('mamba', 320) / perSecond('mamba', 10) - 1)).toBeLessThan(0.02);
    expect(perSecond('transformer', 320) / perSecond('transformer', 10)).toBeGreaterThan(1.5);
  });
});
