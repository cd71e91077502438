// The two heads on top of the encoder:
// - MaskedPredictionHead (pre-training, fairseq HuBERT): final_proj (d_model -> final_dim); logits = cosine
//   similarity of each projected frame with every row of label_embs_concat (targets, final_dim), divided by the
//   logit temperature 0.1; softmax cross-entropy against the k-means targets over the masked frames.
// - CtcHead (fine-tuning): ctc_proj (d_model -> vocab), log-softmax, CTC loss (blank 0) per utterance.
// Both end a model's graph: forward returns the scalar loss (1), and backward(gscale) gives the input gradient of
// gscale * loss and accumulates the head's parameter gradients.
import { ShapeError } from '../gpu/errors.ts';
import { shapeString, type Tensor } from '../gpu/tensor.ts';
import { accumulate, copy, unary } from '../kernels/elementwise.ts';
import { l2Normalize, l2NormalizeBackward } from '../kernels/heads.ts';
import { channelSlice } from '../kernels/layout.ts';
import { crossEntropy, crossEntropyBackward, ctcLoss, logSoftmax, type CrossEntropyResult, type CtcInputs } from '../kernels/loss.ts';
import { matmul } from '../kernels/matmul.ts';
import { sumAll } from '../kernels/reduce.ts';
import { Linear } from '../nn/linear.ts';
import { Saved, type Parameter, type ParameterSet, type Pass } from '../nn/module.ts';
import type { ModelConfig } from './config.ts';

/** fairseq HuBERT's logit_temp. */
export const LOGIT_TEMPERATURE = 0.1;

function checkFrames(name: string, x: Tensor, d: number): number {
  if (x.shape.length !== 3 || x.shape[2] !== d) throw new ShapeError(`${name}: input ${x.name}${shapeString(x.shape)} must be (b, l, d_model=${d})`);
  return x.shape[0] * x.shape[1];
}

export interface MaskedPredictionOutput {
  /** (1) mean cross-entropy over the masked frames. */
  loss: Tensor;
  /** (8) the cross-entropy statistics (see crossEntropy: mean loss, count, correct, ...; readCrossEntropy decodes). */
  stats: Tensor;
}

export class MaskedPredictionHead {
  readonly finalProj: Linear;
  readonly labelEmbs: Parameter;
  private saved = new Saved<{ targets: Tensor; mask: Tensor | undefined; proj: Tensor; embs: Tensor; logits: Tensor; stats: Tensor; lse: Tensor }>();

  constructor(
    params: ParameterSet,
    readonly config: Pick<ModelConfig, 'd_model' | 'final_dim' | 'targets'>,
  ) {
    this.finalProj = new Linear(params, 'final_proj', config.d_model, config.final_dim);
    this.labelEmbs = params.get('label_embs_concat', [config.targets, config.final_dim]);
  }

  /** (rows, targets) logits of x (b, l, d_model); returns them with the projection and the normalised embeddings. */
  private logits(pass: Pass, x: Tensor, rows: number): { proj: Tensor; pn: Tensor; embs: Tensor; logits: Tensor } {
    const { enc } = pass;
    const proj = this.finalProj.forward(pass, x); // (b, l, final_dim)
    const pn = l2Normalize(enc, proj, 1 / LOGIT_TEMPERATURE);
    const embs = l2Normalize(enc, this.labelEmbs.value); // (targets, final_dim)
    const logits = matmul(enc, pn.view([rows, this.config.final_dim]), embs, { transB: true });
    return { proj, pn, embs, logits };
  }

  /**
   * x (b, l, d_model), targets (b, l) or (b * l) integers in [0, targets), mask (b, l) or (b * l) f32 (a frame
   * counts where mask != 0; every frame without a mask). Targets and mask are borrowed until backward.
   */
  forward(pass: Pass, x: Tensor, targets: Tensor, mask?: Tensor): MaskedPredictionOutput {
    const rows = checkFrames('masked prediction head', x, this.config.d_model);
    const { enc, train } = pass;
    const { proj, pn, embs, logits } = this.logits(pass, x, rows);
    const ce: CrossEntropyResult = crossEntropy(enc, logits, targets.view([rows]), { mask: mask?.view([rows]) });
    const loss = channelSlice(enc, ce.stats.view([1, 8]), 0, 1, enc.gpu.tensor([1], 'f32', undefined, 'masked prediction loss'));
    enc.releaseAfter(pn);
    if (train) {
      this.saved.set({ targets, mask, proj, embs, logits, stats: ce.stats, lse: ce.lse }, ['proj', 'embs', 'logits', 'stats', 'lse']);
      return { loss, stats: copy(enc, ce.stats) };
    }
    enc.releaseAfter(proj, embs, logits, ce.lse);
    return { loss, stats: ce.stats };
  }

  /** The gradient of gscale * loss: dx (b, l, d_model); accumulates final_proj's and label_embs_concat's gradients. */
  backward(pass: Pass, gscale = 1): Tensor {
    const { enc } = pass;
    const gpu = enc.gpu;
    const s = this.saved.take(enc, 'masked prediction head');
    const rows = s.logits.shape[0];
    const F = this.config.final_dim;
    const { targets, mask } = s;
    const dlogits = crossEntropyBackward(enc, s.logits, targets.view([rows]), { stats: s.stats, lse: s.lse }, { mask: mask?.view([rows]), gscale });
    // logits = pn embs^T: dpn = dlogits embs, dembs = dlogits^T pn (pn recomputed rather than kept).
    const pn = l2Normalize(enc, s.proj, 1 / LOGIT_TEMPERATURE);
    const dpn = matmul(enc, dlogits, s.embs); // (rows, F)
    const dembs = matmul(enc, dlogits, pn.view([rows, F]), { transA: true }); // (targets, F)
    const dproj = l2NormalizeBackward(enc, s.proj, dpn.view(s.proj.shape), 1 / LOGIT_TEMPERATURE);
    const dE = l2NormalizeBackward(enc, this.labelEmbs.value, dembs);
    accumulate(enc, this.labelEmbs.gradient(gpu), dE);
    const dx = this.finalProj.backward(pass, dproj);
    enc.releaseAfter(dlogits, pn, dpn, dembs, dproj, dE);
    return dx;
  }
}

export interface CtcHeadOptions {
  /** Impossible alignments (target longer than the input allows) give loss 0 and no gradient (default true, as fairseq). */
  zeroInfinity?: boolean;
  /** Divide each utterance's loss by its target length (PyTorch's reduction 'mean'). */
  divideByTargetLength?: boolean;
}

export interface CtcHeadOutput {
  /** (1) the mean over utterances of their CTC loss. */
  loss: Tensor;
  /** (b) each utterance's negative log-likelihood (divided by its target length with divideByTargetLength). */
  nll: Tensor;
  /** Utterances whose targets cannot fit their input length. */
  impossible: number[];
}

export class CtcHead {
  readonly ctcProj: Linear;
  private saved = new Saved<{ grad: Tensor }>();

  constructor(
    params: ParameterSet,
    readonly config: Pick<ModelConfig, 'd_model' | 'vocab'>,
  ) {
    this.ctcProj = new Linear(params, 'ctc_proj', config.d_model, config.vocab);
  }

  /** Inference: x (b, T, d_model) -> log-probabilities (b, T, vocab) for decoding (blank = 0). */
  logProbs(pass: Pass, x: Tensor): Tensor {
    checkFrames('ctc head', x, this.config.d_model);
    const logits = this.ctcProj.forward({ enc: pass.enc, train: false }, x);
    const lp = logSoftmax(pass.enc, logits);
    pass.enc.releaseAfter(logits);
    return lp;
  }

  /** x (b, T, d_model) with the targets and lengths of CtcInputs -> the mean CTC loss (its gradient is kept for backward). */
  forward(pass: Pass, x: Tensor, inputs: CtcInputs, opts: CtcHeadOptions = {}): CtcHeadOutput {
    checkFrames('ctc head', x, this.config.d_model);
    const { enc, train } = pass;
    const b = x.shape[0];
    const logits = this.ctcProj.forward(pass, x); // (b, T, vocab)
    const lp = logSoftmax(enc, logits);
    const r = ctcLoss(enc, lp, inputs, { zeroInfinity: opts.zeroInfinity ?? true, divideByTargetLength: opts.divideByTargetLength, scale: 1 / b });
    const sum = sumAll(enc, r.nll);
    const loss = unary(enc, 'scale', sum, { alpha: 1 / b, out: enc.gpu.tensor([1], 'f32', undefined, 'ctc loss') });
    enc.releaseAfter(logits, lp, sum);
    if (train) this.saved.set({ grad: r.grad }, ['grad']);
    else enc.releaseAfter(r.grad);
    return { loss, nll: r.nll, impossible: r.impossible };
  }

  /** The gradient of gscale * loss: dx (b, T, d_model); accumulates ctc_proj's gradients. */
  backward(pass: Pass, gscale = 1): Tensor {
    const { enc } = pass;
    const { grad } = this.saved.take(enc, 'ctc head');
    // The kernel's gradient is with respect to the pre-softmax logits, so no log-softmax backward is needed.
    const dlogits = gscale === 1 ? grad : unary(enc, 'scale', grad, { alpha: gscale });
    const dx = this.ctcProj.backward(pass, dlogits);
    if (dlogits !== grad) enc.releaseAfter(dlogits);
    return dx;
  }
}
