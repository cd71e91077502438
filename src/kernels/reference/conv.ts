// CPU twin of conv.wgsl: plain loops, float64 accumulation, float64 results (so that finite differences
// of the forward can check the backward). Layout (b, l, channels); weights in PyTorch's layout.
import { gelu } from './math.ts';

export interface ConvGrads {
  dx: Float64Array;
  dweight: Float64Array;
  dbias: Float64Array;
}

export interface Conv1dShape {
  b: number;
  l: number;
  cIn: number;
  cOut: number;
  k: number;
  stride: number;
  groups: number;
  padLeft: number;
  padRight: number;
}

/** floor((padLeft + l + padRight - k) / stride) + 1, or 0 when the padded input is shorter than the kernel. */
export function conv1dOutLength(s: Pick<Conv1dShape, 'l' | 'k' | 'stride' | 'padLeft' | 'padRight'>): number {
  const lp = s.padLeft + s.l + s.padRight;
  return lp < s.k ? 0 : Math.floor((lp - s.k) / s.stride) + 1;
}

/**
 * Grouped, strided conv1d with zero padding: y[b, t, o] = bias[o] + sum_{ci, j} w[o, ci, j] x[b, t*stride + j - padLeft,
 * g*cIn/groups + ci] where g = o / (cOut/groups), then GELU when asked. Output (b, lOut, cOut).
 */
export function conv1dRef(x: ArrayLike<number>, w: ArrayLike<number>, s: Conv1dShape, bias?: ArrayLike<number>, withGelu = false): Float64Array {
  const { b, l, cIn, cOut, k, stride, groups, padLeft } = s;
  const lOut = conv1dOutLength(s);
  const cinG = cIn / groups;
  const coutG = cOut / groups;
  const y = new Float64Array(b * lOut * cOut);
  for (let bb = 0; bb < b; bb++)
    for (let t = 0; t < lOut; t++)
      for (let o = 0; o < cOut; o++) {
        const ci0 = Math.floor(o / coutG) * cinG;
        let acc = bias ? bias[o] : 0;
        for (let j = 0; j < k; j++) {
          const src = t * stride + j - padLeft;
          if (src < 0 || src >= l) continue;
          for (let ci = 0; ci < cinG; ci++) acc += w[(o * cinG + ci) * k + j] * x[(bb * l + src) * cIn + ci0 + ci];
        }
        y[(bb * lOut + t) * cOut + o] = withGelu ? gelu(acc) : acc;
      }
  return y;
}

/** Backward of conv1dRef: dx (b, l, cIn), dweight (cOut, cIn/groups, k), dbias (cOut). */
export function conv1dBackwardRef(x: ArrayLike<number>, w: ArrayLike<number>, dy: ArrayLike<number>, s: Conv1dShape): ConvGrads {
  const { b, l, cIn, cOut, k, stride, groups, padLeft } = s;
  const lOut = conv1dOutLength(s);
  const cinG = cIn / groups;
  const coutG = cOut / groups;
  const dx = new Float64Array(b * l * cIn);
  const dweight = new Float64Array(cOut * cinG * k);
  const dbias = new Float64Array(cOut);
  for (let bb = 0; bb < b; bb++)
    for (let t = 0; t < lOut; t++)
      for (let o = 0; o < cOut; o++) {
        const g = dy[(bb * lOut + t) * cOut + o];
        dbias[o] += g;
        const ci0 = Math.floor(o / coutG) * cinG;
        for (let j = 0; j < k; j++) {
          const src = t * stride + j - padLeft;
          if (src < 0 || src >= l) continue;
          for (let ci = 0; ci < cinG; ci++) {
            const xi = (bb * l + src) * cIn + ci0 + ci;
            const wi = (o * cinG + ci) * k + j;
            dx[xi] += w[wi] * g;
            dweight[wi] += x[xi] * g;
          }
        }
      }
  return { dx, dweight, dbias };
}
