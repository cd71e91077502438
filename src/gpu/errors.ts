// Typed errors with messages a person can act on. Every error the lab raises on purpose is a LabError,
// so hosts can show `message` as is and branch on `code`.

export type LabErrorCode =
  | 'no-webgpu'
  | 'adapter-refused'
  | 'device-lost'
  | 'too-large'
  | 'shape'
  | 'non-finite'
  | 'storage-full'
  | 'bad-input';

export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

export class NoWebGPUError extends LabError {
  constructor(where: 'browser' | 'worker' | 'node') {
    const hint =
      where === 'node'
        ? 'Install the npm package "webgpu" (npm ci) and a Vulkan driver: on Debian, the chromium package ships SwiftShader ' +
          '(VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json) and mesa-vulkan-drivers from bookworm-backports ships lavapipe.'
        : 'Open the lab in Chrome or Edge 113 or newer (desktop). On Linux start Chrome with --enable-unsafe-webgpu ' +
          '(or enable chrome://flags/#enable-unsafe-webgpu); in Firefox Nightly set dom.webgpu.enabled.';
    super('no-webgpu', `WebGPU is not available in this ${where}. ${hint}`);
  }
}

export class AdapterRefusedError extends LabError {
  constructor(detail: string) {
    super(
      'adapter-refused',
      `No WebGPU adapter was granted (${detail}). Check that hardware acceleration is on (chrome://settings/system) ` +
        'and that chrome://gpu lists WebGPU as available; a software adapter (SwiftShader) also works, only slower.',
    );
  }
}

export class DeviceLostError extends LabError {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(
      'device-lost',
      `The GPU device was lost (${reason}${detail ? `: ${detail}` : ''}). Nothing was saved by the lost work; ` +
        'recreate the device to go on (training resumes from its last checkpoint).',
    );
  }
}

export class TooLargeError extends LabError {
  constructor(
    readonly what: string,
    readonly bytes: number,
    readonly limit: number,
    readonly limitName: string,
  ) {
    super(
      'too-large',
      `${what} needs ${formatBytes(bytes)} but this device allows at most ${formatBytes(limit)} ` +
        `per buffer (${limitName}). Use shorter audio, a smaller batch, or the tiled attention form.`,
    );
  }
}

export class ShapeError extends LabError {
  constructor(message: string) {
    super('shape', message);
  }
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}
