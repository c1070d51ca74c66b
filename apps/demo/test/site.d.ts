import type { BrowserContext, Page } from 'playwright-core';

export declare const DEMO: string;
export declare const DIST: string;
export declare const CHROMIUM: string;
export declare const CHROMIUM_ARGS: string[];
export declare const LONG_TEXT: string;

export declare function serve(root: string, options?: { isolated?: boolean }): Promise<{ url: string; close: () => Promise<void> }>;

export interface Site {
  url: string;
  context: BrowserContext;
  page: Page;
  /** The page's console errors and uncaught exceptions, each prefixed with the test that was running. */
  errors: string[];
  /** Open one of the site's views by its tab. */
  view(name: string): Promise<void>;
  load(query?: string, options?: { timeout?: number }): Promise<void>;
  close(): Promise<void>;
}
export declare function openSite(options?: { dist?: string; executablePath?: string; timeout?: number }): Promise<Site>;
