// Layer norm and group norm, forward and backward, over x viewed as (rows, c), row-major.
//
// A "statistic block" is the set of elements sharing one mean and one rstd: L consecutive rows times CG
// consecutive channels; a row holds G = c / CG groups. Block index of element (row, ch):
//   s = (row / L) * G + ch / CG
// Layer norm over the last dim: L = 1, G = 1, CG = c (one block per row).
// GroupNorm on x (b, l, c): rows = b * l, L = l, CG = c / groups, G = groups (blocks ordered (b, group)).
// HAS_RESIDUAL normalises x + r instead of x (the post-LN block LN(x + Mixer(x))), in every entry point.
// HAS_FRAMES (the *_wg entry points, GroupNorm of a padded batch): row block bi has frames[bi] valid rows;
// its statistics are over those only, and the rows past them are 0 (so they carry no gradient), and
// param_partials skips them.
//
// Entry points (binding 0 is Params):
//   norm_forward_row    one invocation per row (layer norm only; CPU drivers: no barriers)
//   norm_forward_wg     one workgroup per statistic block, tree reductions in workgroup memory
//       x, r, gamma, beta -> y, mean, rstd
//   norm_backward_row / norm_backward_wg   the same split, for dx
//       x, r, gamma, mean, rstd, dy -> dx
//   param_partials      per block of blockRows rows and per channel: partial sums of dy * xhat and dy,
//                       (ceil(rows / blockRows), c) each; reduce.wgsl's sum_rows finishes dgamma and dbeta.
//       x, r, mean, rstd, dy -> pg, pb

struct Params {
  rows: u32,
  c: u32,
  eps: f32,
  L: u32,
  G: u32,
  CG: u32,
  blockRows: u32,
}

override HAS_RESIDUAL: bool = false;
override HAS_FRAMES: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
// forward
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> mean: array<f32>;
@group(0) @binding(7) var<storage, read_write> rstd: array<f32>;
// backward (gamma at 3 as above)
@group(0) @binding(4) var<storage, read> mean_in: array<f32>;
@group(0) @binding(5) var<storage, read> rstd_in: array<f32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> dx: array<f32>;
// param_partials
@group(0) @binding(3) var<storage, read> pmean: array<f32>;
@group(0) @binding(4) var<storage, read> prstd: array<f32>;
@group(0) @binding(5) var<storage, read> pdy: array<f32>;
@group(0) @binding(6) var<storage, read_write> pg: array<f32>;
@group(0) @binding(7) var<storage, read_write> pb: array<f32>;
// *_wg with HAS_FRAMES: valid rows per row block (b).
@group(0) @binding(8) var<storage, read> frames: array<u32>;

const WGN = 128u; // invocations of the *_wg entry points
const WGR = 64u; // invocations of the *_row entry points
const WGP = 256u; // invocations of param_partials

// The normalised input: x, or x + r.
fn xin(i: u32) -> f32 {
  if (HAS_RESIDUAL) { return x[i] + r[i]; }
  return x[i];
}

var<workgroup> red: array<vec2<f32>, WGN>;

// Sum of v over the workgroup; every invocation gets the result. Call from uniform control flow.
fn wg_sum(v: vec2<f32>, lid: u32) -> vec2<f32> {
  red[lid] = v;
  workgroupBarrier();
  for (var h = WGN / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { red[lid] += red[lid + h]; }
    workgroupBarrier();
  }
  let s = red[0];
  workgroupBarrier();
  return s;
}

// Elements of statistic block bi's statistics: its valid rows (at least one) times CG.
fn valid_count(bi: u32) -> u32 {
  if (HAS_FRAMES) { return clamp(frames[bi], 1u, p.L) * p.CG; }
  return p.L * p.CG;
}

// Flat index of element e (0 <= e < L * CG) of statistic block (bi, g).
fn block_elem(bi: u32, g: u32, e: u32) -> u32 {
  let row = bi * p.L + e / p.CG;
  return row * p.c + g * p.CG + e % p.CG;
}

// Sum over a row of (xin - shift) and of (xin - shift)^2, in four interleaved partial sums (shorter
// rounding chains than one running sum, and vectorisable on CPU drivers).
fn row_sums(base: u32, shift: f32) -> vec2<f32> {
  var s = vec4(0.0);
  var q = vec4(0.0);
  var j = 0u;
  for (; j + 4u <= p.c; j += 4u) {
    let d = vec4(xin(base + j), xin(base + j + 1u), xin(base + j + 2u), xin(base + j + 3u)) - shift;
    s += d;
    q += d * d;
  }
  var t = vec2((s.x + s.y) + (s.z + s.w), (q.x + q.y) + (q.z + q.w));
  for (; j < p.c; j++) {
    let d = xin(base + j) - shift;
    t += vec2(d, d * d);
  }
  return t;
}

// Two passes: the mean (sums shifted by the row's first element, which keeps them small when the row has
// an offset), then the variance from sums shifted by the mean.
@compute @workgroup_size(WGR)
fn norm_forward_row(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WGR;
  if (row >= p.rows) { return; }
  let base = row * p.c;
  let x0 = xin(base);
  let m = x0 + row_sums(base, x0).x / f32(p.c);
  let rs = inverseSqrt(row_sums(base, m).y / f32(p.c) + p.eps);
  mean[row] = m;
  rstd[row] = rs;
  for (var j = 0u; j < p.c; j++) { y[base + j] = (xin(base + j) - m) * rs * gamma[j] + beta[j]; }
}

@compute @workgroup_size(WGN)
fn norm_forward_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= (p.rows / p.L) * p.G) { return; } // uniform: the same for the whole workgroup
  let bi = w / p.G;
  let g = w % p.G;
  let count = valid_count(bi);
  // Sums shifted by the block's first element, as in norm_forward_row.
  let x0 = xin(block_elem(bi, g, 0u));
  var s = 0.0;
  for (var e = lid; e < count; e += WGN) { s += xin(block_elem(bi, g, e)) - x0; }
  let m = x0 + wg_sum(vec2(s, 0.0), lid).x / f32(count);
  var q = 0.0;
  for (var e = lid; e < count; e += WGN) {
    let d = xin(block_elem(bi, g, e)) - m;
    q += d * d;
  }
  let rs = inverseSqrt(wg_sum(vec2(q, 0.0), lid).x / f32(count) + p.eps);
  if (lid == 0u) {
    mean[w] = m;
    rstd[w] = rs;
  }
  for (var e = lid; e < count; e += WGN) {
    let i = block_elem(bi, g, e);
    let ch = g * p.CG + e % p.CG;
    y[i] = (xin(i) - m) * rs * gamma[ch] + beta[ch];
  }
  for (var e = count + lid; e < p.L * p.CG; e += WGN) { y[block_elem(bi, g, e)] = 0.0; }
}

// dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma, means over the block.
@compute @workgroup_size(WGR)
fn norm_backward_row(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.x + gid.y * nwg.x * WGR;
  if (row >= p.rows) { return; }
  let base = row * p.c;
  let m = mean_in[row];
  let rs = rstd_in[row];
  var s1 = 0.0;
  var s2 = 0.0;
  for (var j = 0u; j < p.c; j++) {
    let xh = (xin(base + j) - m) * rs;
    let g = dy[base + j] * gamma[j];
    s1 += g;
    s2 += g * xh;
  }
  let a = s1 / f32(p.c);
  let b = s2 / f32(p.c);
  for (var j = 0u; j < p.c; j++) {
    let xh = (xin(base + j) - m) * rs;
    dx[base + j] = rs * (dy[base + j] * gamma[j] - a - xh * b);
  }
}

@compute @workgroup_size(WGN)
fn norm_backward_wg(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= (p.rows / p.L) * p.G) { return; } // uniform
  let bi = w / p.G;
  let g = w % p.G;
  let count = valid_count(bi);
  let m = mean_in[w];
  let rs = rstd_in[w];
  var s = vec2(0.0, 0.0);
  for (var e = lid; e < count; e += WGN) {
    let i = block_elem(bi, g, e);
    let xh = (xin(i) - m) * rs;
    let d = dy[i] * gamma[g * p.CG + e % p.CG];
    s += vec2(d, d * xh);
  }
  let t = wg_sum(s, lid) / f32(count);
  for (var e = lid; e < count; e += WGN) {
    let i = block_elem(bi, g, e);
    let xh = (xin(i) - m) * rs;
    dx[i] = rs * (dy[i] * gamma[g * p.CG + e % p.CG] - t.x - xh * t.y);
  }
  for (var e = count + lid; e < p.L * p.CG; e += WGN) { dx[block_elem(bi, g, e)] = 0.0; }
}

@compute @workgroup_size(WGP)
fn param_partials(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let groupsPerBlock = (p.c + WGP - 1u) / WGP;
  let w = wid.x + wid.y * nwg.x;
  let blk = w / groupsPerBlock;
  let ch = (w % groupsPerBlock) * WGP + lid;
  let r0 = blk * p.blockRows;
  if (ch >= p.c || r0 >= p.rows) { return; }
  let r1 = min(r0 + p.blockRows, p.rows);
  let g = ch / p.CG;
  var sg = 0.0;
  var sb = 0.0;
  for (var row = r0; row < r1; row++) {
    if (HAS_FRAMES && row % p.L >= max(frames[row / p.L], 1u)) { continue; }
    let i = row * p.c + ch;
    let s = (row / p.L) * p.G + g;
    let d = pdy[i];
    sg += d * (xin(i) - pmean[s]) * prstd[s];
    sb += d;
  }
  pg[blk * p.c + ch] = sg;
  pb[blk * p.c + ch] = sb;
}
