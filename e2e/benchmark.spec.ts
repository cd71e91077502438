import { expect, test } from './fixtures.ts';

test('a short sweep on the Benchmark page draws both plots and fills the table', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/#/benchmark');
  // mamba and causal-transformer only, tiny, two short lengths
  for (const m of ['transformer', 'extbimamba', 'innbimamba', 'mamba-mlp']) {
    const box = page.getByLabel(m, { exact: true });
    if (await box.isChecked()) await box.uncheck();
  }
  for (const m of ['mamba', 'causal-transformer']) {
    const box = page.getByLabel(m, { exact: true });
    if (!(await box.isChecked())) await box.check();
  }
  await page.getByLabel('lengths').fill('2, 4');
  await page.getByRole('button', { name: 'Run sweep' }).click();
  const rows = page.getByTestId('sweep-table').locator('tbody tr');
  await expect(rows).toHaveCount(4);
  await expect(page.getByRole('button', { name: 'Run sweep' })).toBeEnabled();
  await expect(page.getByTestId('macs-chart').locator('.recharts-line')).toHaveCount(2);
  await expect(page.getByTestId('rtf-chart').locator('.recharts-line')).toHaveCount(2);
  // analytic and counted MACs agree in every row; the RTF is a positive number
  for (let i = 0; i < 4; i++) {
    const cells = rows.nth(i).locator('td');
    await expect(cells.nth(5)).toHaveText((await cells.nth(4).textContent())!);
    expect(Number(await cells.nth(8).textContent())).toBeGreaterThan(0);
  }
  // results survive a reload
  await page.reload();
  await expect(page.getByTestId('sweep-table').locator('tbody tr')).toHaveCount(4);
  expect(errors).toEqual([]);
});
