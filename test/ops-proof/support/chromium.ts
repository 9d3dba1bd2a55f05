import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { findBinary } from './binaries.ts';

/** Debian's chromium; TROUPE_CHROMIUM points elsewhere. */
export const chromiumPath = () => findBinary(process.env.TROUPE_CHROMIUM ?? 'chromium');

// Headless, and quiet: without the background-networking flags Chromium keeps trying to reach update, sync and
// safe-browsing hosts, which on a machine without a network only costs time and log noise.
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions', '--mute-audio',
];

export interface Browser {
  page: Page;
  context: BrowserContext;
  /** Console messages, page errors and failed responses (`http <status>: <url>`), in order. */
  console: string[];
  close(): Promise<void>;
}

/** A real headless Chromium driven over CDP by playwright-core, with a fresh profile removed on close. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('chromium is not installed');
  const profile = mkdtempSync(join(tmpdir(), 'troupe-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args, viewport: { width: 1280, height: 900 }, timeout: 30_000 });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const console: string[] = [];
  // The location of a "Failed to load resource" message is the resource's URL.
  page.on('console', (m) => console.push(`${m.type()}: ${m.text()} @ ${m.location().url}`));
  page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) console.push(`http ${r.status()}: ${r.url()}`);
  });
  return {
    page,
    context,
    console,
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
