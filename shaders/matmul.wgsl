// C[b] = act(op(A[b]) * op(B[b]) + bias), or C[b] += op(A[b]) * op(B[b]) when ACCUMULATE.
// op(A) is M x K (stored K x M when TRANS_A), op(B) is K x N (stored N x K when TRANS_B). Row-major.
// A batch stride of 0 broadcasts that operand (weights shared over the batch).
//
// Three entry points, one tiling each:
//   matmul_reg_vec4    4x4 outputs per invocation, vec4 loads, no workgroup memory (CPU drivers).
//                      Needs K % 4 == 0, M % 4 == 0 when TRANS_A, N % 4 == 0 unless TRANS_B.
//   matmul_reg_scalar  the same tiling with scalar loads: any shape.
//   matmul_tiled       64x64 output tiles staged through workgroup memory (real GPUs): any shape.
// SPLIT writes C's columns to up to three tensors of their own, each (batch, M, width): [0, split1) to C,
// [split1, split2) to C2, [split2, N) to C3 (a projection whose output is several named parts).

struct Params {
  M: u32,
  N: u32,
  K: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  split1: u32,
  split2: u32,
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override SPLIT: bool = false;
// 0 none, 1 relu, 2 gelu (erf form), 3 silu
override ACT: u32 = 0u;
// Invocations per workgroup of the register-tiled entry points; each computes 4x4 outputs.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> C2: array<f32>;
@group(0) @binding(6) var<storage, read_write> C3: array<f32>;

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
fn erf_approx(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-x * x);
  return select(-y, y, x >= 0.0);
}

fn activate(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
    case 3u: { return v / (1.0 + exp(-v)); }
    default: { return v; }
  }
}

fn store(batch: u32, row: u32, col: u32, acc: f32) {
  if (row >= p.M || col >= p.N) { return; }
  if (ACCUMULATE) {
    let i = batch * p.strideC + row * p.N + col;
    C[i] = C[i] + acc;
    return;
  }
  var v = acc;
  if (HAS_BIAS) { v = v + bias[col]; }
  v = activate(v);
  if (SPLIT && col >= p.split2) {
    let w = p.N - p.split2;
    C3[(batch * p.M + row) * w + col - p.split2] = v;
  } else if (SPLIT && col >= p.split1) {
    let w = p.split2 - p.split1;
    C2[(batch * p.M + row) * w + col - p.split1] = v;
  } else if (SPLIT) {
    C[(batch * p.M + row) * p.split1 + col] = v;
  } else {
    C[batch * p.strideC + row * p.N + col] = v;
  }
}

fn store_tile(batch: u32, row0: u32, col0: u32, acc: array<vec4<f32>, 4>) {
  for (var i = 0u; i < 4u; i++) {
    store(batch, row0 + i, col0, acc[i].x);
    store(batch, row0 + i, col0 + 1u, acc[i].y);
    store(batch, row0 + i, col0 + 2u, acc[i].z);
    store(batch, row0 + i, col0 + 3u, acc[i].w);
  }
}

// Element (i, k) of op(A) and (k, j) of op(B) in batch matrix `base`.
fn a_at(base: u32, i: u32, k: u32) -> f32 {
  if (TRANS_A) { return A[base + k * p.M + i]; }
  return A[base + i * p.K + k];
}

fn b_at(base: u32, k: u32, j: u32) -> f32 {
  if (TRANS_B) { return B[base + j * p.K + k]; }
  return B[base + k * p.N + j];
}

// Written out by hand (no private arrays indexed in loops): CPU drivers keep these in registers.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul_reg_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let aBase = gid.z * p.strideA;
  let bBase = gid.z * p.strideB;
  // Rows and columns past the edge are clamped: their sums are computed and never stored.
  let last_r = p.M - 1u;
  let last_c = p.N - 1u;
  let r0 = row0;
  let r1 = min(row0 + 1u, last_r);
  let r2 = min(row0 + 2u, last_r);
  let r3 = min(row0 + 3u, last_r);
  let c0 = col0;
  let c1 = min(col0 + 1u, last_c);
  let c2 = min(col0 + 2u, last_c);
  let c3 = min(col0 + 3u, last_c);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k += 4u) {
    // a_i = op(A)[row0 + i, k .. k + 3]
    var a0: vec4<f32>;
    var a1: vec4<f32>;
    var a2: vec4<f32>;
    var a3: vec4<f32>;
    if (TRANS_A) {
      let t0 = A4[(aBase + k * p.M + row0) / 4u];
      let t1 = A4[(aBase + (k + 1u) * p.M + row0) / 4u];
      let t2 = A4[(aBase + (k + 2u) * p.M + row0) / 4u];
      let t3 = A4[(aBase + (k + 3u) * p.M + row0) / 4u];
      a0 = vec4(t0.x, t1.x, t2.x, t3.x);
      a1 = vec4(t0.y, t1.y, t2.y, t3.y);
      a2 = vec4(t0.z, t1.z, t2.z, t3.z);
      a3 = vec4(t0.w, t1.w, t2.w, t3.w);
    } else {
      a0 = A4[(aBase + r0 * p.K + k) / 4u];
      a1 = A4[(aBase + r1 * p.K + k) / 4u];
      a2 = A4[(aBase + r2 * p.K + k) / 4u];
      a3 = A4[(aBase + r3 * p.K + k) / 4u];
    }
    // b_kk = op(B)[k + kk, col0 .. col0 + 3]
    var b0: vec4<f32>;
    var b1: vec4<f32>;
    var b2: vec4<f32>;
    var b3: vec4<f32>;
    if (TRANS_B) {
      let t0 = B4[(bBase + c0 * p.K + k) / 4u];
      let t1 = B4[(bBase + c1 * p.K + k) / 4u];
      let t2 = B4[(bBase + c2 * p.K + k) / 4u];
      let t3 = B4[(bBase + c3 * p.K + k) / 4u];
      b0 = vec4(t0.x, t1.x, t2.x, t3.x);
      b1 = vec4(t0.y, t1.y, t2.y, t3.y);
      b2 = vec4(t0.z, t1.z, t2.z, t3.z);
      b3 = vec4(t0.w, t1.w, t2.w, t3.w);
    } else {
      b0 = B4[(bBase + k * p.N + col0) / 4u];
      b1 = B4[(bBase + (k + 1u) * p.N + col0) / 4u];
      b2 = B4[(bBase + (k + 2u) * p.N + col0) / 4u];
      b3 = B4[(bBase + (k + 3u) * p.N + col0) / 4u];
    }
    acc0 = acc0 + a0.x * b0 + a0.y * b1 + a0.z * b2 + a0.w * b3;
    acc1 = acc1 + a1.x * b0 + a1.y * b1 + a1.z * b2 + a1.w * b3;
    acc2 = acc2 + a2.x * b0 + a2.y * b1 + a2.z * b2 + a2.w * b3;
    acc3 = acc3 + a3.x * b0 + a3.y * b1 + a3.z * b2 + a3.w * b3;
  }
  store_tile(gid.z, row0, col0, array<vec4<f32>, 4>(acc0, acc1, acc2, acc3));
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn matmul_reg_scalar(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let aBase = gid.z * p.strideA;
  let bBase = gid.z * p.strideB;
  let last_r = p.M - 1u;
  let last_c = p.N - 1u;
  let r1 = min(row0 + 1u, last_r);
  let r2 = min(row0 + 2u, last_r);
  let r3 = min(row0 + 3u, last_r);
  let c1 = min(col0 + 1u, last_c);
  let c2 = min(col0 + 2u, last_c);
  let c3 = min(col0 + 3u, last_c);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k++) {
    let b = vec4(b_at(bBase, k, col0), b_at(bBase, k, c1), b_at(bBase, k, c2), b_at(bBase, k, c3));
    acc0 = acc0 + a_at(aBase, row0, k) * b;
    acc1 = acc1 + a_at(aBase, r1, k) * b;
    acc2 = acc2 + a_at(aBase, r2, k) * b;
    acc3 = acc3 + a_at(aBase, r3, k) * b;
  }
  store_tile(gid.z, row0, col0, array<vec4<f32>, 4>(acc0, acc1, acc2, acc3));
}

const TILE = 64u;
const TK = 16u;
var<workgroup> As: array<f32, 1024>; // [TK][TILE]: As[kk * TILE + i] = op(A)[tileRow + i, k0 + kk]
var<workgroup> Bs: array<f32, 1024>; // [TK][TILE]: Bs[kk * TILE + j] = op(B)[k0 + kk, tileCol + j]

@compute @workgroup_size(16, 16, 1)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tileRow = wid.y * TILE;
  let tileCol = wid.x * TILE;
  let aBase = wid.z * p.strideA;
  let bBase = wid.z * p.strideB;
  let t = lid.y * 16u + lid.x;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var e = t; e < TK * TILE; e += 256u) {
      let kk = e / TILE;
      let x = e % TILE;
      let k = k0 + kk;
      var av = 0.0;
      var bv = 0.0;
      if (k < p.K && tileRow + x < p.M) { av = a_at(aBase, tileRow + x, k); }
      if (k < p.K && tileCol + x < p.N) { bv = b_at(bBase, k, tileCol + x); }
      As[e] = av;
      Bs[e] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let b = vec4(Bs[kk * TILE + lid.x * 4u], Bs[kk * TILE + lid.x * 4u + 1u], Bs[kk * TILE + lid.x * 4u + 2u], Bs[kk * TILE + lid.x * 4u + 3u]);
      for (var i = 0u; i < 4u; i++) { acc[i] = acc[i] + As[kk * TILE + lid.y * 4u + i] * b; }
    }
    workgroupBarrier();
  }
  store_tile(wid.z, tileRow + lid.y * 4u, tileCol + lid.x * 4u, acc);
}
