import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { forwardMacs } from '../../src/bench/macs.ts';
import { countParameters } from '../../src/models/parameters.ts';
import { presetByName } from '../../src/models/presets.ts';

function lab(...args: string[]): string {
  return execFileSync('npm', ['run', '-s', 'lab', '--', ...args], { encoding: 'utf8' });
}

describe('lab model info', () => {
  it('prints parameters, MACs per second of audio, their breakdown and the configuration as JSON', () => {
    const out = JSON.parse(lab('model', 'info', '--preset', 'mamba-base', '--json', '--seconds', '20'));
    const config = presetByName('mamba-base');
    const macs = forwardMacs(config, 20 * 16000);
    expect(out.params).toBe(countParameters(config));
    expect(out.seconds).toBe(20);
    expect(out.macs).toEqual(macs);
    expect(out.macsPerSecond).toBeCloseTo(macs.total / 20, 0);
    expect(out.config).toEqual(config);
  });

  it('refuses an unknown preset with a usage message', () => {
    expect(() => execFileSync('npm', ['run', '-s', 'lab', '--', 'model', 'info', '--preset', 'mamba-huge'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(
      /unknown preset "mamba-huge"/,
    );
  });
});
