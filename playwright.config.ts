import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

// The browser: LAB_CHROMIUM, else Debian's chromium. Playwright's own browser download does not work on
// machines without general network access, so the path is explicit.
export const chromiumPath = process.env.LAB_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  throw new Error(
    `No Chromium at ${chromiumPath}. Install it (Debian: sudo apt-get install chromium) or point LAB_CHROMIUM at ` +
      'a Chrome/Chromium binary (e.g. one from `npx playwright install chromium`).',
  );
}

// Flags that keep headless Chromium quiet on a closed network; WebGPU is added per project.
const quiet = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 120_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: { baseURL: 'http://localhost:4173', launchOptions: { executablePath: chromiumPath } },
  webServer: { command: 'npx vite preview --port 4173 --strictPort', url: 'http://localhost:4173', reuseExistingServer: !process.env.CI },
  projects: [
    {
      name: 'webgpu',
      testIgnore: /no-webgpu/,
      use: { launchOptions: { executablePath: chromiumPath, args: [...quiet, '--enable-unsafe-webgpu'] } },
    },
    {
      name: 'no-webgpu',
      testMatch: /no-webgpu/,
      use: { launchOptions: { executablePath: chromiumPath, args: [...quiet, '--disable-features=WebGPU,Vulkan'] } },
    },
  ],
});
