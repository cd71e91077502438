import { CheckTable } from '../../components/CheckTable.tsx';
import { useDevice } from '../../stores/device.ts';

/** Every kernel family against its CPU twin (the page runs it once when it first opens the device). */
export function KernelChecksPanel() {
  const s = useDevice();
  return (
    <section className="panel">
      <h2>Kernel self-test</h2>
      <p>Every kernel family on fresh random inputs, against its plain-TypeScript CPU twin.</p>
      <button disabled={!!s.busy} onClick={() => void s.runKernelChecks()}>
        Run self-test
      </button>
      {s.kernelChecks && s.kernelChecks.length > 0 && <CheckTable rows={s.kernelChecks} testId="selftest" />}
    </section>
  );
}
