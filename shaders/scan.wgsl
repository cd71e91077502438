// Selective scan (Mamba's S6) with the zero-order-hold discretisation fused in.
//
//   delta_t = softplus(dt_t + dt_bias)            per (b, t, channel)
//   A       = -exp(A_log)                         (d_inner, n)
//   h_t     = exp(delta_t * A) * h_{t-1} + delta_t * B_t * u_t      (n states per channel)
//   y_t     = <h_t, C_t> + D * u_t ;  out_t = y_t * silu(z_t) when z is given
//
// Layouts (row-major): u, dt, z, out, dout, du, ddt, dz (b, l, d_inner); B, C (b, l, n);
// chunk start states (b, d_inner, nchunks, n); initial / final state (b, d_inner, n).
//
// Every kernel but scan_step reads its small weights, the initial state and B, C from one `packed` buffer that
// scan_pack fills (so no entry point binds more than 10 storage buffers). n8 = n rounded up to 8;
// padding is zero (a padded state has A = 0, B = C = 0: it stays 0 and adds nothing).
//   [0, d)                          dt_bias
//   [d, 2d)                         D
//   [off_a2, + d n8)                A2 = A * log2(e), so exp(delta A) = exp2(delta A2); off_a2 = align4(2d)
//   [off_h0, + b d n)               initial state h0 (zeros when absent)
//   [off_bc, + b l 2 n8)            per (b, t): [B_t (n8) | C_t (n8)]; off_bc = align4(off_h0 + b d n)
//
// The forward kernels keep 8 states in registers (two vec4) and loop over time within a chunk; for
// n > 8 they go over the chunk once per block of 8 states, adding each block's <h, C> into out
// (the chunk's rows stay in cache) and passing the block's state on through the states buffer.
//
// Entry points:
//   scan_pack             fill `packed` (flat, one invocation per element) and clear the non-finite flag
//   scan_seq              sequential forward: one invocation per (b, channel), chunk after chunk;
//                         writes every chunk's start state on the way
//   scan_seq_fused        the same for n <= 24 with every state in registers: one pass over time (one
//                         softplus and one output write per step instead of one per block of 8 states)
//   scan_step             streaming step: one invocation per (b, channel) over the chunk's few frames,
//                         reading the weights, B, C and the carried state directly (no pack: one dispatch)
//                         and overwriting the state with the one after the last frame
//   scan_chunk_state      chunked pass 1: one invocation per (b, channel, chunk), scans the chunk from
//                         a zero state; records the chunk's end state and its sum of delta (the chunk's
//                         decay product is exp(A * sum delta), so the sum stands for the product)
//   scan_chunk_carry      chunked pass 2: one invocation per (b, channel, state), sequential over chunks:
//                         h_in[c+1] = exp(A * sum delta[c]) * h_in[c] + h_end[c]; writes the chunk
//                         start states and the final state
//   scan_chunk_out        chunked pass 3: one invocation per (b, channel, chunk), recomputes the chunk
//                         from its carried-in state and writes the outputs
//   scan_bwd              backward: one invocation per (b, channel), chunks in reverse; each chunk's
//                         states are recomputed from its saved start state into a scratch area, then
//                         scanned in reverse. dB and dC (sums over channels) are reduced over a
//                         workgroup of WGB channels in workgroup memory (two barriers per step) into
//                         per-group partials; dA_log, dD, ddt_bias into per-(b, channel) partials
//   scan_bwd_fused        the same for n <= 24 with every per-state value in named vec4 registers (as
//                         scan_seq_fused): no private arrays indexed in loops, which CPU drivers keep in
//                         memory; the workgroup sums of dB and dC go through vec4 workgroup memory
//   scan_bwd_reduce_bc    sum the dB / dC partials over channel groups (deterministic, no atomics)
//   scan_bwd_reduce_params sum the dA_log / dD / ddt_bias partials over b; copy out dh0
//
// The forward kernels set `flag` to 1 when any output or final state is not finite (NaN or Inf in
// dt, u, z, ...): the caller reads it back (src/kernels/scan.ts assertScanFinite).

struct Params {
  b: u32,
  l: u32,
  d: u32,       // d_inner
  chunk: u32,   // time steps per chunk
  nchunks: u32,
  groups: u32,  // ceil(d / WGB), backward channel groups
  count: u32,   // elements of a flat kernel
  n: u32,       // d_state, at most MAX_N
}

// d_state is a runtime value (p.n): one pipeline serves every n, and the CPU drivers compile the
// loops over states without unrolling them (unrolled, lavapipe took tens of seconds per pipeline).
override HAS_Z: bool = false;
override HAS_H0: bool = false;
// scan_seq_fused: vec4 blocks of states held in registers, n8 / 4 (2, 4 or 6, so n <= 24).
override NB: u32 = 6u;
const MAX_N = 64u;
const WGB = 32u;              // channels per backward workgroup
const RED = 4096u;            // WGB * 2 * MAX_N floats (16 KiB) of workgroup memory in scan_bwd
const LOG2E = 1.4426950408889634;
const LN2 = 0.6931471805599453;

@group(0) @binding(0) var<uniform> p: Params;

// ---- scan_pack bindings
@group(0) @binding(1) var<storage, read> pk_dt_bias: array<f32>;
@group(0) @binding(2) var<storage, read> pk_a_log: array<f32>;
@group(0) @binding(3) var<storage, read> pk_d: array<f32>;
@group(0) @binding(4) var<storage, read> pk_h0: array<f32>;
@group(0) @binding(5) var<storage, read> pk_b: array<f32>;
@group(0) @binding(6) var<storage, read> pk_c: array<f32>;
@group(0) @binding(7) var<storage, read_write> pk_out: array<f32>;
@group(0) @binding(8) var<storage, read_write> pk_flag: array<u32>;   // cleared here, set by the forward

// ---- forward / backward bindings (scan_seq, scan_chunk_state, scan_chunk_out, scan_bwd)
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> dt: array<f32>;
@group(0) @binding(3) var<storage, read> packed: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> z: array<f32>;
@group(0) @binding(4) var<storage, read_write> chunk_tmp: array<f32>;   // scan_chunk_state
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> dout: array<f32>;              // scan_bwd
@group(0) @binding(6) var<storage, read_write> states: array<f32>;
@group(0) @binding(7) var<storage, read_write> flag: atomic<u32>;
@group(0) @binding(7) var<storage, read_write> du: array<f32>;          // scan_bwd
@group(0) @binding(8) var<storage, read_write> h_last: array<f32>;      // scan_seq
@group(0) @binding(8) var<storage, read_write> ddt: array<f32>;         // scan_bwd
@group(0) @binding(9) var<storage, read_write> dz: array<f32>;          // scan_bwd
@group(0) @binding(10) var<storage, read_write> work: array<f32>;       // scan_bwd

// ---- scan_step bindings (u, dt, z as above)
@group(0) @binding(3) var<storage, read> st_dt_bias: array<f32>;
@group(0) @binding(5) var<storage, read> st_a_log: array<f32>;
@group(0) @binding(6) var<storage, read> st_d: array<f32>;
@group(0) @binding(7) var<storage, read> st_b: array<f32>;
@group(0) @binding(8) var<storage, read> st_c: array<f32>;
@group(0) @binding(9) var<storage, read_write> st_h: array<f32>;        // (b, d, n): in the carried state, out the next
@group(0) @binding(10) var<storage, read_write> st_out: array<f32>;

// ---- scan_chunk_carry bindings
@group(0) @binding(1) var<storage, read> cr_tmp: array<f32>;
@group(0) @binding(2) var<storage, read> cr_packed: array<f32>;
@group(0) @binding(3) var<storage, read_write> cr_states: array<f32>;
@group(0) @binding(4) var<storage, read_write> cr_last: array<f32>;

// ---- reduction bindings
@group(0) @binding(1) var<storage, read> rd_work: array<f32>;
@group(0) @binding(2) var<storage, read_write> rd_out1: array<f32>;     // dB | dA_log
@group(0) @binding(3) var<storage, read_write> rd_out2: array<f32>;     // dC | dD
@group(0) @binding(4) var<storage, read_write> rd_out3: array<f32>;     // ddt_bias
@group(0) @binding(5) var<storage, read_write> rd_out4: array<f32>;     // dh0

var<workgroup> red: array<f32, RED>;
// scan_bwd_fused's dC | dB terms of up to 16 / NB steps: [step][2 NB blocks][WGB lanes] (16 KiB).
var<workgroup> red4: array<vec4<f32>, 1024>;

// ---- offsets into `packed` (src/kernels/scan.ts sizes it the same way)
fn n8() -> u32 { return (p.n + 7u) / 8u * 8u; }
fn align4(x: u32) -> u32 { return (x + 3u) / 4u * 4u; }
fn off_a2() -> u32 { return align4(2u * p.d); }
fn off_h0() -> u32 { return off_a2() + p.d * n8(); }
fn off_bc() -> u32 { return align4(off_h0() + p.b * p.d * p.n); }
fn pk(i: u32) -> f32 { return packed[i >> 2u][i & 3u]; }

// ---- offsets into the backward's `work` buffer (src/kernels/scan.ts sizes it the same way)
//   scratch  [chunk][n8][b * groups * WGB]  recomputed states of the current chunk, per lane
//   partBC   [b * l][2n][groups]            per-group sums: j < n -> dC, j >= n -> dB
//   pA       [b][d][n]                      dA_log partial sums over l
//   pD, pBias [b][d]
//   dh0      [b][d][n]
fn lanes() -> u32 { return p.b * p.groups * WGB; }
fn off_part() -> u32 { return p.chunk * n8() * lanes(); }
fn off_pa() -> u32 { return off_part() + p.b * p.l * 2u * p.n * p.groups; }
fn off_pd() -> u32 { return off_pa() + p.b * p.d * p.n; }
fn off_pbias() -> u32 { return off_pd() + p.b * p.d; }
fn off_dh0() -> u32 { return off_pbias() + p.b * p.d; }

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32, wg: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * wg + lid;
}

// softplus(x) = max(x, 0) + log(1 + exp(-|x|)), with a series where 1 + e would round away e.
fn softplus(x: f32) -> f32 {
  let e = exp(-abs(x));
  let lp = select(log(1.0 + e), e * (1.0 - e * (0.5 - e / 3.0)), e < 0.01);
  return max(x, 0.0) + lp;
}

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

// Not NaN and not +-Inf, by the exponent bits (a comparison x != x may be folded away).
fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn all_finite(v: vec4<f32>) -> bool {
  return all((bitcast<vec4<u32>>(v) & vec4(0x7f800000u)) != vec4(0x7f800000u));
}

@compute @workgroup_size(256)
fn scan_pack(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 256u);
  if (i == 0u) { pk_flag[0] = 0u; }
  if (i >= p.count) { return; }
  let d = p.d;
  let m = n8();
  var v = 0.0;
  if (i < d) {
    v = pk_dt_bias[i];
  } else if (i < 2u * d) {
    v = pk_d[i - d];
  } else if (i < off_a2()) {
    v = 0.0;
  } else if (i < off_h0()) {
    let j = i - off_a2();
    let s = j % m;
    if (s < p.n) { v = -exp(pk_a_log[(j / m) * p.n + s]) * LOG2E; }
  } else if (i < off_h0() + p.b * d * p.n) {
    if (HAS_H0) { v = pk_h0[i - off_h0()]; }
  } else if (i >= off_bc()) {
    let j = i - off_bc();
    let row = j / (2u * m);
    let s = j % (2u * m);
    if (s < p.n) {
      v = pk_b[row * p.n + s];
    } else if (s >= m && s - m < p.n) {
      v = pk_c[row * p.n + s - m];
    }
  }
  pk_out[i] = v;
}

// A 8-state block's decay rates (A2) for channel di, block k.
fn load_a2(di: u32, k: u32) -> array<vec4<f32>, 2> {
  let q = (off_a2() + di * n8() + k * 8u) / 4u;
  return array<vec4<f32>, 2>(packed[q], packed[q + 1u]);
}

// Load / store states s0 .. s0+7 at `base` (entries past n read 0 and are not written).
fn load_block(base: u32, s0: u32) -> array<vec4<f32>, 2> {
  var h: array<vec4<f32>, 2>;
  for (var j = 0u; j < 8u; j++) {
    if (s0 + j < p.n) { h[j / 4u][j % 4u] = states[base + s0 + j]; }
  }
  return h;
}

fn store_block(base: u32, s0: u32, h: array<vec4<f32>, 2>) {
  for (var j = 0u; j < 8u; j++) {
    if (s0 + j < p.n) { states[base + s0 + j] = h[j / 4u][j % 4u]; }
  }
}

fn store_last(base: u32, s0: u32, h: array<vec4<f32>, 2>) {
  for (var j = 0u; j < 8u; j++) {
    if (s0 + j < p.n) { h_last[base + s0 + j] = h[j / 4u][j % 4u]; }
  }
}

// Chunk c of channel (bi, di), state block k (states 8k .. 8k+7) from state h (updated in place):
// adds the block's <h_t, C_t> into out (the first block starts from D u, the last applies the gate).
// False if an output was not finite.
fn run_block(bi: u32, di: u32, c: u32, k: u32, h: ptr<function, array<vec4<f32>, 2>>) -> bool {
  let a = load_a2(di, k);
  let bias = pk(di);
  let dskip = pk(p.d + di);
  let first = k == 0u;
  let last = k + 1u == n8() / 8u;
  let m = n8();
  let t0 = c * p.chunk;
  let t1 = min(t0 + p.chunk, p.l);
  var h0 = (*h)[0];
  var h1 = (*h)[1];
  var ok = true;
  for (var t = t0; t < t1; t++) {
    let row = bi * p.l + t;
    let i = row * p.d + di;
    let uv = u[i];
    let delta = softplus(dt[i] + bias);
    let du_ = delta * uv;
    let q = (off_bc() + row * 2u * m + k * 8u) / 4u;
    h0 = exp2(delta * a[0]) * h0 + du_ * packed[q];
    h1 = exp2(delta * a[1]) * h1 + du_ * packed[q + 1u];
    let part = dot(h0, packed[q + m / 4u]) + dot(h1, packed[q + m / 4u + 1u]);
    var y = select(out[i], dskip * uv, first) + part;
    if (last) {
      if (HAS_Z) {
        let zv = z[i];
        y *= zv * sigmoid(zv);
      }
      ok = ok & is_finite(y);
    }
    out[i] = y;
  }
  (*h)[0] = h0;
  (*h)[1] = h1;
  return ok;
}

// Sequential forward. Grid: (ceil(d / 64), b). The state before chunk c goes to states[c]; each
// block of chunk c reads its state from there and passes it on to states[c + 1] (or h_last).
@compute @workgroup_size(64)
fn scan_seq(@builtin(global_invocation_id) gid: vec3<u32>) {
  let di = gid.x;
  let bi = gid.y;
  if (di >= p.d) { return; }
  let hb = off_h0() + (bi * p.d + di) * p.n;
  let s0 = (bi * p.d + di) * p.nchunks * p.n;
  for (var s = 0u; s < p.n; s++) { states[s0 + s] = pk(hb + s); }
  var ok = true;
  for (var c = 0u; c < p.nchunks; c++) {
    let sb = s0 + c * p.n;
    for (var k = 0u; k < n8() / 8u; k++) {
      var h = load_block(sb, 8u * k);
      ok = run_block(bi, di, c, k, &h) & ok;
      if (c + 1u < p.nchunks) {
        store_block(sb + p.n, 8u * k, h);
      } else {
        store_last((bi * p.d + di) * p.n, 8u * k, h);
        ok = ok & all_finite(h[0]) & all_finite(h[1]);
      }
    }
  }
  if (!ok) { atomicOr(&flag, 1u); }
}

// States s0 .. s0+3 of the state vector at `base` in `states` (entries past n: 0, not written).
fn states_get4(base: u32, s0: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (s0 + j < p.n) { v[j] = states[base + s0 + j]; }
  }
  return v;
}

fn states_set4(base: u32, s0: u32, v: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    if (s0 + j < p.n) { states[base + s0 + j] = v[j]; }
  }
}

fn last_set4(base: u32, s0: u32, v: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    if (s0 + j < p.n) { h_last[base + s0 + j] = v[j]; }
  }
}

fn h0_get4(base: u32, s0: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (s0 + j < p.n) { v[j] = pk(base + s0 + j); }
  }
  return v;
}

// Sequential forward for n <= 24, all states in six named vec4 registers (NB of them used). Grid and
// outputs as scan_seq.
@compute @workgroup_size(64)
fn scan_seq_fused(@builtin(global_invocation_id) gid: vec3<u32>) {
  let di = gid.x;
  let bi = gid.y;
  if (di >= p.d) { return; }
  let m = n8();
  let hb = off_h0() + (bi * p.d + di) * p.n;
  let s0 = (bi * p.d + di) * p.nchunks * p.n;
  let qa = (off_a2() + di * m) / 4u;
  let bias = pk(di);
  let dskip = pk(p.d + di);
  var a0 = packed[qa];
  var a1 = packed[qa + 1u];
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0);
  var a5 = vec4<f32>(0.0);
  var h0 = h0_get4(hb, 0u);
  var h1 = h0_get4(hb, 4u);
  var h2 = vec4<f32>(0.0);
  var h3 = vec4<f32>(0.0);
  var h4 = vec4<f32>(0.0);
  var h5 = vec4<f32>(0.0);
  if (NB > 2u) {
    a2 = packed[qa + 2u];
    a3 = packed[qa + 3u];
    h2 = h0_get4(hb, 8u);
    h3 = h0_get4(hb, 12u);
  }
  if (NB > 4u) {
    a4 = packed[qa + 4u];
    a5 = packed[qa + 5u];
    h4 = h0_get4(hb, 16u);
    h5 = h0_get4(hb, 20u);
  }
  var ok = true;
  for (var c = 0u; c < p.nchunks; c++) {
    let sb = s0 + c * p.n;
    states_set4(sb, 0u, h0);
    states_set4(sb, 4u, h1);
    if (NB > 2u) {
      states_set4(sb, 8u, h2);
      states_set4(sb, 12u, h3);
    }
    if (NB > 4u) {
      states_set4(sb, 16u, h4);
      states_set4(sb, 20u, h5);
    }
    let t1 = min((c + 1u) * p.chunk, p.l);
    for (var t = c * p.chunk; t < t1; t++) {
      let row = bi * p.l + t;
      let i = row * p.d + di;
      let uv = u[i];
      let delta = softplus(dt[i] + bias);
      let du_ = delta * uv;
      let q = (off_bc() + row * 2u * m) / 4u;   // B_t at q .. q + NB - 1, C_t at q + NB ..
      h0 = exp2(delta * a0) * h0 + du_ * packed[q];
      h1 = exp2(delta * a1) * h1 + du_ * packed[q + 1u];
      var y = dskip * uv + dot(h0, packed[q + NB]) + dot(h1, packed[q + NB + 1u]);
      if (NB > 2u) {
        h2 = exp2(delta * a2) * h2 + du_ * packed[q + 2u];
        h3 = exp2(delta * a3) * h3 + du_ * packed[q + 3u];
        y += dot(h2, packed[q + NB + 2u]) + dot(h3, packed[q + NB + 3u]);
      }
      if (NB > 4u) {
        h4 = exp2(delta * a4) * h4 + du_ * packed[q + 4u];
        h5 = exp2(delta * a5) * h5 + du_ * packed[q + 5u];
        y += dot(h4, packed[q + NB + 4u]) + dot(h5, packed[q + NB + 5u]);
      }
      if (HAS_Z) {
        let zv = z[i];
        y *= zv * sigmoid(zv);
      }
      ok = ok & is_finite(y);
      out[i] = y;
    }
  }
  let lb = (bi * p.d + di) * p.n;
  last_set4(lb, 0u, h0);
  last_set4(lb, 4u, h1);
  ok = ok & all_finite(h0) & all_finite(h1);
  if (NB > 2u) {
    last_set4(lb, 8u, h2);
    last_set4(lb, 12u, h3);
    ok = ok & all_finite(h2) & all_finite(h3);
  }
  if (NB > 4u) {
    last_set4(lb, 16u, h4);
    last_set4(lb, 20u, h5);
    ok = ok & all_finite(h4) & all_finite(h5);
  }
  if (!ok) { atomicOr(&flag, 1u); }
}

// B_t or C_t (row `row` of (b, l, n)), states s0 .. s0+3 (0 past n).
fn step_b4(row: u32, s0: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (s0 + j < p.n) { v[j] = st_b[row * p.n + s0 + j]; }
  }
  return v;
}

fn step_c4(row: u32, s0: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (s0 + j < p.n) { v[j] = st_c[row * p.n + s0 + j]; }
  }
  return v;
}

// Streaming step. Grid: (ceil(d / 64), b). The states go in blocks of 4, each in one vec4 register over the l
// frames, adding its <h_t, C_t> into out (the first block starts from D u, the last applies the gate); a block's
// state after the last frame replaces the carried one. Padded states (past n) have A = 0 and B = C = 0: they stay 0.
@compute @workgroup_size(64)
fn scan_step(@builtin(global_invocation_id) gid: vec3<u32>) {
  let di = gid.x;
  let bi = gid.y;
  if (di >= p.d) { return; }
  let bias = st_dt_bias[di];
  let dskip = st_d[di];
  let hb = (bi * p.d + di) * p.n;
  let blocks = (p.n + 3u) / 4u;
  for (var k = 0u; k < blocks; k++) {
    let s0 = 4u * k;
    var a = vec4<f32>(0.0);   // A * log2(e)
    var h = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
      if (s0 + j < p.n) {
        a[j] = -exp(st_a_log[di * p.n + s0 + j]) * LOG2E;
        h[j] = st_h[hb + s0 + j];
      }
    }
    for (var t = 0u; t < p.l; t++) {
      let row = bi * p.l + t;
      let i = row * p.d + di;
      let uv = u[i];
      let delta = softplus(dt[i] + bias);
      h = exp2(delta * a) * h + (delta * uv) * step_b4(row, s0);
      var y = select(st_out[i], dskip * uv, k == 0u) + dot(h, step_c4(row, s0));
      if (HAS_Z && k + 1u == blocks) {
        let zv = z[i];
        y *= zv * sigmoid(zv);
      }
      st_out[i] = y;
    }
    for (var j = 0u; j < 4u; j++) {
      if (s0 + j < p.n) { st_h[hb + s0 + j] = h[j]; }
    }
  }
}

// Chunked pass 1. Grid: (ceil(d / 64), nchunks, b). chunk_tmp = [h_end (b, d, nchunks, n) | dsum (b, d, nchunks)].
@compute @workgroup_size(64)
fn scan_chunk_state(@builtin(global_invocation_id) gid: vec3<u32>) {
  let di = gid.x;
  let c = gid.y;
  let bi = gid.z;
  if (di >= p.d) { return; }
  let bias = pk(di);
  let m = n8();
  let t0 = c * p.chunk;
  let t1 = min(t0 + p.chunk, p.l);
  let kk = (bi * p.d + di) * p.nchunks + c;
  for (var k = 0u; k < m / 8u; k++) {
    let a = load_a2(di, k);
    var h0 = vec4(0.0);
    var h1 = vec4(0.0);
    var dsum = 0.0;
    for (var t = t0; t < t1; t++) {
      let row = bi * p.l + t;
      let i = row * p.d + di;
      let delta = softplus(dt[i] + bias);
      let du_ = delta * u[i];
      dsum += delta;
      let q = (off_bc() + row * 2u * m + k * 8u) / 4u;
      h0 = exp2(delta * a[0]) * h0 + du_ * packed[q];
      h1 = exp2(delta * a[1]) * h1 + du_ * packed[q + 1u];
    }
    for (var j = 0u; j < 8u; j++) {
      let s = 8u * k + j;
      if (s < p.n) { chunk_tmp[kk * p.n + s] = select(h1[j % 4u], h0[j % 4u], j < 4u); }
    }
    if (k == 0u) { chunk_tmp[p.b * p.d * p.nchunks * p.n + kk] = dsum; }
  }
}

// Chunked pass 2. Flat over (b, d, n).
@compute @workgroup_size(64)
fn scan_chunk_carry(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 64u);
  if (i >= p.b * p.d * p.n) { return; }
  let s = i % p.n;
  let bd = i / p.n;
  let di = bd % p.d;
  let a2 = cr_packed[off_a2() + di * n8() + s];
  var h = cr_packed[off_h0() + i];
  let sums = p.b * p.d * p.nchunks * p.n;
  for (var c = 0u; c < p.nchunks; c++) {
    let k = bd * p.nchunks + c;
    cr_states[k * p.n + s] = h;
    h = exp2(a2 * cr_tmp[sums + k]) * h + cr_tmp[k * p.n + s];
  }
  cr_last[i] = h;
}

// Chunked pass 3. Grid: (ceil(d / 64), nchunks, b).
@compute @workgroup_size(64)
fn scan_chunk_out(@builtin(global_invocation_id) gid: vec3<u32>) {
  let di = gid.x;
  let c = gid.y;
  let bi = gid.z;
  if (di >= p.d) { return; }
  let sb = ((bi * p.d + di) * p.nchunks + c) * p.n;
  var ok = true;
  for (var k = 0u; k < n8() / 8u; k++) {
    var h = load_block(sb, 8u * k);
    ok = run_block(bi, di, c, k, &h) & ok;
    if (c + 1u == p.nchunks) { ok = ok & all_finite(h[0]) & all_finite(h[1]); }
  }
  if (!ok) { atomicOr(&flag, 1u); }
}

// Backward. Grid: (groups, b), WGB channels per workgroup. Lanes past d_inner compute a clamped
// channel's values (kept uniform for the barriers) and contribute zeros.
@compute @workgroup_size(WGB)
fn scan_bwd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let bi = wid.y;
  let dreal = g * WGB + lid;
  let live = dreal < p.d;
  let di = min(dreal, p.d - 1u);
  let lane = bi * p.groups * WGB + dreal;
  let stride = lanes();
  let m = n8();
  var a2: array<f32, MAX_N>;
  for (var s = 0u; s < p.n; s++) { a2[s] = pk(off_a2() + di * m + s); }
  let bias = pk(di);
  let dskip = pk(p.d + di);
  let bc0 = off_bc();
  let part0 = off_part();
  var gc: array<f32, MAX_N>;   // adjoint of h_t carried from step t + 1: exp(delta_{t+1} A) * g_{t+1}
  var pa: array<f32, MAX_N>;   // dL/dA, summed over time
  var pd = 0.0;
  var pbias = 0.0;
  for (var cc = 0u; cc < p.nchunks; cc++) {
    let c = p.nchunks - 1u - cc;
    let t0 = c * p.chunk;
    let t1 = min(t0 + p.chunk, p.l);
    let sb = ((bi * p.d + di) * p.nchunks + c) * p.n;
    // Recompute the chunk's states h_{t0} .. h_{t1-1} into scratch.
    var h: array<f32, MAX_N>;
    for (var s = 0u; s < p.n; s++) { h[s] = states[sb + s]; }
    for (var t = t0; t < t1; t++) {
      let row = bi * p.l + t;
      let i = row * p.d + di;
      let delta = softplus(dt[i] + bias);
      let du_ = delta * u[i];
      let bc = bc0 + row * 2u * m;
      for (var s = 0u; s < p.n; s++) {
        h[s] = exp2(delta * a2[s]) * h[s] + du_ * pk(bc + s);
        work[((t - t0) * p.n + s) * stride + lane] = h[s];
      }
    }
    // Reverse: h holds h_t at the top of each step.
    for (var tt = t1; tt > t0; tt--) {
      let t = tt - 1u;
      let row = bi * p.l + t;
      let i = row * p.d + di;
      let bc = bc0 + row * 2u * m;
      var hp: array<f32, MAX_N>;   // h_{t-1}
      if (t > t0) {
        for (var s = 0u; s < p.n; s++) { hp[s] = work[((t - 1u - t0) * p.n + s) * stride + lane]; }
      } else {
        for (var s = 0u; s < p.n; s++) { hp[s] = states[sb + s]; }
      }
      let uv = u[i];
      let x = dt[i] + bias;
      let delta = softplus(x);
      var y = dskip * uv;
      for (var s = 0u; s < p.n; s++) { y += h[s] * pk(bc + m + s); }
      var dy = dout[i];
      if (HAS_Z) {
        let zv = z[i];
        let sg = sigmoid(zv);
        if (live) { dz[i] = dy * y * sg * (1.0 + zv * (1.0 - sg)); }
        dy = dy * zv * sg;
      }
      pd += dy * uv;
      var duv = dy * dskip;
      var ddelta = 0.0;
      let mk = select(0.0, 1.0, live);
      for (var s = 0u; s < p.n; s++) {
        let bs = pk(bc + s);
        let gs = dy * pk(bc + m + s) + gc[s];
        let da = exp2(delta * a2[s]);
        red[s * WGB + lid] = mk * dy * h[s];
        red[(p.n + s) * WGB + lid] = mk * gs * delta * uv;
        duv += gs * delta * bs;
        let gda = gs * hp[s] * da;                // dL/d(delta A) through exp
        ddelta += gda * a2[s] * LN2 + gs * bs * uv;
        pa[s] += gda * delta;
        gc[s] = gs * da;
        h[s] = hp[s];
      }
      let ddx = ddelta * sigmoid(x);
      pbias += ddx;
      if (live) {
        du[i] = duv;
        ddt[i] = ddx;
      }
      workgroupBarrier();
      for (var j = lid; j < 2u * p.n; j += WGB) {
        var acc = 0.0;
        for (var k = 0u; k < WGB; k++) { acc += red[j * WGB + k]; }
        work[part0 + (row * 2u * p.n + j) * p.groups + g] = acc;
      }
      workgroupBarrier();
    }
  }
  if (live) {
    let k = bi * p.d + di;
    for (var s = 0u; s < p.n; s++) {
      // dL/dA_log = dL/dA * A
      work[off_pa() + k * p.n + s] = pa[s] * a2[s] * LN2;
      work[off_dh0() + k * p.n + s] = gc[s];
    }
    work[off_pd() + k] = pd;
    work[off_pbias() + k] = pbias;
  }
}

// Recomputed state block k of step tt (chunk-relative) in the backward's scratch.
fn scratch_set4(tt: u32, k: u32, lane: u32, v: vec4<f32>) {
  let base = (tt * n8() + 4u * k) * lanes() + lane;
  work[base] = v.x;
  work[base + lanes()] = v.y;
  work[base + 2u * lanes()] = v.z;
  work[base + 3u * lanes()] = v.w;
}

fn scratch_get4(tt: u32, k: u32, lane: u32) -> vec4<f32> {
  let base = (tt * n8() + 4u * k) * lanes() + lane;
  return vec4(work[base], work[base + lanes()], work[base + 2u * lanes()], work[base + 3u * lanes()]);
}

// One state block of a reverse step: the workgroup terms of dC (dy h_t) and dB (g delta u), then the
// adjoint: returns (g . B, <g hp e, A2>) and updates pa (dL/dA2 sum), gc (the carried adjoint).
struct BwdBlock {
  gb: f32,
  gda: f32,
}

fn bwd_block(k: u32, slot: u32, lid: u32, mk: f32, dy: f32, delta: f32, uv: f32, a: vec4<f32>, h: vec4<f32>, hp: vec4<f32>,
             bv: vec4<f32>, cv: vec4<f32>, gc: ptr<function, vec4<f32>>, pa: ptr<function, vec4<f32>>) -> BwdBlock {
  let e = exp2(delta * a);
  let gs = dy * cv + *gc;
  red4[(slot * 2u * NB + k) * WGB + lid] = (mk * dy) * h;
  red4[(slot * 2u * NB + NB + k) * WGB + lid] = (mk * delta * uv) * gs;
  let gda = gs * hp * e;
  *pa += gda * delta;
  *gc = gs * e;
  return BwdBlock(dot(gs, bv), dot(gda, a));
}

// Backward for n <= 24 (NB = n8 / 4 vec4 blocks of states). Grid, bindings and outputs as scan_bwd.
@compute @workgroup_size(WGB)
fn scan_bwd_fused(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;
  let bi = wid.y;
  let dreal = g * WGB + lid;
  let live = dreal < p.d;
  let di = min(dreal, p.d - 1u);
  let lane = bi * p.groups * WGB + dreal;
  let m = n8();
  let qa = (off_a2() + di * m) / 4u;
  let bias = pk(di);
  let dskip = pk(p.d + di);
  let part0 = off_part();
  let mk = select(0.0, 1.0, live);
  let steps = 16u / NB;
  var a0 = packed[qa];
  var a1 = packed[qa + 1u];
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0);
  var a5 = vec4<f32>(0.0);
  if (NB > 2u) {
    a2 = packed[qa + 2u];
    a3 = packed[qa + 3u];
  }
  if (NB > 4u) {
    a4 = packed[qa + 4u];
    a5 = packed[qa + 5u];
  }
  // Carried adjoints and dL/dA2 sums.
  var g0 = vec4<f32>(0.0);
  var g1 = vec4<f32>(0.0);
  var g2 = vec4<f32>(0.0);
  var g3 = vec4<f32>(0.0);
  var g4 = vec4<f32>(0.0);
  var g5 = vec4<f32>(0.0);
  var pa0 = vec4<f32>(0.0);
  var pa1 = vec4<f32>(0.0);
  var pa2 = vec4<f32>(0.0);
  var pa3 = vec4<f32>(0.0);
  var pa4 = vec4<f32>(0.0);
  var pa5 = vec4<f32>(0.0);
  var pd = 0.0;
  var pbias = 0.0;
  for (var cc = 0u; cc < p.nchunks; cc++) {
    let c = p.nchunks - 1u - cc;
    let t0 = c * p.chunk;
    let t1 = min(t0 + p.chunk, p.l);
    let sb = ((bi * p.d + di) * p.nchunks + c) * p.n;
    // Recompute the chunk's states h_{t0} .. h_{t1-1} into scratch.
    var h0 = states_get4(sb, 0u);
    var h1 = states_get4(sb, 4u);
    var h2 = vec4<f32>(0.0);
    var h3 = vec4<f32>(0.0);
    var h4 = vec4<f32>(0.0);
    var h5 = vec4<f32>(0.0);
    if (NB > 2u) {
      h2 = states_get4(sb, 8u);
      h3 = states_get4(sb, 12u);
    }
    if (NB > 4u) {
      h4 = states_get4(sb, 16u);
      h5 = states_get4(sb, 20u);
    }
    for (var t = t0; t < t1; t++) {
      let row = bi * p.l + t;
      let i = row * p.d + di;
      let delta = softplus(dt[i] + bias);
      let du_ = delta * u[i];
      let q = (off_bc() + row * 2u * m) / 4u;
      let tt = t - t0;
      h0 = exp2(delta * a0) * h0 + du_ * packed[q];
      h1 = exp2(delta * a1) * h1 + du_ * packed[q + 1u];
      scratch_set4(tt, 0u, lane, h0);
      scratch_set4(tt, 1u, lane, h1);
      if (NB > 2u) {
        h2 = exp2(delta * a2) * h2 + du_ * packed[q + 2u];
        h3 = exp2(delta * a3) * h3 + du_ * packed[q + 3u];
        scratch_set4(tt, 2u, lane, h2);
        scratch_set4(tt, 3u, lane, h3);
      }
      if (NB > 4u) {
        h4 = exp2(delta * a4) * h4 + du_ * packed[q + 4u];
        h5 = exp2(delta * a5) * h5 + du_ * packed[q + 5u];
        scratch_set4(tt, 4u, lane, h4);
        scratch_set4(tt, 5u, lane, h5);
      }
    }
    // Reverse: h holds h_t at the top of each step. The workgroup sums of dB, dC run every `steps` steps.
    for (var tt = t1; tt > t0; tt--) {
      let t = tt - 1u;
      let row = bi * p.l + t;
      let i = row * p.d + di;
      let q = (off_bc() + row * 2u * m) / 4u;   // B blocks at q .., C blocks at q + NB ..
      let slot = (t1 - tt) % steps;
      // h_{t-1}: the previous step's recomputed state, or the chunk's start state.
      var p0: vec4<f32>;
      var p1: vec4<f32>;
      var p2 = vec4<f32>(0.0);
      var p3 = vec4<f32>(0.0);
      var p4 = vec4<f32>(0.0);
      var p5 = vec4<f32>(0.0);
      if (t > t0) {
        let tp = t - 1u - t0;
        p0 = scratch_get4(tp, 0u, lane);
        p1 = scratch_get4(tp, 1u, lane);
        if (NB > 2u) {
          p2 = scratch_get4(tp, 2u, lane);
          p3 = scratch_get4(tp, 3u, lane);
        }
        if (NB > 4u) {
          p4 = scratch_get4(tp, 4u, lane);
          p5 = scratch_get4(tp, 5u, lane);
        }
      } else {
        p0 = states_get4(sb, 0u);
        p1 = states_get4(sb, 4u);
        if (NB > 2u) {
          p2 = states_get4(sb, 8u);
          p3 = states_get4(sb, 12u);
        }
        if (NB > 4u) {
          p4 = states_get4(sb, 16u);
          p5 = states_get4(sb, 20u);
        }
      }
      let uv = u[i];
      let x = dt[i] + bias;
      let delta = softplus(x);
      var y = dskip * uv + dot(h0, packed[q + NB]) + dot(h1, packed[q + NB + 1u]);
      if (NB > 2u) { y += dot(h2, packed[q + NB + 2u]) + dot(h3, packed[q + NB + 3u]); }
      if (NB > 4u) { y += dot(h4, packed[q + NB + 4u]) + dot(h5, packed[q + NB + 5u]); }
      var dy = dout[i];
      if (HAS_Z) {
        let zv = z[i];
        let sg = sigmoid(zv);
        if (live) { dz[i] = dy * y * sg * (1.0 + zv * (1.0 - sg)); }
        dy = dy * zv * sg;
      }
      pd += dy * uv;
      var r = bwd_block(0u, slot, lid, mk, dy, delta, uv, a0, h0, p0, packed[q], packed[q + NB], &g0, &pa0);
      var gb = r.gb;
      var gda = r.gda;
      r = bwd_block(1u, slot, lid, mk, dy, delta, uv, a1, h1, p1, packed[q + 1u], packed[q + NB + 1u], &g1, &pa1);
      gb += r.gb;
      gda += r.gda;
      h0 = p0;
      h1 = p1;
      if (NB > 2u) {
        r = bwd_block(2u, slot, lid, mk, dy, delta, uv, a2, h2, p2, packed[q + 2u], packed[q + NB + 2u], &g2, &pa2);
        gb += r.gb;
        gda += r.gda;
        r = bwd_block(3u, slot, lid, mk, dy, delta, uv, a3, h3, p3, packed[q + 3u], packed[q + NB + 3u], &g3, &pa3);
        gb += r.gb;
        gda += r.gda;
        h2 = p2;
        h3 = p3;
      }
      if (NB > 4u) {
        r = bwd_block(4u, slot, lid, mk, dy, delta, uv, a4, h4, p4, packed[q + 4u], packed[q + NB + 4u], &g4, &pa4);
        gb += r.gb;
        gda += r.gda;
        r = bwd_block(5u, slot, lid, mk, dy, delta, uv, a5, h5, p5, packed[q + 5u], packed[q + NB + 5u], &g5, &pa5);
        gb += r.gb;
        gda += r.gda;
        h4 = p4;
        h5 = p5;
      }
      let ddx = (gda * LN2 + gb * uv) * sigmoid(x);
      pbias += ddx;
      if (live) {
        du[i] = dy * dskip + gb * delta;
        ddt[i] = ddx;
      }
      if (slot + 1u == steps || t == t0) {
        // Steps t + slot (slot 0) down to t (this one) are in red4.
        workgroupBarrier();
        for (var o = lid; o < (slot + 1u) * 2u * p.n; o += WGB) {
          // j < n: dC state j (block j / 4); else dB state j - n (block NB + (j - n) / 4).
          let so = o / (2u * p.n);
          let j = o % (2u * p.n);
          let s = select(j - p.n, j, j < p.n);
          let blk = so * 2u * NB + select(NB + s / 4u, s / 4u, j < p.n);
          let comp = s % 4u;
          var acc = 0.0;
          for (var k = 0u; k < WGB; k++) { acc += red4[blk * WGB + k][comp]; }
          work[part0 + ((row + slot - so) * 2u * p.n + j) * p.groups + g] = acc;
        }
        workgroupBarrier();
      }
    }
  }
  if (live) {
    let k = bi * p.d + di;
    let pb = off_pa() + k * p.n;
    let hb = off_dh0() + k * p.n;
    // dL/dA_log = dL/dA * A = dL/dA2 * A2 * ln 2 (A2 = A log2 e).
    bwd_store4(pb, 0u, pa0 * a0 * LN2);
    bwd_store4(pb, 4u, pa1 * a1 * LN2);
    bwd_store4(hb, 0u, g0);
    bwd_store4(hb, 4u, g1);
    if (NB > 2u) {
      bwd_store4(pb, 8u, pa2 * a2 * LN2);
      bwd_store4(pb, 12u, pa3 * a3 * LN2);
      bwd_store4(hb, 8u, g2);
      bwd_store4(hb, 12u, g3);
    }
    if (NB > 4u) {
      bwd_store4(pb, 16u, pa4 * a4 * LN2);
      bwd_store4(pb, 20u, pa5 * a5 * LN2);
      bwd_store4(hb, 16u, g4);
      bwd_store4(hb, 20u, g5);
    }
    work[off_pd() + k] = pd;
    work[off_pbias() + k] = pbias;
  }
}

// States s0 .. s0+3 of a per-(b, channel) vector at `base` in `work` (entries past n not written).
fn bwd_store4(base: u32, s0: u32, v: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    if (s0 + j < p.n) { work[base + s0 + j] = v[j]; }
  }
}

// dC (rd_out2) and dB (rd_out1): flat over (b, l, 2n), sums over channel groups.
@compute @workgroup_size(256)
fn scan_bwd_reduce_bc(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 256u);
  if (i >= p.b * p.l * 2u * p.n) { return; }
  let row = i / (2u * p.n);
  let j = i % (2u * p.n);
  let base = off_part() + i * p.groups;
  var acc = 0.0;
  for (var g = 0u; g < p.groups; g++) { acc += rd_work[base + g]; }
  if (j < p.n) {
    rd_out2[row * p.n + j] = acc;
  } else {
    rd_out1[row * p.n + j - p.n] = acc;
  }
}

// dA_log (rd_out1, d x n), dD (rd_out2), ddt_bias (rd_out3): sums over b; dh0 (rd_out4): copy.
@compute @workgroup_size(256)
fn scan_bwd_reduce_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid, 256u);
  let dn = p.d * p.n;
  if (i < dn) {
    var acc = 0.0;
    for (var bi = 0u; bi < p.b; bi++) { acc += rd_work[off_pa() + bi * dn + i]; }
    rd_out1[i] = acc;
  } else if (i < dn + p.d) {
    let k = i - dn;
    var acc = 0.0;
    for (var bi = 0u; bi < p.b; bi++) { acc += rd_work[off_pd() + bi * p.d + k]; }
    rd_out2[k] = acc;
  } else if (i < dn + 2u * p.d) {
    let k = i - dn - p.d;
    var acc = 0.0;
    for (var bi = 0u; bi < p.b; bi++) { acc += rd_work[off_pbias() + bi * p.d + k]; }
    rd_out3[k] = acc;
  } else if (i < dn + 2u * p.d + p.b * dn) {
    let k = i - dn - 2u * p.d;
    rd_out4[k] = rd_work[off_dh0() + k];
  }
}
