/**
 * The console in headless Chromium: a cloud harness served on a port, logging in through the
 * page's own form, opening a route, the accessibility check (axe-core at the WCAG 2.1 A and AA
 * levels, run inside the page) and screenshots at a desktop's and a phone's width.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { OUT, launchChromium, watchErrors } from './browser.js';
import type { CloudHarness } from './cloud.js';

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
const SHOTS = path.join(OUT, 'console');
const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface ConsoleServer {
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Serves the harness's app on a free port (or `port`, one the caller picked) and starts Chromium. */
export async function serveConsole(h: CloudHarness, port = 0): Promise<ConsoleServer> {
  const server = http.createServer(h.app.koa.callback());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await launchChromium();
  fs.mkdirSync(SHOTS, { recursive: true });
  return {
    base,
    browser,
    async close() {
      await browser.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Page errors, console errors (CSP violations among them) and answers of 400 or more. */
  errors: string[];
}

/** A fresh browser context (own session storage) at /console, logged in as `user` through the form. */
export async function openConsole(srv: ConsoleServer, user?: { email: string; password: string }, opts: { viewport?: { width: number; height: number }; failedResponses?: boolean; locale?: string } = {}): Promise<ConsolePage> {
  const context = await srv.browser.newContext({ viewport: opts.viewport ?? DESKTOP, locale: opts.locale ?? 'en-GB', acceptDownloads: true });
  const page = await context.newPage();
  const errors = watchErrors(page, { failedResponses: opts.failedResponses ?? true });
  await page.goto(`${srv.base}/console`);
  if (user) {
    await page.getByLabel('E-mail').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.locator('#nav a').first().waitFor();
  }
  return { context, page, errors };
}

/** Opens a route (`'admin/accounts?q=x'`) and waits until its page has rendered, data and all. */
export async function go(page: Page, route: string): Promise<void> {
  const hash = String(await page.evaluate(`location.hash = ${JSON.stringify(`#/${route}`)}; location.hash`));
  await page.locator(`main[data-rendered=${JSON.stringify(hash)}]`).waitFor();
  await page.locator('main h1').first().waitFor();
}

interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** The WCAG 2.1 A/AA violations axe-core finds in the page as it is now (an empty list passes). */
export async function axeViolations(page: Page): Promise<string[]> {
  // page.evaluate runs outside the page's CSP, so axe needs no exception in it.
  if (!(await page.evaluate("'axe' in window"))) await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate("axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations)")) as AxeViolation[];
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

/** Asserts 0 axe violations in the page's current state, then saves it at desktop and phone width. */
export async function checkPage(page: Page, name: string): Promise<void> {
  expect(await axeViolations(page), `${name}: accessibility`).toEqual([]);
  await screenshots(page, name);
}

/** Screenshots of the page at a desktop's and a phone's width (test-output/console/<name>-desktop.png, -phone.png). */
export async function screenshots(page: Page, name: string): Promise<void> {
  const size = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: path.join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  // Nothing may stick out sideways at a phone's width (tables scroll inside their card).
  const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
  expect(overflow, `${name}: wider than a phone's screen`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(size);
}
