// Kernel benchmarks in headless Chromium (the adapter users get), with TensorFlow.js's WebGPU backend on
// the same adapter in the same run as a peer.
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import type { BenchReport } from '../../kernels/suite.ts';
import type { PeerResult } from '../../../bench/browser/peers.ts';
import { listFlag } from '../args.ts';
import { KERNEL_FAMILIES } from './kernels.ts';
import { chromiumPath, WEBGPU_FLAGS } from '../chromium.ts';
import { formatBenches, formatRoofline } from '../format.ts';
import type { Command } from '../command.ts';
import { LabError } from '../../gpu/errors.ts';

interface BrowserBench extends BenchReport {
  adapter: Record<string, unknown>;
  peers: PeerResult[];
}

/** Ours over the peer's time for each case both ran (above 1: ours is faster). */
function ratios(r: BrowserBench) {
  return r.peers.flatMap((p) => {
    const ours = r.bench.find((b) => b.family === p.family && b.shape === p.shape && !b.name.includes('backward'));
    return ours ? [{ family: p.family, shape: p.shape, oursMs: ours.ms, tfjsMs: p.ms, speedup: p.ms / ours.ms }] : [];
  });
}

export const benchBrowser: Command = {
  summary: 'Run kernel benchmarks in headless Chromium (WebGPU) next to TensorFlow.js WebGPU on the same adapter.',
  usage: 'npm run -s lab -- bench-browser [--json] [--families matmul,conv] [--no-peers]',
  flags: { families: { type: 'list', choices: KERNEL_FAMILIES }, 'no-peers': { type: 'bool' } },
  maxPositionals: 0,
  async run(args) {
    const families = listFlag(args, 'families', ['matmul', 'conv']);
    let executablePath: string;
    try {
      executablePath = chromiumPath();
    } catch (e) {
      throw new LabError('no-webgpu', `bench-browser: ${(e as Error).message}`);
    }
    const root = fileURLToPath(new URL('../../../bench/browser/', import.meta.url));
    const server = await createServer({
      root,
      configFile: false,
      logLevel: 'error',
      server: { port: 0, fs: { allow: [fileURLToPath(new URL('../../../', import.meta.url))] } },
    });
    await server.listen();
    let browser;
    try {
      browser = await chromium.launch({ executablePath, args: WEBGPU_FLAGS });
    } catch (e) {
      await server.close();
      throw new LabError('no-webgpu', `bench-browser: Chromium at ${executablePath} did not start: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
    }
    try {
      const page = await browser.newPage();
      const url = `${server.resolvedUrls!.local[0]}?families=${families.join(',')}${args.flags['no-peers'] ? '&peers=0' : ''}`;
      await page.goto(url);
      try {
        await page.waitForFunction(() => window.benchResult !== undefined || window.benchError !== undefined, undefined, {
          timeout: 15 * 60_000,
          polling: 500,
        });
      } catch (e) {
        throw new LabError('bad-input', `bench-browser: no result from the page within 15 minutes (${String((e as Error)?.message ?? e).split('\n')[0]})`);
      }
      const error = await page.evaluate(() => window.benchError);
      if (error) throw new LabError('bad-input', `bench-browser: the benchmark failed in the browser: ${String(error).split('\n')[0]}`);
      const result = (await page.evaluate(() => window.benchResult)) as BrowserBench;
      const vs = ratios(result);
      const text = [
        `adapter: ${JSON.stringify(result.adapter)}`,
        formatBenches(result.bench),
        ...(result.roofline.length ? ['', formatRoofline(result.roofline)] : []),
        '',
        ...vs.map((v) => `${v.family} ${v.shape}: ours ${v.oursMs.toFixed(2)} ms, tfjs ${v.tfjsMs.toFixed(2)} ms, ours ${v.speedup.toFixed(2)}x as fast`),
      ].join('\n');
      return { json: { ...result, vsTfjs: vs }, text };
    } finally {
      await browser.close();
      await server.close();
    }
  },
};
