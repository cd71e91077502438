// The parameter list of a model: names and shapes, derived from the configuration alone. It is the schema
// of a checkpoint and the basis of the parameter counts. Names follow the paper's released code: fairseq's
// HuBERT (feature_extractor, post_extract_proj, encoder.pos_conv, encoder.layers.{i}.self_attn, fc1, fc2, ...)
// and mamba_ssm's Mamba (mixer.in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj), with the bidirectional
// variant's backward parts suffixed `_b` as in Vision Mamba's bimamba (conv1d_b, x_proj_b, dt_proj_b, A_b_log, D_b).
//
// One deliberate difference: fairseq keeps the positional conv under weight normalisation (weight_g, weight_v);
// here it is a plain `encoder.pos_conv.0.weight` (a converter folds g * v / ||v||), 128 fewer parameters.
import { d_inner, type ModelConfig } from './config.ts';

export interface ParameterSpec {
  name: string;
  shape: number[];
  /** Whether AdamW's weight decay applies (not to biases, norms, A_log, D, embeddings). */
  decay: boolean;
}

export interface ParameterOptions {
  /** Include the masked-prediction head (final_proj, label_embs_concat, mask_emb): pre-training. */
  pretrainHead?: boolean;
  /** Include the CTC head (ctc_proj): fine-tuning. */
  ctcHead?: boolean;
}

function linear(name: string, out: number, inp: number, bias = true): ParameterSpec[] {
  const w: ParameterSpec = { name: `${name}.weight`, shape: [out, inp], decay: true };
  return bias ? [w, { name: `${name}.bias`, shape: [out], decay: false }] : [w];
}

function norm(name: string, c: number): ParameterSpec[] {
  return [
    { name: `${name}.weight`, shape: [c], decay: false },
    { name: `${name}.bias`, shape: [c], decay: false },
  ];
}

/** One Mamba mixer's own parameters; `suffix` '_b' gives the backward direction of InnBiMamba. */
function mambaCore(prefix: string, c: ModelConfig, suffix = ''): ParameterSpec[] {
  const di = d_inner(c);
  return [
    { name: `${prefix}.conv1d${suffix}.weight`, shape: [di, 1, c.d_conv], decay: true },
    { name: `${prefix}.conv1d${suffix}.bias`, shape: [di], decay: false },
    ...linear(`${prefix}.x_proj${suffix}`, c.dt_rank + 2 * c.d_state, di, false),
    ...linear(`${prefix}.dt_proj${suffix}`, di, c.dt_rank),
    { name: `${prefix}.${suffix ? 'A_b_log' : 'A_log'}`, shape: [di, c.d_state], decay: false },
    { name: `${prefix}.${suffix ? 'D_b' : 'D'}`, shape: [di], decay: false },
  ];
}

function mamba(prefix: string, c: ModelConfig, bidirectional = false): ParameterSpec[] {
  const di = d_inner(c);
  return [
    ...linear(`${prefix}.in_proj`, 2 * di, c.d_model, false),
    ...mambaCore(prefix, c),
    ...(bidirectional ? mambaCore(prefix, c, '_b') : []),
    ...linear(`${prefix}.out_proj`, c.d_model, di, false),
  ];
}

function encoderLayer(i: number, c: ModelConfig): ParameterSpec[] {
  const p = `encoder.layers.${i}`;
  const out: ParameterSpec[] = [];
  switch (c.kind) {
    case 'transformer':
    case 'causal-transformer':
      for (const proj of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) out.push(...linear(`${p}.self_attn.${proj}`, c.d_model, c.d_model));
      out.push(...norm(`${p}.self_attn_layer_norm`, c.d_model));
      break;
    case 'extbimamba':
      out.push(...mamba(`${p}.mixer`, c), ...mamba(`${p}.mixer_backward`, c), ...norm(`${p}.norm`, c.d_model));
      break;
    case 'innbimamba':
      out.push(...mamba(`${p}.mixer`, c, true), ...norm(`${p}.norm`, c.d_model));
      break;
    default:
      out.push(...mamba(`${p}.mixer`, c), ...norm(`${p}.norm`, c.d_model));
  }
  if (c.ffn > 0) out.push(...linear(`${p}.fc1`, c.ffn, c.d_model), ...linear(`${p}.fc2`, c.d_model, c.ffn), ...norm(`${p}.final_layer_norm`, c.d_model));
  return out;
}

export function parameterSpecs(c: ModelConfig, opts: ParameterOptions = { pretrainHead: true }): ParameterSpec[] {
  const out: ParameterSpec[] = [];
  let cin = 1;
  c.extractor.layers.forEach(([ch, k], i) => {
    out.push({ name: `feature_extractor.conv_layers.${i}.0.weight`, shape: [ch, cin, k], decay: true });
    if (i === 0) out.push(...norm(`feature_extractor.conv_layers.0.2`, ch));
    cin = ch;
  });
  out.push(...norm('layer_norm', cin), ...linear('post_extract_proj', c.d_model, cin));
  out.push(
    { name: 'encoder.pos_conv.0.weight', shape: [c.d_model, c.d_model / c.pos_conv.groups, c.pos_conv.kernel], decay: true },
    { name: 'encoder.pos_conv.0.bias', shape: [c.d_model], decay: false },
  );
  out.push(...norm('encoder.layer_norm', c.d_model));
  for (let i = 0; i < c.n_layers; i++) out.push(...encoderLayer(i, c));
  if (opts.pretrainHead) {
    out.push({ name: 'mask_emb', shape: [c.d_model], decay: false });
    out.push(...linear('final_proj', c.final_dim, c.d_model));
    out.push({ name: 'label_embs_concat', shape: [c.targets, c.final_dim], decay: false });
  }
  if (opts.ctcHead) out.push(...linear('ctc_proj', c.vocab, c.d_model));
  return out;
}

export function countParameters(c: ModelConfig, opts?: ParameterOptions): number {
  return parameterSpecs(c, opts).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}
