import { useEffect, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
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
  const failed = checks.filter((c) => !c.passed).length;
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
          {checks.length > 0 && (
            <>
              <p data-testid="selftest-summary" className={failed ? 'bad' : 'good'}>
                {checks.length - failed} passed, {failed} failed
              </p>
              <table data-testid="selftest">
                <thead>
                  <tr>
                    <th>Family</th>
                    <th>Check</th>
                    <th>Result</th>
                    <th>Max rel. error</th>
                    <th>Bound</th>
                  </tr>
                </thead>
                <tbody>
                  {checks.map((c) => (
                    <tr key={`${c.family}/${c.name}`} title={c.error ?? `seed ${c.seed}`}>
                      <td>{c.family}</td>
                      <td>{c.name}</td>
                      <td className={c.passed ? 'good' : 'bad'}>{c.passed ? 'pass' : 'FAIL'}</td>
                      <td className="num">{Number.isFinite(c.maxRelError) ? c.maxRelError.toExponential(2) : c.error ?? '∞'}</td>
                      <td className="num">{c.tolerance.toExponential(0)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
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
          {s.modules && (
            <>
              <p data-testid="modules-summary" className={s.modules.some((m) => !m.passed) ? 'bad' : 'good'}>
                {s.modules.filter((m) => m.passed).length} passed, {s.modules.filter((m) => !m.passed).length} failed
              </p>
              <table data-testid="modules">
                <thead>
                  <tr>
                    <th>Check</th>
                    <th>Result</th>
                    <th>Max rel. error</th>
                    <th>Bound</th>
                  </tr>
                </thead>
                <tbody>
                  {s.modules.map((m) => (
                    <tr key={m.name} title={m.error ?? `seed ${m.seed}`}>
                      <td>{m.name}</td>
                      <td className={m.passed ? 'good' : 'bad'}>{m.passed ? 'pass' : 'FAIL'}</td>
                      <td className="num">{Number.isFinite(m.maxRelError) ? m.maxRelError.toExponential(2) : m.error ?? '∞'}</td>
                      <td className="num">{m.tolerance.toExponential(0)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
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
