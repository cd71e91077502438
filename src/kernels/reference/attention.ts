// CPU twin of attention.wgsl: multi-head scaled dot-product attention, float64 throughout.
// q, k, v, out: (b, l, d_model) row-major; head hh owns channels hh*dh .. hh*dh + dh - 1; scale 1/sqrt(dh).
// Causal: query i sees keys j <= i. Key lengths (a padded batch): batch bb's keys j >= keyLengths[bb] (clamped to
// [1, l]) are hidden from every query.

export interface AttentionShape {
  b: number;
  l: number;
  dModel: number;
  heads: number;
  causal: boolean;
  keyLengths?: readonly number[];
}

/** Keys query i of batch bb sees: 0 .. n - 1. */
function seen(s: AttentionShape, bb: number, i: number): number {
  const n = s.causal ? i + 1 : s.l;
  return s.keyLengths ? Math.min(n, Math.max(1, Math.min(s.l, s.keyLengths[bb]))) : n;
}

export interface AttentionRefForward {
  out: Float64Array; // (b, l, d_model)
  probs: Float64Array; // (b, h, l, l), 0 where hidden
  lse: Float64Array; // (b, h, l)
}

export interface AttentionRefGrads {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
}

export function attentionRef(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, s: AttentionShape): AttentionRefForward {
  const { b, l, dModel, heads } = s;
  const dh = dModel / heads;
  const scale = 1 / Math.sqrt(dh);
  const out = new Float64Array(b * l * dModel);
  const probs = new Float64Array(b * heads * l * l);
  const lse = new Float64Array(b * heads * l);
  const row = new Float64Array(l);
  for (let bb = 0; bb < b; bb++)
    for (let hh = 0; hh < heads; hh++)
      for (let i = 0; i < l; i++) {
        const n = seen(s, bb, i);
        const qi = (bb * l + i) * dModel + hh * dh;
        let m = -Infinity;
        for (let j = 0; j < n; j++) {
          const kj = (bb * l + j) * dModel + hh * dh;
          let acc = 0;
          for (let c = 0; c < dh; c++) acc += q[qi + c] * k[kj + c];
          row[j] = acc * scale;
          m = Math.max(m, row[j]);
        }
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(row[j] - m);
        const z = (bb * heads + hh) * l + i;
        lse[z] = m + Math.log(sum);
        for (let j = 0; j < n; j++) {
          const pr = Math.exp(row[j] - m) / sum;
          probs[z * l + j] = pr;
          const vj = (bb * l + j) * dModel + hh * dh;
          for (let c = 0; c < dh; c++) out[qi + c] += pr * v[vj + c];
        }
      }
  return { out, probs, lse };
}

/**
 * Gradients of sum(dout * out) with respect to q, k, v:
 * dP_ij = dout_i.v_j, dS_ij = P_ij (dP_ij - sum_j' P_ij' dP_ij'), dq_i = scale sum_j dS_ij k_j,
 * dk_j = scale sum_i dS_ij q_i, dv_j = sum_i P_ij dout_i.
 */
export function attentionBackwardRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dout: ArrayLike<number>,
  s: AttentionShape,
): AttentionRefGrads {
  const { b, l, dModel, heads } = s;
  const dh = dModel / heads;
  const scale = 1 / Math.sqrt(dh);
  const { probs } = attentionRef(q, k, v, s);
  const dq = new Float64Array(b * l * dModel);
  const dk = new Float64Array(b * l * dModel);
  const dv = new Float64Array(b * l * dModel);
  const dp = new Float64Array(l);
  for (let bb = 0; bb < b; bb++)
    for (let hh = 0; hh < heads; hh++)
      for (let i = 0; i < l; i++) {
        const n = seen(s, bb, i);
        const qi = (bb * l + i) * dModel + hh * dh;
        const z = ((bb * heads + hh) * l + i) * l;
        let rowsum = 0;
        for (let j = 0; j < n; j++) {
          const vj = (bb * l + j) * dModel + hh * dh;
          let acc = 0;
          for (let c = 0; c < dh; c++) acc += dout[qi + c] * v[vj + c];
          dp[j] = acc;
          rowsum += probs[z + j] * acc;
        }
        for (let j = 0; j < n; j++) {
          const pr = probs[z + j];
          const ds = pr * (dp[j] - rowsum) * scale;
          const kj = (bb * l + j) * dModel + hh * dh;
          for (let c = 0; c < dh; c++) {
            dq[qi + c] += ds * k[kj + c];
            dk[kj + c] += ds * q[qi + c];
            dv[kj + c] += pr * dout[qi + c];
          }
        }
      }
  return { dq, dk, dv };
}
