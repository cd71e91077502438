// Band-limited sample-rate conversion by a Kaiser-windowed sinc (Smith's bandlimited interpolation): any pair of
// integer rates, exact output instants t_k = k * inRate / outRate (integer arithmetic, no drift), the kernel
// tabulated finely and linearly interpolated. The cut-off is `rolloff` times the lower Nyquist frequency, so a
// downsampler also acts as its own anti-aliasing filter.
//
// Streaming: `Resampler.push(chunk)` returns every output sample whose input support is complete; `flush()`
// pads the end with zeros and returns the rest. Chunked and one-shot conversion compute the same sums over the
// same samples, so the streamed output equals the offline output (no seams). Output length = ceil(n * out / in).

export interface ResampleOptions {
  /** Zero crossings of the kernel on each side, at the lower rate (default 32). */
  halfZeros?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (default 0.9). */
  rolloff?: number;
  /** Kaiser window beta (default 9: about -90 dB sidelobes). */
  beta?: number;
}

const OVERSAMPLE = 512;

function besselI0(x: number): number {
  let sum = 1, term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

const tables = new Map<string, Float64Array>();

function kernelTable(halfZeros: number, rolloff: number, beta: number): Float64Array {
  const key = `${halfZeros}/${rolloff}/${beta}`;
  let t = tables.get(key);
  if (t) return t;
  const n = halfZeros * OVERSAMPLE;
  t = new Float64Array(n + 2); // t[n] = t[n+1] = 0 (window edge) so interpolation never reads past the end
  const i0b = besselI0(beta);
  for (let j = 0; j < n; j++) {
    const u = j / OVERSAMPLE; // distance in lower-rate samples
    const a = Math.PI * rolloff * u;
    const sinc = j === 0 ? 1 : Math.sin(a) / a;
    const w = u / halfZeros;
    t[j] = rolloff * sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - w * w))) / i0b);
  }
  tables.set(key, t);
  return t;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  private readonly table: Float64Array;
  private readonly r: number; // min(1, out/in)
  private readonly width: number; // kernel half-width in input samples
  private buf = new Float32Array(4096);
  private bufStart = 0; // absolute input index of buf[0]
  private bufLen = 0;
  private total = 0; // input samples pushed
  private k = 0; // next output index
  private flushed = false;

  constructor(inRate: number, outRate: number, opts: ResampleOptions = {}) {
    if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) {
      throw new RangeError(`Resampler: rates must be positive integers, got ${inRate} -> ${outRate}`);
    }
    const g = gcd(inRate, outRate);
    this.inRate = inRate / g;
    this.outRate = outRate / g;
    const halfZeros = opts.halfZeros ?? 32;
    this.table = kernelTable(halfZeros, opts.rolloff ?? 0.9, opts.beta ?? 9);
    this.r = Math.min(1, outRate / inRate);
    this.width = halfZeros / this.r;
  }

  /** Output samples that `n` input samples make in total. */
  outputLength(n: number): number {
    return Math.ceil((n * this.outRate) / this.inRate);
  }

  push(chunk: Float32Array): Float32Array {
    if (this.flushed) throw new Error('Resampler: push after flush');
    if (this.inRate === this.outRate) return chunk.slice(); // equal rates: identity, as resample() does
    if (this.bufLen + chunk.length > this.buf.length) {
      const grown = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + chunk.length));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(chunk, this.bufLen);
    this.bufLen += chunk.length;
    this.total += chunk.length;
    return this.produce(false);
  }

  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    return this.produce(true);
  }

  private produce(final: boolean): Float32Array {
    const limit = this.outputLength(this.total);
    const out = new Float32Array(Math.max(0, limit - this.k));
    let m = 0;
    const { table, r, width, inRate, outRate } = this;
    const scale = r * OVERSAMPLE;
    while (this.k < limit) {
      const num = this.k * inRate; // t_k = num / outRate
      const center = Math.floor(num / outRate);
      const frac = (num - center * outRate) / outRate;
      const t = center + frac;
      const hi = Math.floor(t + width); // last input index with |t - i| <= width
      if (!final && hi >= this.total) break;
      const lo = Math.ceil(t - width);
      let acc = 0;
      for (let i = Math.max(lo, this.bufStart); i <= hi; i++) {
        if (i >= this.total) break;
        const pos = Math.abs(t - i) * scale;
        const j = Math.floor(pos);
        if (j >= table.length - 1) continue;
        const f = pos - j;
        acc += this.buf[i - this.bufStart] * (table[j] + f * (table[j + 1] - table[j]));
      }
      out[m++] = acc * r;
      this.k++;
    }
    // Drop input that no future output needs.
    const num = this.k * inRate;
    const keepFrom = Math.max(this.bufStart, Math.ceil(num / outRate - width) - 1);
    const drop = Math.min(this.bufLen, keepFrom - this.bufStart);
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    return m === out.length ? out : out.slice(0, m);
  }
}

/** One-shot conversion; equal to pushing the whole signal through a Resampler and flushing. */
export function resample(x: Float32Array, inRate: number, outRate: number, opts?: ResampleOptions): Float32Array {
  if (inRate === outRate) return x.slice();
  const rs = new Resampler(inRate, outRate, opts);
  const a = rs.push(x);
  const b = rs.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
