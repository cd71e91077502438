// Layout kernels: channel ranges of (..., channels) tensors (Mamba's in_proj / x_proj splits and their
// backward), frames of (b, l, channels) concatenated along time (streaming windows and states, the KV
// cache's growth) and time reversal per utterance (the bidirectional Mambas).
// The WGSL is shaders/layout.wgsl; the CPU twin is reference/layout.ts.
import shader from '../../shaders/layout.wgsl?raw';
import type { Encoder } from '../gpu/encoder.ts';
import { grid } from '../gpu/encoder.ts';
import { ShapeError } from '../gpu/errors.ts';
import { params } from '../gpu/params.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';

const WG = 256;

const desc = (t: Tensor) => `${t.name}${shapeString(t.shape)}`;

/** Channels (last dimension) and rows (everything before it) of x; at least 1-D. */
function rowsAndChannels(x: Tensor, op: string): { rows: number; c: number } {
  if (x.shape.length < 1) throw new ShapeError(`${op}: ${desc(x)} needs a channel dimension`);
  const c = x.shape[x.shape.length - 1];
  return { rows: c === 0 ? 0 : x.size / c, c };
}

function checkRange(op: string, wide: Tensor, c: number, start: number, count: number): void {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > c) {
    throw new ShapeError(`${op}: channels ${start}..${start + count} do not lie inside the ${c} channels of ${desc(wide)}`);
  }
}

/** x (..., c) -> out (..., count) = channels start .. start + count - 1 of x. */
export function channelSlice(enc: Encoder, x: Tensor, start: number, count: number, out?: Tensor): Tensor {
  const { rows, c } = rowsAndChannels(x, 'channelSlice');
  checkRange('channelSlice', x, c, start, count);
  const shape = [...x.shape.slice(0, -1), count];
  const y = out ?? enc.gpu.tensor(shape, 'f32', undefined, `${x.name}[${start}:${start + count}]`);
  if (y.size !== rows * count) throw new ShapeError(`channelSlice: out ${desc(y)} should hold ${shapeString(shape)}`);
  const n = rows * count;
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'channel_slice'),
    params: params().u32(n, c, start, count, 0),
    buffers: [x, y],
    workgroups: grid(Math.ceil(n / WG)),
  });
  return y;
}

/**
 * The backward of channelSlice: writes x (..., count) into channels start .. start + count - 1 of `into`
 * (..., c), or adds it there with `accumulate`. The other channels of `into` are left untouched. Returns `into`.
 */
export function channelSliceBackward(enc: Encoder, x: Tensor, into: Tensor, start: number, opts: { accumulate?: boolean } = {}): Tensor {
  const { rows, c } = rowsAndChannels(into, 'channelSliceBackward');
  const count = x.shape[x.shape.length - 1] ?? 0;
  checkRange('channelSliceBackward', into, c, start, count);
  if (x.size !== rows * count || x.shape.length !== into.shape.length || x.shape.slice(0, -1).some((d, i) => d !== into.shape[i])) {
    throw new ShapeError(`channelSliceBackward: ${desc(x)} does not fit channels ${start}..${start + count} of ${desc(into)}`);
  }
  const n = rows * count;
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'channel_write', { ACCUMULATE: !!opts.accumulate }),
    params: params().u32(n, c, start, count, 0),
    buffers: [x, into],
    workgroups: grid(Math.ceil(n / WG)),
  });
  return into;
}

/** parts (..., c_i) with equal leading dimensions -> (..., sum c_i), concatenated along channels. */
export function channelConcat(enc: Encoder, parts: readonly Tensor[], name = 'concat'): Tensor {
  if (parts.length === 0) throw new ShapeError('channelConcat: no parts to concatenate');
  const lead = parts[0].shape.slice(0, -1);
  let c = 0;
  for (const t of parts) {
    if (t.shape.length !== lead.length + 1 || t.shape.slice(0, -1).some((d, i) => d !== lead[i])) {
      throw new ShapeError(`channelConcat: ${desc(t)} does not match the leading dimensions of ${desc(parts[0])}`);
    }
    c += t.shape[lead.length];
  }
  const out = enc.gpu.tensor([...lead, c], 'f32', undefined, name);
  let start = 0;
  for (const t of parts) {
    channelSliceBackward(enc, t, out, start);
    start += t.shape[lead.length];
  }
  return out;
}

/**
 * out (b, len, c) = frames start .. start + len - 1 of [a, b] concatenated along time, with a (b, la, c) and
 * b (b, lb, c); either part may have no frames, and len may be 0. The streaming steps use it to glue the
 * carried state to new frames and to cut the next state; the KV cache to grow.
 */
export function framesConcat(enc: Encoder, a: Tensor, b: Tensor, start: number, len: number, name = 'frames'): Tensor {
  if (a.shape.length !== 3 || b.shape.length !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[2]) {
    throw new ShapeError(`framesConcat: ${desc(a)} and ${desc(b)} must both be (b, frames, channels) with equal b and channels`);
  }
  const [batch, la, c] = a.shape;
  const lb = b.shape[1];
  if (start < 0 || start + len > la + lb) {
    throw new ShapeError(`framesConcat: frames ${start}..${start + len} lie outside [${desc(a)}, ${desc(b)}] (${la + lb} frames)`);
  }
  const out = enc.gpu.tensor([batch, len, c], 'f32', undefined, name);
  const n = batch * len * c;
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'frames_concat'),
    params: params().u32(n, c, start, len, la, lb),
    buffers: [a, b, out],
    workgroups: grid(Math.ceil(n / WG)),
  });
  return out;
}

/**
 * x (b, l, c) reversed along time per utterance: out[b, t] = x[b, len_b - 1 - t] for t < len_b, and the
 * padded frames t >= len_b stay where they are. lengths (b), i32 or u32, clamped to [0, l]; all l when absent.
 * Its own inverse, so also its own backward.
 */
export function reverseFrames(enc: Encoder, x: Tensor, lengths?: Tensor, out?: Tensor): Tensor {
  if (x.shape.length !== 3) throw new ShapeError(`reverseFrames: ${desc(x)} must be (b, l, channels)`);
  const [b, l, c] = x.shape;
  if (lengths && (lengths.dtype === 'f32' || lengths.shape.length !== 1 || lengths.shape[0] !== b)) {
    throw new ShapeError(`reverseFrames: lengths ${desc(lengths)}:${lengths.dtype} must be (b=${b}) integers for ${desc(x)}`);
  }
  const y = out ?? enc.gpu.tensor(x.shape, 'f32', undefined, `${x.name}.reversed`);
  if (y.shape.length !== 3 || y.shape.some((d, i) => d !== x.shape[i])) throw new ShapeError(`reverseFrames: out ${desc(y)} must match ${desc(x)}`);
  if (y.buffer === x.buffer) throw new ShapeError(`reverseFrames: out ${desc(y)} shares its buffer with the input (no in-place reversal)`);
  const n = b * l * c;
  enc.dispatch({
    pipeline: enc.gpu.pipeline(shader, 'reverse_frames', { HAS_LENGTHS: !!lengths }),
    params: params().u32(n, c, 0, 0, l),
    buffers: [x, lengths ?? enc.gpu.empty, y],
    workgroups: grid(Math.ceil(n / WG)),
  });
  return y;
}
