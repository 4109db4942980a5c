/**
 * Shared Playwright fixtures for the simulator suites: every test fails on an
 * uncaught exception in the host page or an app iframe, and on console errors
 * other than the known ACJS noise (pitfall 7 of
 * /work/shared/reference/ap-host-simulator.md).
 */
import { test as base, expect, type Frame, type FrameLocator, type Locator, type Page } from '@playwright/test';

export type SimUser = { accountId: string; displayName: string; role: string };
export type SimConfig = {
  appKey: string;
  appBaseUrl: string;
  site: { baseUrl: string; title: string };
  space: { key: string; name: string };
  page: { id: string; title: string; version: number };
  users: SimUser[];
  modules: { macro: string; editor: string; spaceTools: string };
};

/** Console output connect-host.js / iframe.js print on every run; harmless (pitfall 7). */
const KNOWN_NOISE: RegExp[] = [
  /Connect GasV3 catch/,
  /\[ACJS\] Feature flag service is not initialised/,
  /\[Simple-XDM\] Failed promise/,
  /\[ACJS\] jQuery was not loaded before Connect/,
  // axe-core (accessibility checks) fetches every stylesheet of the page to work out
  // contrast, including the AP library's own from Atlassian's CDN (legacy-text-colors.css
  // for a macro; the theme stylesheets once AP.theming has run). The page's CSP rightly
  // allows no connection to another origin (connect-src 'self'), so those fetches are
  // refused. Only the test tool makes them: the page links the same files with <link>,
  // which style-src allows.
  /^Connecting to 'https:\/\/connect-cdn\.atl-paas\.net\/[\w./-]+\.css' violates the following Content Security Policy directive: "connect-src 'self'"/,
];

/** Hydration means fetching and starting the WASM bundle: allow for a cold server. */
export const HYDRATED = { timeout: 20_000 };

export const test = base.extend<{ hostErrors: string[]; config: SimConfig; expectedErrors: RegExp[] }>({
  // Console errors a test provokes on purpose (e.g. a refused request it checks).
  expectedErrors: [[], { option: true }],
  hostErrors: [
    async ({ page, expectedErrors }, use) => {
      const errors: string[] = [];
      // `pageerror` covers the host page and its iframes (same site, one renderer).
      page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const text = msg.text();
        if (KNOWN_NOISE.some((re) => re.test(text))) return;
        const where = msg.location().url || 'unknown source';
        if (expectedErrors.some((re) => re.test(`${text} (${where})`))) return;
        errors.push(`console.error: ${text} (${msg.location().url || 'unknown source'})`);
      });
      // A macro iframe (`moduleType: dynamicContentMacros`) makes iframe.js load
      // legacy-text-colors.css from the Atlassian CDN, unreachable offline (pitfall 6).
      // Answer CDN requests with an empty stylesheet so no request fails.
      await page.route('https://connect-cdn.atl-paas.net/**', (route) =>
        route.fulfill({ status: 200, contentType: 'text/css', body: '/* offline stand-in for connect-cdn.atl-paas.net */' }),
      );
      await use(errors);
      expect(errors, 'errors in the host page or the app iframes').toEqual([]);
    },
    { auto: true },
  ],
  config: async ({ request }, use) => {
    const res = await request.get('/sim/config');
    expect(res.ok(), 'GET /sim/config').toBeTruthy();
    await use((await res.json()) as SimConfig);
  },
});


export { expect };
