// Layout kernels over (b, l, channels) activations: channel ranges, frame concatenation and time reversal.
// One invocation per element written; the grid may be 2-D when the count exceeds 65535 workgroups (index = x + y * nwg.x * WG).
//
// Entry points and their bindings (binding 0 is always Params):
//   channel_slice     wide, narrow     narrow[r, j] = wide[r, start + j]            (r over rows, j < count)
//   channel_write     narrow, wide     wide[r, start + j] = narrow[r, j]  (or += with ACCUMULATE); the other
//                                      channels of `wide` are left as they are
//   reverse_frames    x, lengths, out  out[b, t] = x[b, len_b - 1 - t] for t < len_b, x[b, t] for t >= len_b
//                                      (len_b = lengths[b] clamped to [0, l] with HAS_LENGTHS, else l), so the
//                                      padded frames of a shorter utterance stay at its end. Its own inverse.
//   frames_concat     a, b, out        out[b, i] = [a, b][b, start + i] for i < count: frames of a (b, l, c) and
//                                      b (b, l2, c) concatenated along time (streaming windows, the KV cache)

struct Params {
  n: u32,      // elements written
  c: u32,      // channels of the wide tensor (slice, write) / of x (reverse, frames_concat)
  start: u32,  // first channel of the range (slice, write) / first frame of [a, b] copied (frames_concat)
  count: u32,  // channels of the range (slice, write) / frames written (frames_concat)
  l: u32,      // frames (reverse) / frames of a (frames_concat)
  l2: u32,     // frames of b (frames_concat)
}

override ACCUMULATE: bool = false;
override HAS_LENGTHS: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read> lengths: array<i32>;
@group(0) @binding(2) var<storage, read> src2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WG = 256u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn channel_slice(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let r = i / p.count;
  let j = i - r * p.count;
  dst[i] = src[r * p.c + p.start + j];
}

@compute @workgroup_size(WG)
fn channel_write(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let r = i / p.count;
  let j = i - r * p.count;
  let at = r * p.c + p.start + j;
  if (ACCUMULATE) {
    dst[at] = dst[at] + src[i];
  } else {
    dst[at] = src[i];
  }
}

@compute @workgroup_size(WG)
fn reverse_frames(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let row = i / p.c;
  let ch = i - row * p.c;
  let bi = row / p.l;
  let t = row - bi * p.l;
  var len = p.l;
  if (HAS_LENGTHS) {
    len = u32(clamp(lengths[bi], 0, i32(p.l)));
  }
  let s = select(t, len - 1u - t, t < len);
  out[i] = src[(bi * p.l + s) * p.c + ch];
}

@compute @workgroup_size(WG)
fn frames_concat(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let ch = i % p.c;
  let row = i / p.c;
  let bi = row / p.count;
  let j = p.start + row % p.count;
  if (j < p.l) {
    out[i] = src[(bi * p.l + j) * p.c + ch];
  } else {
    out[i] = src2[(bi * p.l2 + j - p.l) * p.c + ch];
  }
}
