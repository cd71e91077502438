// Uniform parameters of one kernel call, packed as 32-bit words in declaration order, which must match
// the WGSL `Params` struct of the kernel (all fields u32, i32 or f32, so no padding rules apply).

export class Params {
  private words: { kind: 'u32' | 'i32' | 'f32'; value: number }[] = [];

  u32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 parameter out of range: ${v}`);
      this.words.push({ kind: 'u32', value: v });
    }
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) this.words.push({ kind: 'i32', value: v });
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) this.words.push({ kind: 'f32', value: v });
    return this;
  }

  /** Bytes, padded to 16 (uniform structs round up to their 16-byte alignment). */
  get byteLength(): number {
    return Math.max(16, Math.ceil((this.words.length * 4) / 16) * 16);
  }

  writeTo(view: DataView, offset: number): void {
    this.words.forEach(({ kind, value }, i) => {
      const at = offset + 4 * i;
      if (kind === 'u32') view.setUint32(at, value, true);
      else if (kind === 'i32') view.setInt32(at, value, true);
      else view.setFloat32(at, value, true);
    });
  }
}

export function params(): Params {
  return new Params();
}
