// Multi-head scaled dot-product attention on q, k, v laid out (b, rows, d_model), row-major; head hh owns
// channels hh*dh .. hh*dh + dh - 1. Queries are (b, lq, d_model); keys and values hold kRows rows per batch
// (l for a whole sequence, the capacity for a KV cache) of which the first lk are valid.
// Causal visibility: key j is visible to query i iff j <= q_offset + i (q_offset = absolute position of query
// row 0; 0 for a whole sequence, the cached length for a decode step).
// KEY_LENGTHS (a padded batch; softmax_rows and the tiled kernels): batch bb's keys past its length (b) are
// hidden too. The materialised kernels after softmax need no lengths: hidden probabilities are 0 there.
//
// Materialised form (scores stored; z = batch * h + head):
//   rows_dot        Out[z, i, j] = alpha * <A_i, B_j>   (scores S = alpha q.k^T, and dP = dout.v^T)
//   softmax_rows    S[z, i, :] <- softmax over the visible keys, 0 elsewhere (in place)
//   softmax_rows_backward  G <- P * (G - rowsum(P * G))   (dP -> dS, in place)
//   rows_times      Out[b, i, head] = alpha * sum_j M[z, i, j] B[b, j, head]      (P.v, dS.k)
//   cols_times      Out[b, j, head] = alpha * sum_i M[z, i, j] B[b, i, head]      (P^T.dout, dS^T.q)
// Tiled online-softmax form (one invocation per query row or per key row; dh <= 128):
//   flash_forward       out and the row logsumexp, one pass over the keys with a running max and sum
//   row_dot             D[z, i] = <dout_i, out_i>
//   flash_backward_dq   dq recomputing P from the logsumexp
//   flash_backward_dkv  dk, dv: each invocation owns one key row and loops over the queries (no atomics)
// KV cache:
//   kv_append           cache rows [q_offset, q_offset + lq) <- the new k, v rows

struct Params {
  b: u32,
  lq: u32,       // query rows per batch
  lk: u32,       // valid key rows
  kRows: u32,    // key/value rows per batch in the buffer
  d_model: u32,
  h: u32,
  dh: u32,
  q_offset: u32,
  alpha: f32,
}

override CAUSAL: bool = false;
override SAVE_LSE: bool = true;
override KEY_LENGTHS: bool = false;

@group(0) @binding(0) var<uniform> p: Params;

// Materialised kernels, row_dot and kv_append: two inputs and an output.
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> Out: array<f32>;
// softmax_rows: scores in place.
@group(0) @binding(1) var<storage, read_write> S: array<f32>;
// softmax_rows_backward: A = P (read), G = dP in, dS out.
@group(0) @binding(2) var<storage, read_write> G: array<f32>;
// kv_append: A = new k, B = new v, Out = k cache, Out2 = v cache.
@group(0) @binding(4) var<storage, read_write> Out2: array<f32>;

// Tiled kernels.
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;    // flash_forward: out (b, lq, d_model)
@group(0) @binding(5) var<storage, read_write> LSE: array<f32>;  // flash_forward: logsumexp (b, h, lq)
@group(0) @binding(4) var<storage, read> DO: array<f32>;         // backward: dout (b, lq, d_model)
@group(0) @binding(5) var<storage, read> L: array<f32>;          // backward: logsumexp (b, h, lq)
@group(0) @binding(6) var<storage, read> D: array<f32>;          // backward: rowsum(dout * out) (b, h, lq)
@group(0) @binding(7) var<storage, read_write> DQ: array<f32>;   // flash_backward_dq
@group(0) @binding(7) var<storage, read_write> DK: array<f32>;   // flash_backward_dkv
@group(0) @binding(8) var<storage, read_write> DV: array<f32>;   // flash_backward_dkv
// Valid keys per batch (b), KEY_LENGTHS only; each entry point has it at the binding after its own buffers.
@group(0) @binding(2) var<storage, read> LEN_SOFTMAX: array<u32>;  // softmax_rows
@group(0) @binding(6) var<storage, read> LEN_FORWARD: array<u32>;  // flash_forward
@group(0) @binding(8) var<storage, read> LEN_DQ: array<u32>;       // flash_backward_dq
@group(0) @binding(9) var<storage, read> LEN_DKV: array<u32>;      // flash_backward_dkv

const NEG = -3.0e38; // a finite -infinity: exp(NEG - m) is 0 without producing NaN

// Causal visibility: number of keys query i may see.
fn visible(i: u32) -> u32 {
  if (CAUSAL) { return min(p.lk, p.q_offset + i + 1u); }
  return p.lk;
}

// Keys a batch may see: lk, or its own length (from the entry point's LEN_* binding) clamped to [1, lk].
fn key_limit(len: u32) -> u32 {
  if (KEY_LENGTHS) { return clamp(len, 1u, p.lk); }
  return p.lk;
}

// Index of channel 0 of head hh in row `row` of batch bb of a tensor with `rows` rows per batch.
fn head_base(bb: u32, rows: u32, row: u32, hh: u32) -> u32 {
  return (bb * rows + row) * p.d_model + hh * p.dh;
}

// ---------------------------------------------------------------------------------------------------------
// Materialised form: 4x4 outputs per invocation, 8x8 invocations per workgroup (a 32x32 tile), no
// workgroup memory. Grid: (tiles along the fast axis, tiles along rows, b * h).

// Out[z, i, j] = alpha * <A[b, i, head], B[b, j, head]>, A with lq rows, B with kRows rows. Entries that are
// causally hidden are written as 0 (softmax ignores them; dP there is multiplied by P = 0).
@compute @workgroup_size(8, 8, 1)
fn rows_dot(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i0 = gid.y * 4u;
  let j0 = gid.x * 4u;
  if (i0 >= p.lq || j0 >= p.lk) { return; }
  let bb = gid.z / p.h;
  let hh = gid.z % p.h;
  var ar: array<u32, 4>;
  var br: array<u32, 4>;
  for (var t = 0u; t < 4u; t++) {
    ar[t] = head_base(bb, p.lq, min(i0 + t, p.lq - 1u), hh);
    br[t] = head_base(bb, p.kRows, min(j0 + t, p.lk - 1u), hh);
  }
  var acc: array<vec4<f32>, 4>;
  // Skip tiles that are wholly hidden.
  if (!CAUSAL || j0 <= p.q_offset + min(i0 + 3u, p.lq - 1u)) {
    for (var c = 0u; c < p.dh; c++) {
      let bv = vec4(B[br[0] + c], B[br[1] + c], B[br[2] + c], B[br[3] + c]);
      for (var t = 0u; t < 4u; t++) { acc[t] = acc[t] + A[ar[t] + c] * bv; }
    }
  }
  let base = gid.z * p.lq * p.lk;
  for (var t = 0u; t < 4u; t++) {
    let i = i0 + t;
    if (i >= p.lq) { break; }
    let n = visible(i);
    for (var u = 0u; u < 4u; u++) {
      let j = j0 + u;
      if (j >= p.lk) { break; }
      Out[base + i * p.lk + j] = select(0.0, p.alpha * acc[t][u], j < n);
    }
  }
}

// Flat row index for the one-invocation-per-row kernels (grid folded over x and y).
fn flat_row(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * 64u + lid;
}

// Softmax of each row of S (b * h * lq rows of lk) over its visible keys, in place.
@compute @workgroup_size(64)
fn softmax_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = flat_row(wid, nwg, lid);
  if (r >= p.b * p.h * p.lq) { return; }
  var n = visible(r % p.lq);
  if (KEY_LENGTHS) { n = min(n, key_limit(LEN_SOFTMAX[r / (p.h * p.lq)])); }
  let base = r * p.lk;
  var m = NEG;
  for (var j = 0u; j < n; j++) { m = max(m, S[base + j]); }
  var sum = 0.0;
  for (var j = 0u; j < n; j++) { sum += exp(S[base + j] - m); }
  let inv = 1.0 / sum;
  for (var j = 0u; j < n; j++) { S[base + j] = exp(S[base + j] - m) * inv; }
  for (var j = n; j < p.lk; j++) { S[base + j] = 0.0; }
}

// dS = P * (dP - rowsum(P * dP)), in place over dP (G); A holds P.
@compute @workgroup_size(64)
fn softmax_rows_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = flat_row(wid, nwg, lid);
  if (r >= p.b * p.h * p.lq) { return; }
  let n = visible(r % p.lq);
  let base = r * p.lk;
  var dsum = 0.0;
  for (var j = 0u; j < n; j++) { dsum += A[base + j] * G[base + j]; }
  for (var j = 0u; j < n; j++) { G[base + j] = A[base + j] * (G[base + j] - dsum); }
  for (var j = n; j < p.lk; j++) { G[base + j] = 0.0; }
}

// Out[b, i, head] = alpha * sum_j M[z, i, j] B[b, j, head]; M = A (b, h, lq, lk), B with kRows rows,
// Out with lq rows. Grid x covers the head's channels in fours, y the query rows in fours.
@compute @workgroup_size(8, 8, 1)
fn rows_times(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c0 = gid.x * 4u;
  let i0 = gid.y * 4u;
  if (c0 >= p.dh || i0 >= p.lq) { return; }
  let bb = gid.z / p.h;
  let hh = gid.z % p.h;
  let mBase = gid.z * p.lq * p.lk;
  var mr: array<u32, 4>;
  var cc: array<u32, 4>;
  for (var t = 0u; t < 4u; t++) {
    mr[t] = mBase + min(i0 + t, p.lq - 1u) * p.lk;
    cc[t] = min(c0 + t, p.dh - 1u);
  }
  let jEnd = visible(min(i0 + 3u, p.lq - 1u));
  var acc: array<vec4<f32>, 4>;
  for (var j = 0u; j < jEnd; j++) {
    let bRow = head_base(bb, p.kRows, j, hh);
    let bv = vec4(B[bRow + cc[0]], B[bRow + cc[1]], B[bRow + cc[2]], B[bRow + cc[3]]);
    for (var t = 0u; t < 4u; t++) { acc[t] = acc[t] + A[mr[t] + j] * bv; }
  }
  for (var t = 0u; t < 4u; t++) {
    let i = i0 + t;
    if (i >= p.lq) { break; }
    let o = head_base(bb, p.lq, i, hh);
    for (var u = 0u; u < 4u; u++) {
      if (c0 + u < p.dh) { Out[o + c0 + u] = p.alpha * acc[t][u]; }
    }
  }
}

// Out[b, j, head] = alpha * sum_i M[z, i, j] B[b, i, head]; M = A (b, h, lq, lk), B with lq rows, Out with
// kRows rows (only the first lk written). Grid x covers the head's channels in fours, y the key rows in fours.
@compute @workgroup_size(8, 8, 1)
fn cols_times(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c0 = gid.x * 4u;
  let j0 = gid.y * 4u;
  if (c0 >= p.dh || j0 >= p.lk) { return; }
  let bb = gid.z / p.h;
  let hh = gid.z % p.h;
  let mBase = gid.z * p.lq * p.lk;
  var mc: array<u32, 4>;
  var cc: array<u32, 4>;
  for (var t = 0u; t < 4u; t++) {
    mc[t] = min(j0 + t, p.lk - 1u);
    cc[t] = min(c0 + t, p.dh - 1u);
  }
  // First query that sees key j0: i >= j0 - q_offset.
  var iStart = 0u;
  if (CAUSAL && j0 > p.q_offset) { iStart = j0 - p.q_offset; }
  var acc: array<vec4<f32>, 4>;
  for (var i = iStart; i < p.lq; i++) {
    let mRow = mBase + i * p.lk;
    let bRow = head_base(bb, p.lq, i, hh);
    let bv = vec4(B[bRow + cc[0]], B[bRow + cc[1]], B[bRow + cc[2]], B[bRow + cc[3]]);
    for (var t = 0u; t < 4u; t++) { acc[t] = acc[t] + A[mRow + mc[t]] * bv; }
  }
  for (var t = 0u; t < 4u; t++) {
    let j = j0 + t;
    if (j >= p.lk) { break; }
    let o = head_base(bb, p.kRows, j, hh);
    for (var u = 0u; u < 4u; u++) {
      if (c0 + u < p.dh) { Out[o + c0 + u] = p.alpha * acc[t][u]; }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tiled form: one invocation per query row (forward, dq) or key row (dk, dv), 64 rows per workgroup.
// Grid: (ceil(rows / 64), h, b). A head row lives in a private array of ceil(dh / 4) vec4s, zero-padded past
// dh (dh <= 128, checked on the TS side). Loops over keys (queries) run to the workgroup's bound, so their
// loads are uniform across the workgroup; rows past a lane's own causal bound are masked.
// (Making dh an override so that the channel loops unroll ran about 2x faster on lavapipe but took 15-30 s
// of CPU to compile per pipeline, so the channel loops keep a uniform, dynamic bound.)

const NV = 32u; // vec4s of the widest head (dh = 128)

// Four channels c .. c + 3 of a head row starting at `base`, zero past dh. Branch-free: indices past the
// row are clamped to its last channel and the lanes masked. One loader per buffer (WGSL has no pointers to
// storage arrays as parameters without an extension).
fn lanes(c: u32) -> vec4<bool> {
  return vec4(c, c + 1u, c + 2u, c + 3u) < vec4(p.dh);
}
fn q4(base: u32, c: u32) -> vec4<f32> {
  let e = base + p.dh - 1u;
  return select(vec4(0.0), vec4(Q[min(base + c, e)], Q[min(base + c + 1u, e)], Q[min(base + c + 2u, e)], Q[min(base + c + 3u, e)]), lanes(c));
}
fn k4(base: u32, c: u32) -> vec4<f32> {
  let e = base + p.dh - 1u;
  return select(vec4(0.0), vec4(K[min(base + c, e)], K[min(base + c + 1u, e)], K[min(base + c + 2u, e)], K[min(base + c + 3u, e)]), lanes(c));
}
fn v4(base: u32, c: u32) -> vec4<f32> {
  let e = base + p.dh - 1u;
  return select(vec4(0.0), vec4(V[min(base + c, e)], V[min(base + c + 1u, e)], V[min(base + c + 2u, e)], V[min(base + c + 3u, e)]), lanes(c));
}
fn do4(base: u32, c: u32) -> vec4<f32> {
  let e = base + p.dh - 1u;
  return select(vec4(0.0), vec4(DO[min(base + c, e)], DO[min(base + c + 1u, e)], DO[min(base + c + 2u, e)], DO[min(base + c + 3u, e)]), lanes(c));
}

// out_i = sum_j softmax_j(alpha q_i.k_j) v_j over the visible keys, and LSE_i = log sum_j exp(alpha q_i.k_j).
// Online softmax: acc and sum are kept relative to the running max m and rescaled by exp(m_old - m_new)
// at each key (branch-free; a rescale only when m grows was slower on lavapipe).
@compute @workgroup_size(64)
fn flash_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = min(wid.x * 64u + lid, p.lq - 1u); // lanes past the end recompute the last row and store nothing
  let hh = wid.y;
  let bb = wid.z;
  let nv = (p.dh + 3u) / 4u;
  let qBase = head_base(bb, p.lq, i, hh);
  var q: array<vec4<f32>, NV>;
  var acc: array<vec4<f32>, NV>;
  for (var v = 0u; v < nv; v++) { q[v] = p.alpha * q4(qBase, 4u * v); }
  var kl = p.lk;
  if (KEY_LENGTHS) { kl = key_limit(LEN_FORWARD[bb]); }
  let jEnd = min(visible(i), kl);
  let jMax = min(visible(min(wid.x * 64u + 63u, p.lq - 1u)), kl); // the workgroup's bound
  var m = NEG;
  var sum = 0.0;
  for (var j = 0u; j < jMax; j++) {
    let kBase = head_base(bb, p.kRows, j, hh);
    var s = 0.0;
    for (var v = 0u; v < nv; v++) { s += dot(q[v], k4(kBase, 4u * v)); }
    let seen = j < jEnd;
    let mNew = select(m, max(m, s), seen);
    let corr = exp(m - mNew);
    let pr = select(0.0, exp(s - mNew), seen);
    sum = sum * corr + pr;
    for (var v = 0u; v < nv; v++) { acc[v] = acc[v] * corr + pr * v4(kBase, 4u * v); }
    m = mNew;
  }
  if (wid.x * 64u + lid >= p.lq) { return; }
  let inv = 1.0 / sum;
  for (var v = 0u; v < nv; v++) {
    let o = acc[v] * inv;
    for (var t = 0u; t < 4u; t++) {
      let c = 4u * v + t;
      if (c < p.dh) { O[qBase + c] = o[t]; }
    }
  }
  if (SAVE_LSE) { LSE[(bb * p.h + hh) * p.lq + i] = m + log(sum); }
}

// Out[z, i] = <A[b, i, head], B[b, i, head]> (D = rowsum(dout * out) for the tiled backward).
@compute @workgroup_size(64)
fn row_dot(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * 64u + lid;
  if (i >= p.lq) { return; }
  let hh = wid.y;
  let bb = wid.z;
  let base = head_base(bb, p.lq, i, hh);
  var d = 0.0;
  for (var c = 0u; c < p.dh; c++) { d += A[base + c] * B[base + c]; }
  Out[(bb * p.h + hh) * p.lq + i] = d;
}

// dq_i = alpha * sum_j P_ij (dP_ij - D_i) k_j with P_ij = exp(alpha q_i.k_j - LSE_i), dP_ij = dout_i.v_j.
@compute @workgroup_size(64)
fn flash_backward_dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = min(wid.x * 64u + lid, p.lq - 1u);
  let hh = wid.y;
  let bb = wid.z;
  let nv = (p.dh + 3u) / 4u;
  let qBase = head_base(bb, p.lq, i, hh);
  var q: array<vec4<f32>, NV>;
  var g: array<vec4<f32>, NV>;
  var acc: array<vec4<f32>, NV>;
  for (var v = 0u; v < nv; v++) {
    q[v] = p.alpha * q4(qBase, 4u * v);
    g[v] = do4(qBase, 4u * v);
  }
  let row = (bb * p.h + hh) * p.lq + i;
  let lse = L[row];
  let di = D[row];
  var kl = p.lk;
  if (KEY_LENGTHS) { kl = key_limit(LEN_DQ[bb]); }
  let jEnd = min(visible(i), kl);
  let jMax = min(visible(min(wid.x * 64u + 63u, p.lq - 1u)), kl);
  for (var j = 0u; j < jMax; j++) {
    let kBase = head_base(bb, p.kRows, j, hh);
    var s = 0.0;
    var dp = 0.0;
    for (var v = 0u; v < nv; v++) {
      s += dot(q[v], k4(kBase, 4u * v));
      dp += dot(g[v], v4(kBase, 4u * v));
    }
    let ds = select(0.0, exp(s - lse) * (dp - di), j < jEnd);
    for (var v = 0u; v < nv; v++) { acc[v] = acc[v] + ds * k4(kBase, 4u * v); }
  }
  if (wid.x * 64u + lid >= p.lq) { return; }
  for (var v = 0u; v < nv; v++) {
    let o = p.alpha * acc[v];
    for (var t = 0u; t < 4u; t++) {
      let c = 4u * v + t;
      if (c < p.dh) { DQ[qBase + c] = o[t]; }
    }
  }
}

// For key row j: dv_j = sum_i P_ij dout_i and dk_j = alpha * sum_i P_ij (dP_ij - D_i) q_i over the queries
// that see j. One invocation per key row, so no two invocations write the same output.
@compute @workgroup_size(64)
fn flash_backward_dkv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j = min(wid.x * 64u + lid, p.lk - 1u);
  let hh = wid.y;
  let bb = wid.z;
  let nv = (p.dh + 3u) / 4u;
  let kBase = head_base(bb, p.kRows, j, hh);
  var k: array<vec4<f32>, NV>;
  var vv: array<vec4<f32>, NV>;
  var dk: array<vec4<f32>, NV>;
  var dv: array<vec4<f32>, NV>;
  for (var v = 0u; v < nv; v++) {
    k[v] = p.alpha * k4(kBase, 4u * v);
    vv[v] = v4(kBase, 4u * v);
  }
  // Queries i see key j iff i >= j - q_offset; the workgroup starts at its first key's bound. Keys past the
  // batch's length are seen by none (a workgroup wholly past it only writes zeros).
  let j0 = wid.x * 64u;
  var iStart = 0u;
  if (CAUSAL && j0 > p.q_offset) { iStart = j0 - p.q_offset; }
  var kl = p.lk;
  if (KEY_LENGTHS) { kl = key_limit(LEN_DKV[bb]); }
  let iEnd = select(0u, p.lq, j0 < kl);
  let rows = (bb * p.h + hh) * p.lq;
  for (var i = iStart; i < iEnd; i++) {
    let qBase = head_base(bb, p.lq, i, hh);
    var s = 0.0;
    var dp = 0.0;
    for (var v = 0u; v < nv; v++) {
      s += dot(q4(qBase, 4u * v), k[v]);
      dp += dot(do4(qBase, 4u * v), vv[v]);
    }
    let seen = (!CAUSAL || j <= p.q_offset + i) && j < kl;
    let pr = select(0.0, exp(s - L[rows + i]), seen);
    let ds = pr * (dp - D[rows + i]);
    for (var v = 0u; v < nv; v++) {
      dv[v] = dv[v] + pr * do4(qBase, 4u * v);
      dk[v] = dk[v] + ds * q4(qBase, 4u * v);
    }
  }
  if (wid.x * 64u + lid >= p.lk) { return; }
  for (var v = 0u; v < nv; v++) {
    let a = p.alpha * dk[v];
    let b = dv[v];
    for (var t = 0u; t < 4u; t++) {
      let c = 4u * v + t;
      if (c < p.dh) {
        DK[kBase + c] = a[t];
        DV[kBase + c] = b[t];
      }
    }
  }
}

// Cache rows q_offset .. q_offset + lq - 1 of each batch <- the lq new rows of k (A) and v (B).
@compute @workgroup_size(256)
fn kv_append(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.x + wid.y * nwg.x) * 256u + lid;
  let per = p.lq * p.d_model;
  if (e >= p.b * per) { return; }
  let bb = e / per;
  let rem = e % per;
  let dst = (bb * p.kRows + p.q_offset) * p.d_model + rem;
  Out[dst] = A[e];
  Out2[dst] = B[e];
}
