// Frame-level phone labels at the model's frames. The conv feature extractor has no padding: with receptive
// field F samples and hop H (the product of the strides), frame j sees samples [j H, j H + F), so its centre is
// at j H + F / 2 samples. For HuBERT's extractor (kernels 10,3,3,3,3,2,2; strides 5,2,2,2,2,2,2) F = 400 and
// H = 320: frame j is centred at (320 j + 200) / 16000 s, the same window as the MFCC frames (speech/mfcc.ts).
// A frame's label is the phone whose interval [start, end) holds that centre; a centre exactly on a boundary
// belongs to the phone that starts there. No GPU and no DOM here.
import type { ConvLayer } from '../nn/feature-extractor.ts';
import { isPhone, phoneIndex, type PhoneInterval } from '../speech/phones.ts';

export interface FrameGeometry {
  /** Samples one frame sees. */
  field: number;
  /** Samples between frames. */
  hop: number;
}

/** Receptive field and hop of a stack of unpadded convs [channels, kernel, stride]. */
export function extractorGeometry(layers: readonly ConvLayer[]): FrameGeometry {
  let field = 1;
  let hop = 1;
  for (const [, k, s] of layers) {
    field += (k - 1) * hop;
    hop *= s;
  }
  return { field, hop };
}

/** Frames of `samples` audio: floor((samples - F) / H) + 1, 0 when shorter than one field. */
export function framesOf(g: FrameGeometry, samples: number): number {
  return samples < g.field ? 0 : Math.floor((samples - g.field) / g.hop) + 1;
}

/** Time (s) of the centre of frame j. */
export function frameCentre(g: FrameGeometry, j: number, sampleRate = 16000): number {
  return (j * g.hop + g.field / 2) / sampleRate;
}

/** Why an entry's phone intervals cannot label frames, or undefined when they can. */
export function phoneProblem(phones: readonly PhoneInterval[] | undefined): string | undefined {
  if (!phones || phones.length === 0) return 'no phone intervals';
  for (const [k, iv] of phones.entries()) {
    if (!Array.isArray(iv) || iv.length !== 3 || typeof iv[1] !== 'number' || typeof iv[2] !== 'number') return `phone interval ${k} is not [phone, start, end]`;
    if (!isPhone(iv[0])) return `phone "${iv[0]}" (interval ${k}) is not in the 41-label inventory`;
    if (!(iv[2] > iv[1])) return `phone interval ${k} ends at ${iv[2]}, not after its start ${iv[1]}`;
    if (k > 0 && iv[1] < phones[k - 1][2] - 1e-9) return `phone interval ${k} starts before interval ${k - 1} ends`;
  }
  return undefined;
}

/**
 * Phone index (speech/phones.ts) of each of `frames` frames, from the label at its centre. A centre outside every
 * interval (before the first or after the last) gets -1 and is not counted.
 */
export function frameLabels(phones: readonly PhoneInterval[], frames: number, g: FrameGeometry, sampleRate = 16000): Int32Array {
  const out = new Int32Array(frames).fill(-1);
  let k = 0;
  for (let j = 0; j < frames; j++) {
    const t = frameCentre(g, j, sampleRate);
    while (k < phones.length && phones[k][2] <= t) k++;
    if (k === phones.length) break;
    if (phones[k][1] <= t) out[j] = phoneIndex(phones[k][0]);
  }
  return out;
}
