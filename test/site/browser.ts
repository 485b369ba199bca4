// Headless Chromium for the site's tests and bench: Debian's /usr/bin/chromium (scripts/setup-chromium.sh
// installs it) driven by puppeteer-core. Every page records its console errors, uncaught exceptions
// and each request whose URL is not on this machine (file:// or loopback), which it aborts.

import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.ASGARD_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/setup-chromium.sh (apt-get install chromium)`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in a container: no sandbox. No background traffic of the browser's own (updates, metrics).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--metrics-recording-only',
      '--mute-audio',
      '--allow-file-access-from-files',
    ],
    defaultViewport: { width: 1440, height: 900, deviceScaleFactor: 1 },
  });
}

export interface WatchedPage {
  readonly page: Page;
  /** console.error messages and uncaught exceptions. */
  readonly errors: string[];
  /** Requests that would have left the machine (aborted). */
  readonly external: string[];
  /** Every request made (URLs). */
  readonly requests: string[];
}

const local = (url: string): boolean => {
  if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('about:') || url.startsWith('blob:')) return true;
  try {
    const h = new URL(url).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
  } catch {
    return false;
  }
};

export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  const external: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String((e as Error).message ?? e)));
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    requests.push(r.url());
    if (local(r.url())) void r.continue();
    else {
      external.push(r.url());
      void r.abort('blockedbyclient');
    }
  });
  return { page, errors, external, requests };
}
