// Hostile and unlucky input in the browser: the Content-Security-Policy, damaged files on every page that takes
// files, checkpoints of the wrong kind, a full disk while saving, and a second tab on the same training run. Every
// case ends in one line that says what happened and what to do, and nothing the user had is lost.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Worker } from '@playwright/test';
import { badAudio, badCheckpoints, checkpoint, goodWav, type BadFile } from './bad-files.ts';
import { expect, test } from './fixtures.ts';

/** Fetch `url` from the page or a worker: how it failed, and the CSP violation it raised. */
const refusedFetch = async (url: string) => {
  const violation = new Promise<string>((resolve) =>
    self.addEventListener('securitypolicyviolation', (e) => resolve(`${e.effectiveDirective} ${e.blockedURI}`), { once: true }),
  );
  const outcome = await fetch(url).then(
    (r) => `answered ${r.status}`,
    (e: Error) => `${e.name}: ${e.message}`,
  );
  return { outcome, violation: await violation };
};

test.describe('Content-Security-Policy', () => {
  test('a request to another origin is refused, from the page and from a worker, and never reaches the network', async ({ page, network }) => {
    // A server on another origin that would answer anyone (CORS and CORP open): nothing may reach it.
    const hits: string[] = [];
    const server = createServer((req, res) => {
      hits.push(req.url!);
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      res.end('leaked');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const other = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    network.expectRefused(other);
    try {
      const response = await page.goto('/#/train');
      expect(response!.headers()['content-security-policy']).toContain("connect-src 'self'");
      await expect(page.getByLabel('corpus', { exact: true })).toContainText('evaluation set');

      const fromPage = await page.evaluate(refusedFetch, `${other}/from-page`);
      expect(fromPage.outcome).toBe('TypeError: Failed to fetch');
      expect(fromPage.violation).toMatch(new RegExp(`^connect-src ${other}`));

      // The train worker's script comes with the header (a <meta> policy would not bind it).
      const worker = page.workers().find((w) => /train\.worker/.test(w.url()));
      expect(worker, 'the train worker').toBeDefined();
      const fromWorker = await worker!.evaluate(refusedFetch, `${other}/from-worker`);
      expect(fromWorker.outcome).toBe('TypeError: Failed to fetch');
      expect(fromWorker.violation).toMatch(new RegExp(`^connect-src ${other}`));

      expect(hits).toEqual([]);
      // The recorder saw both refusals, and the worker's own requests (the eval set's manifest is read by the worker).
      for (const path of ['/from-page', '/from-worker']) await expect.poll(() => network.violations.some((v) => v.includes(`${other}${path}`))).toBe(true);
      expect(network.requests.some((u) => u.endsWith('/eval/manifest.jsonl'))).toBe(true);
      expect(network.answered.filter((u) => u.startsWith(other))).toEqual([]);
    } finally {
      server.close();
    }
  });
});

/** The page's worker whose script matches `name` (train, asr, analyse), once it has started. */
async function workerOf(page: Page, name: string): Promise<Worker> {
  const find = () => page.workers().find((w) => new RegExp(`/${name}\\.worker`).test(w.url()));
  await expect.poll(() => !!find(), { message: `the ${name} worker` }).toBe(true);
  return find()!;
}

/**
 * From now on this worker's OPFS refuses, as a full disk does, to write a file whose name matches `pattern` (writes
 * go to a temporary `.<name>.<random>.part` first): through sync access handles and writable streams alike.
 */
async function fillDisk(worker: Worker, pattern: RegExp): Promise<void> {
  await worker.evaluate((source) => {
    const match = new RegExp(source);
    const full = () => {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
    const proto = FileSystemFileHandle.prototype;
    const sync = proto.createSyncAccessHandle;
    proto.createSyncAccessHandle = async function (this: FileSystemFileHandle) {
      const h = await sync.call(this);
      if (match.test(this.name)) h.write = full;
      return h;
    };
    const writable = proto.createWritable;
    proto.createWritable = async function (this: FileSystemFileHandle, options?: FileSystemCreateWritableOptions) {
      const w = await writable.call(this, options);
      if (match.test(this.name)) w.write = async () => full();
      return w;
    };
  }, pattern.source);
}

/** CTC from scratch on the shipped eval set: mamba-tiny, 3 s batches, a checkpoint every update, `updates` updates. */
async function startCtcRun(page: Page, updates: number) {
  await page.getByLabel('stage', { exact: true }).selectOption('ctc');
  await page.getByLabel('model kind').selectOption('mamba');
  await page.getByLabel('model size').selectOption('tiny');
  const settings = { updates: String(updates), 'batch seconds': '3', 'warm-up updates': '1', 'evaluate every': '100', 'save every': '1', 'dev utterances (0: all)': '1' };
  for (const [label, value] of Object.entries(settings)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Start training' }).click();
}

/** The page's error says exactly this, on one line and without a stack (its buttons left out). */
async function expectError(page: Page, says: RegExp) {
  const message = () =>
    page.getByTestId('error').evaluate((p) => [...p.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('').trim());
  await expect.poll(message).toMatch(says);
  expect(await message()).not.toMatch(/\n|\bat \S+:\d+/);
}

/** Drop files on a drop zone as the desktop does (a DataTransfer built in the page). */
async function drop(page: Page, testId: string, file: BadFile) {
  const data = await page.evaluateHandle(
    ({ name, type, b64 }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type }));
      return dt;
    },
    { name: file.name, type: file.mimeType, b64: file.buffer.toString('base64') },
  );
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer: data });
}

test.describe('damaged files', () => {
  test('Transcribe: damaged audio, dropped or picked, is refused by name and the last transcript stays', async ({ page }) => {
    await page.goto('/#/transcribe');
    await expect(page.getByLabel('model')).toHaveValue(/^shipped:.+\.safetensors$/); // the first shipped model, once the list has loaded
    await page.getByLabel('audio file').setInputFiles(goodWav('kept.wav'));
    await expect(page.getByTestId('file-result')).toContainText('kept.wav', { timeout: 150_000 });
    const transcript = await page.getByTestId('file-transcript').textContent();
    for (const [i, { file, says }] of badAudio().entries()) {
      if (i % 2) await drop(page, 'file-dropzone', file);
      else await page.getByLabel('audio file').setInputFiles(file);
      await expectError(page, says);
      await expect(page.getByTestId('file-result')).toContainText('kept.wav');
      await expect(page.getByTestId('file-transcript')).toHaveText(transcript!);
    }
  });

  test('Transcribe, Train and Analyse: a damaged or foreign checkpoint upload is refused by name and nothing kept changes', async ({ page }) => {
    const good = checkpoint('mamba', { ctcHead: true }, 'good.safetensors');
    for (const [route, kept] of [
      ['/#/transcribe', async () => expect(page.getByLabel('model')).toHaveValue('upload:good.safetensors')],
      ['/#/train', async () => expect(page.getByTestId('uploads').locator('tbody tr')).toHaveCount(1)],
      ['/#/analyse', async () => expect(page.getByLabel('checkpoint', { exact: true }).locator('option', { hasText: 'upload:good.safetensors' })).toHaveCount(1)],
    ] as const) {
      await page.goto(route);
      await page.getByLabel('upload checkpoint').setInputFiles(good);
      await expect(page.getByTestId('notice')).toContainText('good.safetensors');
      await kept();
      for (const { file, says } of badCheckpoints()) {
        await page.getByLabel('upload checkpoint').setInputFiles(file);
        await expectError(page, says);
        await kept();
      }
    }
  });

  test('Train: a corpus folder of damaged audio is refused, and a kept corpus of the same name stays as it was', async ({ page }) => {
    const root = join(tmpdir(), 'lab-e2e-hardening');
    rmSync(root, { recursive: true, force: true });
    const folder = (where: string, files: BadFile[], tsv: string) => {
      const dir = join(root, where, 'mycorpus');
      mkdirSync(dir, { recursive: true });
      for (const f of files) writeFileSync(join(dir, f.name), f.buffer);
      writeFileSync(join(dir, 'transcripts.tsv'), tsv);
      return dir;
    };
    const audio = badAudio();
    const damaged = folder('damaged', audio.map((a) => a.file), audio.map((a) => `${a.file.name}\tHELLO THERE`).join('\n'));
    const mixed = folder('mixed', [goodWav('good.wav'), audio[0].file], 'good.wav\tHELLO THERE\ntruncated.wav\tGOOD BYE');
    await page.goto('/#/train');
    await expect(page.getByLabel('corpus', { exact: true })).toContainText('evaluation set');

    // One good utterance and a truncated one: the good one is imported, the other named with its reason.
    await page.getByLabel('corpus folder').setInputFiles(mixed);
    await expect(page.getByTestId('notice')).toHaveText(/^Imported 1 utterances \([\d.]+ min\) as folder; skipped 1, e\.g\. mycorpus\/truncated\.wav: .*truncated/, { timeout: 60_000 });
    await expect(page.getByLabel('corpus', { exact: true })).toContainText('mycorpus: 1 utterances');

    // Only damaged files under the same name: nothing imported, and the kept corpus is untouched.
    await page.getByLabel('corpus folder').setInputFiles(damaged);
    await expectError(page, /^Nothing imported from "mycorpus" as folder: .*(truncated|unknown audio format|empty)/);
    await expect(page.getByLabel('corpus', { exact: true })).toContainText('mycorpus: 1 utterances');
    await page.reload();
    await expect(page.getByLabel('corpus', { exact: true })).toContainText('mycorpus: 1 utterances');
  });
});

test.describe('checkpoints of the wrong kind', () => {
  test('Train says a fine-tuned checkpoint is for transcribing, and does not offer it to fine-tune from', async ({ page }) => {
    await page.goto('/#/train');
    await page.getByLabel('upload checkpoint').setInputFiles(checkpoint('mamba', { ctcHead: true }, 'finetuned.safetensors'));
    await expect(page.getByTestId('notice')).toHaveText(
      'finetuned.safetensors: mamba-tiny, fine-tuned (a CTC head, no pre-training head): it transcribes on the Transcribe page; fine-tuning and iteration 2 start from a pre-trained checkpoint.',
    );
    await page.getByLabel('stage', { exact: true }).selectOption('finetune');
    await expect(page.getByLabel('from checkpoint').locator('option', { hasText: 'finetuned.safetensors' })).toHaveCount(0);
    await page.getByLabel('upload checkpoint').setInputFiles(checkpoint('mamba', { pretrainHead: true }, 'pretrained.safetensors'));
    await expect(page.getByTestId('notice')).toHaveText('pretrained.safetensors: mamba-tiny. Chosen as the checkpoint to fine-tune from.');
    await expect(page.getByLabel('from checkpoint')).toContainText('pretrained.safetensors');
  });

  test('Transcribe says what each use needs: a CTC head to transcribe, a causal model to stream', async ({ page }) => {
    await page.goto('/#/transcribe');
    await expect(page.getByLabel('model')).toHaveValue(/^shipped:.+\.safetensors$/); // the first shipped model, once the list has loaded
    for (const kind of ['mamba', 'transformer'] as const) {
      await page.getByLabel('upload checkpoint').setInputFiles(checkpoint(kind, { pretrainHead: true }, `${kind}-pretrained.safetensors`));
      await expectError(page, new RegExp(`^upload:${kind}-pretrained\\.safetensors has no CTC head \\(a pre-trained model\\): fine-tune it on the Train page first; only fine-tuned checkpoints transcribe\\.`));
      // Its file is refused too, before any audio is decoded.
      await page.getByLabel('audio file').setInputFiles(goodWav());
      await expectError(page, new RegExp(`^upload:${kind}-pretrained\\.safetensors has no CTC head \\(a pre-trained model\\): fine-tune it on the Train page first`));
    }
    for (const kind of ['extbimamba', 'innbimamba'] as const) {
      await page.getByLabel('upload checkpoint').setInputFiles(checkpoint(kind, { ctcHead: true }, `${kind}-ctc.safetensors`));
      await expect(page.getByLabel('model')).toHaveValue(`upload:${kind}-ctc.safetensors`);
      await page.getByRole('button', { name: 'Start', exact: true }).click();
      await expectError(page, new RegExp(`^upload:${kind}-ctc\\.safetensors \\(${kind}\\) cannot stream: files work with any model, live transcription needs mamba or causal-transformer\\.`));
      await expect(page.getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
    }
  });
});

test.describe('storage full', () => {
  test('Train: a checkpoint that does not fit is refused with what to free; the earlier checkpoint is intact and resumes', async ({ page }) => {
    await page.goto('/#/train');
    await expect(page.getByLabel('corpus', { exact: true })).toContainText('evaluation set');
    await fillDisk(await workerOf(page, 'train'), /^\.step-0000002\.safetensors\./);
    await startCtcRun(page, 3);
    await expectError(page, /^Storage is full: saving runs\/ctc-mamba-tiny-[\d-]+\/step-0000002\.safetensors \([\d.]+ MiB\) was refused \(the lab holds .+ of the .+ this browser allows it\)\. Free at least [\d.]+ MiB by removing runs, corpora or uploaded checkpoints you no longer need on the Train page, then try again; what was saved before is intact\.$/);
    await expect(page.getByTestId('error').getByRole('button', { name: 'Resume from the last checkpoint' })).toBeVisible();
    const run = page.getByTestId('runs').locator('tbody tr').first();
    await expect(run).toContainText('step-0000001.safetensors');
    await expect(run).not.toContainText('step-0000002.safetensors');
    // Room again (a fresh worker after a reload): the run goes on from update 1 to the end.
    await page.reload();
    await page.getByTestId('runs').locator('tbody tr').first().getByRole('button', { name: 'Resume' }).click();
    await expect(page.getByTestId('notice')).toHaveText(/^Done: 3 updates/, { timeout: 170_000 });
    await expect(page.getByTestId('runs').locator('tbody tr').first()).toContainText('step-0000003.safetensors');
  });

  test('Train, Transcribe, Analyse: a corpus or an upload that does not fit is refused, and what was kept stays', async ({ page }) => {
    // A corpus import: its manifest does not fit; the half-written corpus is removed, the list is as it was.
    await page.goto('/#/train');
    await expect(page.getByLabel('corpus', { exact: true })).toContainText('evaluation set');
    const root = join(tmpdir(), 'lab-e2e-hardening-quota', 'bigcorpus');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'a.wav'), goodWav().buffer);
    writeFileSync(join(root, 'transcripts.tsv'), 'a.wav\tHELLO THERE\n');
    await fillDisk(await workerOf(page, 'train'), /^\.manifest\.jsonl\./);
    const before = await page.getByLabel('corpus', { exact: true }).locator('option').allTextContents();
    await page.getByLabel('corpus folder').setInputFiles(root);
    await expectError(page, /^Storage is full: saving corpora\/bigcorpus\/manifest\.jsonl \([\d.]+ [KM]?i?B\) was refused .*what was saved before is intact\.$/);
    await expect(page.getByLabel('corpus', { exact: true }).locator('option')).toHaveText(before);

    // Uploads on each page that takes them: the upload is refused, the model chosen before stays.
    const ck = checkpoint('mamba', { ctcHead: true }, 'big.safetensors');
    for (const [route, worker] of [['/#/transcribe', 'asr'], ['/#/analyse', 'analyse'], ['/#/train', 'train']] as const) {
      await page.goto(route);
      await page.reload();
      await fillDisk(await workerOf(page, worker), /^\.big\.safetensors\./);
      await page.getByLabel('upload checkpoint').setInputFiles(ck);
      await expectError(page, /^Storage is full: saving uploads\/big\.safetensors \([\d.]+ MiB\) was refused .*what was saved before is intact\.$/);
    }
    await expect(page.getByTestId('uploads')).toHaveCount(0);
  });
});

test.describe('two tabs', () => {
  test('a second tab cannot resume or remove a run that trains in the first, and can once it stops', async ({ page, context }) => {
    test.setTimeout(420_000);
    await page.goto('/#/train');
    await startCtcRun(page, 40);
    const first = page.getByTestId('runs').locator('tbody tr').first();
    await expect(first).toContainText('step-0000001.safetensors', { timeout: 170_000 });
    const name = (await first.getAttribute('data-run'))!;

    const second = await context.newPage();
    await second.goto('/#/train');
    const row = second.locator(`tr[data-run="${name}"]`);
    await row.getByRole('button', { name: 'Resume' }).click();
    await expectError(second, new RegExp(`^Run ${name} is training in another tab of this browser: pause it there to go on with it here\\.`));
    await row.getByRole('button', { name: 'Remove' }).click();
    await expectError(second, new RegExp(`^Run ${name} is training in another tab of this browser: pause or cancel it there before removing it\\.$`));
    await expect(row).toHaveCount(1);

    // The first tab trains on, untouched; paused there, the run is the second tab's to resume.
    const step = (await page.getByTestId('runs').locator(`tr[data-run="${name}"] td`).nth(4).textContent())!;
    await expect.poll(async () => (await page.getByTestId('runs').locator(`tr[data-run="${name}"] td`).nth(4).textContent()) !== step, { timeout: 120_000 }).toBe(true);
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.getByTestId('notice')).toHaveText(/^Paused at update \d+ of 40/, { timeout: 120_000 });
    await second.reload();
    await second.locator(`tr[data-run="${name}"]`).getByRole('button', { name: 'Resume' }).click();
    await expect(second.getByRole('button', { name: 'Pause' })).toBeVisible({ timeout: 60_000 });
    await expect(second.getByTestId('error')).toHaveCount(0);
    await second.getByRole('button', { name: 'Pause' }).click();
    await expect(second.getByTestId('notice')).toHaveText(/^Paused (at update|before)/, { timeout: 120_000 });
  });
});
