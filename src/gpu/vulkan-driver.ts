// Node only: which Vulkan driver Dawn should use on a machine without a GPU.
import { existsSync } from 'node:fs';

/** Known CPU Vulkan drivers, fastest first: Mesa's lavapipe (bookworm-backports), Chromium's SwiftShader. */
const CPU_DRIVERS = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/lib/chromium/vk_swiftshader_icd.json'];

/**
 * Set VK_ICD_FILENAMES to the fastest known CPU driver unless the user chose one, or asked for the
 * system's own Vulkan loader search (LAB_SYSTEM_VULKAN=1, for machines with a real GPU).
 */
export function chooseVulkanDriver(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.VK_ICD_FILENAMES && !env.LAB_SYSTEM_VULKAN) {
    const icd = CPU_DRIVERS.find((p) => existsSync(p));
    if (icd) env.VK_ICD_FILENAMES = icd;
  }
  env.XDG_RUNTIME_DIR ??= '/tmp';
}
