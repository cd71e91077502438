import { defineConfig } from 'vitest/config';
import { chooseVulkanDriver } from './src/gpu/vulkan-driver.ts';

// Set in the main process so every worker inherits it (test.env does not reach the threads pool).
chooseVulkanDriver();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
