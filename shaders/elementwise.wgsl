// Elementwise kernels over flat arrays. One invocation per 4 elements; the grid may be 2-D when the
// element count exceeds 65535 workgroups (index = x + y * num_workgroups.x).

struct Params {
  n: u32, // elements
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const WG = 256u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

// y = x. Also the device's copy bandwidth probe (the roofline of memory-bound kernels).
@compute @workgroup_size(256)
fn copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid) * 4u;
  if (i + 3u < p.n) {
    y[i] = x[i];
    y[i + 1u] = x[i + 1u];
    y[i + 2u] = x[i + 2u];
    y[i + 3u] = x[i + 3u];
  } else {
    for (var j = i; j < p.n; j++) { y[j] = x[j]; }
  }
}
