import { describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from '../../src/models/checkpoint.ts';
import { parameterSpecs } from '../../src/models/parameters.ts';
import { preset } from '../../src/models/presets.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/models/safetensors.ts';

function randomCheckpoint(kind: 'mamba' | 'transformer' = 'mamba'): Checkpoint {
  const config = preset(kind, 'tiny');
  const heads = { pretrainHead: true, ctcHead: true };
  const params = new Map(
    parameterSpecs(config, heads).map((p) => {
      const n = p.shape.reduce((a, b) => a * b, 1);
      return [p.name, { shape: p.shape, data: Float32Array.from({ length: n }, () => Math.random() * 2 - 1) }];
    }),
  );
  const extra = new Map([['optim.m.D', { shape: [3], data: new Float32Array([1, NaN, -0]) }]]);
  return { config, heads, params, extra, metadata: { step: '17' } };
}

describe('checkpoints', () => {
  it('round-trip bit-exactly, with config, extra tensors and metadata', () => {
    const c = randomCheckpoint();
    const back = loadCheckpoint(saveCheckpoint(c), c.config);
    expect(back.config).toEqual(c.config);
    expect(back.metadata.step).toBe('17');
    expect(back.params.size).toBe(c.params.size);
    for (const [name, t] of c.params) {
      const got = back.params.get(name)!;
      expect(got.shape).toEqual(t.shape);
      const a = new Uint32Array(got.data.buffer, got.data.byteOffset, got.data.length);
      const b = new Uint32Array(t.data.buffer);
      expect(a.length).toBe(b.length);
      expect(a.findIndex((v, i) => v !== b[i]), name).toBe(-1);
    }
    const m = back.extra.get('optim.m.D')!;
    expect(Array.from(new Uint32Array(m.data.buffer))).toEqual(Array.from(new Uint32Array(new Float32Array([1, NaN, -0]).buffer)));
  });

  it('refuses a truncated file, naming the tensor that runs past the end', () => {
    const bytes = saveCheckpoint(randomCheckpoint());
    expect(() => loadCheckpoint(bytes.subarray(0, bytes.length - 10))).toThrow(/tensor .+: data ends at byte \d+ .* truncated/);
    expect(() => loadCheckpoint(bytes.subarray(0, 100))).toThrow(/header length \d+ exceeds the file .*truncated/);
    expect(() => loadCheckpoint(bytes.subarray(0, 3))).toThrow(/shorter than the 8-byte header/);
  });

  it('refuses a corrupt header', () => {
    const bytes = saveCheckpoint(randomCheckpoint()).slice();
    bytes[12] = 0x7b; // '{' inside the JSON
    bytes[13] = 0x7b;
    expect(() => loadCheckpoint(bytes)).toThrow(/not valid JSON|corrupt/);
  });

  it('refuses a checkpoint of another model, naming the difference', () => {
    const c = randomCheckpoint('transformer');
    expect(() => loadCheckpoint(saveCheckpoint(c), preset('mamba', 'tiny'))).toThrow(/kind is "transformer" in the file but the model expects "mamba"/);
  });

  it('refuses a missing or misshapen tensor, naming it and the shapes', () => {
    const c = randomCheckpoint();
    const entries = [...c.params].filter(([n]) => n !== 'encoder.layers.2.mixer.A_log');
    const meta = { config: JSON.stringify(c.config), heads: JSON.stringify(c.heads) };
    expect(() => loadCheckpoint(encodeSafetensors(entries, meta))).toThrow(/tensor encoder\.layers\.2\.mixer\.A_log \[\d+,16\] is missing/);
    const wrong = [...c.params].map(([n, t]): [string, typeof t] =>
      n === 'encoder.layers.0.mixer.D' ? [n, { shape: [t.shape[0] - 1], data: t.data.subarray(1) }] : [n, t],
    );
    expect(() => loadCheckpoint(encodeSafetensors(wrong, meta))).toThrow(/encoder\.layers\.0\.mixer\.D has shape \[383\] but the model expects \[384\]/);
  });

  it('reads F16 and BF16 tensors as written by PyTorch converters', () => {
    // header for two 2-element tensors: F16 [1.5, -2] and BF16 [1, -0.5]
    const header = JSON.stringify({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [2], data_offsets: [4, 8] } });
    const head = new TextEncoder().encode(header);
    const out = new Uint8Array(8 + head.length + 8);
    const view = new DataView(out.buffer);
    view.setBigUint64(0, BigInt(head.length), true);
    out.set(head, 8);
    const d = 8 + head.length;
    view.setUint16(d, 0x3e00, true); // 1.5
    view.setUint16(d + 2, 0xc000, true); // -2
    view.setUint16(d + 4, 0x3f80, true); // 1
    view.setUint16(d + 6, 0xbf00, true); // -0.5
    const f = decodeSafetensors(out);
    expect(Array.from(f.tensors.get('a')!.data)).toEqual([1.5, -2]);
    expect(Array.from(f.tensors.get('b')!.data)).toEqual([1, -0.5]);
  });
});
