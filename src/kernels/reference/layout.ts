// CPU twins of shaders/layout.wgsl: channel ranges of (rows, c), frame concatenation and time reversal of
// (b, l, c), in float64.

/** (rows, c) -> (rows, count): channels start .. start + count - 1. */
export function channelSliceRef(x: ArrayLike<number>, rows: number, c: number, start: number, count: number): Float64Array {
  const out = new Float64Array(rows * count);
  for (let r = 0; r < rows; r++) for (let j = 0; j < count; j++) out[r * count + j] = x[r * c + start + j];
  return out;
}

/** `into` (rows, c) with channels start .. start + count - 1 replaced by (or, accumulating, added to) x (rows, count). */
export function channelSliceBackwardRef(
  x: ArrayLike<number>,
  into: ArrayLike<number>,
  rows: number,
  c: number,
  start: number,
  accumulate = false,
): Float64Array {
  const count = x.length / rows;
  const out = Float64Array.from(into);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < count; j++) {
      const at = r * c + start + j;
      out[at] = (accumulate ? out[at] : 0) + x[r * count + j];
    }
  return out;
}

/** parts (rows, widths[i]) -> (rows, sum of widths). */
export function channelConcatRef(parts: readonly ArrayLike<number>[], rows: number, widths: readonly number[]): Float64Array {
  const c = widths.reduce((a, w) => a + w, 0);
  let out: Float64Array = new Float64Array(rows * c);
  let start = 0;
  parts.forEach((p, i) => {
    out = channelSliceBackwardRef(p, out, rows, c, start);
    start += widths[i];
  });
  return out;
}

/** Frames start .. start + len - 1 of [a (b, la, c), b (b, lb, c)] concatenated along time -> (b, len, c). */
export function framesConcatRef(
  a: ArrayLike<number>,
  bData: ArrayLike<number>,
  b: number,
  la: number,
  lb: number,
  c: number,
  start: number,
  len: number,
): Float64Array {
  const out = new Float64Array(b * len * c);
  for (let bi = 0; bi < b; bi++)
    for (let i = 0; i < len; i++) {
      const j = start + i;
      for (let ch = 0; ch < c; ch++) {
        out[(bi * len + i) * c + ch] = j < la ? a[(bi * la + j) * c + ch] : bData[(bi * lb + j - la) * c + ch];
      }
    }
  return out;
}

/** x (b, l, c) reversed along time within each utterance's first lengths[b] frames (all l without lengths). */
export function reverseFramesRef(x: ArrayLike<number>, b: number, l: number, c: number, lengths?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(b * l * c);
  for (let bi = 0; bi < b; bi++) {
    const len = lengths ? Math.min(Math.max(lengths[bi], 0), l) : l;
    for (let t = 0; t < l; t++) {
      const s = t < len ? len - 1 - t : t;
      for (let ch = 0; ch < c; ch++) out[(bi * l + t) * c + ch] = x[(bi * l + s) * c + ch];
    }
  }
  return out;
}
