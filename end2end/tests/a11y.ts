/**
 * axe-core with the WCAG 2.2 AA rule set, on one app iframe of the simulated
 * Confluence page. Every browser spec that checks accessibility goes through
 * `expectAccessible`, so the rule set and what counts as a failure (a serious
 * or critical finding) are the same everywhere.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';

/** The axe-core tags of WCAG 2.0, 2.1 and 2.2, levels A and AA. */
export const WCAG22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** The app iframes of the simulator's page, by the screen they belong to. */
export const FRAMES = {
  macro: '#sim-macro-slot iframe',
  editor: '#sim-editor-dialog iframe',
  spaceTools: '#sim-space-tools iframe',
} as const;

/**
 * axe-core's serious and critical findings inside the iframe `frame` (a CSS
 * selector in the host page), one readable line per element:
 * `screen: rule (impact) help — element: what is wrong`.
 */
export async function axeFindings(page: Page, frame: string, screen: string): Promise<string[]> {
  // Each screen as it opens, scrolled to the top: a control scrolled beneath
  // the editor's sticky header would otherwise count as too small a target.
  const doc = await (await page.locator(frame).elementHandle())?.contentFrame();
  await doc?.evaluate(() => window.scrollTo(0, 0));
  // The app's document inside the iframe; the <iframe> element itself is the host's (Confluence's).
  const results = await new AxeBuilder({ page }).include([frame, 'html']).withTags(WCAG22_AA).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) =>
      v.nodes.map(
        (n) =>
          `${screen}: ${v.id} (${v.impact}) ${v.help} — ${n.target.join(' ')}: ` +
          (n.failureSummary ?? '').replace(/\s*\n\s*/g, ' '),
      ),
    );
}

/**
 * Fails the test (softly: the test goes on, so one run reports every screen)
 * when axe-core finds anything serious or critical in `frame` on `screen`.
 */
export async function expectAccessible(page: Page, frame: string, screen: string): Promise<void> {
  const findings = await axeFindings(page, frame, screen);
  expect.soft(findings, `axe-core (WCAG 2.2 AA) on "${screen}":\n${findings.join('\n')}`).toEqual([]);
}

/**
 * axe-core reads the page's stylesheets to work out contrast, including the
 * AP library's own from Atlassian's CDN; the app's CSP rightly allows no
 * connection to another origin, so that one fetch is refused. Specs that run
 * axe expect this console error (`test.use({ expectedErrors: AXE_CSP_NOISE })`).
 */
export const AXE_CSP_NOISE = [
  /Connecting to 'https:\/\/connect-cdn\.atl-paas\.net\/legacy-text-colors\.css' violates the following Content Security Policy directive: "connect-src 'self'"/,
];
