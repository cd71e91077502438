// The lab's Playwright `test`: every test records every request of its pages and their workers, and every
// Content-Security-Policy violation, and fails when a request went to an origin other than the app's own (blob: and
// data: URLs are the app's own) or the policy refused anything. Audio and models never leave the machine.
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';

export { expect };

/** Runs in a worker: its CSP violations go to its console, where Playwright sees them. */
function logViolations() {
  self.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy: ${e.effectiveDirective} refused ${e.blockedURI}`));
}

/** What a browser context asked for. */
export class NetworkLog {
  /** Every request's URL, in order (pages and workers). */
  readonly requests: string[] = [];
  /** URLs that got a response. */
  readonly answered: string[] = [];
  /** CSP violations as the browser reported them. */
  readonly violations: string[] = [];
  private readonly refused = new Set<string>();

  constructor(
    context: BrowserContext,
    private readonly origin: string,
  ) {
    context.on('request', (r) => this.requests.push(r.url()));
    context.on('response', (r) => this.answered.push(r.url()));
    // The browser reports a page's violations as console errors. A worker's reports do not reach Playwright (only its
    // own console calls do), so each worker is given a listener that logs them.
    context.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) this.violations.push(m.text());
    });
    const watchWorkers = (page: Page) => page.on('worker', (w) => void w.evaluate(logViolations).catch(() => undefined));
    context.pages().forEach(watchWorkers);
    context.on('page', watchWorkers);
  }

  /** A test that provokes the policy on purpose: requests to `origin` are expected, and expected to be refused. */
  expectRefused(origin: string): void {
    this.refused.add(new URL(origin).origin);
  }

  private own(url: string): boolean {
    return url.startsWith('blob:') || url.startsWith('data:') || new URL(url).origin === this.origin;
  }

  /** Requests to other origins (those a test expects to be refused left out). */
  foreign(): string[] {
    return this.requests.filter((u) => !this.own(u) && !this.refused.has(new URL(u).origin));
  }

  /** The app's own origin and nothing else; nothing refused by the policy but what the test provoked. */
  check(): void {
    expect(this.foreign(), 'requests to other origins').toEqual([]);
    expect(
      this.answered.filter((u) => !this.own(u)),
      'answers from other origins',
    ).toEqual([]);
    const provoked = [...this.refused];
    expect(
      this.violations.filter((v) => !provoked.some((o) => v.includes(o))),
      'Content-Security-Policy violations',
    ).toEqual([]);
  }
}

export const test = base.extend<{ network: NetworkLog }>({
  network: [
    async ({ context, baseURL }, use) => {
      const log = new NetworkLog(context, new URL(baseURL!).origin);
      await use(log);
      log.check();
    },
    { auto: true },
  ],
});
