import { expect, test } from './fixtures.ts';

test('without WebGPU the Device page says so and what to do', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/#/device');
  const box = page.getByTestId('webgpu-error');
  await expect(box).toBeVisible();
  await expect(box).toContainText(/WebGPU is not available|No GPU device/);
  await expect(box).toContainText(/Chrome|adapter/);
  expect(errors).toEqual([]);
});
