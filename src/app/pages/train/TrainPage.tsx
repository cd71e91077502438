import { useEffect } from 'react';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { useTrain } from '../../stores/train.ts';
import { CorpusPanel } from './CorpusPanel.tsx';
import { Curves, lastStep } from './Curves.tsx';
import { RunsPanel } from './RunsPanel.tsx';
import { SetupPanel } from './SetupPanel.tsx';

function duration(s: number): string {
  if (!Number.isFinite(s)) return '';
  return s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`;
}

/** The selected run: live numbers, pause/cancel while it trains, and its curves. */
function RunView() {
  const s = useTrain();
  const run = s.runs.find((r) => r.name === s.selected);
  const training = !!s.active && s.active === s.selected;
  const last = lastStep(s.events);
  const ctc = run?.meta ? run.meta.stage !== 'pretrain' : s.events.some((e) => e.kind === 'eval' && e.wer !== undefined);
  const notes = s.events.filter((e) => e.kind === 'note').slice(-3);
  if (!s.selected && s.busy !== 'train') return null;
  return (
    <section className="panel" data-testid="run-view">
      <h2>{s.selected ?? 'Starting…'}</h2>
      {s.busy === 'train' && (
        <div className="busy">
          <ProgressBar label={last ? `Update ${last.step} of ${last.steps}` : 'Preparing'} progress={last ? { done: last.step, total: last.steps, label: `loss ${last.loss.toFixed(4)}` } : s.progress} />
          <button disabled={!!s.stopping} onClick={s.pause} title="Stop after this update and save a checkpoint">
            Pause
          </button>
          <button className="quiet" disabled={s.stopping === 'cancel'} onClick={s.cancel} title="Stop without saving another checkpoint">
            Cancel
          </button>
        </div>
      )}
      {last && (
        <dl className="facts stats" data-testid="run-stats">
          <dt>Update</dt>
          <dd>
            {last.step} of {last.steps}
          </dd>
          <dt>Loss</dt>
          <dd>{last.loss.toFixed(4)}</dd>
          <dt>Audio per second</dt>
          <dd>{last.rate.toFixed(2)} s of audio trained per second</dd>
          {training && (
            <>
              <dt>Time left</dt>
              <dd>{duration(last.eta)}</dd>
            </>
          )}
          <dt>GPU memory</dt>
          <dd>{(last.gpuBytes / 2 ** 20).toFixed(1)} MiB in tensors</dd>
        </dl>
      )}
      {notes.length > 0 && (
        <ul className="notes">
          {notes.map((n, i) => (
            <li key={i}>{n.kind === 'note' && n.message}</li>
          ))}
        </ul>
      )}
      <Curves events={s.events} ctc={ctc} />
    </section>
  );
}

export function TrainPage() {
  const s = useTrain();
  useEffect(() => {
    if (!useTrain.getState().loaded) void useTrain.getState().load();
  }, []);
  return (
    <div className="page">
      {s.busy && s.busy !== 'train' && <ProgressBar label={s.busy === 'import' ? 'Importing' : 'Checking the checkpoint'} progress={s.progress} />}
      {s.error && (
        <p className="error" role="alert" data-testid="error">
          {s.error.message}{' '}
          {s.error.run && s.runs.some((r) => r.name === s.error?.run && r.checkpoints.length > 0) && (
            <button disabled={!!s.busy} onClick={() => void s.resume(s.error!.run!)}>
              Resume from the last checkpoint
            </button>
          )}
        </p>
      )}
      {s.notice && (
        <p className="notice" role="status" data-testid="notice">
          {s.notice}
        </p>
      )}
      <CorpusPanel />
      <SetupPanel />
      <RunView />
      <RunsPanel />
    </div>
  );
}
