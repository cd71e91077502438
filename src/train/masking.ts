// HuBERT's span masking (fairseq's compute_mask_indices, "static" lengths, overlap allowed): for an utterance
// of l frames, num = floor(prob * l / span + u) spans (u ~ U[0, 1), at least minSpans), each starting at a
// distinct frame drawn uniformly from [0, l - span], covering `span` frames. Overlapping spans merge, so the
// masked share is below `prob` (about 0.5 of the frames at prob 0.8, span 10). Only frames inside each
// utterance's own length are masked.

export interface MaskOptions {
  /** Spans per frame times the span: the masked share before overlaps merge (fairseq's mask_prob). */
  prob: number;
  /** Frames per span (fairseq's mask_length; 10). */
  span: number;
  /** Spans per utterance at least (fairseq's min_masks; 2 in pre-training). */
  minSpans?: number;
}

export const PRETRAIN_MASK: MaskOptions = { prob: 0.8, span: 10, minSpans: 2 };
export const FINETUNE_MASK: MaskOptions = { prob: 0.5, span: 10, minSpans: 0 };

/** (b, l) 0/1 frame mask for utterances of `lengths` frames padded to l; `rand` draws U[0, 1). */
export function spanMask(lengths: readonly number[], l: number, o: MaskOptions, rand: () => number): Float32Array {
  const mask = new Float32Array(lengths.length * l);
  lengths.forEach((len, b) => {
    if (len <= 0 || o.prob <= 0) return;
    const span = Math.min(o.span, len);
    const starts = len - span + 1;
    const want = Math.max(o.minSpans ?? 0, Math.floor((o.prob * len) / span + rand()));
    const num = Math.min(want, starts);
    // num distinct starts out of `starts`, by a partial Fisher-Yates shuffle.
    const pool = Array.from({ length: starts }, (_, i) => i);
    for (let i = 0; i < num; i++) {
      const j = i + Math.floor(rand() * (starts - i));
      [pool[i], pool[j]] = [pool[j], pool[i]];
      mask.fill(1, b * l + pool[i], b * l + pool[i] + span);
    }
  });
  return mask;
}
