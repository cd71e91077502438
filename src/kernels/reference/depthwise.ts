// CPU twin of depthwise.wgsl: plain loops, float64 accumulation, float64 results (so that finite differences
// of the forward can check the backward). Layout (b, l, channels); weight (channels, k) as PyTorch's.
import { sigmoid } from './math.ts';

export interface DepthwiseShape {
  b: number;
  l: number;
  /** Channels (d_inner in Mamba). */
  c: number;
  /** Taps (d_conv). */
  k: number;
  /** Apply SiLU to the output (Mamba's conv1d is followed by SiLU). */
  silu?: boolean;
}

/** Pre-activation of the causal depthwise conv: z[b, t, c] = bias[c] + sum_j w[c, j] x[b, t + j - (k - 1), c]. */
function depthwisePre(x: ArrayLike<number>, w: ArrayLike<number>, s: DepthwiseShape, bias?: ArrayLike<number>): Float64Array {
  const { b, l, c, k } = s;
  const z = new Float64Array(b * l * c);
  for (let bb = 0; bb < b; bb++)
    for (let t = 0; t < l; t++)
      for (let ch = 0; ch < c; ch++) {
        let acc = bias ? bias[ch] : 0;
        for (let j = 0; j < k; j++) {
          const src = t + j - (k - 1);
          if (src >= 0) acc += w[ch * k + j] * x[(bb * l + src) * c + ch];
        }
        z[(bb * l + t) * c + ch] = acc;
      }
  return z;
}

/** Causal depthwise conv1d, output (b, l, c), SiLU applied when `s.silu`. */
export function depthwiseConvRef(x: ArrayLike<number>, w: ArrayLike<number>, s: DepthwiseShape, bias?: ArrayLike<number>): Float64Array {
  const z = depthwisePre(x, w, s, bias);
  if (s.silu) for (let i = 0; i < z.length; i++) z[i] = z[i] * sigmoid(z[i]);
  return z;
}

export interface DepthwiseGrads {
  dx: Float64Array;
  dweight: Float64Array;
  dbias: Float64Array;
}

/** Backward of depthwiseConvRef: dx (b, l, c), dweight (c, k), dbias (c). */
export function depthwiseConvBackwardRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
  s: DepthwiseShape,
  bias?: ArrayLike<number>,
): DepthwiseGrads {
  const { b, l, c, k } = s;
  const dz = Float64Array.from(dy);
  if (s.silu) {
    const z = depthwisePre(x, w, s, bias);
    for (let i = 0; i < z.length; i++) {
      const sg = sigmoid(z[i]);
      dz[i] *= sg * (1 + z[i] * (1 - sg));
    }
  }
  const dx = new Float64Array(b * l * c);
  const dweight = new Float64Array(c * k);
  const dbias = new Float64Array(c);
  for (let bb = 0; bb < b; bb++)
    for (let t = 0; t < l; t++)
      for (let ch = 0; ch < c; ch++) {
        const g = dz[(bb * l + t) * c + ch];
        dbias[ch] += g;
        for (let j = 0; j < k; j++) {
          const src = t + j - (k - 1);
          if (src < 0) continue;
          dx[(bb * l + src) * c + ch] += w[ch * k + j] * g;
          dweight[ch * k + j] += x[(bb * l + src) * c + ch] * g;
        }
      }
  return { dx, dweight, dbias };
}
