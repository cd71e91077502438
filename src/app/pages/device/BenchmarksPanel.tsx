import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useDevice } from '../../stores/device.ts';

/** Kernel micro-benchmarks of the chosen families: a table, matmul's GFLOP/s as a chart, the scan's roofline. */
export function BenchmarksPanel() {
  const s = useDevice();
  const [families, setFamilies] = useState<string[]>(['matmul']);
  const matmul = (s.bench?.bench ?? []).filter((b) => b.family === 'matmul' && b.gflops !== undefined);
  return (
    <section className="panel">
      <h2>Benchmarks</h2>
      <fieldset className="families">
        {s.benchFamilies.map((f) => (
          <label key={f}>
            <input
              type="checkbox"
              checked={families.includes(f)}
              onChange={(e) => setFamilies(e.target.checked ? [...families, f] : families.filter((x) => x !== f))}
            />
            {f}
          </label>
        ))}
      </fieldset>
      <button disabled={!!s.busy || families.length === 0} onClick={() => void s.runBench(families)}>
        Run benchmarks
      </button>
      {matmul.length > 0 && (
        <div className="chart" data-testid="matmul-chart">
          <ResponsiveContainer width="100%" height={220}>
            <BarChart data={matmul.map((b) => ({ shape: `${b.name} ${b.shape}`, gflops: Number(b.gflops!.toFixed(2)) }))}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="shape" />
              <YAxis label={{ value: 'GFLOP/s', angle: -90, position: 'insideLeft' }} />
              <Tooltip />
              <Bar dataKey="gflops" fill="#3b6ea5" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
      {s.bench && (
        <table data-testid="bench">
          <thead>
            <tr>
              <th>Kernel</th>
              <th>Shape</th>
              <th>ms</th>
              <th>GFLOP/s</th>
              <th>GB/s</th>
              <th>Timing</th>
            </tr>
          </thead>
          <tbody>
            {s.bench.bench.map((b) => (
              <tr key={`${b.family}/${b.name}/${b.shape}`}>
                <td>{b.name}</td>
                <td>{b.shape}</td>
                <td className="num">{b.oom ? 'out of memory' : b.ms.toFixed(2)}</td>
                <td className="num">{b.gflops?.toFixed(2) ?? ''}</td>
                <td className="num">{b.gbps?.toFixed(2) ?? ''}</td>
                <td>{b.timing}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {s.bench && s.bench.roofline.length > 0 && (
        <>
          <h3>Selective scan against its roofline</h3>
          <p>
            Floor = max(bytes / copy bandwidth {s.bench.roofline[0].copyGBps.toFixed(2)} GB/s, flops / best matmul rate{' '}
            {s.bench.roofline[0].matmulGFLOPs.toFixed(2)} GFLOP/s), both measured in this run.
          </p>
          <table data-testid="roofline">
            <thead>
              <tr>
                <th>Kernel</th>
                <th>Shape</th>
                <th>ms</th>
                <th>Floor (ms)</th>
                <th>Bound</th>
                <th>x floor</th>
              </tr>
            </thead>
            <tbody>
              {s.bench.roofline.map((r) => (
                <tr key={`${r.name}/${r.shape}`}>
                  <td>{r.name}</td>
                  <td>{r.shape}</td>
                  <td className="num">{r.ms.toFixed(1)}</td>
                  <td className="num">{r.floorMs.toFixed(1)}</td>
                  <td>{r.bound}</td>
                  <td className="num">{r.ratio.toFixed(2)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
