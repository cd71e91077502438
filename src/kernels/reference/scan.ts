// CPU twin of shaders/scan.wgsl: the selective scan in plain loops, float64 throughout.
//   delta = softplus(dt + dt_bias), A = -exp(A_log), h_t = exp(delta A) h_{t-1} + delta B_t u_t,
//   y_t = <h_t, C_t> + D u_t, out = y * silu(z) when z is given.
import { sigmoid, softplus } from './math.ts';

export interface ScanShape {
  b: number;
  l: number;
  /** d_inner */
  d: number;
  /** d_state */
  n: number;
}

export interface ScanData {
  u: ArrayLike<number>; // (b, l, d)
  dt: ArrayLike<number>; // (b, l, d), before softplus
  dtBias: ArrayLike<number>; // (d)
  aLog: ArrayLike<number>; // (d, n)
  B: ArrayLike<number>; // (b, l, n)
  C: ArrayLike<number>; // (b, l, n)
  D: ArrayLike<number>; // (d)
  z?: ArrayLike<number>; // (b, l, d)
  h0?: ArrayLike<number>; // (b, d, n)
}

export interface ScanRefForward {
  out: Float64Array; // (b, l, d)
  hT: Float64Array; // (b, d, n)
  /** (b, d, nchunks, n) state before each chunk, when a chunk length was given. */
  states?: Float64Array;
  /** (b, l, d, n) every state h_t, kept for the backward. */
  hs: Float64Array;
}

export interface ScanRefGrads {
  du: Float64Array;
  ddt: Float64Array;
  dz?: Float64Array;
  dALog: Float64Array;
  dB: Float64Array;
  dC: Float64Array;
  dD: Float64Array;
  dDtBias: Float64Array;
  dh0: Float64Array;
}

export function scanForwardRef(x: ScanData, s: ScanShape, chunk?: number): ScanRefForward {
  const { b, l, d, n } = s;
  const out = new Float64Array(b * l * d);
  const hT = new Float64Array(b * d * n);
  const hs = new Float64Array(b * l * d * n);
  const nchunks = chunk ? Math.ceil(l / chunk) : 0;
  const states = chunk ? new Float64Array(b * d * nchunks * n) : undefined;
  const h = new Float64Array(n);
  const A = new Float64Array(n);
  for (let bi = 0; bi < b; bi++)
    for (let di = 0; di < d; di++) {
      for (let k = 0; k < n; k++) {
        A[k] = -Math.exp(x.aLog[di * n + k]);
        h[k] = x.h0 ? x.h0[(bi * d + di) * n + k] : 0;
      }
      for (let t = 0; t < l; t++) {
        if (states && t % chunk! === 0) {
          const c = t / chunk!;
          for (let k = 0; k < n; k++) states[((bi * d + di) * nchunks + c) * n + k] = h[k];
        }
        const i = (bi * l + t) * d + di;
        const delta = softplus(x.dt[i] + x.dtBias[di]);
        const u = x.u[i];
        let y = x.D[di] * u;
        for (let k = 0; k < n; k++) {
          const r = (bi * l + t) * n + k;
          h[k] = Math.exp(delta * A[k]) * h[k] + delta * x.B[r] * u;
          y += h[k] * x.C[r];
          hs[i * n + k] = h[k];
        }
        out[i] = x.z ? y * x.z[i] * sigmoid(x.z[i]) : y;
      }
      for (let k = 0; k < n; k++) hT[(bi * d + di) * n + k] = h[k];
    }
  return { out, hT, states, hs };
}

/** Gradients of sum(dout * out) with respect to every input (dt_bias, A_log, D summed over b and l). */
export function scanBackwardRef(x: ScanData, s: ScanShape, dout: ArrayLike<number>): ScanRefGrads {
  const { b, l, d, n } = s;
  const { hs } = scanForwardRef(x, s);
  const g: ScanRefGrads = {
    du: new Float64Array(b * l * d),
    ddt: new Float64Array(b * l * d),
    dz: x.z ? new Float64Array(b * l * d) : undefined,
    dALog: new Float64Array(d * n),
    dB: new Float64Array(b * l * n),
    dC: new Float64Array(b * l * n),
    dD: new Float64Array(d),
    dDtBias: new Float64Array(d),
    dh0: new Float64Array(b * d * n),
  };
  const A = new Float64Array(n);
  const gc = new Float64Array(n); // adjoint of h_t carried back from step t + 1
  const dA = new Float64Array(d * n);
  for (let bi = 0; bi < b; bi++)
    for (let di = 0; di < d; di++) {
      for (let k = 0; k < n; k++) {
        A[k] = -Math.exp(x.aLog[di * n + k]);
        gc[k] = 0;
      }
      for (let t = l - 1; t >= 0; t--) {
        const i = (bi * l + t) * d + di;
        const u = x.u[i];
        const xdt = x.dt[i] + x.dtBias[di];
        const delta = softplus(xdt);
        let y = x.D[di] * u;
        for (let k = 0; k < n; k++) y += hs[i * n + k] * x.C[(bi * l + t) * n + k];
        let dy = dout[i];
        if (x.z) {
          const zv = x.z[i];
          const sg = sigmoid(zv);
          g.dz![i] = dy * y * sg * (1 + zv * (1 - sg));
          dy *= zv * sg;
        }
        g.dD[di] += dy * u;
        let du = dy * x.D[di];
        let ddelta = 0;
        for (let k = 0; k < n; k++) {
          const r = (bi * l + t) * n + k;
          const hPrev = t > 0 ? hs[((bi * l + t - 1) * d + di) * n + k] : x.h0 ? x.h0[(bi * d + di) * n + k] : 0;
          const e = Math.exp(delta * A[k]);
          const gs = dy * x.C[r] + gc[k];
          g.dC[r] += dy * hs[i * n + k];
          g.dB[r] += gs * delta * u;
          du += gs * delta * x.B[r];
          ddelta += gs * (hPrev * e * A[k] + x.B[r] * u);
          dA[di * n + k] += gs * hPrev * e * delta;
          gc[k] = gs * e;
        }
        g.du[i] = du;
        g.ddt[i] = ddelta * sigmoid(xdt);
        g.dDtBias[di] += g.ddt[i];
      }
      for (let k = 0; k < n; k++) g.dh0[(bi * d + di) * n + k] = gc[k];
    }
  for (let di = 0; di < d; di++) for (let k = 0; k < n; k++) g.dALog[di * n + k] = dA[di * n + k] * -Math.exp(x.aLog[di * n + k]);
  return g;
}
