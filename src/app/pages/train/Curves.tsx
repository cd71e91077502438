import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StepEvent, TrainEvent } from '../../../train/run.ts';

interface Point {
  step: number;
  loss?: number;
  accuracy?: number;
  lr?: number;
  gradNorm?: number;
  devLoss?: number;
  devAccuracy?: number;
  wer?: number;
  cer?: number;
}

/** One point per update. A resumed run logs again the updates after its checkpoint: the last report wins. */
export function curvePoints(events: readonly TrainEvent[]): Point[] {
  const byStep = new Map<number, Point>();
  const at = (step: number) => byStep.get(step) ?? byStep.set(step, { step }).get(step)!;
  for (const e of events) {
    if (e.kind === 'step') Object.assign(at(e.step), { loss: e.loss, accuracy: e.accuracy, lr: e.lr, gradNorm: e.gradNorm > 0 ? e.gradNorm : undefined });
    else if (e.kind === 'eval') Object.assign(at(e.step), { devLoss: e.loss, devAccuracy: e.accuracy, wer: e.wer, cer: e.cer });
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

export function lastStep(events: readonly TrainEvent[]): StepEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i].kind === 'step') return events[i] as StepEvent;
  return undefined;
}

interface Series {
  key: keyof Point;
  name: string;
  color: string;
}

function Chart({ title, points, series, testId, log, percent }: { title: string; points: Point[]; series: Series[]; testId: string; log?: boolean; percent?: boolean }) {
  const shown = series.filter((s) => points.some((p) => p[s.key] !== undefined));
  const format = (v: number) => (percent ? `${(100 * v).toFixed(1)}%` : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());
  return (
    <div className="chart" data-testid={testId}>
      <h3>{title}</h3>
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={points} margin={{ left: 10, right: 20, top: 5, bottom: 15 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} label={{ value: 'update', position: 'insideBottom', offset: -8 }} />
          <YAxis type="number" scale={log ? 'log' : 'auto'} domain={log ? ['auto', 'auto'] : [0, 'auto']} tickFormatter={format} width={60} />
          <Tooltip formatter={(v) => format(Number(v))} labelFormatter={(s) => `update ${s}`} />
          <Legend verticalAlign="top" />
          {shown.map((s) => (
            <Line key={s.key} dataKey={s.key} name={s.name} stroke={s.color} dot={points.length < 30} connectNulls isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Loss; masked accuracy (pre-training) or dev WER/CER (CTC, with the frame-target accuracy of its auxiliary loss); learning rate; gradient norm. */
export function Curves({ events, ctc }: { events: readonly TrainEvent[]; ctc: boolean }) {
  const points = curvePoints(events);
  if (points.length === 0) return null;
  return (
    <div className="curves">
      <Chart
        title="Loss"
        testId="loss-chart"
        points={points}
        series={[
          { key: 'loss', name: ctc ? 'train CTC loss' : 'train masked loss', color: '#3b6ea5' },
          { key: 'devLoss', name: 'dev masked loss', color: '#c0392b' },
        ]}
      />
      {ctc && points.some((p) => p.accuracy !== undefined) && (
        <Chart
          title="Frame-target accuracy (auxiliary loss)"
          testId="accuracy-chart"
          points={points}
          percent
          series={[{ key: 'accuracy', name: 'train', color: '#3b6ea5' }]}
        />
      )}
      {ctc ? (
        <Chart
          title="Dev error rates"
          testId="wer-chart"
          points={points}
          percent
          series={[
            { key: 'wer', name: 'WER', color: '#c0392b' },
            { key: 'cer', name: 'CER', color: '#ef6c00' },
          ]}
        />
      ) : (
        <Chart
          title="Masked-frame accuracy"
          testId="accuracy-chart"
          points={points}
          percent
          series={[
            { key: 'accuracy', name: 'train', color: '#3b6ea5' },
            { key: 'devAccuracy', name: 'dev', color: '#c0392b' },
          ]}
        />
      )}
      <Chart title="Learning rate" testId="lr-chart" points={points} series={[{ key: 'lr', name: 'learning rate', color: '#2e7d32' }]} />
      <Chart title="Gradient norm (before clipping, log scale)" testId="gradnorm-chart" points={points} log series={[{ key: 'gradNorm', name: '|g|', color: '#6a1b9a' }]} />
    </div>
  );
}
