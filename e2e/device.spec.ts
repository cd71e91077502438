import { expect, test } from '@playwright/test';

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

test('the module checks pass in the browser: backward against finite differences, streaming against offline', async ({ page }) => {
  await page.goto('/#/device');
  await expect(page.getByTestId('selftest-summary')).toBeVisible();
  await page.getByRole('button', { name: 'Run module checks' }).click();
  const summary = page.getByTestId('modules-summary');
  await expect(summary).toHaveText(/^\d+ passed, 0 failed$/, { timeout: 170_000 });
  expect(Number((await summary.textContent())!.split(' ')[0])).toBeGreaterThanOrEqual(20);
});
