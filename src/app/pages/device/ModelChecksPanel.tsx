import { CheckTable } from '../../components/CheckTable.tsx';
import { useDevice } from '../../stores/device.ts';

/** The checks above the kernels: the same registry as `lab selftest` and the unit tests. */
export function ModelChecksPanel() {
  const s = useDevice();
  return (
    <section className="panel">
      <h2>Module and model checks</h2>
      <p>
        Every module's hand-written backward against finite differences of its forward on tiny shapes; every encoder
        kind's whole backward through the pre-training and CTC losses; streaming against the offline forward for the
        causal models.
      </p>
      <button disabled={!!s.busy} onClick={() => void s.runModelChecks()}>
        Run module and model checks
      </button>
      {s.modelChecks && <CheckTable rows={s.modelChecks} testId="model-checks" />}
    </section>
  );
}
