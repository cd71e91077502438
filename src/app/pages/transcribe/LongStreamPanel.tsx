import { CartesianGrid, Legend, Line, LineChart, ReferenceDot, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { StreamPoint } from '../../../workers/asr.worker.ts';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { download, toCsv } from '../../export.ts';
import { CHUNK_MS, useTranscribe, type ChunkMs, type LongSeries } from '../../stores/transcribe.ts';

const COLORS: Record<string, string> = { mamba: '#3b6ea5', 'causal-transformer': '#c0392b' };
const colorOf = (preset: string) => COLORS[preset.replace(/-(tiny|small|base)$/, '')] ?? '#5a6575';
/** Points drawn per line: longer runs are averaged in buckets (the store keeps every chunk). */
const MAX_POINTS = 300;

function decimate(points: readonly StreamPoint[]): StreamPoint[] {
  if (points.length <= MAX_POINTS) return [...points];
  const per = Math.ceil(points.length / MAX_POINTS);
  const out: StreamPoint[] = [];
  for (let i = 0; i < points.length; i += per) {
    const b = points.slice(i, i + per);
    out.push({ t: b[b.length - 1].t, computeMs: b.reduce((a, p) => a + p.computeMs, 0) / b.length, stateBytes: b[b.length - 1].stateBytes });
  }
  return out;
}

/** The y range: the first chunks compile pipelines (seconds), which would flatten the rest; clip at a high percentile. */
function upper(series: readonly LongSeries[], key: 'computeMs' | 'stateMiB'): number | 'auto' {
  const v = series.flatMap((s) => s.points.slice(3).map((p) => (key === 'computeMs' ? p.computeMs : p.stateBytes / 2 ** 20))).sort((a, b) => a - b);
  if (v.length < 5) return 'auto';
  return Math.max(v[Math.floor(v.length * 0.99)] * 1.2, 1e-3);
}

export function StreamChart({ series, metric, title, testId }: { series: LongSeries[]; metric: 'computeMs' | 'stateMiB'; title: string; testId: string }) {
  const y = (p: StreamPoint) => (metric === 'computeMs' ? p.computeMs : p.stateBytes / 2 ** 20);
  const top = upper(series, metric);
  return (
    <div className="chart" data-testid={testId}>
      <h3>{title}</h3>
      <ResponsiveContainer width="100%" height={240}>
        <LineChart margin={{ left: 10, right: 30, top: 5, bottom: 15 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="t" type="number" domain={[0, 'auto']} label={{ value: 'stream time (s)', position: 'insideBottom', offset: -8 }} allowDuplicatedCategory={false} />
          <YAxis type="number" domain={[0, top]} allowDataOverflow tickFormatter={(v: number) => (metric === 'computeMs' ? v.toFixed(0) : v.toFixed(2))} width={55} label={{ value: metric === 'computeMs' ? 'ms' : 'MiB', angle: -90, position: 'insideLeft' }} />
          <Tooltip formatter={(v) => Number(v).toFixed(metric === 'computeMs' ? 1 : 3)} labelFormatter={(t) => `${Number(t).toFixed(1)} s`} />
          <Legend verticalAlign="top" />
          {series.map((s) => (
            <Line key={s.preset} data={decimate(s.points).map((p) => ({ t: p.t, v: y(p) }))} dataKey="v" name={s.preset} stroke={colorOf(s.preset)} dot={false} isAnimationActive={false} />
          ))}
          {series
            .filter((s) => s.oom)
            .map((s) => {
              const last = s.points[s.points.length - 1];
              const yv = last ? Math.min(y(last), typeof top === 'number' ? top : Infinity) : 0;
              return <ReferenceDot key={`oom-${s.preset}`} x={s.oom!.t} y={yv} r={6} fill={colorOf(s.preset)} stroke="black" label={{ value: 'out of memory', position: 'top', fontSize: 12 }} ifOverflow="extendDomain" />;
            })}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Mamba against the Causal Transformer over a long stream: compute per chunk and carried state against stream time. */
export function LongStreamPanel() {
  const s = useTranscribe();
  const l = s.long;
  const busy = s.status !== 'idle' || !!s.file;
  return (
    <section className="panel" data-testid="long-stream">
      <h2>Long stream: the cost of remembering</h2>
      <p className="hint">
        A looped recording streams through Mamba and the Causal Transformer (random initial values: the costs do not depend on the weights) as fast as
        the device goes. Mamba carries a fixed state, so its compute per chunk stays flat; the Transformer's KV cache grows with every chunk, and so
        does its cost, until the device runs out of memory (marked).
      </p>
      <fieldset className="settings" disabled={l.running}>
        <label>
          stream length (s)
          <input aria-label="stream seconds" type="number" min={1} value={l.seconds} onChange={(e) => s.setLong({ seconds: Math.max(1, Math.round(Number(e.target.value) || 0)) })} />
        </label>
        <label>
          chunk
          <select aria-label="long stream chunk" value={l.chunkMs} onChange={(e) => s.setLong({ chunkMs: Number(e.target.value) as ChunkMs })}>
            {CHUNK_MS.map((c) => (
              <option key={c} value={c}>
                {c} ms
              </option>
            ))}
          </select>
        </label>
        <label>
          model size
          <select aria-label="long stream size" value={l.size} onChange={(e) => s.setLong({ size: e.target.value as 'tiny' | 'small' })}>
            <option>tiny</option>
            <option>small</option>
          </select>
        </label>
      </fieldset>
      <button disabled={l.running || busy} onClick={() => void s.runLong()}>
        Run the long stream
      </button>{' '}
      {l.running && (
        <button className="quiet" onClick={s.cancelLong}>
          Cancel
        </button>
      )}
      {l.running && <ProgressBar label="Streaming" progress={l.progress} />}
      {l.source && <p className="hint">Audio: {l.source}.</p>}
      {l.series.some((x) => x.points.length > 0) && (
        <div className="curves">
          <StreamChart series={l.series} metric="computeMs" title="Compute time per chunk" testId="long-compute-chart" />
          <StreamChart series={l.series} metric="stateMiB" title="Carried state" testId="long-state-chart" />
        </div>
      )}
      {!l.running && l.series.some((x) => x.points.length > 0) && (
        <div className="actions" data-testid="long-downloads">
          <button className="quiet" onClick={() => download('long-stream.json', `${JSON.stringify({ chunkMs: l.chunkMs, size: l.size, source: l.source, series: l.series }, null, 1)}\n`, 'application/json')}>
            Download JSON
          </button>
          <button className="quiet" onClick={() => download('long-stream.csv', toCsv(l.series.flatMap((x) => x.points.map((p) => ({ preset: x.preset, t: p.t, computeMs: p.computeMs, stateBytes: p.stateBytes })))), 'text/csv')}>
            Download CSV
          </button>
        </div>
      )}
      {l.series
        .filter((x) => x.oom)
        .map((x) => (
          <p key={x.preset} className="bad" data-testid="oom">
            {x.preset} ran out of memory after {x.oom!.t.toFixed(1)} s of stream: {x.oom!.message}
          </p>
        ))}
    </section>
  );
}
