// CPU twin of optim.wgsl: AdamW (PyTorch's decoupled weight decay), float64.

export interface AdamWSettings {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay; 0 for biases and norm parameters. */
  weightDecay?: number;
  /** Step number, from 1 (bias correction). */
  step: number;
  /** Gradients are multiplied by this first (clipping). */
  gradScale?: number;
}

export const ADAMW_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } as const;

/** One AdamW step in place on param, m, v (any array type; Float64Array keeps float64 state). */
export function adamwRef(
  param: { [i: number]: number; length: number },
  grad: ArrayLike<number>,
  m: { [i: number]: number; length: number },
  v: { [i: number]: number; length: number },
  s: AdamWSettings,
): void {
  const b1 = s.beta1 ?? ADAMW_DEFAULTS.beta1;
  const b2 = s.beta2 ?? ADAMW_DEFAULTS.beta2;
  const eps = s.eps ?? ADAMW_DEFAULTS.eps;
  const wd = s.weightDecay ?? ADAMW_DEFAULTS.weightDecay;
  const scale = s.gradScale ?? 1;
  const bc1 = 1 - b1 ** s.step;
  const bc2 = 1 - b2 ** s.step;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i] * scale;
    let w = param[i];
    w -= s.lr * wd * w;
    m[i] = b1 * m[i] + (1 - b1) * g;
    v[i] = b2 * v[i] + (1 - b2) * g * g;
    const mhat = m[i] / bc1;
    const vhat = v[i] / bc2;
    param[i] = w - (s.lr * mhat) / (Math.sqrt(vhat) + eps);
  }
}
