// Pipeline cache: one compiled pipeline per (shader, entry point, override constants).
// Shader modules are compiled once per source text.

export type Constants = Record<string, number | boolean>;

export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private families = new WeakMap<GPUComputePipeline, string>();

  constructor(private device: GPUDevice) {}

  get(shader: string, entryPoint: string, constants: Constants = {}): GPUComputePipeline {
    const keys = Object.keys(constants).sort();
    const key = `${hash(shader)}|${entryPoint}|${keys.map((k) => `${k}=${Number(constants[k])}`).join(',')}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(shader);
      if (!module) {
        module = this.device.createShaderModule({ code: shader });
        this.modules.set(shader, module);
      }
      const values: Record<string, number> = {};
      for (const k of keys) values[k] = Number(constants[k]);
      p = this.device.createComputePipeline({
        label: entryPoint,
        layout: 'auto',
        compute: { module, entryPoint, constants: values },
      });
      this.pipelines.set(key, p);
      const family = callerFamily(new Error().stack);
      if (family) this.families.set(p, family);
    }
    return p;
  }

  /**
   * The kernel family (shaders/<family>.wgsl) whose wrapper src/kernels/<family>.ts created the pipeline, read
   * from the call stack at creation (profiling only: undefined where stacks carry no source paths, as in a
   * minified build).
   */
  familyOf(pipeline: GPUComputePipeline): string | undefined {
    return this.families.get(pipeline);
  }

  get size(): number {
    return this.pipelines.size;
  }
}

/** FNV-1a over the shader text: a short cache key without keeping two copies of long strings. */
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return `${(h >>> 0).toString(36)}:${s.length}`;
}

/** The first src/kernels/<family>.ts frame of a stack trace. */
export function callerFamily(stack: string | undefined): string | undefined {
  return stack ? /src\/kernels\/([\w-]+)\.ts\b/.exec(stack)?.[1] : undefined;
}
