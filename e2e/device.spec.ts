import { expect, test } from './fixtures.ts';

test('the Device page shows the adapter and a passing self-test', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/#/device');
  const adapter = page.getByTestId('adapter');
  await expect(adapter).toBeVisible();
  await expect(adapter).toContainText(/CPU driver|GPU/);
  const summary = page.getByTestId('selftest-summary');
  await expect(summary).toHaveText(/^\d+ passed, \d+ failed$/);
  // The failing rows, with their errors and seeds, make the failure message.
  const failing = await page.getByTestId('selftest').locator('tr', { has: page.locator('td', { hasText: 'FAIL' }) }).evaluateAll((rows) =>
    rows.map((r) => `${r.textContent} (${r.getAttribute('title')})`),
  );
  expect(failing).toEqual([]);
  await expect(summary).toHaveText(/^\d+ passed, 0 failed$/);
  expect(Number((await summary.textContent())!.split(' ')[0])).toBeGreaterThan(100);
  expect(errors).toEqual([]);
});

test('the matmul benchmark reports GFLOP/s', async ({ page }) => {
  await page.goto('/#/device');
  await expect(page.getByTestId('selftest-summary')).toBeVisible();
  await page.getByRole('button', { name: 'Run benchmarks' }).click();
  const rows = page.getByTestId('bench').locator('tbody tr');
  await expect(rows).toHaveCount(3);
  const gflops = Number(await rows.nth(1).locator('td').nth(3).textContent());
  expect(gflops).toBeGreaterThan(0);
  await expect(page.getByTestId('matmul-chart')).toBeVisible();
});

test('the module and model checks pass in the browser: backward against finite differences, streaming against offline', async ({ page }) => {
  // The whole-model gradient checks of six kinds x two heads take a few minutes on SwiftShader.
  test.setTimeout(600_000);
  await page.goto('/#/device');
  await expect(page.getByTestId('selftest-summary')).toBeVisible();
  await page.getByRole('button', { name: 'Run module and model checks' }).click();
  const summary = page.getByTestId('model-checks-summary');
  await expect(summary).toHaveText(/^\d+ passed, \d+ failed$/, { timeout: 590_000 });
  const failing = await page.getByTestId('model-checks').locator('tr', { has: page.locator('td', { hasText: 'FAIL' }) }).evaluateAll((rows) =>
    rows.map((r) => `${r.textContent} (${r.getAttribute('title')})`),
  );
  expect(failing).toEqual([]);
  const rows = page.getByTestId('model-checks').locator('tbody tr');
  // Every encoder kind with both heads, and streaming for both causal kinds.
  for (const kind of ['mamba', 'extbimamba', 'innbimamba', 'mamba-mlp', 'transformer', 'causal-transformer'])
    for (const head of ['pretrain head', 'CTC head']) await expect(rows.filter({ hasText: `gradCheck HubertModel ${kind} + ${head}` })).toHaveCount(1);
  for (const kind of ['mamba', 'causal-transformer']) await expect(rows.filter({ hasText: `streaming == offline ${kind}` })).toHaveCount(1);
  expect(Number((await summary.textContent())!.split(' ')[0])).toBeGreaterThanOrEqual(30);
});

test('a running check can be cancelled from the Device page', async ({ page }) => {
  await page.goto('/#/device');
  await expect(page.getByTestId('selftest-summary')).toBeVisible();
  await page.getByRole('button', { name: 'Run module and model checks' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert')).toHaveText(/Cancelled\./);
  await expect(page.getByRole('button', { name: 'Run module and model checks' })).toBeEnabled();
});
