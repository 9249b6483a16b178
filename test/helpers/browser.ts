/**
 * Headless Chromium for the browser tests (the distribution's /usr/bin/chromium through
 * playwright-core): one set of launch arguments, the screenshot folder, and the error watch that
 * tells a broken page from a working one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Generous: the suite shares two cores with other suites. */
export const SLOW = { timeout: 10_000, interval: 50 };

/** Screenshots and downloads, for a person to look at. */
export const OUT = path.resolve('test-output');

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  fs.mkdirSync(OUT, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Collects page errors and console errors (CSP violations are reported there), and with
 * `failedResponses` every answer of 400 or more: any of them would mean the page is broken.
 */
export function watchErrors(page: Page, opts: { failedResponses?: boolean } = {}): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && errors.push(m.text()));
  if (opts.failedResponses) page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
  return errors;
}
