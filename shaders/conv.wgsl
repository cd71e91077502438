// Convolutions over time. Activations are (b, l, channels), row-major; weights keep PyTorch's layouts:
// depthwise (channels, k), general conv1d (c_out, c_in / groups, k), bias (c_out).
//
// Depthwise (Mamba's conv1d), `pd` params:
//   dw_forward       y[b, t, c] = act(bias[c] + sum_j w[c, j] * x[b, t + j - pad_left, c]), zero outside x.
//                    pad_left = k - 1 gives the causal conv (l_out = l); pad_left = 0 on [state, new frames]
//                    gives the streaming step (l_out = m).
//   dw_silu_grad     dz = dy * silu'(z), z recomputed (the backward of the fused SiLU).
//   dw_dx            dx[b, i, c] = sum_j w[c, j] * dz[b, i + pad_left - j, c].
//   dw_wgrad         per chunk of (b, t) rows: partial sums of dz * x for every tap, and of dz (bias).
//
// General conv1d (stride, groups, left/right zero padding), `pc` params:
//   conv_fwd_vec4    4 frames x 4 output channels per invocation, vec4 over input channels and over
//                    output channels; needs c_in/groups % 4 == 0 and c_out/groups % 4 == 0 and the
//                    weight in the forward layout wf[j, ci, o] (conv_w_fwd_layout).
//   conv_fwd_xs      the same tiling with scalar input loads: needs c_out/groups % 4 == 0 (the first
//                    feature-extractor layer, c_in = 1).
//   conv_fwd_scalar  one output per invocation, any shape, PyTorch layout.
//   conv_dx_vec4     4 input frames of one residue class mod stride x 4 input channels per invocation;
//                    weight in the backward layout wb[j, o, ci] (conv_w_bwd_layout).
//   conv_dx_scalar   one dx element per invocation, any shape.
//   conv_dw_vec4     4 output x 4 input channels of one tap per invocation, over one chunk of frames.
//   conv_dw_scalar   one weight element per invocation, over one chunk of frames.
//   conv_bias_grad   per chunk of frames, column sums of dy.
// Helpers: sum_chunks (reduce the chunk partials, optionally accumulating), frames_concat (streaming).

struct ConvParams {
  b: u32,
  l: u32,
  c_in: u32,
  c_out: u32,
  k: u32,
  stride: u32,
  pad_left: u32,
  l_out: u32,
  cin_g: u32, // c_in / groups
  cout_g: u32, // c_out / groups
  frames_per_chunk: u32, // weight gradients: (b, t_out) frames summed by one chunk
  n: u32, // flat kernels: element count
}

struct DwParams {
  b: u32,
  l: u32,
  c: u32,
  k: u32,
  pad_left: u32,
  l_out: u32,
  rows_per_chunk: u32,
  chunks: u32,
}

struct UtilParams {
  n: u32, // elements written
  c: u32, // channels (frames_concat) / unused
  la: u32, // frames of A (frames_concat) / chunks (sum_chunks)
  lb: u32, // frames of B
  start: u32, // first frame of [A, B] copied
  l_out: u32, // frames written
}

override HAS_BIAS: bool = false;
override SILU: bool = false;
override ACCUMULATE: bool = false;

@group(0) @binding(0) var<uniform> pc: ConvParams;
@group(0) @binding(0) var<uniform> pd: DwParams;
@group(0) @binding(0) var<uniform> pu: UtilParams;

// Binding 1: the first input (x, or dy in the backward kernels).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(1) var<storage, read> DY4: array<vec4<f32>>;
// Binding 2: the weight (or x in the weight gradients, or an output of the helpers).
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> W4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> X2: array<f32>;
@group(0) @binding(2) var<storage, read> X24: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> OUT2: array<f32>;
// Binding 3: the output.
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y4: array<vec4<f32>>;
// Binding 4: bias (forward), or a second output (depthwise bias partials).
@group(0) @binding(4) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> OUT4: array<f32>;
// Binding 5: dy of dw_silu_grad (whose bindings 1-4 are those of dw_forward).
@group(0) @binding(5) var<storage, read> DYS: array<f32>;

const WG = 256u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn sigmoid(v: f32) -> f32 {
  return 1.0 / (1.0 + exp(-v));
}

// ---------------------------------------------------------------------------------------------------
// Depthwise. Bindings: X = x (b, l, c), W = weight (c, k), Y = output, BIAS = bias (c).

// Pre-activation z[b, t, c] of the depthwise conv; x is read from X.
fn dw_pre(bb: u32, t: u32, ch: u32) -> f32 {
  var acc = 0.0;
  if (HAS_BIAS) { acc = BIAS[ch]; }
  for (var j = 0u; j < pd.k; j++) {
    let src = i32(t + j) - i32(pd.pad_left);
    if (src >= 0 && src < i32(pd.l)) {
      acc += W[ch * pd.k + j] * X[(bb * pd.l + u32(src)) * pd.c + ch];
    }
  }
  return acc;
}

@compute @workgroup_size(256)
fn dw_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pd.b * pd.l_out * pd.c) { return; }
  let ch = i % pd.c;
  let row = i / pd.c;
  let z = dw_pre(row / pd.l_out, row % pd.l_out, ch);
  if (SILU) { Y[i] = z * sigmoid(z); } else { Y[i] = z; }
}

// Bindings: X = x, W = weight, Y = dz (out), BIAS = bias, DYS = dy.

@compute @workgroup_size(256)
fn dw_silu_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pd.b * pd.l_out * pd.c) { return; }
  let ch = i % pd.c;
  let row = i / pd.c;
  let z = dw_pre(row / pd.l_out, row % pd.l_out, ch);
  let s = sigmoid(z);
  Y[i] = DYS[i] * s * (1.0 + z * (1.0 - s));
}

// Bindings: DY = dz (b, l_out, c), W = weight, Y = dx (b, l, c).
@compute @workgroup_size(256)
fn dw_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pd.b * pd.l * pd.c) { return; }
  let ch = i % pd.c;
  let row = i / pd.c;
  let bb = row / pd.l;
  let src = row % pd.l;
  var acc = 0.0;
  for (var j = 0u; j < pd.k; j++) {
    let t = i32(src + pd.pad_left) - i32(j);
    if (t >= 0 && t < i32(pd.l_out)) {
      acc += W[ch * pd.k + j] * DY[(bb * pd.l_out + u32(t)) * pd.c + ch];
    }
  }
  Y[i] = acc;
}

// Bindings: DY = dz (b, l_out, c), X2 = x (b, l, c), Y = weight partials (chunks, c, k),
// OUT4 = bias partials (chunks, c), written when HAS_BIAS.
@compute @workgroup_size(256)
fn dw_wgrad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pd.chunks * pd.c) { return; }
  let ch = i % pd.c;
  let chunk = i / pd.c;
  let r0 = chunk * pd.rows_per_chunk;
  let r1 = min(r0 + pd.rows_per_chunk, pd.b * pd.l_out);
  for (var j = 0u; j < pd.k; j++) {
    var acc = 0.0;
    for (var r = r0; r < r1; r++) {
      let bb = r / pd.l_out;
      let src = i32(r % pd.l_out + j) - i32(pd.pad_left);
      if (src >= 0 && src < i32(pd.l)) {
        acc += DY[r * pd.c + ch] * X2[(bb * pd.l + u32(src)) * pd.c + ch];
      }
    }
    Y[i * pd.k + j] = acc;
  }
  if (HAS_BIAS) {
    var acc = 0.0;
    for (var r = r0; r < r1; r++) { acc += DY[r * pd.c + ch]; }
    OUT4[i] = acc;
  }
}

// The same four kernels with vec4 over channels and 4 frames per invocation (c % 4 == 0, k <= MAX_K):
// CPU drivers pay per invocation, so each does 16 outputs. Flat over b * ceil(l_out / 4) * (c / 4).
@group(0) @binding(5) var<storage, read> DYS4: array<vec4<f32>>;

const MAX_K = 8u;
// Taps of the vec4 depthwise kernels (= pd.k): a constant, so that their tap loops unroll.
override KT: u32 = 4u;

// Taps of channels c0 .. c0 + 3: w[j] = (W[c0, j], .., W[c0 + 3, j]).
fn dw4_taps(c0: u32) -> array<vec4<f32>, MAX_K> {
  var w: array<vec4<f32>, MAX_K>;
  for (var j = 0u; j < KT; j++) {
    w[j] = vec4(W[c0 * pd.k + j], W[(c0 + 1u) * pd.k + j], W[(c0 + 2u) * pd.k + j], W[(c0 + 3u) * pd.k + j]);
  }
  return w;
}

struct Dw4Tile {
  bb: u32,
  t0: u32,
  c0: u32,
  ok: bool,
}

fn dw4_tile(i: u32, frames: u32) -> Dw4Tile {
  let c4 = pd.c / 4u;
  let tiles = (frames + 3u) / 4u;
  let row = i / c4;
  return Dw4Tile(row / tiles, (row % tiles) * 4u, (i % c4) * 4u, i < pd.b * tiles * c4);
}

// z for frames t0 .. t0 + 3 of channels c0 .. c0 + 3 (X4 = x).
fn dw4_pre(tl: Dw4Tile, w: array<vec4<f32>, MAX_K>) -> array<vec4<f32>, 4> {
  var b4 = vec4(0.0);
  if (HAS_BIAS) { b4 = vec4(BIAS[tl.c0], BIAS[tl.c0 + 1u], BIAS[tl.c0 + 2u], BIAS[tl.c0 + 3u]); }
  var z: array<vec4<f32>, 4>;
  let c4 = pd.c / 4u;
  for (var f = 0u; f < 4u; f++) {
    var acc = b4;
    for (var j = 0u; j < KT; j++) {
      let src = i32(tl.t0 + f + j) - i32(pd.pad_left);
      if (src >= 0 && src < i32(pd.l)) {
        acc += w[j] * X4[(tl.bb * pd.l + u32(src)) * c4 + tl.c0 / 4u];
      }
    }
    z[f] = acc;
  }
  return z;
}

// Bindings: X4 = x, W = weight, Y4 = y, BIAS.
@compute @workgroup_size(256)
fn dw4_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tl = dw4_tile(flat_index(wid, nwg, lid), pd.l_out);
  if (!tl.ok) { return; }
  let z = dw4_pre(tl, dw4_taps(tl.c0));
  for (var f = 0u; f < 4u; f++) {
    let t = tl.t0 + f;
    if (t >= pd.l_out) { break; }
    var v = z[f];
    if (SILU) { v = v / (1.0 + exp(-v)); }
    Y4[((tl.bb * pd.l_out + t) * pd.c + tl.c0) / 4u] = v;
  }
}

// Bindings: X4 = x, W = weight, Y4 = dz (out), BIAS, DYS4 = dy.
@compute @workgroup_size(256)
fn dw4_silu_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tl = dw4_tile(flat_index(wid, nwg, lid), pd.l_out);
  if (!tl.ok) { return; }
  let z = dw4_pre(tl, dw4_taps(tl.c0));
  for (var f = 0u; f < 4u; f++) {
    let t = tl.t0 + f;
    if (t >= pd.l_out) { break; }
    let at = ((tl.bb * pd.l_out + t) * pd.c + tl.c0) / 4u;
    let s = 1.0 / (1.0 + exp(-z[f]));
    Y4[at] = DYS4[at] * s * (1.0 + z[f] * (1.0 - s));
  }
}

// Bindings: DY4 = dz (b, l_out, c), W = weight, Y4 = dx (b, l, c).
@compute @workgroup_size(256)
fn dw4_dx(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tl = dw4_tile(flat_index(wid, nwg, lid), pd.l);
  if (!tl.ok) { return; }
  let w = dw4_taps(tl.c0);
  let c4 = pd.c / 4u;
  for (var f = 0u; f < 4u; f++) {
    let i = tl.t0 + f;
    if (i >= pd.l) { break; }
    var acc = vec4(0.0);
    for (var j = 0u; j < KT; j++) {
      let t = i32(i + pd.pad_left) - i32(j);
      if (t >= 0 && t < i32(pd.l_out)) {
        acc += w[j] * DY4[(tl.bb * pd.l_out + u32(t)) * c4 + tl.c0 / 4u];
      }
    }
    Y4[((tl.bb * pd.l + i) * pd.c + tl.c0) / 4u] = acc;
  }
}

// Bindings: DY4 = dz, X24 = x, Y = weight partials (chunks, c, k), OUT4 = bias partials (chunks, c).
// Flat over chunks * c / 4.
@compute @workgroup_size(256)
fn dw4_wgrad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let c4 = pd.c / 4u;
  if (i >= pd.chunks * c4) { return; }
  let q = i % c4;
  let chunk = i / c4;
  let r0 = chunk * pd.rows_per_chunk;
  let r1 = min(r0 + pd.rows_per_chunk, pd.b * pd.l_out);
  var acc: array<vec4<f32>, MAX_K>;
  var accb = vec4(0.0);
  for (var r = r0; r < r1; r++) {
    let bb = r / pd.l_out;
    let t = r % pd.l_out;
    let g = DY4[r * c4 + q];
    accb += g;
    for (var j = 0u; j < KT; j++) {
      let src = i32(t + j) - i32(pd.pad_left);
      if (src >= 0 && src < i32(pd.l)) {
        acc[j] += g * X24[(bb * pd.l + u32(src)) * c4 + q];
      }
    }
  }
  let base = (chunk * pd.c + q * 4u) * pd.k;
  for (var j = 0u; j < KT; j++) {
    Y[base + j] = acc[j].x;
    Y[base + pd.k + j] = acc[j].y;
    Y[base + 2u * pd.k + j] = acc[j].z;
    Y[base + 3u * pd.k + j] = acc[j].w;
  }
  if (HAS_BIAS) {
    let bo = chunk * pd.c + q * 4u;
    OUT4[bo] = accb.x;
    OUT4[bo + 1u] = accb.y;
    OUT4[bo + 2u] = accb.z;
    OUT4[bo + 3u] = accb.w;
  }
}

// ---------------------------------------------------------------------------------------------------
// General conv1d. Input frame of output frame t and tap j: t * stride + j - pad_left (zero outside x).

fn conv_src(t: u32, j: u32) -> i32 {
  return i32(t * pc.stride + j) - i32(pc.pad_left);
}

fn in_range(src: i32) -> bool {
  return src >= 0 && src < i32(pc.l);
}

// Bindings: X = weight (c_out, cin_g, k), OUT2 = wf (k, cin_g, c_out).
@compute @workgroup_size(256)
fn conv_w_fwd_layout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pc.n) { return; }
  // i indexes wf: (j * cin_g + ci) * c_out + o
  let o = i % pc.c_out;
  let ci = (i / pc.c_out) % pc.cin_g;
  let j = i / (pc.c_out * pc.cin_g);
  OUT2[i] = X[(o * pc.cin_g + ci) * pc.k + j];
}

// Bindings: X = weight (c_out, cin_g, k), OUT2 = wb (k, c_out, cin_g).
@compute @workgroup_size(256)
fn conv_w_bwd_layout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pc.n) { return; }
  // i indexes wb: (j * c_out + o) * cin_g + ci
  let ci = i % pc.cin_g;
  let o = (i / pc.cin_g) % pc.c_out;
  let j = i / (pc.cin_g * pc.c_out);
  OUT2[i] = X[(o * pc.cin_g + ci) * pc.k + j];
}

fn bias4(o0: u32) -> vec4<f32> {
  if (HAS_BIAS) { return vec4(BIAS[o0], BIAS[o0 + 1u], BIAS[o0 + 2u], BIAS[o0 + 3u]); }
  return vec4(0.0);
}

// Output frames per invocation of the register-tiled forward kernels (4 output channels each).
const TF_VEC4 = 4u;
const TF_XS = 8u; // conv_fwd_xs: scalar input loads, so more frames share each weight load

// Bindings: X4 = x, W4 = wf, Y4 = y, BIAS. Grid: (c_out / 4 / 8, ceil(l_out / TF_VEC4) / 8, b).
@compute @workgroup_size(8, 8, 1)
fn conv_fwd_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o0 = gid.x * 4u;
  let t0 = gid.y * TF_VEC4;
  let bb = gid.z;
  if (o0 >= pc.c_out || t0 >= pc.l_out) { return; }
  let ci0 = (o0 / pc.cout_g) * pc.cin_g; // first input channel of this group
  let wrow = pc.c_out / 4u; // vec4s per wf row
  var acc: array<vec4<f32>, TF_VEC4>;
  for (var j = 0u; j < pc.k; j++) {
    var base: array<u32, TF_VEC4>;
    var ok: array<bool, TF_VEC4>;
    for (var f = 0u; f < TF_VEC4; f++) {
      let src = conv_src(min(t0 + f, pc.l_out - 1u), j);
      ok[f] = in_range(src);
      base[f] = ((bb * pc.l + u32(clamp(src, 0, i32(pc.l) - 1))) * pc.c_in + ci0) / 4u;
    }
    var wi = ((j * pc.cin_g) * pc.c_out + o0) / 4u;
    for (var ci = 0u; ci < pc.cin_g; ci += 4u) {
      let w0 = W4[wi];
      let w1 = W4[wi + wrow];
      let w2 = W4[wi + 2u * wrow];
      let w3 = W4[wi + 3u * wrow];
      wi += 4u * wrow;
      let c4 = ci / 4u;
      for (var f = 0u; f < TF_VEC4; f++) {
        let xv = select(vec4(0.0), X4[base[f] + c4], ok[f]);
        acc[f] += xv.x * w0 + xv.y * w1 + xv.z * w2 + xv.w * w3;
      }
    }
  }
  let b4 = bias4(o0);
  for (var f = 0u; f < TF_VEC4; f++) {
    if (t0 + f < pc.l_out) { Y4[((bb * pc.l_out + t0 + f) * pc.c_out + o0) / 4u] = acc[f] + b4; }
  }
}

// Bindings: X = x, W4 = wf, Y4 = y, BIAS. Grid: (c_out / 4 / 16, ceil(l_out / TF_XS) / 4, b).
@compute @workgroup_size(16, 4, 1)
fn conv_fwd_xs(@builtin(global_invocation_id) gid: vec3<u32>) {
  let o0 = gid.x * 4u;
  let t0 = gid.y * TF_XS;
  let bb = gid.z;
  if (o0 >= pc.c_out || t0 >= pc.l_out) { return; }
  let ci0 = (o0 / pc.cout_g) * pc.cin_g;
  let wrow = pc.c_out / 4u;
  var acc: array<vec4<f32>, TF_XS>;
  for (var j = 0u; j < pc.k; j++) {
    var base: array<u32, TF_XS>;
    var ok: array<bool, TF_XS>;
    for (var f = 0u; f < TF_XS; f++) {
      let src = conv_src(min(t0 + f, pc.l_out - 1u), j);
      ok[f] = in_range(src);
      base[f] = (bb * pc.l + u32(clamp(src, 0, i32(pc.l) - 1))) * pc.c_in + ci0;
    }
    var wi = ((j * pc.cin_g) * pc.c_out + o0) / 4u;
    for (var ci = 0u; ci < pc.cin_g; ci++) {
      let w = W4[wi];
      wi += wrow;
      for (var f = 0u; f < TF_XS; f++) {
        acc[f] += select(0.0, X[base[f] + ci], ok[f]) * w;
      }
    }
  }
  let b4 = bias4(o0);
  for (var f = 0u; f < TF_XS; f++) {
    if (t0 + f < pc.l_out) { Y4[((bb * pc.l_out + t0 + f) * pc.c_out + o0) / 4u] = acc[f] + b4; }
  }
}

// Bindings: X = x, W = weight (PyTorch layout), Y = y, BIAS. Flat over b * l_out * c_out.
@compute @workgroup_size(256)
fn conv_fwd_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pc.n) { return; }
  let o = i % pc.c_out;
  let row = i / pc.c_out;
  let t = row % pc.l_out;
  let bb = row / pc.l_out;
  let ci0 = (o / pc.cout_g) * pc.cin_g;
  var acc = 0.0;
  if (HAS_BIAS) { acc = BIAS[o]; }
  for (var j = 0u; j < pc.k; j++) {
    let src = conv_src(t, j);
    if (!in_range(src)) { continue; }
    let xb = (bb * pc.l + u32(src)) * pc.c_in + ci0;
    for (var ci = 0u; ci < pc.cin_g; ci++) {
      acc += X[xb + ci] * W[(o * pc.cin_g + ci) * pc.k + j];
    }
  }
  Y[i] = acc;
}

// Bindings: DY4 = dy, W4 = wb (k, c_out, cin_g), Y4 = dx. Grid: (c_in / 4 / 16, tiles / 4, b) where
// tile ft covers input frames r + stride * (4 q + f), f < 4, with r = ft % stride and q = ft / stride.
@compute @workgroup_size(16, 4, 1)
fn conv_dx_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c0 = gid.x * 4u; // input channel
  let ft = gid.y;
  let bb = gid.z;
  let s = pc.stride;
  let r = ft % s;
  let i0 = r + s * 4u * (ft / s); // first input frame of the tile
  if (c0 >= pc.c_in || i0 >= pc.l) { return; }
  let gr = c0 / pc.cin_g;
  let cl = c0 - gr * pc.cin_g; // channel within the group
  let o0 = gr * pc.cout_g;
  let wrow = pc.cin_g / 4u;
  var acc: array<vec4<f32>, 4>;
  // Output frame t reads input frame t * s + j - pad_left = i, so t = (i + pad_left - j) / s when it divides;
  // all frames of the tile share i mod s, so the taps that divide are j = (r + pad_left) mod s, + s, ...
  for (var j = (r + pc.pad_left) % s; j < pc.k; j += s) {
    var base: array<u32, 4>;
    var ok: array<bool, 4>;
    for (var f = 0u; f < 4u; f++) {
      let num = i32(i0 + s * f + pc.pad_left) - i32(j);
      let t = num / i32(s);
      ok[f] = num >= 0 && t < i32(pc.l_out);
      base[f] = ((bb * pc.l_out + u32(clamp(t, 0, i32(pc.l_out) - 1))) * pc.c_out + o0) / 4u;
    }
    var wi = ((j * pc.c_out + o0) * pc.cin_g + cl) / 4u;
    for (var o = 0u; o < pc.cout_g; o += 4u) {
      let w0 = W4[wi];
      let w1 = W4[wi + wrow];
      let w2 = W4[wi + 2u * wrow];
      let w3 = W4[wi + 3u * wrow];
      wi += 4u * wrow;
      let o4 = o / 4u;
      for (var f = 0u; f < 4u; f++) {
        let g = select(vec4(0.0), DY4[base[f] + o4], ok[f]);
        acc[f] += g.x * w0 + g.y * w1 + g.z * w2 + g.w * w3;
      }
    }
  }
  for (var f = 0u; f < 4u; f++) {
    let i = i0 + s * f;
    if (i < pc.l) { Y4[((bb * pc.l + i) * pc.c_in + c0) / 4u] = acc[f]; }
  }
}

// Bindings: DY = dy, W = weight (PyTorch layout), Y = dx. Flat over b * l * c_in.
@compute @workgroup_size(256)
fn conv_dx_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= pc.n) { return; }
  let c = idx % pc.c_in;
  let row = idx / pc.c_in;
  let i = row % pc.l;
  let bb = row / pc.l;
  let gr = c / pc.cin_g;
  let cl = c - gr * pc.cin_g;
  let s = pc.stride;
  var acc = 0.0;
  for (var j = (i + pc.pad_left) % s; j < pc.k; j += s) {
    let num = i32(i + pc.pad_left) - i32(j);
    let t = num / i32(s);
    if (num < 0 || t >= i32(pc.l_out)) { continue; }
    let yb = (bb * pc.l_out + u32(t)) * pc.c_out;
    for (var o = gr * pc.cout_g; o < (gr + 1u) * pc.cout_g; o++) {
      acc += DY[yb + o] * W[(o * pc.cin_g + cl) * pc.k + j];
    }
  }
  Y[idx] = acc;
}

// Bindings: DY4 = dy, X24 = x, Y = partials (chunks, c_out, cin_g, k). Grid: x over (input-channel tile,
// tap) pairs, 64 per workgroup; y over output-channel tiles; z over chunks of the b * l_out frames.
@compute @workgroup_size(64, 1, 1)
fn conv_dw_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pairs = (pc.cin_g / 4u) * pc.k;
  if (gid.x >= pairs) { return; }
  let j = gid.x % pc.k;
  let cl = (gid.x / pc.k) * 4u; // channel within the group
  let o0 = gid.y * 4u;
  let chunk = gid.z;
  let ci0 = (o0 / pc.cout_g) * pc.cin_g + cl;
  let f0 = chunk * pc.frames_per_chunk;
  let f1 = min(f0 + pc.frames_per_chunk, pc.b * pc.l_out);
  var acc: array<vec4<f32>, 4>; // acc[oo] = dw[o0 + oo, cl .. cl + 3, j]
  for (var fr = f0; fr < f1; fr++) {
    let bb = fr / pc.l_out;
    let src = conv_src(fr % pc.l_out, j);
    if (!in_range(src)) { continue; }
    let g = DY4[(fr * pc.c_out + o0) / 4u];
    let xv = X24[((bb * pc.l + u32(src)) * pc.c_in + ci0) / 4u];
    acc[0] += g.x * xv;
    acc[1] += g.y * xv;
    acc[2] += g.z * xv;
    acc[3] += g.w * xv;
  }
  let size = pc.c_out * pc.cin_g * pc.k;
  for (var oo = 0u; oo < 4u; oo++) {
    let at = chunk * size + ((o0 + oo) * pc.cin_g + cl) * pc.k + j;
    if (ACCUMULATE) {
      Y[at] += acc[oo].x;
      Y[at + pc.k] += acc[oo].y;
      Y[at + 2u * pc.k] += acc[oo].z;
      Y[at + 3u * pc.k] += acc[oo].w;
    } else {
      Y[at] = acc[oo].x;
      Y[at + pc.k] = acc[oo].y;
      Y[at + 2u * pc.k] = acc[oo].z;
      Y[at + 3u * pc.k] = acc[oo].w;
    }
  }
}

// Bindings: DY = dy, X2 = x, Y = partials (chunks, c_out, cin_g, k). Flat over chunks * c_out * cin_g * k.
@compute @workgroup_size(256)
fn conv_dw_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= pc.n) { return; }
  let size = pc.c_out * pc.cin_g * pc.k;
  let chunk = idx / size;
  let e = idx % size;
  let j = e % pc.k;
  let cl = (e / pc.k) % pc.cin_g;
  let o = e / (pc.k * pc.cin_g);
  let c = (o / pc.cout_g) * pc.cin_g + cl;
  let f0 = chunk * pc.frames_per_chunk;
  let f1 = min(f0 + pc.frames_per_chunk, pc.b * pc.l_out);
  var acc = 0.0;
  for (var fr = f0; fr < f1; fr++) {
    let bb = fr / pc.l_out;
    let src = conv_src(fr % pc.l_out, j);
    if (!in_range(src)) { continue; }
    acc += DY[fr * pc.c_out + o] * X2[(bb * pc.l + u32(src)) * pc.c_in + c];
  }
  if (ACCUMULATE) { Y[idx] += acc; } else { Y[idx] = acc; }
}

// Bindings: DY = dy, OUT2 = partials (chunks, c_out). Flat over chunks * c_out.
@compute @workgroup_size(256)
fn conv_bias_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= pc.n) { return; }
  let o = idx % pc.c_out;
  let chunk = idx / pc.c_out;
  let f0 = chunk * pc.frames_per_chunk;
  let f1 = min(f0 + pc.frames_per_chunk, pc.b * pc.l_out);
  var acc = 0.0;
  for (var fr = f0; fr < f1; fr++) { acc += DY[fr * pc.c_out + o]; }
  if (ACCUMULATE) { OUT2[idx] += acc; } else { OUT2[idx] = acc; }
}

// ---------------------------------------------------------------------------------------------------
// Helpers.

// Bindings: X = partials (chunks, n), OUT2 = out (n). out = sum over chunks (+ out when ACCUMULATE).
@compute @workgroup_size(256)
fn sum_chunks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= pu.n) { return; }
  var acc = 0.0;
  for (var ch = 0u; ch < pu.la; ch++) { acc += X[ch * pu.n + i]; }
  if (ACCUMULATE) { OUT2[i] += acc; } else { OUT2[i] = acc; }
}

// Bindings: X = A (b, la, c), X2 = B (b, lb, c), Y = out (b, l_out, c):
// out[b, i] = [A, B][b, start + i] (frames concatenated along time).
@compute @workgroup_size(256)
fn frames_concat(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = flat_index(wid, nwg, lid);
  if (idx >= pu.n) { return; }
  let ch = idx % pu.c;
  let row = idx / pu.c;
  let bb = row / pu.l_out;
  let j = pu.start + row % pu.l_out;
  if (j < pu.la) {
    Y[idx] = X[(bb * pu.la + j) * pu.c + ch];
  } else {
    Y[idx] = X2[(bb * pu.lb + j - pu.la) * pu.c + ch];
  }
}
