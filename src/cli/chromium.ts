// Node only: which Chromium the end-to-end tests and browser benchmarks drive, and with which flags.
import { existsSync } from 'node:fs';

/** LAB_CHROMIUM, else Debian's chromium. Playwright's own browser download is not needed. */
export function chromiumPath(): string {
  const path = process.env.LAB_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `No Chromium at ${path}. Install it (Debian: sudo apt-get install chromium, or bash scripts/test-deps.sh) or ` +
        'point LAB_CHROMIUM at a Chrome/Chromium binary (e.g. one from `npx playwright install chromium`).',
    );
  }
  return path;
}

/** Flags that keep headless Chromium quiet on a closed network. */
export const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** WebGPU on; in a headless Chromium without a GPU the adapter is SwiftShader. */
export const WEBGPU_FLAGS = [...QUIET_FLAGS, '--enable-unsafe-webgpu'];
