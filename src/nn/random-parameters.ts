// Parameters for checks: a module asks its ParameterSet for each parameter by name and shape, so a set that makes
// each one on first asking gives any module (or a whole model) random parameters from its sizes alone.
import type { Gpu } from '../gpu/device.ts';
import { numel } from '../gpu/tensor.ts';
import { randomNormal, randomUniform } from '../kernels/random.ts';
import { Parameter, ParameterSet } from './module.ts';

/**
 * Values that keep activations near unit scale and every path active: weights N(0, 1 / fan_in), norm weights
 * 1 + N(0, 0.3), other vectors N(0, 0.3); Mamba's A_log near log(1..n), D in [0.5, 1.5] and dt_proj.bias in
 * [-1.5, 0.5], so that delta = softplus(dt + dt_bias) is ~0.5 rather than the initialisation's near-zero steps,
 * under which A_log and dt would get almost no gradient.
 */
function randomValues(name: string, shape: readonly number[], rand: () => number): Float32Array {
  const n = numel(shape);
  if (/(^|\.)(A_log|A_b_log)$/.test(name)) return Float32Array.from({ length: n }, (_, i) => Math.log(1 + (i % shape[1])) + 0.2 * (rand() - 0.5));
  if (/(^|\.)(D|D_b)$/.test(name)) return randomUniform(n, rand, 0.5, 1.5);
  if (/\.dt_proj(_b)?\.bias$/.test(name)) return randomUniform(n, rand, -1.5, 0.5);
  // The extractor's first norm is `feature_extractor.conv_layers.0.2`.
  if (/(norm.*|conv_layers\.0\.2)\.weight$/.test(name)) return randomNormal(n, rand, 0.3).map((x) => 1 + x);
  if (shape.length === 1) return randomNormal(n, rand, 0.3);
  return randomNormal(n, rand, 1 / Math.sqrt(n / shape[0]));
}

/** A ParameterSet that makes each parameter on its first `get`, with random values drawn from `rand` in that order. */
export class RandomParameters extends ParameterSet {
  constructor(
    private readonly gpu: Gpu,
    private readonly rand: () => number,
  ) {
    super();
  }

  override get(name: string, shape?: readonly number[]): Parameter {
    if (!this.has(name) && shape) this.add(new Parameter(name, this.gpu.tensor(shape, 'f32', randomValues(name, shape, this.rand), name), true));
    return super.get(name, shape);
  }
}
