// Losses: softmax cross-entropy over selected rows, row-wise log-softmax, and CTC (blank = 0).
//
// Cross-entropy (three dispatches, all deterministic: no float atomics):
//   ce_rows      one invocation per row: online max / sum-exp / argmax over K classes. Writes the row's
//                log-sum-exp (kept for the backward) and four partials (nll, correct, selected, bad target).
//   ce_reduce    one workgroup: fixed-order sums of the partials -> stats
//                [mean loss, count, correct, bad targets, loss sum, accuracy, 0, 0].
//   ce_backward  one invocation per logit: dlogits = gscale * (softmax - onehot) / count on selected rows.
//   ce_backward_rows  the same with one invocation per row (CPU drivers).
// log_softmax_rows  one invocation per row: y = x - logsumexp(x).
// ctc          one workgroup per utterance: alpha forward and beta backward over the 2S+1 extended labels
//              in log space, looping over time with barriers; gradient w.r.t. the pre-softmax logits.

struct CeParams {
  rows: u32,
  K: u32,     // classes
  gscale: f32, // upstream gradient of the mean loss (ce_backward)
  n: u32,     // rows * K (ce_backward)
}

// Row partials: (rows, 4) = nll (0 unless selected), argmax == target, selected, target out of range.
@group(0) @binding(0) var<uniform> cp: CeParams;

override HAS_MASK: bool = true;

// ---- ce_rows: 1 logits (rows, K), 2 targets (rows) i32, 3 mask (rows) f32, 4 lse (rows), 5 partials (rows, 4)
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<i32>;
@group(0) @binding(3) var<storage, read> mask: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<vec4<f32>>;

const NEG: f32 = -1e30;
const NEG_HALF: f32 = -5e29;

fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 256u + lid;
}

fn selected(r: u32) -> bool {
  if (HAS_MASK) { return mask[r] != 0.0; }
  return true;
}

@compute @workgroup_size(256)
fn ce_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = flat_id(wid, nwg, lid);
  if (r >= cp.rows) { return; }
  let base = r * cp.K;
  // Online softmax: m is the running max, s the sum of exp(x - m); arg is the first index of the max.
  var m = NEG;
  var s = 0.0;
  var arg = 0u;
  for (var k = 0u; k < cp.K; k++) {
    let v = logits[base + k];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
      arg = k;
    } else {
      s = s + exp(v - m);
    }
  }
  let lse = m + log(s);
  lse_out[r] = lse;
  var out = vec4(0.0);
  if (selected(r)) {
    let t = targets[r];
    if (t < 0 || u32(t) >= cp.K) {
      out = vec4(0.0, 0.0, 1.0, 1.0);
    } else {
      out = vec4(lse - logits[base + u32(t)], select(0.0, 1.0, arg == u32(t)), 1.0, 0.0);
    }
  }
  partials[r] = out;
}

// ---- ce_reduce: 1 partials (rows, 4), 2 stats (8)
@group(0) @binding(1) var<storage, read> red_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;

var<workgroup> red: array<vec4<f32>, 256>;

@compute @workgroup_size(256)
fn ce_reduce(@builtin(local_invocation_index) lid: u32) {
  var acc = vec4(0.0);
  for (var r = lid; r < cp.rows; r += 256u) { acc = acc + red_in[r]; }
  red[lid] = acc;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (lid < w) { red[lid] = red[lid] + red[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let t = red[0];
    let count = t.z - t.w; // selected rows with a valid target
    let denom = max(count, 1.0);
    stats[0] = select(0.0, t.x / denom, count > 0.0);
    stats[1] = count;
    stats[2] = t.y;
    stats[3] = t.w;
    stats[4] = t.x;
    stats[5] = select(0.0, t.y / denom, count > 0.0);
    stats[6] = 0.0;
    stats[7] = 0.0;
  }
}

// ---- ce_backward: 1 logits, 2 targets, 3 mask, 4 lse (rows), 5 stats (8), 6 dlogits (rows, K)
@group(0) @binding(4) var<storage, read> lse_in: array<f32>;
@group(0) @binding(5) var<storage, read> stats_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(256)
fn ce_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid);
  if (i >= cp.n) { return; }
  let r = i / cp.K;
  let k = i % cp.K;
  let count = stats_in[1];
  let t = targets[r];
  var g = 0.0;
  if (count > 0.0 && selected(r) && t >= 0 && u32(t) < cp.K) {
    let prob = exp(logits[i] - lse_in[r]);
    g = (prob - select(0.0, 1.0, u32(t) == k)) * (cp.gscale / count);
  }
  dlogits[i] = g;
}

// The same, one invocation per row (CPU drivers, where per-invocation overhead dominates).
@compute @workgroup_size(256)
fn ce_backward_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = flat_id(wid, nwg, lid);
  if (r >= cp.rows) { return; }
  let base = r * cp.K;
  let count = stats_in[1];
  let t = targets[r];
  if (count > 0.0 && selected(r) && t >= 0 && u32(t) < cp.K) {
    let lse = lse_in[r];
    let sc = cp.gscale / count;
    for (var k = 0u; k < cp.K; k++) { dlogits[base + k] = exp(logits[base + k] - lse) * sc; }
    dlogits[base + u32(t)] = dlogits[base + u32(t)] - sc;
  } else {
    for (var k = 0u; k < cp.K; k++) { dlogits[base + k] = 0.0; }
  }
}

// ---- log_softmax_rows: 1 x (rows, K), 2 y (rows, K)
@group(0) @binding(1) var<storage, read> ls_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> ls_y: array<f32>;

@compute @workgroup_size(256)
fn log_softmax_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = flat_id(wid, nwg, lid);
  if (r >= cp.rows) { return; }
  let base = r * cp.K;
  var m = NEG;
  var s = 0.0;
  for (var k = 0u; k < cp.K; k++) {
    let v = ls_x[base + k];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s = s + exp(v - m);
    }
  }
  let lse = m + log(s);
  for (var k = 0u; k < cp.K; k++) { ls_y[base + k] = ls_x[base + k] - lse; }
}

// ---- ctc: one workgroup per utterance.
// 1 logp (b, T, V) log-probabilities (log_softmax of the logits), 2 targets (b, S) i32 padded,
// 3 input lengths (b) i32, 4 target lengths (b) i32 (validated on the host),
// 5 scratch (b, (T + 2) * (2S + 1) + T): rows 0..T-1 hold rescaled log alpha, then log(alpha * beta) up to a
//   per-frame constant; rows T, T+1 hold beta; then the T per-frame normalisers,
// 6 nll (b), 7 grad (b, T, V) = d(scale_b * nll_b) / d(logits) = scale_b * (softmax - occupancy / P).
// Beta here excludes the emission at t: beta(t, s) = P(frames t+1.. | state s at t), so that
// alpha(t, s) * beta(t, s) is the probability mass of all alignments through (t, s).
struct CtcParams {
  T: u32,
  V: u32,
  S: u32,
  flags: u32, // bit 0: zero_infinity, bit 1: divide the loss by the target length
  scale: f32, // gradient scale (e.g. 1 / b for a batch mean)
}

@group(0) @binding(0) var<uniform> ctcp: CtcParams;
@group(0) @binding(1) var<storage, read> logp: array<f32>;
@group(0) @binding(2) var<storage, read> ctc_targets: array<i32>;
@group(0) @binding(3) var<storage, read> in_len: array<i32>;
@group(0) @binding(4) var<storage, read> tgt_len: array<i32>;
@group(0) @binding(5) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(6) var<storage, read_write> nll: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad: array<f32>;

var<workgroup> wg_logp_total: f32;
var<workgroup> wg_c: f32;

fn lae(a: f32, b: f32) -> f32 {
  let m = max(a, b);
  if (m <= NEG_HALF) { return NEG; }
  return m + log(exp(a - m) + exp(b - m));
}

fn label(b: u32, s: u32) -> u32 {
  if ((s & 1u) == 0u) { return 0u; }
  return u32(ctc_targets[b * ctcp.S + (s >> 1u)]);
}

fn lp(b: u32, t: u32, k: u32) -> f32 {
  return logp[(b * ctcp.T + t) * ctcp.V + k];
}

// Transition s-2 -> s is allowed when label(s) is not blank and differs from label(s-2).
fn can_skip(b: u32, s: u32) -> bool {
  if (s < 2u) { return false; }
  let l = label(b, s);
  return l != 0u && l != label(b, s - 2u);
}

@compute @workgroup_size(256)
fn ctc(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x;
  let T = ctcp.T;
  let V = ctcp.V;
  let Tb = u32(in_len[b]);
  let Sb = u32(tgt_len[b]);
  let L = 2u * Sb + 1u;
  let Lmax = 2u * ctcp.S + 1u;
  let base = b * ((T + 2u) * Lmax + T);
  let cbase = base + (T + 2u) * Lmax; // c_t, t < T: the per-frame log normalisers of alpha

  // Alpha, rescaled per frame so that f32 keeps its precision over long inputs: row t holds
  // A(t, s) = log alpha(t, s) - sum_{u < t} c_u, with c_u = logsumexp_s A(u, s) (0 while every state is impossible).
  // Thread 0 computes c_t serially and keeps the running sum, so log P = sum_{u < Tb - 1} c_u + log(A(Tb - 1, end)).
  for (var s = lid; s < L; s += 256u) {
    var a = NEG;
    if (s == 0u) { a = lp(b, 0u, 0u); }
    if (s == 1u) { a = lp(b, 0u, label(b, 1u)); }
    scratch[base + s] = a;
  }
  var csum = 0.0; // meaningful in thread 0 only
  for (var t = 0u; t < Tb; t++) {
    if (t > 0u) {
      let prev = base + (t - 1u) * Lmax;
      let c_prev = workgroupUniformLoad(&wg_c);
      for (var s = lid; s < L; s += 256u) {
        var a = scratch[prev + s];
        if (s >= 1u) { a = lae(a, scratch[prev + s - 1u]); }
        if (can_skip(b, s)) { a = lae(a, scratch[prev + s - 2u]); }
        scratch[base + t * Lmax + s] = select(NEG, a - c_prev + lp(b, t, label(b, s)), a > NEG_HALF);
      }
    }
    storageBarrier();
    if (lid == 0u) {
      let row = base + t * Lmax;
      var c = NEG;
      for (var s = 0u; s < L; s++) { c = lae(c, scratch[row + s]); }
      if (c <= NEG_HALF) { c = 0.0; }
      scratch[cbase + t] = c;
      if (t + 1u < Tb) { csum += c; }
      wg_c = c;
      if (t + 1u == Tb) {
        var end = scratch[row + L - 1u];
        if (L > 1u) { end = lae(end, scratch[row + L - 2u]); }
        wg_logp_total = select(NEG, csum + end, end > NEG_HALF);
      }
    }
  }
  let total = workgroupUniformLoad(&wg_logp_total);
  let feasible = total > NEG_HALF;
  let zero_inf = (ctcp.flags & 1u) != 0u;
  var norm = 1.0;
  if ((ctcp.flags & 2u) != 0u) { norm = 1.0 / f32(max(Sb, 1u)); }
  if (lid == 0u) {
    if (feasible) {
      nll[b] = -total * norm;
    } else {
      // +Infinity, built at run time (a constant infinity is a WGSL error).
      nll[b] = select(bitcast<f32>(0x7f800000u | (ctcp.flags & 0u)), 0.0, zero_inf);
    }
  }
  let sc = ctcp.scale * norm;

  // Frames past the input length get no gradient; an impossible alignment gives none at all.
  let first_zero = select(0u, Tb, feasible);
  for (var i = first_zero * V + lid; i < T * V; i += 256u) { grad[b * T * V + i] = 0.0; }
  if (!feasible) { return; }

  // Beta, from the last frame down, rescaled by the same c_t (any per-frame constant cancels below), then
  // g(t, s) = A(t, s) + B(t, s) in place of A. The occupancy of label k at frame t is
  // sum_{s: label(s) = k} exp(g(t, s)) / sum_s exp(g(t, s)): every alignment passes one state per frame.
  for (var tt = 0u; tt < Tb; tt++) {
    let t = Tb - 1u - tt;
    let cur = base + (T + (t & 1u)) * Lmax;
    let nxt = base + (T + ((t + 1u) & 1u)) * Lmax;
    for (var s = lid; s < L; s += 256u) {
      var beta = NEG;
      if (t == Tb - 1u) {
        if (s + 1u == L || s + 2u == L) { beta = 0.0; }
      } else {
        beta = scratch[nxt + s] + lp(b, t + 1u, label(b, s));
        if (s + 1u < L) { beta = lae(beta, scratch[nxt + s + 1u] + lp(b, t + 1u, label(b, s + 1u))); }
        if (s + 2u < L && can_skip(b, s + 2u)) {
          beta = lae(beta, scratch[nxt + s + 2u] + lp(b, t + 1u, label(b, s + 2u)));
        }
        beta = select(NEG, beta - scratch[cbase + t + 1u], beta > NEG_HALF);
      }
      scratch[cur + s] = beta;
      let ai = base + t * Lmax + s;
      scratch[ai] = select(NEG, scratch[ai] + beta, beta > NEG_HALF && scratch[ai] > NEG_HALF);
    }
    storageBarrier();
    for (var k = lid; k < V; k += 256u) {
      var occ = NEG;
      var all = NEG;
      let row = base + t * Lmax;
      for (var s = 0u; s < L; s++) {
        let g = scratch[row + s];
        all = lae(all, g);
        if (label(b, s) == k) { occ = lae(occ, g); }
      }
      let gi = (b * T + t) * V + k;
      grad[gi] = sc * (exp(logp[gi]) - exp(occ - all));
    }
    storageBarrier();
  }
}
