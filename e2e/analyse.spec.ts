import { readFile } from 'node:fs/promises';
import { expect, test } from './fixtures.ts';

test('the Analyse page draws phone purity, cluster purity and PNMI for two models side by side and exports CSV', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/#/analyse');
  await expect(page.getByLabel('set', { exact: true })).toContainText('evaluation set (shipped) (100 of 100 aligned)');

  // Two random tiny models (Mamba, Causal Transformer), 8 clusters, 3 utterances to fit and 3 to score, MFCC row.
  for (const m of await page.getByTestId('chosen-models').locator('li').all()) await m.getByRole('button', { name: 'remove' }).click();
  for (const kind of ['mamba', 'causal-transformer']) {
    await page.getByLabel('random kind').selectOption(kind);
    await page.getByLabel('random size').selectOption('tiny');
    await page.getByRole('button', { name: 'Add random model' }).click();
  }
  await expect(page.getByTestId('chosen-models').locator('li')).toHaveText([/random:mamba-tiny/, /random:causal-transformer-tiny/]);
  await page.getByLabel('clusters (K)').fill('8');
  await page.getByLabel('k-means iterations').fill('5');
  await page.getByLabel('utterances per split (0: all)').fill('3');
  await page.getByLabel('MFCC row').check();
  await page.getByRole('button', { name: 'Analyse' }).click();
  await expect(page.getByTestId('notice')).toHaveText(/^Done in \d+ s/, { timeout: 170_000 });

  // Each measure: one line per model with a point per layer (CNN, proj, pos conv, layers 1-4), the MFCC reference line.
  for (const id of ['phone-purity-chart', 'cluster-purity-chart', 'pnmi-chart']) {
    const chart = page.getByTestId(id);
    await expect(chart.locator('.recharts-line')).toHaveCount(2);
    await expect(chart.locator('path.recharts-curve').first()).toHaveAttribute('d', /^M[\d.,\s-]+L/);
    await expect(chart.locator('.recharts-reference-line')).toHaveCount(1);
    await expect(chart.locator('.recharts-legend-wrapper')).toContainText('random:causal-transformer-tiny');
  }
  const rows = page.getByTestId('purity-table').locator('tbody tr');
  await expect(rows).toHaveCount(7 + 7 + 1);
  for (let i = 0; i < 15; i++) {
    const pnmi = Number(await rows.nth(i).locator('td').nth(4).textContent());
    expect(pnmi).toBeGreaterThan(0);
    expect(pnmi).toBeLessThanOrEqual(1);
  }
  await expect(page.getByTestId('heatmap').locator('rect').first()).toBeVisible();
  await page.getByLabel('heat map layer').selectOption({ label: 'CNN' });
  await expect(rows.filter({ hasText: 'CNN' }).first()).toHaveClass(/selected/);

  // CSV: a header and a row per model and layer, the same numbers as the table.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  expect(download.suggestedFilename()).toBe('purity.csv');
  const csv = (await readFile((await download.path())!, 'utf8')).trim().split('\n');
  expect(csv[0]).toBe('model,layer,index,phonePurity,clusterPurity,pnmi,frames,clustersUsed');
  expect(csv).toHaveLength(1 + 15);
  expect(csv[1]).toMatch(/^random:mamba-tiny,CNN,0,0\.\d+,0\.\d+,0\.\d+,\d+,\d+$/);
  expect(csv[15]).toMatch(/^mfcc,MFCC,0,/);
  const firstPnmi = Number(csv[1].split(',')[5]).toFixed(3);
  await expect(rows.nth(0).locator('td').nth(4)).toHaveText(firstPnmi);

  // Results survive a reload; asking again is answered from the cache.
  await page.reload();
  await expect(page.getByTestId('purity-table').locator('tbody tr')).toHaveCount(15);
  await expect(page.getByTestId('pnmi-chart').locator('.recharts-line')).toHaveCount(2);
  await page.getByRole('button', { name: 'Analyse' }).click();
  await expect(page.getByTestId('notice')).toHaveText(/\(3 from the cache\)/, { timeout: 60_000 });

  expect(errors).toEqual([]);
});
