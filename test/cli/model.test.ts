import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { forwardMacs } from '../../src/bench/macs.ts';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../../src/models/checkpoint.ts';
import { initialValues } from '../../src/models/init.ts';
import { countParameters, parameterSpecs } from '../../src/models/parameters.ts';
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

describe('lab model export', () => {
  it('keeps the configuration, heads and weights, drops the optimiser state, and never replaces a file unasked', async () => {
    const config = presetByName('mamba-tiny');
    const heads = { pretrainHead: true };
    const specs = parameterSpecs(config, heads);
    const values = initialValues(specs, config, 5);
    const params = new Map(specs.map((s) => [s.name, { shape: [...s.shape], data: values.get(s.name)! }]));
    const extra = new Map([['optim.m.mask_emb', { shape: [config.d_model], data: new Float32Array(config.d_model) }]]);
    const dir = mkdtempSync(join(tmpdir(), 'export-'));
    const from = join(dir, 'step.safetensors');
    writeFileSync(from, saveCheckpoint({ config, heads, params, extra, metadata: { step: '7' } }));
    const out = join(dir, 'model.safetensors');
    const res = JSON.parse(lab('model', 'export', from, '--out', out, '--json'));
    expect(res.params).toBe(countParameters(config));
    const exported = loadCheckpoint(new Uint8Array(readFileSync(out)));
    expect(exported.extra.size).toBe(0);
    expect(exported.metadata.step).toBe('7');
    expect(exported.config).toEqual(config);
    for (const [name, t] of exported.params) expect([...t.data], name).toEqual([...values.get(name)!]);
    expect(() => execFileSync('npm', ['run', '-s', 'lab', '--', 'model', 'export', from, '--out', out], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/exists; give --force/);
    expect(lab('model', 'export', from, '--out', out, '--force')).toContain('optimiser state dropped');
  }, 120_000);

  it('--heads keeps the named heads only: a CTC model trained with the auxiliary frame loss ships without its pre-training head', () => {
    const config = presetByName('mamba-tiny');
    const heads = { pretrainHead: true, ctcHead: true };
    const specs = parameterSpecs(config, heads);
    const values = initialValues(specs, config, 6);
    const params = new Map(specs.map((s) => [s.name, { shape: [...s.shape], data: values.get(s.name)! }]));
    const dir = mkdtempSync(join(tmpdir(), 'export-'));
    const from = join(dir, 'step.safetensors');
    writeFileSync(from, saveCheckpoint({ config, heads, params, extra: new Map(), metadata: {} }));
    const out = join(dir, 'ctc.safetensors');
    expect(JSON.parse(lab('model', 'export', from, '--out', out, '--heads', 'ctc', '--json')).params).toBe(countParameters(config, { ctcHead: true }));
    const exported = loadCheckpoint(new Uint8Array(readFileSync(out)));
    expect(exported.heads).toEqual({ pretrainHead: false, ctcHead: true });
    expect([...exported.params.keys()].sort()).toEqual(parameterSpecs(config, { ctcHead: true }).map((p) => p.name).sort());
    for (const [name, t] of exported.params) expect([...t.data], name).toEqual([...values.get(name)!]);
    const ctcOnly = join(dir, 'only.safetensors');
    writeFileSync(ctcOnly, readFileSync(out));
    expect(() => execFileSync('npm', ['run', '-s', 'lab', '--', 'model', 'export', ctcOnly, '--out', join(dir, 'x.safetensors'), '--heads', 'pretrain'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(
      /--heads pretrain: .*only\.safetensors has no pretrain head/,
    );
  }, 120_000);
});
