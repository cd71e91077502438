import { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CheckTable } from '../components/CheckTable.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { useDevice } from '../stores/device.ts';

async function openAndTest() {
  const store = useDevice.getState();
  if (store.description || store.busy) return;
  await store.describe();
  if (useDevice.getState().description) await useDevice.getState().selfTest();
}

export function DevicePage() {
  const s = useDevice();
  const [families, setFamilies] = useState<string[]>(['matmul']);

  // Open the device and run the self-test once, when the page first shows.
  useEffect(() => void openAndTest(), []);

  if (s.error && !s.description) {
    return (
      <section className="panel error" data-testid="webgpu-error">
        <h2>{s.error.code === 'no-webgpu' ? 'WebGPU is not available' : 'No GPU device'}</h2>
        <p>{s.error.message}</p>
        <p>The lab runs every model on your own GPU through WebGPU, so it needs a browser that has it.</p>
        <button onClick={() => void s.describe()}>Try again</button>
      </section>
    );
  }

  const d = s.description;
  const checks = s.checks ?? [];
  const matmul = (s.bench?.bench ?? []).filter((b) => b.family === 'matmul' && b.gflops !== undefined);

  return (
    <div className="page">
      {s.busy && <ProgressBar label={s.busy} progress={s.progress} />}
      {s.error && (
        <p className="error" role="alert">
          {s.error.message}{' '}
          {s.error.code === 'device-lost' && (
            <button disabled={!!s.busy} onClick={() => void s.describe()}>
              Recreate the device
            </button>
          )}
        </p>
      )}
      {d && (
        <section className="panel" data-testid="adapter">
          <h2>Adapter</h2>
          <dl className="facts">
            <dt>Vendor</dt>
            <dd>{d.adapter.vendor || '(not reported)'}</dd>
            <dt>Architecture</dt>
            <dd>{d.adapter.architecture || '(not reported)'}</dd>
            <dt>Description</dt>
            <dd>{d.adapter.description || d.adapter.device || '(not reported)'}</dd>
            <dt>Kind</dt>
            <dd>
              {d.adapter.kind === 'cpu' ? 'CPU driver (register-tiled kernels)' : 'GPU (workgroup-tiled kernels)'}
              {d.adapter.isFallbackAdapter ? ', fallback adapter' : ''}
            </dd>
            <dt>Timing</dt>
            <dd>{d.timing}</dd>
          </dl>
          <details>
            <summary>Limits and features</summary>
            <table>
              <tbody>
                {Object.entries(d.limits).map(([k, v]) => (
                  <tr key={k}>
                    <td>{k}</td>
                    <td className="num">{v.toLocaleString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p>Features: {d.features.join(', ') || 'none'}</p>
          </details>
        </section>
      )}
      {d && (
        <section className="panel">
          <h2>Self-test</h2>
          <p>Every kernel family on fresh random inputs, against its plain-TypeScript CPU twin.</p>
          <button disabled={!!s.busy} onClick={() => void s.selfTest()}>
            Run self-test
          </button>
          {checks.length > 0 && <CheckTable rows={checks} testId="selftest" />}
        </section>
      )}
      {d && (
        <section className="panel">
          <h2>Module checks</h2>
          <p>
            Every module's hand-written backward against finite differences of its forward on tiny shapes, and streaming
            against the offline forward for the causal models.
          </p>
          <button disabled={!!s.busy} onClick={() => void s.moduleChecks()}>
            Run module checks
          </button>
          {s.modules && <CheckTable rows={s.modules} testId="modules" />}
        </section>
      )}
      {d && (
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
      )}
    </div>
  );
}
