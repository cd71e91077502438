// Depthwise causal conv1d over time (Mamba's conv1d, k = d_conv): activations (b, l, channels), row-major;
// weight (channels, k) as PyTorch's (channels, 1, k); bias (channels). `p` params.
//
//   depthwise_forward     y[b, t, c] = act(bias[c] + sum_j w[c, j] * x[b, t + j - pad_left, c]), zero outside x.
//                         pad_left = k - 1 gives the causal conv (l_out = l); pad_left = 0 on [state, new frames]
//                         (TAIL: the state read from binding 5, not copied; NEXT_TAIL: the next state written in the
//                         same dispatch) gives the streaming step (l_out = m).
//   depthwise_silu_grad   dz = dy * silu'(z), z recomputed (the backward of the fused SiLU).
//   depthwise_dx          dx[b, i, c] = sum_j w[c, j] * dz[b, i + pad_left - j, c].
//   depthwise_dweight     per chunk of (b, t) rows: partial sums of dz * x for every tap, and of dz (bias).
// Each has a `_vec4` twin (4 channels x 4 frames per invocation; c % 4 == 0 and k <= MAX_K). The chunk
// partials of the weight gradient are added up by reduce.wgsl's sum_rows.

struct Params {
  b: u32,
  l: u32,
  c: u32,
  k: u32,
  pad_left: u32,
  l_out: u32,
  rows_per_chunk: u32,
  chunks: u32,
  l_tail: u32, // forward (TAIL): the first l_tail of the l input frames come from the tail (binding 5), the rest from x
  nt_start: u32, // forward (NEXT_TAIL): the next state is frames [nt_start, nt_start + nt_len) of the input
  nt_len: u32,
}

override HAS_BIAS: bool = false;
override SILU: bool = false;
// The input is the concatenation [tail, x] along frames (a stream's carried state, not written out).
override TAIL: bool = false;
// Forward: also copy a stream's next state (frames of the input) to binding 6, every invocation taking its share.
override NEXT_TAIL: bool = false;

@group(0) @binding(0) var<uniform> p: Params;

// Binding 1: the first input (x, or dz in the backward kernels).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(1) var<storage, read> DY4: array<vec4<f32>>;
// Binding 2: the weight (or x in the weight gradients).
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> X2: array<f32>;
@group(0) @binding(2) var<storage, read> X24: array<vec4<f32>>;
// Binding 3: the output.
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y4: array<vec4<f32>>;
// Binding 4: bias (forward), or a second output (the bias partials).
@group(0) @binding(4) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT4: array<f32>;
// Binding 5: the tail (b, l_tail, c) before x (forward; depthwise_silu_grad binds an empty one).
@group(0) @binding(5) var<storage, read> TX: array<f32>;
@group(0) @binding(5) var<storage, read> TX4: array<vec4<f32>>;
// Binding 6: dy of depthwise_silu_grad (whose bindings 1-5 are those of depthwise_forward), or the forward's next
// state (b, nt_len, c).
@group(0) @binding(6) var<storage, read> DYS: array<f32>;
@group(0) @binding(6) var<storage, read_write> NT: array<f32>;
@group(0) @binding(6) var<storage, read_write> NT4: array<vec4<f32>>;

const WG = 256u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn sigmoid(v: f32) -> f32 {
  return 1.0 / (1.0 + exp(-v));
}

// ---------------------------------------------------------------------------------------------------
// Scalar kernels. Bindings: X = x (b, l, c), W = weight (c, k), Y = output, BIAS = bias (c).

// Row f (< l) of utterance bb in the input [tail, x] (TAIL) or x: whether it is in the tail, and its row index there.
struct Row {
  tail: bool,
  at: u32,
}

fn input_row(bb: u32, f: u32) -> Row {
  if (TAIL && f < p.l_tail) { return Row(true, bb * p.l_tail + f); }
  return Row(false, bb * (p.l - p.l_tail) + f - p.l_tail);
}

// NEXT_TAIL: invocation `id` of `count` copies its share of the next state.
fn copy_next_tail(id: u32, count: u32) {
  let n = p.b * p.nt_len * p.c;
  for (var i = id; i < n; i += count) {
    let row = i / p.c;
    let src = input_row(row / p.nt_len, p.nt_start + row % p.nt_len);
    if (TAIL && src.tail) { NT[i] = TX[src.at * p.c + i % p.c]; } else { NT[i] = X[src.at * p.c + i % p.c]; }
  }
}

fn copy_next_tail4(id: u32, count: u32) {
  let c4 = p.c / 4u;
  let n = p.b * p.nt_len * c4;
  for (var i = id; i < n; i += count) {
    let row = i / c4;
    let src = input_row(row / p.nt_len, p.nt_start + row % p.nt_len);
    if (TAIL && src.tail) { NT4[i] = TX4[src.at * c4 + i % c4]; } else { NT4[i] = X4[src.at * c4 + i % c4]; }
  }
}

// Pre-activation z[b, t, c] of the depthwise conv; x is read from X (and the tail from TX).
fn pre(bb: u32, t: u32, ch: u32) -> f32 {
  var acc = 0.0;
  if (HAS_BIAS) { acc = BIAS[ch]; }
  for (var j = 0u; j < p.k; j++) {
    let src = i32(t + j) - i32(p.pad_left);
    if (src >= 0 && src < i32(p.l)) {
      let row = input_row(bb, u32(src));
      var v: f32;
      if (TAIL && row.tail) { v = TX[row.at * p.c + ch]; } else { v = X[row.at * p.c + ch]; }
      acc += W[ch * p.k + j] * v;
    }
  }
  return acc;
}

@compute @workgroup_size(256)
fn depthwise_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (NEXT_TAIL) { copy_next_tail(i, nwg.x * nwg.y * WG); }
  if (i >= p.b * p.l_out * p.c) { return; }
  let ch = i % p.c;
  let row = i / p.c;
  let z = pre(row / p.l_out, row % p.l_out, ch);
  if (SILU) { Y[i] = z * sigmoid(z); } else { Y[i] = z; }
}

// Bindings: X = x, W = weight, Y = dz (out), BIAS = bias, TX = empty, DYS = dy.

@compute @workgroup_size(256)
fn depthwise_silu_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.b * p.l_out * p.c) { return; }
  let ch = i % p.c;
  let row = i / p.c;
  let z = pre(row / p.l_out, row % p.l_out, ch);
  let s = sigmoid(z);
  Y[i] = DYS[i] * s * (1.0 + z * (1.0 - s));
}

// Bindings: DY = dz (b, l_out, c), W = weight, Y = dx (b, l, c).
@compute @workgroup_size(256)
fn depthwise_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.b * p.l * p.c) { return; }
  let ch = i % p.c;
  let row = i / p.c;
  let bb = row / p.l;
  let src = row % p.l;
  var acc = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let t = i32(src + p.pad_left) - i32(j);
    if (t >= 0 && t < i32(p.l_out)) {
      acc += W[ch * p.k + j] * DY[(bb * p.l_out + u32(t)) * p.c + ch];
    }
  }
  Y[i] = acc;
}

// Bindings: DY = dz (b, l_out, c), X2 = x (b, l, c), Y = weight partials (chunks, c, k),
// OUT4 = bias partials (chunks, c), written when HAS_BIAS.
@compute @workgroup_size(256)
fn depthwise_dweight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.chunks * p.c) { return; }
  let ch = i % p.c;
  let chunk = i / p.c;
  let r0 = chunk * p.rows_per_chunk;
  let r1 = min(r0 + p.rows_per_chunk, p.b * p.l_out);
  for (var j = 0u; j < p.k; j++) {
    var acc = 0.0;
    for (var r = r0; r < r1; r++) {
      let bb = r / p.l_out;
      let src = i32(r % p.l_out + j) - i32(p.pad_left);
      if (src >= 0 && src < i32(p.l)) {
        acc += DY[r * p.c + ch] * X2[(bb * p.l + u32(src)) * p.c + ch];
      }
    }
    Y[i * p.k + j] = acc;
  }
  if (HAS_BIAS) {
    var acc = 0.0;
    for (var r = r0; r < r1; r++) { acc += DY[r * p.c + ch]; }
    OUT4[i] = acc;
  }
}

// The same four kernels with vec4 over channels and 4 frames per invocation (c % 4 == 0, k <= MAX_K):
// CPU drivers pay per invocation, so each does 16 outputs. Flat over b * ceil(l_out / 4) * (c / 4).
@group(0) @binding(6) var<storage, read> DYS4: array<vec4<f32>>;

const MAX_K = 8u;
// Taps of the vec4 depthwise kernels (= p.k): a constant, so that their tap loops unroll.
override KT: u32 = 4u;

// Taps of channels c0 .. c0 + 3: w[j] = (W[c0, j], .., W[c0 + 3, j]).
fn taps4(c0: u32) -> array<vec4<f32>, MAX_K> {
  var w: array<vec4<f32>, MAX_K>;
  for (var j = 0u; j < KT; j++) {
    w[j] = vec4(W[c0 * p.k + j], W[(c0 + 1u) * p.k + j], W[(c0 + 2u) * p.k + j], W[(c0 + 3u) * p.k + j]);
  }
  return w;
}

struct Tile4 {
  bb: u32,
  t0: u32,
  c0: u32,
  ok: bool,
}

fn tile4(i: u32, frames: u32) -> Tile4 {
  let c4 = p.c / 4u;
  let tiles = (frames + 3u) / 4u;
  let row = i / c4;
  return Tile4(row / tiles, (row % tiles) * 4u, (i % c4) * 4u, i < p.b * tiles * c4);
}

// z for frames t0 .. t0 + 3 of channels c0 .. c0 + 3 (X4 = x).
fn pre4(tl: Tile4, w: array<vec4<f32>, MAX_K>) -> array<vec4<f32>, 4> {
  var b4 = vec4(0.0);
  if (HAS_BIAS) { b4 = vec4(BIAS[tl.c0], BIAS[tl.c0 + 1u], BIAS[tl.c0 + 2u], BIAS[tl.c0 + 3u]); }
  var z: array<vec4<f32>, 4>;
  let c4 = p.c / 4u;
  for (var f = 0u; f < 4u; f++) {
    var acc = b4;
    for (var j = 0u; j < KT; j++) {
      let src = i32(tl.t0 + f + j) - i32(p.pad_left);
      if (src >= 0 && src < i32(p.l)) {
        let row = input_row(tl.bb, u32(src));
        var v: vec4<f32>;
        if (TAIL && row.tail) { v = TX4[row.at * c4 + tl.c0 / 4u]; } else { v = X4[row.at * c4 + tl.c0 / 4u]; }
        acc += w[j] * v;
      }
    }
    z[f] = acc;
  }
  return z;
}

// Bindings: X4 = x, W = weight, Y4 = y, BIAS, TX4 = tail (or empty).
@compute @workgroup_size(256)
fn depthwise_forward_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (NEXT_TAIL) { copy_next_tail4(flat_index(wid, nwg, lid), nwg.x * nwg.y * WG); }
  let tl = tile4(flat_index(wid, nwg, lid), p.l_out);
  if (!tl.ok) { return; }
  let z = pre4(tl, taps4(tl.c0));
  for (var f = 0u; f < 4u; f++) {
    let t = tl.t0 + f;
    if (t >= p.l_out) { break; }
    var v = z[f];
    if (SILU) { v = v / (1.0 + exp(-v)); }
    Y4[((tl.bb * p.l_out + t) * p.c + tl.c0) / 4u] = v;
  }
}

// Bindings: X4 = x, W = weight, Y4 = dz (out), BIAS, TX4 = empty, DYS4 = dy.
@compute @workgroup_size(256)
fn depthwise_silu_grad_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tl = tile4(flat_index(wid, nwg, lid), p.l_out);
  if (!tl.ok) { return; }
  let z = pre4(tl, taps4(tl.c0));
  for (var f = 0u; f < 4u; f++) {
    let t = tl.t0 + f;
    if (t >= p.l_out) { break; }
    let at = ((tl.bb * p.l_out + t) * p.c + tl.c0) / 4u;
    let s = 1.0 / (1.0 + exp(-z[f]));
    Y4[at] = DYS4[at] * s * (1.0 + z[f] * (1.0 - s));
  }
}

// Bindings: DY4 = dz (b, l_out, c), W = weight, Y4 = dx (b, l, c).
@compute @workgroup_size(256)
fn depthwise_dx_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tl = tile4(flat_index(wid, nwg, lid), p.l);
  if (!tl.ok) { return; }
  let w = taps4(tl.c0);
  let c4 = p.c / 4u;
  for (var f = 0u; f < 4u; f++) {
    let i = tl.t0 + f;
    if (i >= p.l) { break; }
    var acc = vec4(0.0);
    for (var j = 0u; j < KT; j++) {
      let t = i32(i + p.pad_left) - i32(j);
      if (t >= 0 && t < i32(p.l_out)) {
        acc += w[j] * DY4[(tl.bb * p.l_out + u32(t)) * c4 + tl.c0 / 4u];
      }
    }
    Y4[((tl.bb * p.l + i) * p.c + tl.c0) / 4u] = acc;
  }
}

// Bindings: DY4 = dz, X24 = x, Y = weight partials (chunks, c, k), OUT4 = bias partials (chunks, c).
// Flat over chunks * c / 4.
@compute @workgroup_size(256)
fn depthwise_dweight_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let c4 = p.c / 4u;
  if (i >= p.chunks * c4) { return; }
  let q = i % c4;
  let chunk = i / c4;
  let r0 = chunk * p.rows_per_chunk;
  let r1 = min(r0 + p.rows_per_chunk, p.b * p.l_out);
  var acc: array<vec4<f32>, MAX_K>;
  var accb = vec4(0.0);
  for (var r = r0; r < r1; r++) {
    let bb = r / p.l_out;
    let t = r % p.l_out;
    let g = DY4[r * c4 + q];
    accb += g;
    for (var j = 0u; j < KT; j++) {
      let src = i32(t + j) - i32(p.pad_left);
      if (src >= 0 && src < i32(p.l)) {
        acc[j] += g * X24[(bb * p.l + u32(src)) * c4 + q];
      }
    }
  }
  let base = (chunk * p.c + q * 4u) * p.k;
  for (var j = 0u; j < KT; j++) {
    Y[base + j] = acc[j].x;
    Y[base + p.k + j] = acc[j].y;
    Y[base + 2u * p.k + j] = acc[j].z;
    Y[base + 3u * p.k + j] = acc[j].w;
  }
  if (HAS_BIAS) {
    let bo = chunk * p.c + q * 4u;
    OUT4[bo] = accb.x;
    OUT4[bo + 1u] = accb.y;
    OUT4[bo + 2u] = accb.z;
    OUT4[bo + 3u] = accb.w;
  }
}
