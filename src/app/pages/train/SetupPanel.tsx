import { checkSettings, type TrainSettings } from '../../../train/settings.ts';
import type { CheckpointRef } from '../../../workers/train.worker.ts';
import { CHOICES, needsCheckpoint, useTrain, type Choice } from '../../stores/train.ts';

type NumberKey = { [K in keyof TrainSettings]-?: TrainSettings[K] extends number ? K : never }[keyof TrainSettings];

interface Field {
  key: NumberKey;
  label: string;
  step?: string;
  when?: (c: Choice) => boolean;
}

const FIELDS: Field[] = [
  { key: 'steps', label: 'updates' },
  { key: 'batchSeconds', label: 'batch seconds', step: 'any' },
  { key: 'accumulate', label: 'micro-batches per update' },
  { key: 'lr', label: 'peak learning rate', step: 'any' },
  { key: 'warmup', label: 'warm-up updates' },
  { key: 'auxWeight', label: 'frame-target loss weight (0: off)', step: 'any', when: (c) => c === 'ctc' || c === 'finetune' },
  { key: 'clusters', label: 'k-means clusters (frame targets)' },
  { key: 'layer', label: 'teacher layer', when: (c) => c === 'pretrain2' },
  { key: 'freezeEncoderSteps', label: 'updates with the encoder frozen', when: (c) => c === 'finetune' },
  { key: 'evalEvery', label: 'evaluate every' },
  { key: 'saveEvery', label: 'save every' },
  { key: 'devLimit', label: 'dev utterances (0: all)' },
  { key: 'seed', label: 'seed' },
];

const refKey = (r: CheckpointRef) => JSON.stringify(r);

/** Checkpoints a run of this choice may start from: iteration 2 wants an iteration-1 model, fine-tuning a pre-trained one. */
function useStartingPoints(choice: Choice): { ref: CheckpointRef; label: string }[] {
  const { runs, uploads } = useTrain();
  const out: { ref: CheckpointRef; label: string }[] = [];
  for (const r of runs) {
    if (r.meta?.stage !== 'pretrain' || (choice === 'pretrain2' && r.meta.iteration !== 1)) continue;
    for (const c of [...r.checkpoints].reverse()) out.push({ ref: { run: r.name, name: c.name }, label: `${r.name} / ${c.name}` });
    if (r.best) out.push({ ref: { run: r.name, name: 'best.safetensors' }, label: `${r.name} / best.safetensors` });
  }
  for (const u of uploads) if (u.pretrainHead) out.push({ ref: { upload: u.name }, label: `uploaded ${u.name} (${u.model})` });
  return out;
}

/** Stage, model, starting checkpoint and hyper-parameters; the Start button. */
export function SetupPanel() {
  const s = useTrain();
  const f = s.form;
  const points = useStartingPoints(f.choice);
  const fromKey = f.from ? refKey(f.from) : '';
  const from = points.find((p) => refKey(p.ref) === fromKey);
  let invalid: string | undefined;
  try {
    checkSettings(f.settings);
  } catch (e) {
    invalid = (e as Error).message;
  }
  if (!invalid && needsCheckpoint(f.choice) && !from) {
    invalid = f.choice === 'finetune' ? 'Fine-tuning needs a pre-trained checkpoint: train one first or upload one.' : 'Iteration 2 needs an iteration-1 checkpoint: run iteration 1 first or upload one.';
  }
  if (!invalid && !s.corpora.some((c) => c.id === f.corpus)) invalid = 'Choose a corpus.';
  const presets = s.presets.filter((p) => p.kind === f.kind);

  return (
    <section className="panel">
      <h2>Run</h2>
      <fieldset className="families" disabled={!!s.busy}>
        <label>
          Stage{' '}
          <select aria-label="stage" value={f.choice} onChange={(e) => s.setChoice(e.target.value as Choice)}>
            {Object.entries(CHOICES).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        {needsCheckpoint(f.choice) ? (
          <label>
            From{' '}
            <select aria-label="from checkpoint" value={from ? fromKey : ''} onChange={(e) => s.setForm({ from: e.target.value ? (JSON.parse(e.target.value) as CheckpointRef) : undefined })}>
              <option value="">choose a checkpoint</option>
              {points.map((p) => (
                <option key={refKey(p.ref)} value={refKey(p.ref)}>
                  {p.label}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <>
            <label>
              Model{' '}
              <select aria-label="model kind" value={f.kind} onChange={(e) => s.setForm({ kind: e.target.value as typeof f.kind })}>
                {[...new Set(s.presets.map((p) => p.kind))].map((k) => (
                  <option key={k}>{k}</option>
                ))}
              </select>
            </label>
            <label>
              Size{' '}
              <select aria-label="model size" value={f.size} onChange={(e) => s.setForm({ size: e.target.value as typeof f.size })}>
                {presets.map((p) => (
                  <option key={p.size} value={p.size}>
                    {p.size} ({(p.parameters / 1e6).toFixed(1)} M parameters)
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
      </fieldset>
      <fieldset className="settings" disabled={!!s.busy}>
        {FIELDS.filter((x) => !x.when || x.when(f.choice)).map((x) => (
          <label key={x.key}>
            {x.label}
            <input
              type="number"
              aria-label={x.label}
              step={x.step ?? '1'}
              value={Number.isFinite(f.settings[x.key]) ? String(f.settings[x.key]) : ''}
              onChange={(e) => s.setSetting(x.key, e.target.value === '' ? NaN : Number(e.target.value))}
            />
          </label>
        ))}
      </fieldset>
      {invalid && <p className="error">{invalid}</p>}
      <button disabled={!!s.busy || !!invalid} onClick={() => void s.start()}>
        Start training
      </button>{' '}
      <label className="button">
        Upload a .safetensors
        <input
          type="file"
          aria-label="upload checkpoint"
          accept=".safetensors"
          hidden
          disabled={!!s.busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void s.upload(file);
            e.target.value = '';
          }}
        />
      </label>
    </section>
  );
}
