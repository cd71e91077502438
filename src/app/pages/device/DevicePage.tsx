import { useEffect } from 'react';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { useDevice } from '../../stores/device.ts';
import { AdapterPanel } from './AdapterPanel.tsx';
import { BenchmarksPanel } from './BenchmarksPanel.tsx';
import { KernelChecksPanel } from './KernelChecksPanel.tsx';
import { ModelChecksPanel } from './ModelChecksPanel.tsx';

async function openAndTest() {
  const store = useDevice.getState();
  if (store.description || store.busy) return;
  await store.describe();
  if (useDevice.getState().description) await useDevice.getState().runKernelChecks();
}

export function DevicePage() {
  const s = useDevice();

  // Open the device and run the kernel self-test once, when the page first shows.
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
  return (
    <div className="page">
      {s.busy && (
        <div className="busy">
          <ProgressBar label={s.busy} progress={s.progress} />
          <button onClick={s.cancel}>Cancel</button>
        </div>
      )}
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
        <>
          <AdapterPanel d={d} />
          <KernelChecksPanel />
          <ModelChecksPanel />
          <BenchmarksPanel />
        </>
      )}
    </div>
  );
}
