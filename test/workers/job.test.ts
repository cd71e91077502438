import { describe, expect, it } from 'vitest';
import { busy, cancelJob, job } from '../../src/workers/job.ts';
import { LabError } from '../../src/gpu/errors.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('a worker job', () => {
  it('a new job cancels the one before and starts only when it has finished', async () => {
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The first job is in the middle of an await (a GPU read back, say) when the second comes.
    const first = job(async ({ signal }) => {
      events.push('first starts');
      await held;
      events.push(`first resumes, aborted ${signal.aborted}`);
      if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
      return 1;
    });
    await tick();
    const second = job(async () => {
      events.push('second starts');
      return 2;
    });
    await tick();
    expect(events).toEqual(['first starts']);
    expect(busy()).toBe(true);
    release();
    expect(await first).toEqual({ ok: false, error: { code: 'cancelled', message: 'Cancelled.' } });
    expect(await second).toEqual({ ok: true, value: 2 });
    expect(events).toEqual(['first starts', 'first resumes, aborted true', 'second starts']);
    expect(busy()).toBe(false);
  });

  it('a job cancelled while it waits for the one before never runs; the next one does', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    const first = job(async () => {
      await held;
      ran.push('first');
    });
    await tick();
    const second = job(async () => void ran.push('second'));
    const third = job(async () => {
      ran.push('third');
      return 'third';
    });
    release();
    await first;
    expect((await second).ok).toBe(false);
    expect(await third).toEqual({ ok: true, value: 'third' });
    expect(ran).toEqual(['first', 'third']);
  });

  it('errors come back as data with their code; cancelJob stops the job at its next check', async () => {
    expect(await job(async () => Promise.reject(new LabError('bad-input', 'no such file')))).toEqual({ ok: false, error: { code: 'bad-input', message: 'no such file' } });
    const running = job(async ({ signal }) => {
      while (!signal.aborted) await tick();
      throw new DOMException('cancelled', 'AbortError');
    });
    await tick();
    cancelJob();
    expect((await running).ok).toBe(false);
  });
});
