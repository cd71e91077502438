// Strided, grouped conv1d over time (HuBERT's feature extractor and positional conv). Activations are
// (b, l, channels), row-major; weights keep PyTorch's layout (c_out, c_in / groups, k), bias (c_out). The
// depthwise causal conv (Mamba's) is depthwise.wgsl.
//
// Entry points (stride, groups, left/right zero padding), `pc` params:
//   conv_fwd_vec4       8 frames x 4 output channels per invocation, vec4 over input channels and over
//                       output channels; needs c_in/groups % 4 == 0 and c_out/groups % 4 == 0 and the
//                       weight in the forward layout wf[j, ci, o] (conv_w_fwd_layout).
//   conv_fwd_xs         the same tiling with scalar input loads: needs c_out/groups % 4 == 0 (the first
//                       feature-extractor layer, c_in = 1).
//   conv_fwd_scalar     one output per invocation, any shape, PyTorch layout.
//   conv_dx_vec4        4 input frames of one residue class mod stride x 4 input channels per invocation;
//                       weight in the backward layout wb[j, o, ci] (conv_w_bwd_layout).
//   conv_dx_scalar      one dx element per invocation, any shape.
//   conv_dweight_vec4   4 output x 4 input channels of one tap per invocation, over one chunk of frames.
//   conv_dweight_scalar one weight element per invocation, over one chunk of frames.
//   conv_bias_grad      per chunk of frames, column sums of dy.
// The forward kernels take an optional tail (TAIL): their input is then [tail, x] along frames, a stream's window,
// and they copy the stream's next tail in the same dispatch (NEXT_TAIL). The chunk partials are added up by
// reduce.wgsl's sum_rows.

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
  l_tail: u32, // forward: the first l_tail of the l input frames come from the tail (binding 5), the rest from x
  nt_start: u32, // forward (NEXT_TAIL): the next tail is frames [nt_start, nt_start + nt_len) of the input
  nt_len: u32,
}

override HAS_BIAS: bool = false;
// Forward kernels: the input is the concatenation [tail, x] along frames (a stream's carried tail, not written out).
override TAIL: bool = false;
// Forward kernels: also copy a stream's next tail (frames of the input [tail, x]) to binding 6, every invocation
// taking its share, so that a streaming step is one dispatch.
override NEXT_TAIL: bool = false;
// Forward kernels: y = GELU(conv + bias) (inference, where the pre-activation is not kept).
override GELU: bool = false;
override ACCUMULATE: bool = false;

@group(0) @binding(0) var<uniform> pc: ConvParams;

// Binding 1: the first input (x, or dy in the backward kernels).
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(1) var<storage, read> DY4: array<vec4<f32>>;
// Binding 2: the weight (or x in the weight gradients, or the output of the layout and bias kernels).
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> W4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> X2: array<f32>;
@group(0) @binding(2) var<storage, read> X24: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> OUT2: array<f32>;
// Binding 3: the output.
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y4: array<vec4<f32>>;
// Binding 4: bias (forward).
@group(0) @binding(4) var<storage, read> BIAS: array<f32>;
// Binding 5: the tail (b, l_tail, c_in) before x (forward).
@group(0) @binding(5) var<storage, read> T: array<f32>;
@group(0) @binding(5) var<storage, read> T4: array<vec4<f32>>;
// Binding 6: the next tail (b, nt_len, c_in) (forward, NEXT_TAIL).
@group(0) @binding(6) var<storage, read_write> NT: array<f32>;
@group(0) @binding(6) var<storage, read_write> NT4: array<vec4<f32>>;

const WG = 256u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

// ---------------------------------------------------------------------------------------------------
// General conv1d. Input frame of output frame t and tap j: t * stride + j - pad_left (zero outside x).

fn conv_src(t: u32, j: u32) -> i32 {
  return i32(t * pc.stride + j) - i32(pc.pad_left);
}

fn in_range(src: i32) -> bool {
  return src >= 0 && src < i32(pc.l);
}

// Input frame f (< l) of utterance bb: whether it is in the tail, and the index of its first channel there or in x.
struct Row {
  tail: bool,
  at: u32,
}

fn input_row(bb: u32, f: u32) -> Row {
  if (TAIL && f < pc.l_tail) { return Row(true, (bb * pc.l_tail + f) * pc.c_in); }
  return Row(false, (bb * (pc.l - pc.l_tail) + f - pc.l_tail) * pc.c_in);
}

fn input1(tail: bool, i: u32) -> f32 {
  if (TAIL && tail) { return T[i]; }
  return X[i];
}

fn input4(tail: bool, i: u32) -> vec4<f32> {
  if (TAIL && tail) { return T4[i]; }
  return X4[i];
}

// NEXT_TAIL: invocation `id` of `count` copies its share of the next tail (scalar kernels; vec4 ones below).
fn copy_next_tail(id: u32, count: u32) {
  let n = pc.b * pc.nt_len * pc.c_in;
  for (var i = id; i < n; i += count) {
    let row = i / pc.c_in;
    let src = input_row(row / pc.nt_len, pc.nt_start + row % pc.nt_len);
    NT[i] = input1(src.tail, src.at + i % pc.c_in);
  }
}

fn copy_next_tail4(id: u32, count: u32) {
  let c4 = pc.c_in / 4u;
  let n = pc.b * pc.nt_len * c4;
  for (var i = id; i < n; i += count) {
    let row = i / c4;
    let src = input_row(row / pc.nt_len, pc.nt_start + row % pc.nt_len);
    NT4[i] = input4(src.tail, src.at / 4u + i % c4);
  }
}

// A register-tiled forward invocation's index and the grid's count of them (workgroups of wx x wy).
fn grid_id(gid: vec3<u32>, nwg: vec3<u32>, wx: u32, wy: u32) -> vec2<u32> {
  let nx = nwg.x * wx;
  let ny = nwg.y * wy;
  return vec2((gid.z * ny + gid.y) * nx + gid.x, nx * ny * nwg.z);
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

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), as in matmul.wgsl and elementwise.wgsl.
fn erf_approx(v: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let e = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-v * v);
  return select(-e, e, v >= 0.0);
}

// The forward's epilogue: GELU (erf form) when asked.
fn act(v: f32) -> f32 {
  if (GELU) { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
  return v;
}

fn act4(v: vec4<f32>) -> vec4<f32> {
  return vec4(act(v.x), act(v.y), act(v.z), act(v.w));
}

fn bias4(o0: u32) -> vec4<f32> {
  if (HAS_BIAS) { return vec4(BIAS[o0], BIAS[o0 + 1u], BIAS[o0 + 2u], BIAS[o0 + 3u]); }
  return vec4(0.0);
}

// Output frames per invocation of the register-tiled forward kernels (4 output channels each).
const TF_VEC4 = 8u; // 8 beat 4 by 20-40% on lavapipe and SwiftShader (the weight loads shared by more frames)
const TF_XS = 8u; // conv_fwd_xs: scalar input loads, so more frames share each weight load

// Bindings: X4 = x, W4 = wf, Y4 = y, BIAS, T4 = tail, NT4 = next tail. Grid: (c_out / 4 / 8, ceil(l_out / TF_VEC4) / 8, b).
@compute @workgroup_size(8, 8, 1)
fn conv_fwd_vec4(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  if (NEXT_TAIL) {
    let g = grid_id(gid, nwg, 8u, 8u);
    copy_next_tail4(g.x, g.y);
  }
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
    var tl: array<bool, TF_VEC4>;
    for (var f = 0u; f < TF_VEC4; f++) {
      let src = conv_src(min(t0 + f, pc.l_out - 1u), j);
      ok[f] = in_range(src);
      let row = input_row(bb, u32(clamp(src, 0, i32(pc.l) - 1)));
      tl[f] = row.tail;
      base[f] = (row.at + ci0) / 4u;
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
        let xv = select(vec4(0.0), input4(tl[f], base[f] + c4), ok[f]);
        acc[f] += xv.x * w0 + xv.y * w1 + xv.z * w2 + xv.w * w3;
      }
    }
  }
  let b4 = bias4(o0);
  for (var f = 0u; f < TF_VEC4; f++) {
    if (t0 + f < pc.l_out) { Y4[((bb * pc.l_out + t0 + f) * pc.c_out + o0) / 4u] = act4(acc[f] + b4); }
  }
}

// Bindings: X = x, W4 = wf, Y4 = y, BIAS, T = tail, NT = next tail. Grid: (c_out / 4 / 16, ceil(l_out / TF_XS) / 4, b).
@compute @workgroup_size(16, 4, 1)
fn conv_fwd_xs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  if (NEXT_TAIL) {
    let g = grid_id(gid, nwg, 16u, 4u);
    copy_next_tail(g.x, g.y);
  }
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
    var tl: array<bool, TF_XS>;
    for (var f = 0u; f < TF_XS; f++) {
      let src = conv_src(min(t0 + f, pc.l_out - 1u), j);
      ok[f] = in_range(src);
      let row = input_row(bb, u32(clamp(src, 0, i32(pc.l) - 1)));
      tl[f] = row.tail;
      base[f] = row.at + ci0;
    }
    var wi = ((j * pc.cin_g) * pc.c_out + o0) / 4u;
    for (var ci = 0u; ci < pc.cin_g; ci++) {
      let w = W4[wi];
      wi += wrow;
      for (var f = 0u; f < TF_XS; f++) {
        acc[f] += select(0.0, input1(tl[f], base[f] + ci), ok[f]) * w;
      }
    }
  }
  let b4 = bias4(o0);
  for (var f = 0u; f < TF_XS; f++) {
    if (t0 + f < pc.l_out) { Y4[((bb * pc.l_out + t0 + f) * pc.c_out + o0) / 4u] = act4(acc[f] + b4); }
  }
}

// Bindings: X = x, W = weight (PyTorch layout), Y = y, BIAS, T = tail, NT = next tail. Flat over b * l_out * c_out.
@compute @workgroup_size(256)
fn conv_fwd_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (NEXT_TAIL) { copy_next_tail(i, nwg.x * nwg.y * WG); }
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
    let row = input_row(bb, u32(src));
    for (var ci = 0u; ci < pc.cin_g; ci++) {
      acc += input1(row.tail, row.at + ci0 + ci) * W[(o * pc.cin_g + ci) * pc.k + j];
    }
  }
  Y[i] = act(acc);
}

// Input frames per invocation of conv_dx_vec4.
const TX_DX = 4u;

// Bindings: DY4 = dy, W4 = wb (k, c_out, cin_g), Y4 = dx. Grid: (c_in / 4 / 16, tiles / 4, b) where
// tile ft covers input frames r + stride * (TX_DX q + f), f < TX_DX, with r = ft % stride and q = ft / stride.
@compute @workgroup_size(16, 4, 1)
fn conv_dx_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c0 = gid.x * 4u; // input channel
  let ft = gid.y;
  let bb = gid.z;
  let s = pc.stride;
  let r = ft % s;
  let i0 = r + s * TX_DX * (ft / s); // first input frame of the tile
  if (c0 >= pc.c_in || i0 >= pc.l) { return; }
  let gr = c0 / pc.cin_g;
  let cl = c0 - gr * pc.cin_g; // channel within the group
  let o0 = gr * pc.cout_g;
  let wrow = pc.cin_g / 4u;
  var acc: array<vec4<f32>, TX_DX>;
  // Output frame t reads input frame t * s + j - pad_left = i, so t = (i + pad_left - j) / s when it divides;
  // all frames of the tile share i mod s, so the taps that divide are j = (r + pad_left) mod s, + s, ...
  for (var j = (r + pc.pad_left) % s; j < pc.k; j += s) {
    var base: array<u32, TX_DX>;
    var ok: array<bool, TX_DX>;
    for (var f = 0u; f < TX_DX; f++) {
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
      for (var f = 0u; f < TX_DX; f++) {
        let g = select(vec4(0.0), DY4[base[f] + o4], ok[f]);
        acc[f] += g.x * w0 + g.y * w1 + g.z * w2 + g.w * w3;
      }
    }
  }
  for (var f = 0u; f < TX_DX; f++) {
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
fn conv_dweight_vec4(@builtin(global_invocation_id) gid: vec3<u32>) {
  let pairs = (pc.cin_g / 4u) * pc.k;
  if (gid.x >= pairs) { return; }
  let j = gid.x % pc.k;
  let cl = (gid.x / pc.k) * 4u; // channel within the group
  let o0 = gid.y * 4u;
  let chunk = gid.z;
  let ci0 = (o0 / pc.cout_g) * pc.cin_g + cl;
  let f0 = chunk * pc.frames_per_chunk;
  let f1 = min(f0 + pc.frames_per_chunk, pc.b * pc.l_out);
  var acc: array<vec4<f32>, 4>; // acc[oo] = dweight[o0 + oo, cl .. cl + 3, j]
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
fn conv_dweight_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
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
