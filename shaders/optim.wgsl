// AdamW, decoupled weight decay as in PyTorch's torch.optim.AdamW, over flat f32 arrays:
//   g  = grad * scale                       (scale: gradient clipping / loss-scale factor)
//   p  = p - lr * wd * p                    (wd = 0 for biases and norms: the caller chooses per tensor)
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g^2
//   p  = p - step_size * m / (sqrt(v) / sqrt_bc2 + eps),  step_size = lr / (1 - beta1^t), sqrt_bc2 = sqrt(1 - beta2^t)
// One invocation per 4 elements; the grid may be 2-D (index = x + y * num_workgroups.x).

struct Params {
  n: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  wd: f32,
  step_size: f32, // lr / (1 - beta1^t), computed in float64 on the host
  sqrt_bc2: f32,  // sqrt(1 - beta2^t)
  scale: f32,     // gradient scale when no scale tensor is bound
}

// true: the gradient scale is read from scale_buf[0] (e.g. a clipping factor computed on the GPU).
override SCALE_TENSOR: bool = false;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> scale_buf: array<f32>;

fn update(i: u32, scale: f32) {
  let g = grad[i] * scale;
  var w = param[i];
  w = w - p.lr * p.wd * w;
  let mi = p.beta1 * m[i] + (1.0 - p.beta1) * g;
  let vi = p.beta2 * v[i] + (1.0 - p.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = w - p.step_size * mi / (sqrt(vi) / p.sqrt_bc2 + p.eps);
}

@compute @workgroup_size(256)
fn adamw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = ((wid.x + wid.y * nwg.x) * 256u + lid) * 4u;
  if (i0 >= p.n) { return; }
  var scale = p.scale;
  if (SCALE_TENSOR) { scale = scale_buf[0]; }
  for (var i = i0; i < min(i0 + 4u, p.n); i++) { update(i, scale); }
}
