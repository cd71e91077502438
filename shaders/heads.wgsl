// Kernels of the pre-training head (HuBERT's masked prediction): L2 row normalisation for the cosine-similarity
// logits, and frame masking (masked frames replaced by mask_emb).
//
// Entry points and their bindings (binding 0 is always Params):
//   l2_normalize            x, y            y[r] = alpha * x[r] / max(||x[r]||, eps)           one invocation per row
//   l2_normalize_backward   x, dy, dx       dx[r] = alpha / n (dy[r] - u <u, dy[r]>), u = x[r] / n, n = ||x[r]||
//                                           (dx[r] = alpha / eps * dy[r] where ||x[r]|| <= eps: y is linear there)
//   mask_frames             x, mask, emb, y y[r, c] = mask[r] != 0 ? emb[c] (0 without HAS_EMB) : x[r, c]   one per element

struct Params {
  rows: u32,  // rows of x (r)
  c: u32,     // channels per row
  alpha: f32, // the output scale of l2_normalize (1 / logit temperature for the logits' side)
  eps: f32,   // the smallest norm divided by
}

override HAS_EMB: bool = true;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> emb: array<f32>;
@group(0) @binding(4) var<storage, read_write> masked: array<f32>;

const WG = 64u;
const WG_FLAT = 256u;

fn row_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

// ||x[r]||, scaled by the row's largest magnitude so that the squares neither overflow nor underflow.
fn row_norm(r: u32) -> f32 {
  let base = r * p.c;
  var m = 0.0;
  for (var j = 0u; j < p.c; j++) { m = max(m, abs(x[base + j])); }
  if (m == 0.0) { return 0.0; }
  var s = 0.0;
  for (var j = 0u; j < p.c; j++) {
    let v = x[base + j] / m;
    s += v * v;
  }
  return m * sqrt(s);
}

@compute @workgroup_size(WG)
fn l2_normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let f = p.alpha / max(row_norm(r), p.eps);
  let base = r * p.c;
  for (var j = 0u; j < p.c; j++) { y[base + j] = f * x[base + j]; }
}

@compute @workgroup_size(WG)
fn l2_normalize_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = row_index(wid, nwg, lid);
  if (r >= p.rows) { return; }
  let base = r * p.c;
  let n = row_norm(r);
  if (n <= p.eps) {
    let f = p.alpha / p.eps;
    for (var j = 0u; j < p.c; j++) { dx[base + j] = f * dy[base + j]; }
    return;
  }
  var ud = 0.0;
  for (var j = 0u; j < p.c; j++) { ud += x[base + j] / n * dy[base + j]; }
  let f = p.alpha / n;
  for (var j = 0u; j < p.c; j++) { dx[base + j] = f * (dy[base + j] - x[base + j] / n * ud); }
}

@compute @workgroup_size(WG_FLAT)
fn mask_frames(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG_FLAT + lid;
  if (i >= p.rows * p.c) { return; }
  let r = i / p.c;
  if (mask[r] == 0.0) {
    masked[i] = x[i];
  } else if (HAS_EMB) {
    masked[i] = emb[i - r * p.c];
  } else {
    masked[i] = 0.0;
  }
}
