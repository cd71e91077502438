// Elementwise kernels over flat arrays. One invocation per 4 elements; the grid may be 2-D when the
// element count exceeds 65535 workgroups (index = x + y * num_workgroups.x).
//
// Entry points and their bindings (binding 0 is always Params):
//   copy                  x, y                 y = x
//   unary_forward         x, y                 y = f(x)                  f chosen by OP
//   unary_backward        x, dy, dx            dx = dy * f'(x)
//   binary_forward        a, b, out            out = g(a, b)             g chosen by OP
//   binary_backward       a, b, dout, da, db   da = dout * dg/da, db = dout * dg/db
//   accumulate            acc, x               acc = acc + alpha * x     (in place)
//   fill                  acc                  acc = alpha               (in place)

struct Params {
  n: u32, // elements
  alpha: f32, // the scale of `scale` and `accumulate`, the value of `fill`
}

// Unary ops: 0 silu, 1 gelu (erf form), 2 softplus, 3 scale (alpha * x).
// Binary ops: 0 add, 1 multiply, 2 gate (a * silu(b): the Mamba gate y * SiLU(z)).
override OP: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> in1: array<f32>;
@group(0) @binding(3) var<storage, read> in2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out0: array<f32>;
@group(0) @binding(4) var<storage, read_write> out1: array<f32>;
@group(0) @binding(5) var<storage, read_write> out2: array<f32>;
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;

const WG = 256u;

fn flat_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), as in matmul.wgsl.
fn erf_approx(v: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let e = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-v * v);
  return select(-e, e, v >= 0.0);
}

fn sigmoid(v: f32) -> f32 {
  return 1.0 / (1.0 + exp(-v));
}

// log(1 + exp(v)) without overflow, and accurate where exp(-|v|) is tiny.
fn softplus(v: f32) -> f32 {
  let e = exp(-abs(v));
  let tail = select(log(1.0 + e), e * (1.0 - 0.5 * e), e < 1e-4);
  return max(v, 0.0) + tail;
}

fn unary(v: f32) -> f32 {
  switch OP {
    case 0u: { return v * sigmoid(v); }
    case 1u: { return 0.5 * v * (1.0 + erf_approx(v * 0.70710678118654752)); }
    case 2u: { return softplus(v); }
    default: { return p.alpha * v; }
  }
}

// f'(v)
fn unary_grad(v: f32) -> f32 {
  switch OP {
    case 0u: {
      let s = sigmoid(v);
      return s * (1.0 + v * (1.0 - s));
    }
    case 1u: {
      // d/dv of v * Phi(v) = Phi(v) + v * phi(v)
      return 0.5 * (1.0 + erf_approx(v * 0.70710678118654752)) + v * 0.39894228040143268 * exp(-0.5 * v * v);
    }
    case 2u: { return sigmoid(v); }
    default: { return p.alpha; }
  }
}

fn binary(a: f32, b: f32) -> f32 {
  switch OP {
    case 0u: { return a + b; }
    case 1u: { return a * b; }
    default: { return a * b * sigmoid(b); }
  }
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

@compute @workgroup_size(256)
fn unary_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid) * 4u;
  let end = min(i + 4u, p.n);
  for (var j = i; j < end; j++) { y[j] = unary(x[j]); }
}

// bindings: x, in1 = dy, out0 = dx
@compute @workgroup_size(256)
fn unary_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid) * 4u;
  let end = min(i + 4u, p.n);
  for (var j = i; j < end; j++) { out0[j] = in1[j] * unary_grad(x[j]); }
}

// bindings: x = a, in1 = b, out0 = out
@compute @workgroup_size(256)
fn binary_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid) * 4u;
  let end = min(i + 4u, p.n);
  for (var j = i; j < end; j++) { out0[j] = binary(x[j], in1[j]); }
}

// bindings: x = a, in1 = b, in2 = dout, out1 = da, out2 = db. OP 1 (multiply) or 2 (gate); add needs no kernel.
@compute @workgroup_size(256)
fn binary_backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid) * 4u;
  let end = min(i + 4u, p.n);
  for (var j = i; j < end; j++) {
    let a = x[j];
    let b = in1[j];
    let g = in2[j];
    if (OP == 1u) {
      out1[j] = g * b;
      out2[j] = g * a;
    } else {
      // a * silu(b): d/da = silu(b), d/db = a * silu'(b)
      let s = sigmoid(b);
      out1[j] = g * b * s;
      out2[j] = g * a * s * (1.0 + b * (1.0 - s));
    }
  }
}

// bindings: acc (read_write), in1 = x
@compute @workgroup_size(256)
fn accumulate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid) * 4u;
  let end = min(i + 4u, p.n);
  for (var j = i; j < end; j++) { acc[j] = acc[j] + p.alpha * in1[j]; }
}

@compute @workgroup_size(256)
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid) * 4u;
  let end = min(i + 4u, p.n);
  for (var j = i; j < end; j++) { acc[j] = p.alpha; }
}
