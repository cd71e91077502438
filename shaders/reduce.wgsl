// Deterministic sums in several passes (no atomics, no cross-workgroup waits): each pass writes
// partial sums that the next pass, a later dispatch in the same encoder, reduces again.
//
//   sum_rows   x (rows, c) -> out (ceil(rows / blockRows), c): column sums over blocks of rows.
//              One invocation per (block, column); consecutive invocations read consecutive columns.
//   sum_all    x (n) -> out (ceil(n / CHUNK)): one workgroup per CHUNK elements, tree-reduced in
//              workgroup memory. SQUARE squares the inputs (use it on the first pass only).
//   sum_spread x (n) -> out (ceil(n / SPREAD_CHUNK) * WG): no barriers (CPU drivers): invocation t of
//              workgroup w sums the 64 elements w * SPREAD_CHUNK + t + k * WG; the sums stay interleaved
//              (any order is fine for a sum) and a final sum_all pass finishes them.
// ACCUMULATE (last pass only) adds into out instead of overwriting it (gradient accumulation).

struct Params {
  rows: u32,
  c: u32,
  blockRows: u32,
  n: u32,
}

override SQUARE: bool = false;
override ACCUMULATE: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

const WG = 256u;
const PER_THREAD = 16u;
const CHUNK = 4096u; // WG * PER_THREAD
const SPREAD = 64u;
const SPREAD_CHUNK = 16384u; // WG * SPREAD

fn put(i: u32, v: f32) {
  if (ACCUMULATE) {
    out[i] = out[i] + v;
  } else {
    out[i] = v;
  }
}

@compute @workgroup_size(256)
fn sum_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let groupsPerBlock = (p.c + WG - 1u) / WG;
  let w = wid.x + wid.y * nwg.x;
  let blk = w / groupsPerBlock;
  let j = (w % groupsPerBlock) * WG + lid;
  let r0 = blk * p.blockRows;
  if (j >= p.c || r0 >= p.rows) { return; }
  let r1 = min(r0 + p.blockRows, p.rows);
  var s = 0.0;
  for (var r = r0; r < r1; r++) { s += x[r * p.c + j]; }
  put(blk * p.c + j, s);
}

var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn sum_all(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x; // uniform over the workgroup
  let base = w * CHUNK;
  var s = 0.0;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = base + k * WG + lid;
    if (i < p.n) {
      let v = x[i];
      s += select(v, v * v, SQUARE);
    }
  }
  red[lid] = s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u && base < p.n) { put(w, red[0]); }
}

@compute @workgroup_size(256)
fn sum_spread(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  let base = w * SPREAD_CHUNK;
  if (base >= p.n) { return; }
  var s = 0.0;
  for (var k = 0u; k < SPREAD; k++) {
    let i = base + k * WG + lid;
    if (i < p.n) {
      let v = x[i];
      s += select(v, v * v, SQUARE);
    }
  }
  out[w * WG + lid] = s;
}
