import type { DeviceDescription } from '../../../workers/device.worker.ts';

/** What the adapter is, how kernels are timed on it, and its limits and features. */
export function AdapterPanel({ d }: { d: DeviceDescription }) {
  return (
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
  );
}
