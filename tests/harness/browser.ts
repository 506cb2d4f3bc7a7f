import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); `.ci/run` installs it when missing. */
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Where browser suites leave their screenshots: CI keeps the folder as an artifact. */
export const SCREENSHOTS_DIR = join(__dirname, '..', '..', 'artifacts', 'console');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** A full-page PNG in SCREENSHOTS_DIR. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real headless Chromium with a fresh profile (its own `--user-data-dir`, so no cookie or cache
 * of another run), driven by playwright-core, at 1280×800.
 */
export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_BIN)`);
  const profile = mkdtempSync(join(tmpdir(), 'saga-chromium-'));
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  // launchPersistentContext passes the profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    screenshot: async (name) => {
      await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true });
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
