// Learning-rate schedules as pure functions of the update number, so that a resumed run needs only its step.
//   'linear' / 'cosine': linear warmup from 0 to `lr` over `warmup` updates, then linear or cosine decay to
//     `finalScale * lr` at `total` updates (HuBERT pre-training: polynomial decay of power 1 = linear).
//   'tri-stage' (fairseq's fine-tuning schedule): warmup from initScale * lr to lr over `warmup` updates, hold
//     lr for `hold` updates, then exponential decay to finalScale * lr over the rest.

export type ScheduleKind = 'linear' | 'cosine' | 'tri-stage';

export interface Schedule {
  kind: ScheduleKind;
  /** Peak learning rate. */
  lr: number;
  /** Updates in the whole run. */
  total: number;
  warmup: number;
  /** tri-stage only: updates at peak after the warmup. */
  hold?: number;
  /** Learning rate at the start of the warmup, as a fraction of lr (tri-stage; default 0.01). */
  initScale?: number;
  /** Learning rate at the end, as a fraction of lr (default 0 for linear/cosine, 0.05 for tri-stage). */
  finalScale?: number;
}

/** The learning rate of update `step` (1-based, as AdamW's step). */
export function learningRate(s: Schedule, step: number): number {
  const t = Math.max(0, step - 1);
  if (s.kind === 'tri-stage') {
    const init = (s.initScale ?? 0.01) * s.lr;
    const final = (s.finalScale ?? 0.05) * s.lr;
    const hold = s.hold ?? 0;
    if (t < s.warmup) return init + ((s.lr - init) * t) / s.warmup;
    if (t < s.warmup + hold) return s.lr;
    const decay = Math.max(1, s.total - s.warmup - hold);
    const u = Math.min(1, (t - s.warmup - hold) / decay);
    return s.lr * Math.pow(final / s.lr, u);
  }
  if (t < s.warmup) return (s.lr * (t + 1)) / (s.warmup + 1);
  const final = (s.finalScale ?? 0) * s.lr;
  const u = Math.min(1, (t - s.warmup) / Math.max(1, s.total - s.warmup));
  if (s.kind === 'cosine') return final + ((s.lr - final) * (1 + Math.cos(Math.PI * u))) / 2;
  return s.lr + (final - s.lr) * u;
}
