import { readFile } from 'node:fs/promises';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

/** Short runs on the shipped eval set: the tiny preset, 3-second batches, two updates, two dev utterances. */
async function setShortRun(page: Page, extra: Record<string, string> = {}) {
  const values: Record<string, string> = { updates: '2', 'batch seconds': '3', 'warm-up updates': '1', 'evaluate every': '2', 'save every': '2', 'dev utterances (0: all)': '2', ...extra };
  for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: true }).fill(value);
}

/** The line of a chart is drawn: an SVG path with data. */
async function expectCurve(page: Page, testId: string) {
  const path = page.getByTestId(testId).locator('path.recharts-curve').first();
  await expect(path).toHaveAttribute('d', /^M[\d.,\s-]+L/);
}

test('pre-train on the eval set, fine-tune from its checkpoint, see the curves, download a checkpoint', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/#/train');
  await expect(page.getByLabel('corpus', { exact: true })).toContainText('evaluation set');

  // Pre-training, iteration 1: MFCC k-means targets (8 clusters), two updates.
  await page.getByLabel('stage', { exact: true }).selectOption('pretrain1');
  await page.getByLabel('model kind').selectOption('mamba');
  await page.getByLabel('model size').selectOption('tiny');
  await setShortRun(page, { 'k-means clusters (frame targets)': '8' });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByTestId('notice')).toHaveText(/^Done: 2 updates/, { timeout: 150_000 });
  await expectCurve(page, 'loss-chart');
  await expectCurve(page, 'accuracy-chart');
  await expectCurve(page, 'lr-chart');
  await expectCurve(page, 'gradnorm-chart');
  await expect(page.getByTestId('run-stats')).toContainText(/s of audio trained per second/);
  const pretrainRun = page.getByTestId('runs').locator('tbody tr').filter({ hasText: 'pre-training 1' });
  await expect(pretrainRun).toContainText('step-0000002.safetensors');

  // Fine-tuning from that run's last checkpoint: CTC with the auxiliary frame loss (its own 8 k-means targets), two
  // updates, dev WER and the frame-target accuracy.
  await pretrainRun.getByRole('button', { name: 'Fine-tune this' }).click();
  await expect(page.getByLabel('stage', { exact: true })).toHaveValue('finetune');
  await expect(page.getByLabel('from checkpoint')).toContainText('step-0000002.safetensors');
  await setShortRun(page, { 'updates with the encoder frozen': '1', 'frame-target loss weight (0: off)': '0.3', 'k-means clusters (frame targets)': '8' });
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByTestId('notice')).toHaveText(/^Done: 2 updates/, { timeout: 150_000 });
  await expectCurve(page, 'loss-chart');
  await expect(page.getByTestId('wer-chart')).toBeVisible();
  await expectCurve(page, 'accuracy-chart');
  await expectCurve(page, 'lr-chart');

  // The fine-tuned checkpoint downloads as safetensors: an 8-byte little-endian header length, then JSON.
  const finetuneRun = page.getByTestId('runs').locator('tbody tr').filter({ hasText: 'fine-tuning' });
  const [download] = await Promise.all([page.waitForEvent('download'), finetuneRun.getByRole('button', { name: 'step-0000002.safetensors' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^finetune-mamba-tiny-.*-step-0000002\.safetensors$/);
  const bytes = await readFile((await download.path())!);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  expect(headerLength).toBeGreaterThan(2);
  expect(headerLength + 8).toBeLessThan(bytes.length);
  expect(String.fromCharCode(bytes[8])).toBe('{');
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  expect(JSON.parse(header.__metadata__.train).step).toBe(2);

  // After a reload the runs are listed again from OPFS and the selected run's curves come back from its log.
  await page.reload();
  await expect(page.getByTestId('runs').locator('tbody tr')).toHaveCount(2);
  await expectCurve(page, 'loss-chart');

  expect(errors).toEqual([]);
});
