// Kernel benchmarks inside a browser page, driven by `npm run lab -- bench-browser`: our kernels and, where a
// peer implementation exists, TensorFlow.js's WebGPU backend on the same adapter, in the same run.
import { describeDevice } from '../../src/bench/device-report.ts';
import { openDevice } from '../../src/gpu/device.ts';
import { runBenchReport } from '../../src/kernels/suite.ts';

declare global {
  interface Window {
    benchResult?: unknown;
    benchError?: string;
  }
}

async function main() {
  const q = new URLSearchParams(location.search);
  const families = (q.get('families') ?? 'matmul').split(',');
  const out = document.getElementById('out')!;
  const gpu = await openDevice(navigator.gpu, { where: 'browser' });
  const progress = (done: number, total: number, label: string) => (out.textContent = `${done}/${total} ${label}`);
  const ours = await runBenchReport(gpu, families, { onProgress: progress });
  const peers = q.get('peers') === '0' ? [] : await (await import('./peers.ts')).peerBenches(families, progress);
  window.benchResult = { ...describeDevice(gpu), ...ours, peers };
  out.textContent = JSON.stringify(window.benchResult, null, 2);
}

main().catch((e) => {
  window.benchError = String((e as Error)?.message ?? e);
});
