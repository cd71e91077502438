// Every kernel family is findable by name: shaders/X.wgsl has its wrapper src/kernels/X.ts, its CPU twin
// src/kernels/reference/X.ts, its checks src/kernels/checks/X.ts (in the registry under the family name X),
// its test test/kernels/X.test.ts and a micro-benchmark; only its wrapper loads the shader, and no WGSL hides
// in TypeScript strings.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/kernels/check.ts';
import { kernelBenches, kernelChecks } from '../../src/kernels/suite.ts';

const root = new URL('../../', import.meta.url);
const at = (path: string) => new URL(path, root);

const families = readdirSync(at('shaders/'))
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => f.slice(0, -'.wgsl'.length))
  .sort();

/** The files a family X must have, besides shaders/X.wgsl. */
function familyFiles(x: string): string[] {
  return [`src/kernels/${x}.ts`, `src/kernels/reference/${x}.ts`, `src/kernels/checks/${x}.ts`, `test/kernels/${x}.test.ts`];
}

function isCheck(v: unknown): v is Check {
  const c = v as Check;
  return !!c && typeof c === 'object' && typeof c.family === 'string' && typeof c.name === 'string' && typeof c.tolerance === 'number' && typeof c.run === 'function';
}

/** The checks a checks module exports (in arrays of checks). */
function exportedChecks(mod: Record<string, unknown>): Check[] {
  const out = new Set<Check>();
  for (const v of Object.values(mod)) if (Array.isArray(v)) for (const c of v) if (isCheck(c)) out.add(c);
  return [...out];
}

/** Every .ts/.tsx file below a folder of the repository. */
function sources(dir: string): string[] {
  return readdirSync(at(dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => `${dir}${f.replaceAll('\\', '/')}`);
}

describe('every kernel family is findable by name', () => {
  it('finds the shaders', () => {
    expect(families.length).toBeGreaterThan(0);
  });

  for (const x of families) {
    it(`${x}: shaders/${x}.wgsl has its wrapper, CPU twin, checks and test`, () => {
      expect(familyFiles(x).filter((f) => !existsSync(at(f)))).toEqual([]);
    });

    it(`${x}: the checks of checks/${x}.ts are in the registry under the family name "${x}"`, async () => {
      const checks = exportedChecks(await import(`../../src/kernels/checks/${x}.ts`));
      expect(checks.length, `checks/${x}.ts exports no checks`).toBeGreaterThan(0);
      for (const c of checks) {
        expect(c.family, `check "${c.name}" of checks/${x}.ts`).toBe(x);
        expect(kernelChecks.includes(c), `check "${c.name}" of checks/${x}.ts is not in the registry`).toBe(true);
      }
      expect(kernelChecks.filter((c) => c.family === x).length, `registry checks of family ${x} that checks/${x}.ts does not export`).toBe(checks.length);
    });

    it(`${x}: has a micro-benchmark under the family name`, () => {
      expect(kernelBenches.some((b) => b.family === x)).toBe(true);
    });
  }

  it('no check or benchmark names a family without a shader', () => {
    expect([...new Set(kernelChecks.map((c) => c.family))].filter((f) => !families.includes(f))).toEqual([]);
    expect([...new Set(kernelBenches.map((b) => b.family))].filter((f) => !families.includes(f))).toEqual([]);
  });

  it('only src/kernels/X.ts loads shaders/X.wgsl, and no TypeScript holds WGSL', () => {
    const wrong: string[] = [];
    for (const file of [...sources('src/'), ...sources('bench/')]) {
      const text = readFileSync(at(file), 'utf8');
      for (const m of text.matchAll(/^import\b.*shaders\/([\w-]+)\.wgsl/gm)) {
        if (file !== `src/kernels/${m[1]}.ts`) wrong.push(`${file} loads shaders/${m[1]}.wgsl`);
      }
      if (/@compute|@workgroup_size|var<storage/.test(text)) wrong.push(`${file} holds WGSL in a string`);
    }
    expect(wrong).toEqual([]);
  });
});
