import { useState } from 'react';
import { CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Scatter, Tooltip, XAxis, YAxis } from 'recharts';
import { ENCODER_KINDS, SIZES, type EncoderKind, type Size, type SweepRow } from '../../../bench/sweep-types.ts';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { download, toCsv } from '../../export.ts';
import { useBench } from '../../stores/bench.ts';

const COLORS: Record<EncoderKind, string> = {
  mamba: '#2e7d32',
  extbimamba: '#00838f',
  innbimamba: '#6a1b9a',
  'mamba-mlp': '#9e9d24',
  transformer: '#c62828',
  'causal-transformer': '#ef6c00',
};

function parseLengths(text: string): number[] | undefined {
  const xs = text.split(',').map((s) => Number(s.trim()));
  return xs.length > 0 && xs.every((x) => Number.isFinite(x) && x > 0) ? xs : undefined;
}

/** One plot: a metric against audio length (log scale), one line per model, out-of-memory points marked. */
function SweepChart({ rows, metric, label, testId }: { rows: SweepRow[]; metric: 'macsPerSecond' | 'rtf'; label: string; testId: string }) {
  const models = [...new Set(rows.map((r) => r.model))];
  const ok = rows.filter((r) => !r.oom && r[metric] !== null);
  const top = Math.max(...ok.map((r) => r[metric] as number), 0);
  const oom = rows.filter((r) => r.oom).map((r) => ({ seconds: r.seconds, value: top * 1.1, model: r.model }));
  return (
    <div className="chart" data-testid={testId}>
      <h3>{label}</h3>
      <ResponsiveContainer width="100%" height={280}>
        <ComposedChart margin={{ left: 20, right: 20, top: 5, bottom: 20 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            type="number"
            dataKey="seconds"
            scale="log"
            domain={['dataMin', 'dataMax']}
            allowDuplicatedCategory={false}
            label={{ value: 'audio length (s, log scale)', position: 'insideBottom', offset: -10 }}
          />
          <YAxis type="number" dataKey="value" tickFormatter={(v: number) => (metric === 'rtf' ? v.toPrecision(2) : `${(v / 1e9).toPrecision(3)}G`)} />
          <Tooltip formatter={(v) => (metric === 'rtf' ? Number(v).toPrecision(3) : `${(Number(v) / 1e9).toPrecision(4)} GMAC/s`)} />
          <Legend verticalAlign="top" />
          {models.map((m) => (
            <Line
              key={m}
              name={m}
              data={ok.filter((r) => r.model === m).map((r) => ({ seconds: r.seconds, value: r[metric] }))}
              dataKey="value"
              stroke={COLORS[m]}
              dot
              isAnimationActive={false}
            />
          ))}
          {oom.length > 0 && <Scatter name="out of memory" data={oom} dataKey="value" fill="#b71c1c" shape="cross" isAnimationActive={false} />}
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

export function BenchmarkPage() {
  const s = useBench();
  const [lengthText, setLengthText] = useState(s.options.lengths.join(', '));
  const lengths = parseLengths(lengthText);
  const toggle = (m: EncoderKind, on: boolean) =>
    s.setOptions({ models: on ? ENCODER_KINDS.filter((k) => k === m || s.options.models.includes(k)) : s.options.models.filter((k) => k !== m) });

  return (
    <div className="page">
      <section className="panel">
        <h2>Cost against audio length</h2>
        <p>
          The paper's Figure 1 on your GPU: MACs per second of audio and real-time factor (forward time over audio
          duration) as the input grows, with random weights (cost does not depend on their values).
        </p>
        <fieldset className="families" disabled={s.running}>
          {ENCODER_KINDS.map((m) => (
            <label key={m}>
              <input type="checkbox" checked={s.options.models.includes(m)} onChange={(e) => toggle(m, e.target.checked)} />
              {m}
            </label>
          ))}
        </fieldset>
        <fieldset className="families" disabled={s.running}>
          <label>
            Preset{' '}
            <select value={s.options.preset} onChange={(e) => s.setOptions({ preset: e.target.value as Size })}>
              {SIZES.map((z) => (
                <option key={z}>{z}</option>
              ))}
            </select>
          </label>
          <label>
            Lengths (s){' '}
            <input
              aria-label="lengths"
              value={lengthText}
              onChange={(e) => {
                setLengthText(e.target.value);
                const l = parseLengths(e.target.value);
                if (l) s.setOptions({ lengths: l });
              }}
            />
          </label>
          <label>
            Attention{' '}
            <select value={s.options.attention} onChange={(e) => s.setOptions({ attention: e.target.value as 'materialised' | 'tiled' })}>
              <option value="materialised">materialised (as in the paper)</option>
              <option value="tiled">tiled (online softmax)</option>
            </select>
          </label>
        </fieldset>
        {!lengths && <p className="error">Lengths must be positive numbers separated by commas.</p>}
        <button disabled={s.running || !lengths || s.options.models.length === 0} onClick={() => void s.run()}>
          Run sweep
        </button>{' '}
        {s.running && <button onClick={s.cancel}>Cancel</button>}
        {s.running && <ProgressBar label="Sweep" progress={s.progress} />}
        {s.error && (
          <p className="error" role="alert">
            {s.error}
          </p>
        )}
      </section>
      {s.rows.length > 0 && (
        <section className="panel">
          <SweepChart rows={s.rows} metric="macsPerSecond" label="MACs per second of audio" testId="macs-chart" />
          <SweepChart rows={s.rows} metric="rtf" label="Real-time factor" testId="rtf-chart" />
          <button onClick={() => download('sweep.csv', toCsv(s.rows), 'text/csv')}>Export CSV</button>{' '}
          <button onClick={() => download('sweep.json', JSON.stringify(s.rows, null, 2), 'application/json')}>Export JSON</button>{' '}
          <button disabled={s.running} onClick={s.clear}>
            Clear
          </button>
          <table data-testid="sweep-table">
            <thead>
              <tr>
                <th>Model</th>
                <th>Preset</th>
                <th>Audio (s)</th>
                <th>Frames</th>
                <th>GMAC</th>
                <th>GMAC counted</th>
                <th>GMAC/s of audio</th>
                <th>Forward (ms)</th>
                <th>RTF</th>
                <th>Note</th>
              </tr>
            </thead>
            <tbody>
              {s.rows.map((r) => (
                <tr key={`${r.model}/${r.preset}/${r.seconds}/${r.attention}`}>
                  <td>{r.model}</td>
                  <td>{r.preset}</td>
                  <td className="num">{r.seconds}</td>
                  <td className="num">{r.frames}</td>
                  <td className="num">{(r.macs / 1e9).toFixed(3)}</td>
                  <td className="num">{r.macsCounted === null ? '' : (r.macsCounted / 1e9).toFixed(3)}</td>
                  <td className="num">{(r.macsPerSecond / 1e9).toFixed(3)}</td>
                  <td className="num">{r.ms?.toFixed(1) ?? ''}</td>
                  <td className="num">{r.rtf?.toFixed(4) ?? ''}</td>
                  <td className={r.oom ? 'bad' : ''} title={r.oomReason}>
                    {r.oom ? 'out of memory' : r.attention === 'tiled' && r.model.includes('transformer') ? 'tiled attention' : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
