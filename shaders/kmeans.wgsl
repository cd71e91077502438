// K-means on the GPU: assignment to the nearest centroid (squared Euclidean distance computed as
// ||x||^2 - 2 x.c + ||c||^2) and the centroid update (mean of the assigned points), deterministic: integer
// counts and a stable counting sort of the points by cluster, then fixed-order sums. No float atomics.
//
// x (N, D), centroids (K, D), assignment (N) u32, dist (N) f32. Points are taken in blocks of 256 (nb blocks).
//   centroid_norms    ||c_k||^2, one invocation per centroid.
//   assign_vec4       4 points x 4 centroids per invocation, vec4 loads over D (D % 4 == 0), no workgroup memory.
//   assign_scalar     the same tiling with scalar loads: any D.
//   assign_from_dots  argmin over a precomputed dots = x.C^T (N, K) (the matmul route, for real GPUs).
//   km_zero           zero a u32 array.
//   km_block_counts   per block: rank of each point among the block's points of its cluster, and the
//                     block's count per cluster into block_counts (K, nb) (cluster-major).
//   km_scan           one workgroup: exclusive prefix sum of block_counts -> offsets (K * nb + 1).
//   km_scatter        order[offsets[a, block] + rank] = point: points grouped by cluster, ascending index.
//   km_update         one invocation per (cluster, 4 dims): mean of the cluster's points in index order;
//                     an empty cluster keeps its old centroid. Also counts (K).
//   km_sum            one workgroup: fixed-order sum of dist -> out[0] (the inertia).

struct Params {
  N: u32,
  D: u32,
  K: u32,
  nb: u32, // blocks of 256 points
  n: u32,  // elements (km_zero, km_sum)
}

@group(0) @binding(0) var<uniform> p: Params;

const BIG: f32 = 3.0e38;

fn flat_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, wg: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * wg + lid;
}

// ---- centroid_norms: 1 centroids (K, D), 2 cnorm (K)
@group(0) @binding(1) var<storage, read> cn_c: array<f32>;
@group(0) @binding(2) var<storage, read_write> cn_out: array<f32>;

@compute @workgroup_size(64)
fn centroid_norms(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let k = flat_id(wid, nwg, lid, 64u);
  if (k >= p.K) { return; }
  var s = 0.0;
  for (var d = 0u; d < p.D; d++) {
    let v = cn_c[k * p.D + d];
    s = s + v * v;
  }
  cn_out[k] = s;
}

// ---- assign_*: 1 x (N, D), 2 centroids (K, D), 3 cnorm (K), 4 assignment (N) u32, 5 dist (N)
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> C: array<f32>;
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> C4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> cnorm: array<f32>;
@group(0) @binding(4) var<storage, read_write> assignment: array<u32>;
@group(0) @binding(5) var<storage, read_write> dist: array<f32>;

// Keep the first nearest centroid: candidates come in increasing k and only a strictly smaller distance wins.
fn consider(best: ptr<function, vec4<f32>>, bi: ptr<function, vec4<u32>>, xn: vec4<f32>, dots: vec4<f32>, k: u32) {
  let d = xn - 2.0 * dots + cnorm[k];
  for (var i = 0u; i < 4u; i++) {
    if (d[i] < (*best)[i]) {
      (*best)[i] = d[i];
      (*bi)[i] = k;
    }
  }
}

fn finish(p0: u32, best: vec4<f32>, bi: vec4<u32>) {
  for (var i = 0u; i < 4u; i++) {
    if (p0 + i < p.N) {
      assignment[p0 + i] = bi[i];
      dist[p0 + i] = max(best[i], 0.0);
    }
  }
}

@compute @workgroup_size(64)
fn assign_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p0 = flat_id(wid, nwg, lid, 64u) * 4u;
  if (p0 >= p.N) { return; }
  let D4 = p.D / 4u;
  // Rows past the end are clamped: computed, never stored.
  var r: array<u32, 4>;
  var xn = vec4(0.0);
  for (var i = 0u; i < 4u; i++) {
    r[i] = min(p0 + i, p.N - 1u) * D4;
    var s = 0.0;
    for (var k = 0u; k < D4; k++) {
      let v = X4[r[i] + k];
      s = s + dot(v, v);
    }
    xn[i] = s;
  }
  var best = vec4(BIG);
  var bi = vec4<u32>(0u);
  for (var c0 = 0u; c0 < p.K; c0 += 4u) {
    var c: array<u32, 4>;
    for (var j = 0u; j < 4u; j++) { c[j] = min(c0 + j, p.K - 1u) * D4; }
    // acc[j][i] = x_i . c_j (explicitly zeroed: some drivers keep a loop-local var across iterations)
    var acc = array<vec4<f32>, 4>(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    for (var k = 0u; k < D4; k++) {
      let a0 = X4[r[0] + k];
      let a1 = X4[r[1] + k];
      let a2 = X4[r[2] + k];
      let a3 = X4[r[3] + k];
      for (var j = 0u; j < 4u; j++) {
        let b = C4[c[j] + k];
        acc[j] = acc[j] + vec4(dot(a0, b), dot(a1, b), dot(a2, b), dot(a3, b));
      }
    }
    for (var j = 0u; j < 4u; j++) {
      if (c0 + j < p.K) { consider(&best, &bi, xn, acc[j], c0 + j); }
    }
  }
  finish(p0, best, bi);
}

@compute @workgroup_size(64)
fn assign_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p0 = flat_id(wid, nwg, lid, 64u) * 4u;
  if (p0 >= p.N) { return; }
  var r: array<u32, 4>;
  var xn = vec4(0.0);
  for (var i = 0u; i < 4u; i++) {
    r[i] = min(p0 + i, p.N - 1u) * p.D;
    var s = 0.0;
    for (var k = 0u; k < p.D; k++) {
      let v = X[r[i] + k];
      s = s + v * v;
    }
    xn[i] = s;
  }
  var best = vec4(BIG);
  var bi = vec4<u32>(0u);
  for (var c0 = 0u; c0 < p.K; c0 += 4u) {
    var c: array<u32, 4>;
    for (var j = 0u; j < 4u; j++) { c[j] = min(c0 + j, p.K - 1u) * p.D; }
    var acc = array<vec4<f32>, 4>(vec4(0.0), vec4(0.0), vec4(0.0), vec4(0.0));
    for (var k = 0u; k < p.D; k++) {
      let a = vec4(X[r[0] + k], X[r[1] + k], X[r[2] + k], X[r[3] + k]);
      for (var j = 0u; j < 4u; j++) { acc[j] = acc[j] + a * C[c[j] + k]; }
    }
    for (var j = 0u; j < 4u; j++) {
      if (c0 + j < p.K) { consider(&best, &bi, xn, acc[j], c0 + j); }
    }
  }
  finish(p0, best, bi);
}

// ---- assign_from_dots: 1 x (N, D), 2 dots (N, K), 3 cnorm, 4 assignment, 5 dist
@group(0) @binding(2) var<storage, read> dots: array<f32>;

@compute @workgroup_size(64)
fn assign_from_dots(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, 64u);
  if (i >= p.N) { return; }
  var xn = 0.0;
  for (var d = 0u; d < p.D; d++) {
    let v = X[i * p.D + d];
    xn = xn + v * v;
  }
  var best = BIG;
  var bk = 0u;
  for (var k = 0u; k < p.K; k++) {
    let dd = xn - 2.0 * dots[i * p.K + k] + cnorm[k];
    if (dd < best) {
      best = dd;
      bk = k;
    }
  }
  assignment[i] = bk;
  dist[i] = max(best, 0.0);
}

// ---- km_zero: 1 buf (n) u32
@group(0) @binding(1) var<storage, read_write> zero_buf: array<u32>;

@compute @workgroup_size(256)
fn km_zero(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, 256u);
  if (i < p.n) { zero_buf[i] = 0u; }
}

// ---- km_block_counts: 1 assignment (N), 2 block_counts (K, nb), 3 rank (N)
@group(0) @binding(1) var<storage, read> bc_assign: array<u32>;
@group(0) @binding(2) var<storage, read_write> block_counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> rank_out: array<u32>;

var<workgroup> blk: array<u32, 256>;

@compute @workgroup_size(256)
fn km_block_counts(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let block = wid.x + wid.y * nwg.x;
  if (block >= p.nb) { return; }
  let i = block * 256u + lid;
  var a = 0xffffffffu;
  if (i < p.N) { a = bc_assign[i]; }
  blk[lid] = a;
  workgroupBarrier();
  if (i >= p.N || a >= p.K) { return; }
  let n_in = min(256u, p.N - block * 256u);
  var rank = 0u;
  for (var j = 0u; j < lid; j++) {
    if (blk[j] == a) { rank++; }
  }
  var last = true;
  for (var j = lid + 1u; j < n_in; j++) {
    if (blk[j] == a) {
      last = false;
      break;
    }
  }
  rank_out[i] = rank;
  if (last) { block_counts[a * p.nb + block] = rank + 1u; }
}

// ---- km_scan: 1 block_counts (K * nb), 2 offsets (K * nb + 1)
@group(0) @binding(1) var<storage, read> scan_in: array<u32>;
@group(0) @binding(2) var<storage, read_write> offsets_out: array<u32>;

var<workgroup> part: array<u32, 256>;

@compute @workgroup_size(256)
fn km_scan(@builtin(local_invocation_index) lid: u32) {
  let n = p.K * p.nb;
  let chunk = (n + 255u) / 256u;
  let start = min(lid * chunk, n);
  let end = min(start + chunk, n);
  var s = 0u;
  for (var i = start; i < end; i++) { s += scan_in[i]; }
  part[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var run = 0u;
    for (var j = 0u; j < 256u; j++) {
      let v = part[j];
      part[j] = run;
      run += v;
    }
  }
  workgroupBarrier();
  var run = part[lid];
  for (var i = start; i < end; i++) {
    offsets_out[i] = run;
    run += scan_in[i];
  }
  if (lid == 255u) { offsets_out[n] = run; }
}

// ---- km_scatter: 1 assignment, 2 rank, 3 offsets, 4 order (N)
@group(0) @binding(1) var<storage, read> sc_assign: array<u32>;
@group(0) @binding(2) var<storage, read> sc_rank: array<u32>;
@group(0) @binding(3) var<storage, read> sc_offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> order_out: array<u32>;

@compute @workgroup_size(256)
fn km_scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_id(wid, nwg, lid, 256u);
  if (i >= p.N) { return; }
  let a = sc_assign[i];
  if (a >= p.K) { return; }
  order_out[sc_offsets[a * p.nb + i / 256u] + sc_rank[i]] = i;
}

// ---- km_update: 1 x (N, D), 2 order (N), 3 offsets, 4 old centroids (K, D), 5 new centroids (K, D), 6 counts (K)
@group(0) @binding(1) var<storage, read> up_x: array<f32>;
@group(0) @binding(2) var<storage, read> up_order: array<u32>;
@group(0) @binding(3) var<storage, read> up_offsets: array<u32>;
@group(0) @binding(4) var<storage, read> up_old: array<f32>;
@group(0) @binding(5) var<storage, read_write> up_new: array<f32>;
@group(0) @binding(6) var<storage, read_write> up_counts: array<u32>;

@compute @workgroup_size(256)
fn km_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let D4 = (p.D + 3u) / 4u;
  let idx = flat_id(wid, nwg, lid, 256u);
  if (idx >= p.K * D4) { return; }
  let k = idx / D4;
  let d0 = (idx % D4) * 4u;
  let nd = min(4u, p.D - d0);
  let start = up_offsets[k * p.nb];
  let end = up_offsets[(k + 1u) * p.nb];
  var s = vec4(0.0);
  for (var j = start; j < end; j++) {
    let row = up_order[j] * p.D + d0;
    for (var e = 0u; e < nd; e++) { s[e] = s[e] + up_x[row + e]; }
  }
  let count = end - start;
  for (var e = 0u; e < nd; e++) {
    let at = k * p.D + d0 + e;
    up_new[at] = select(up_old[at], s[e] / f32(count), count > 0u);
  }
  if (d0 == 0u) { up_counts[k] = count; }
}

// ---- km_sum: 1 values (n), 2 out (1)
@group(0) @binding(1) var<storage, read> sum_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum_out: array<f32>;

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn km_sum(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.n; i += 256u) { s = s + sum_in[i]; }
  red[lid] = s;
  workgroupBarrier();
  for (var w = 128u; w > 0u; w = w >> 1u) {
    if (lid < w) { red[lid] = red[lid] + red[lid + w]; }
    workgroupBarrier();
  }
  if (lid == 0u) { sum_out[0] = red[0]; }
}
