// The Transcribe page end to end: a fake microphone (a WAV from public/eval, led by silence, looped by Chromium)
// through the AudioWorklet, the SharedArrayBuffer ring and the asr worker to the shipped CTC model, its readings held
// to the reference; a dropped file whose transcript is held to the model's reading of it, greedy and with the shipped
// language model, with an SRT download; a language model built from the user's text; an uploaded checkpoint; the
// long-stream chart; and the microphone denied. Other tests write checkpoints with random
// initial values by the lab's own checkpoint code: their words are garbage, so those tests assert the mechanics.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { chromiumPath, QUIET_FLAGS, WEBGPU_FLAGS } from '../src/cli/chromium.ts';
import { saveCheckpoint } from '../src/models/checkpoint.ts';
import { initialValues } from '../src/models/init.ts';
import type { EncoderKind } from '../src/models/config.ts';
import { parameterSpecs, type ParameterOptions } from '../src/models/parameters.ts';
import { preset } from '../src/models/presets.ts';
import { decodeWav, encodeWav16 } from '../src/speech/wav.ts';
import { errorRates } from '../src/asr/wer.ts';
import { expect, NetworkLog, test } from './fixtures.ts';

// Outside test-results/, which Playwright empties when a run starts.
const DIR = join(tmpdir(), 'lab-e2e-transcribe');
const EVAL_WAV = resolve('public/eval/wav/eval-000000.wav');
/** What eval-000000.wav says (public/eval/manifest.jsonl), and the shipped model the page chooses first. */
const EVAL_TEXT = 'FOR THY LOVING KINDNESS IS BEFORE MINE EYES';
const SHIPPED = `shipped:${(JSON.parse(readFileSync('public/models/index.json', 'utf8')) as { file: string; heads: string[] }[]).find((m) => m.heads.includes('ctc'))!.file}`;
/**
 * The shipped model's greedy transcript of eval-000000.wav, as `lab transcribe` prints it (Dawn on lavapipe). It is a
 * small model (public/models/mamba-tiny-ctc-long.md: CER 35% on public/eval) that spells by ear, so a bound against
 * EVAL_TEXT would say little; what the page must not lose is the model's own reading of the file (another driver's
 * rounding may move a frame's argmax, hence a bound rather than equality).
 */
const SHIPPED_TEXT = 'FOR THIANNING CINED NESIS NIFOR MIISE';
/** The same with `--beam 8 --lm public/models/lm-3gram.json` (weight 0.5), as `lab transcribe` prints it. */
const SHIPPED_LM_TEXT = 'FOR THY ANNING INED NESSIFORMINIS';
/** The fake microphone's utterance (public/eval, a voice the model never heard) and what it says. */
const MIC_WAV = resolve('public/eval/wav/eval-000098.wav');
const MIC_TEXT = 'AND HE WAS FOUND OF THEM';
/**
 * The live path's word error bound on a reading of MIC_TEXT: the shipped model reads the file "AND HE WAS FOND OF
 * THEM" (WER 0.17; mamba-tiny-ctc before it read "FAND", and its microphone readings, resampled twice and cut into
 * frames at another phase, were "FAND" or "FOND"); the bound leaves room for another driver's rounding.
 */
const LIVE_WER = 0.5;

/** An eval utterance led by 1.5 s of silence (capture starts when getUserMedia opens and may miss the start). */
function microphoneWav(source = MIC_WAV, name = 'microphone.wav'): string {
  mkdirSync(DIR, { recursive: true });
  const audio = decodeWav(readFileSync(source));
  const lead = Math.round(1.5 * audio.sampleRate);
  const samples = new Float32Array(lead + audio.channels[0].length + audio.sampleRate);
  samples.set(audio.channels[0], lead);
  const path = join(DIR, name);
  writeFileSync(path, encodeWav16(samples, audio.sampleRate));
  return path;
}

/** A checkpoint with random initial values: fine-tuning-shaped (encoder + CTC head) by default. */
function randomCheckpoint(kind: EncoderKind = 'mamba', heads: ParameterOptions = { ctcHead: true }): string {
  mkdirSync(DIR, { recursive: true });
  const config = preset(kind, 'tiny');
  const specs = parameterSpecs(config, heads);
  const values = initialValues(specs, config, 7);
  const params = new Map(specs.map((s) => [s.name, { shape: s.shape, data: values.get(s.name)! }]));
  const path = join(DIR, `${kind}-tiny-random-${heads.ctcHead ? 'ctc' : 'pretrain'}.safetensors`);
  writeFileSync(path, saveCheckpoint({ config, heads, params, extra: new Map(), metadata: {} }));
  return path;
}

/** A number shown in a stat (test id), or NaN while it shows '–'. */
async function stat(page: Page, testId: string): Promise<number> {
  return parseFloat((await page.getByTestId(testId).textContent()) ?? '');
}

/** Uncaught errors of the page. */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** A page in a browser of its own (other launch flags), its requests checked as the fixture checks the others'. */
async function ownBrowserPage(browser: Browser, baseURL: string): Promise<{ page: Page; network: NetworkLog }> {
  const context = await browser.newContext({ baseURL });
  return { page: await context.newPage(), network: new NetworkLog(context, new URL(baseURL).origin) };
}

// The fake microphone for every test of this file (launch options cannot change inside a file).
test.use({
  launchOptions: {
    executablePath: chromiumPath(),
    args: [...WEBGPU_FLAGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${microphoneWav()}`],
  },
});

test.describe('with a fake microphone', () => {
  test('live transcription by the shipped model, a dropped file with its transcript and SRT, an upload, and the long-stream chart', async ({ page }) => {
    test.setTimeout(420_000);
    const errors = pageErrors(page);
    await page.goto('/#/transcribe');
    expect(await page.evaluate(() => self.crossOriginIsolated)).toBe(true);
    // The shipped CTC model is chosen first, with its scores.
    await expect(page.getByLabel('model')).toHaveValue(SHIPPED);
    await expect(page.getByTestId('model-scores')).toContainText(/WER \d+\.\d%, CER \d+\.\d% on voices it never heard/);
    await expect(page.getByTestId('no-shipped')).toHaveCount(0);

    // Live: 160 ms chunks; the per-chunk numbers appear and keep changing while it runs.
    await page.getByLabel('chunk', { exact: true }).selectOption('160');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Stop' })).toBeVisible({ timeout: 120_000 });
    await expect.poll(() => stat(page, 'chunks'), { timeout: 120_000 }).toBeGreaterThan(5);
    await expect(page.getByTestId('latency')).toHaveText(/^\d+ ms$/);
    await expect(page.getByTestId('rtf')).toHaveText(/^\d+\.\d{3}$/);
    await expect(page.getByTestId('compute')).toHaveText(/^\d+ ms$/);
    await expect(page.getByTestId('state-size')).toHaveText(/^\d+(\.\d+)? (KiB|MiB)$/);
    const t1 = await stat(page, 'stream-time');
    const n1 = await stat(page, 'chunks');
    expect(await stat(page, 'rtf')).toBeGreaterThan(0);
    await expect.poll(() => stat(page, 'stream-time'), { timeout: 60_000 }).toBeGreaterThan(t1 + 1);
    expect(await stat(page, 'chunks')).toBeGreaterThan(n1);
    // The level meter reads the ring: the fake microphone plays speech.
    await expect.poll(async () => Number(await page.getByTestId('level').locator('div').getAttribute('data-level')), { timeout: 30_000 }).toBeGreaterThan(0.01);
    // This run's compute and state per push, drawn against stream time.
    await page.getByTestId('live-charts').locator('summary').click();
    await expect(page.getByTestId('live-compute-chart').locator('path.recharts-curve').first()).toHaveAttribute('d', /^M[\d.,\s-]+L/);
    // Each final segment is one reading of the looped utterance (2.5 s of silence between readings end it; the first
    // may be cut). The best reading so far is held to the reference: within WER LIVE_WER (random weights read at ~1).
    const bestReading = async () => Math.min(Infinity, ...(await page.getByTestId('final').allTextContents()).map((t) => errorRates([{ ref: MIC_TEXT, hyp: t.trim() }]).wer));
    await expect.poll(bestReading, { timeout: 60_000 }).toBeLessThanOrEqual(LIVE_WER);
    // Mamba's state does not grow.
    const state = await page.getByTestId('state-size').textContent();
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled({ timeout: 60_000 });
    expect(await page.getByTestId('state-size').textContent()).toBe(state);
    const stopped = await stat(page, 'chunks');
    await page.waitForTimeout(1000);
    expect(await stat(page, 'chunks')).toBe(stopped);

    // A dropped WAV file: progress, a transcript, and an SRT download.
    const bytes = readFileSync(EVAL_WAV).toString('base64');
    const drop = await page.evaluateHandle((b64) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([raw], 'utterance.wav', { type: 'audio/wav' }));
      return dt;
    }, bytes);
    await page.getByTestId('file-dropzone').dispatchEvent('drop', { dataTransfer: drop });
    await expect(page.getByTestId('file-result')).toContainText('utterance.wav', { timeout: 120_000 });
    await expect(page.getByTestId('notice')).toContainText(/utterance\.wav: 2\.8 s of audio in [\d.]+ s \(stream, greedy\)/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('file-downloads').getByRole('button', { name: 'Download SRT' }).click()]);
    expect(download.suggestedFilename()).toBe('utterance.srt');
    const srt = await readFile((await download.path())!, 'utf8');
    expect(srt).toMatch(/^1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n\S/);
    const text = (await page.getByTestId('file-transcript').textContent())!.replace(/\s+/g, ' ').trim();
    const cueText = srt
      .split('\n\n')
      .map((c) => c.split('\n').slice(2).join(' '))
      .join(' ')
      .replace(/\s+/g, ' ')
      .trim();
    expect(cueText).toBe(text);
    expect(errorRates([{ ref: SHIPPED_TEXT, hyp: text }]).cer, `file transcript "${text}" of "${EVAL_TEXT}"`).toBeLessThanOrEqual(0.15);

    // The same file through the beam search with the shipped language model: the CLI's reading of it.
    await page.getByLabel('LM', { exact: true }).selectOption('shipped:lm-3gram.json');
    await expect(page.getByTestId('decoding-hint')).toContainText('beam 8 with shipped:lm-3gram.json at weight 0.5');
    await page.getByTestId('file-dropzone').dispatchEvent('drop', { dataTransfer: drop });
    await expect(page.getByTestId('notice')).toContainText(/utterance\.wav: 2\.8 s of audio in [\d.]+ s \(stream, beam 8 with shipped:lm-3gram\.json at weight 0\.5\)/, { timeout: 120_000 });
    const withLm = (await page.getByTestId('file-transcript').textContent())!.replace(/\s+/g, ' ').trim();
    expect(errorRates([{ ref: SHIPPED_LM_TEXT, hyp: withLm }]).cer, `file transcript with the LM "${withLm}"`).toBeLessThanOrEqual(0.15);

    // A language model built here from the user's text is kept and chosen; a file that is not text is refused.
    await page.getByLabel('upload LM').setInputFiles({ name: 'phrases.txt', mimeType: 'text/plain', buffer: Buffer.from('Turn the lights on.\nTurn the lights off.\nWhat time is it?\n') });
    await expect(page.getByTestId('notice')).toContainText('phrases.txt: kept as the language model upload:phrases.json');
    await expect(page.getByLabel('LM', { exact: true })).toHaveValue('upload:phrases.json');
    await page.getByLabel('upload LM').setInputFiles(EVAL_WAV);
    await expect(page.getByTestId('error')).toContainText('eval-000000.wav: not a text file');
    await expect(page.getByLabel('LM', { exact: true })).toHaveValue('upload:phrases.json');
    // With "known words only", the file reads in that LM's nine words and no others.
    await page.getByLabel('known words only').check();
    await expect(page.getByTestId('decoding-hint')).toContainText('upload:phrases.json at weight 0.5, its words only');
    await page.getByTestId('file-dropzone').dispatchEvent('drop', { dataTransfer: drop });
    await expect(page.getByTestId('notice')).toContainText(/utterance\.wav: 2\.8 s of audio in [\d.]+ s \(stream, beam 8 with upload:phrases\.json at weight 0\.5, its words only\)/, { timeout: 120_000 });
    const phraseWords = new Set(['TURN', 'THE', 'LIGHTS', 'ON', 'OFF', 'WHAT', 'TIME', 'IS', 'IT']);
    const lexiconText = (await page.getByTestId('file-transcript').textContent())!.replace(/\s+/g, ' ').trim();
    for (const w of lexiconText.split(' ').filter(Boolean)) expect(phraseWords.has(w), `"${w}" in "${lexiconText}"`).toBe(true);
    await page.getByLabel('known words only').uncheck();
    await page.getByLabel('LM', { exact: true }).selectOption('');

    // An uploaded checkpoint is kept and chosen.
    await page.getByLabel('upload checkpoint').setInputFiles(randomCheckpoint());
    await expect(page.getByTestId('notice')).toContainText('kept as upload:mamba-tiny-random-ctc.safetensors');
    await expect(page.getByLabel('model')).toHaveValue('upload:mamba-tiny-random-ctc.safetensors');

    // The long stream: both models' lines are drawn in both charts.
    await page.getByLabel('stream seconds').fill('8');
    await page.getByRole('button', { name: 'Run the long stream' }).click();
    await expect(page.getByTestId('notice')).toContainText('Long stream done', { timeout: 240_000 });
    for (const chart of ['long-compute-chart', 'long-state-chart']) {
      const lines = page.getByTestId(chart).locator('path.recharts-curve');
      await expect(lines).toHaveCount(2);
      for (const i of [0, 1]) await expect(lines.nth(i)).toHaveAttribute('d', /^M[\d.,\s-]+L/);
    }

    expect(errors).toEqual([]);
  });
});

test('a device lost mid-stream: the page says so, keeps the transcript and restarts', async ({ page }) => {
  const errors = pageErrors(page);
  await page.goto('/#/transcribe');
  await page.getByLabel('model').selectOption('random:mamba-tiny');
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  await expect.poll(() => stat(page, 'chunks'), { timeout: 120_000 }).toBeGreaterThan(3);
  await expect(page.getByTestId('transcript').locator('.partial, .final').first()).toHaveText(/\S/, { timeout: 60_000 });
  const worker = page.workers().find((w) => /asr\.worker/.test(w.url()));
  expect(worker, 'the asr worker').toBeDefined();
  await worker!.evaluate(() => (self as unknown as { __labLoseDevice: () => Promise<void> }).__labLoseDevice());
  await expect(page.getByTestId('error')).toContainText('The GPU device was lost mid-stream; the transcript so far is kept.', { timeout: 60_000 });
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
  const kept = (await page.getByTestId('transcript').textContent())!;
  expect(kept).not.toContain('Press Start');
  await page.getByRole('button', { name: 'Restart' }).click();
  await expect(page.getByRole('button', { name: 'Stop' })).toBeVisible({ timeout: 120_000 });
  await expect.poll(() => stat(page, 'chunks'), { timeout: 120_000 }).toBeGreaterThan(3);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled({ timeout: 60_000 });
  // What was kept is still there, the new run's text after it.
  const finals = (await page.getByTestId('final').allTextContents()).join('');
  expect(finals.replace(/\s+/g, '')).toContain(kept.replace(/\s+/g, '').slice(0, 20));
  expect(errors).toEqual([]);
});

test.describe('refusals', () => {
  test('with the microphone denied the page says so in one line', async ({ baseURL }) => {
    // A browser of its own: without the fake UI, permission prompts are denied.
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...WEBGPU_FLAGS, '--use-fake-device-for-media-stream', '--deny-permission-prompts'] });
    try {
      const { page, network } = await ownBrowserPage(browser, baseURL!);
      const errors = pageErrors(page);
      await page.goto('/#/transcribe');
      await expect(page.getByLabel('model')).toHaveValue(SHIPPED);
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await expect(page.getByTestId('error')).toContainText('Microphone access was denied', { timeout: 120_000 });
      await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
      expect(errors).toEqual([]);
      network.check();
    } finally {
      await browser.close();
    }
  });

  test('with no audio input device the page says so in one line', async ({ baseURL }) => {
    // The browser reports no input (as on a server, or a laptop whose microphone is unplugged).
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...WEBGPU_FLAGS, '--use-fake-ui-for-media-stream'] });
    try {
      const { page, network } = await ownBrowserPage(browser, baseURL!);
      await page.addInitScript(() => {
        const none = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
        Object.defineProperty(navigator.mediaDevices, 'getUserMedia', { value: none });
        Object.defineProperty(navigator.mediaDevices, 'enumerateDevices', { value: () => Promise.resolve([]) });
      });
      await page.goto('/#/transcribe');
      await expect(page.getByLabel('model')).toHaveValue(SHIPPED);
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await expect(page.getByTestId('error')).toContainText('No microphone found', { timeout: 120_000 });
      network.check();
    } finally {
      await browser.close();
    }
  });

  test('without WebGPU the page says so in one line, and Start says it again', async ({ baseURL }) => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...QUIET_FLAGS, '--disable-features=WebGPU,Vulkan'] });
    try {
      const { page, network } = await ownBrowserPage(browser, baseURL!);
      const errors = pageErrors(page);
      await page.goto('/#/transcribe');
      await expect(page.getByTestId('webgpu-error')).toHaveText(/^This browser has no WebGPU: open the lab in Chrome or Edge/);
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await expect(page.getByTestId('error')).toContainText('This browser has no WebGPU');
      expect(errors).toEqual([]);
      network.check();
    } finally {
      await browser.close();
    }
  });

  test('a checkpoint without a CTC head and a model that cannot stream are refused for live use, with what works instead', async ({ page }) => {
    const errors = pageErrors(page);
    await page.goto('/#/transcribe');
    await expect(page.getByLabel('model')).toHaveValue(SHIPPED);
    await page.getByLabel('upload checkpoint').setInputFiles(randomCheckpoint('mamba', { pretrainHead: true }));
    await expect(page.getByTestId('error')).toContainText('has no CTC head');
    await page.getByLabel('upload checkpoint').setInputFiles(randomCheckpoint('transformer', { ctcHead: true }));
    await expect(page.getByLabel('model')).toHaveValue('upload:transformer-tiny-random-ctc.safetensors');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect(page.getByTestId('error')).toHaveText(/cannot stream: files work with any model, live transcription needs mamba or causal-transformer\./, { timeout: 120_000 });
    expect(errors).toEqual([]);
  });
});
