import type { RunInfo } from '../../../workers/train.worker.ts';
import { settingsFor, useTrain } from '../../stores/train.ts';

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** A run can go on when its newest checkpoint is short of its length. */
export function resumable(r: RunInfo): boolean {
  const last = r.checkpoints[r.checkpoints.length - 1];
  return !!r.meta && !!last && last.step < (r.meta.settings.steps ?? r.steps);
}

function stageOf(r: RunInfo): string {
  const m = r.meta;
  if (!m) return '';
  return m.stage === 'pretrain' ? `pre-training ${m.iteration}` : m.stage === 'finetune' ? 'fine-tuning' : 'CTC';
}

/** Runs kept in this browser: their checkpoints (download, resume), and uploaded checkpoints. */
export function RunsPanel() {
  const s = useTrain();
  if (s.runs.length === 0 && s.uploads.length === 0) return null;
  return (
    <section className="panel">
      <h2>Runs in this browser</h2>
      <table data-testid="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Stage</th>
            <th>Model</th>
            <th>Corpus</th>
            <th>Updates</th>
            <th>Checkpoints</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {s.runs.map((r) => (
            <tr key={r.name} className={r.name === s.selected ? 'selected' : undefined} data-run={r.name}>
              <td>
                <button className="link" onClick={() => void s.select(r.name)} title="Show this run's curves">
                  {r.name}
                </button>
              </td>
              <td>{stageOf(r)}</td>
              <td>{r.meta?.model}</td>
              <td>{r.meta?.corpusLabel}</td>
              <td className="num">
                {r.step}/{r.meta?.settings.steps ?? r.steps}
                {s.active === r.name ? ' (training)' : ''}
              </td>
              <td>
                {[...r.checkpoints.map((c) => ({ name: c.name, bytes: c.bytes })), ...(r.best ? [{ name: 'best.safetensors', bytes: r.best.bytes }] : [])].map((c) => (
                  <div key={c.name}>
                    <button className="link" title={`Download ${mib(c.bytes)}`} onClick={() => void s.download(r.name, c.name)}>
                      {c.name}
                    </button>
                  </div>
                ))}
              </td>
              <td>
                {resumable(r) && (
                  <button disabled={!!s.busy} onClick={() => void s.resume(r.name)}>
                    Resume
                  </button>
                )}{' '}
                {r.meta?.stage === 'pretrain' && r.checkpoints.length > 0 && (
                  <button
                    disabled={!!s.busy}
                    onClick={() => {
                      const last = r.checkpoints[r.checkpoints.length - 1];
                      s.setForm({ choice: 'finetune', settings: settingsFor('finetune'), from: { run: r.name, name: last.name } });
                    }}
                  >
                    Fine-tune this
                  </button>
                )}{' '}
                <button className="quiet" disabled={s.active === r.name} onClick={() => void s.removeRun(r.name)}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {s.uploads.length > 0 && (
        <>
          <h3>Uploaded checkpoints</h3>
          <table data-testid="uploads">
            <tbody>
              {s.uploads.map((u) => (
                <tr key={u.name}>
                  <td>{u.name}</td>
                  <td>{u.model}</td>
                  <td>{u.training ? `${u.training.stage} at update ${u.training.step} of ${u.training.steps}` : 'parameters only'}</td>
                  <td>
                    {u.training && u.training.step < u.training.steps && (
                      <button disabled={!!s.busy} onClick={() => void s.resumeUpload(u.name)} title="Continue its training on the chosen corpus">
                        Resume
                      </button>
                    )}{' '}
                    {u.pretrainHead && (
                      <button disabled={!!s.busy} onClick={() => s.setForm({ choice: 'finetune', settings: settingsFor('finetune'), from: { upload: u.name } })}>
                        Fine-tune this
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
