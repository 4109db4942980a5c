/**
 * The simulator's Forge mode (`/sim/forge`, server/src/dev_host/forge.rs):
 * the same components built as Forge Custom UI (scripts/build-forge.sh),
 * rendered in the browser inside iframes on another origin, talking to the
 * host only through @forge/bridge (the simulator injects `window.__bridge`
 * as Forge does). Every server function goes through `invokeRemote`: the
 * simulator mints a Forge Invocation Token from its own JWKS and calls the
 * app with it; the page's CSP allows it no other connection.
 *
 * The main scenarios of the Connect suites, in Forge mode: a learner passes
 * a quiz; an author publishes from the Forge macro editor and the learner
 * and the space admin see the new version.
 *
 * Needs `scripts/build-forge.sh` (forge/static/<module>/) besides what the
 * other suites need.
 */
import type { FrameLocator, Page } from '@playwright/test';
import { expect, test, HYDRATED } from './fixtures';
import { AUTHOR, FIRE_SAFETY, LEARNER, publishCourse, SPACE_ADMIN } from './courses';

async function openForge(page: Page, user: string, view: 'page' | 'space-tools'): Promise<FrameLocator> {
  await page.goto(`/sim/forge?user=${encodeURIComponent(user)}#${view}`);
  const frame = page.frameLocator(view === 'page' ? '#forge-learner' : '#forge-admin');
  await expect(frame.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  return frame;
}

test('Forge mode: the resources are on another origin, with the bridge injected and a strict CSP', async ({ page, request }) => {
  await openForge(page, LEARNER, 'page');
  const src = await page.locator('#forge-learner').getAttribute('src');
  expect(new URL(src!).origin).not.toBe(new URL(page.url()).origin);
  const res = await request.get(src!);
  expect(res.ok()).toBeTruthy();
  const html = await res.text();
  // Forge's bridge first, then the app's own bridge bundle and its start-up.
  expect(html.indexOf('/forge-ui/__bridge.js')).toBeLessThan(html.indexOf('./forge-bridge.js'));
  expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script
  const csp = res.headers()['content-security-policy'];
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  // The simulator's JWKS, which the app trusts in dev (FORGE_JWKS_URL).
  const jwks = await (await request.get('/.well-known/jwks.json')).json();
  expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: 'dev-host-forge-key-1', alg: 'RS256' });
});

test('Forge mode: a learner reads the lessons, passes the quiz and gets a certificate', async ({ page, request, config }) => {
  await publishCourse(request, config.appBaseUrl, FIRE_SAFETY);
  const macro = await openForge(page, LEARNER, 'page');
  await expect(macro.locator('#sc-course-title')).toHaveText('Fire safety');
  await expect(macro.locator('#sc-progress-text')).toContainText('0% complete');

  await macro.locator('#sc-continue').click();
  await expect(macro.locator('#sc-lesson-title')).toHaveText('Alarms');
  await macro.locator('#sc-next').click();
  await expect(macro.locator('#sc-lesson-title')).toHaveText('Exits');
  await macro.locator('#sc-next').click();
  // Start straight away: opening a lesson refreshes the course (progress,
  // the quiz's summary), and through invokeRemote that answer can arrive
  // after the click on Start. It must not redraw the quiz's Start screen
  // over the attempt (the view drops it and refreshes after the submit).
  await macro.locator('#sc-start-quiz').click();
  await macro.getByLabel('Leave the building').check();
  await expect(macro.locator('#sc-answer-state')).toHaveText('Answers saved');
  await macro.getByLabel('False').check();
  await expect(macro.locator('#sc-answer-state')).toHaveText('Answers saved');
  await macro.locator('#sc-submit-quiz').click();
  await expect(macro.locator('#sc-score')).toHaveText('100%');
  await expect(macro.locator('#sc-result')).toContainText('You passed');
  await expect(macro.locator('#sc-progress-text')).toContainText('100% complete');
  await macro.locator('#sc-show-certificate').click();
  // The name comes from the FIT's principal, resolved through the simulated site.
  await expect(macro.locator('#sc-cert-name')).toHaveText('Leo Learner');
  await expect(macro.locator('#sc-cert-course')).toHaveText('Fire safety');
  // Every call went through invokeRemote (the host's bridge log).
  await expect(page.locator('#sim-log-list li[data-call="invoke"]').first()).toBeAttached();
});

test('Forge mode: a course refresh that answers after Start does not redraw the quiz over the attempt', async ({ page, request, config }) => {
  await publishCourse(request, config.appBaseUrl, FIRE_SAFETY);
  // Every course answer after the first reaches the page 1.5 s late (the
  // server has answered; only the delivery waits), as a slow invokeRemote can.
  let courseLoads = 0;
  await page.route('**/sim/forge/invoke', async (route) => {
    const isCourse = (route.request().postData() ?? '').includes('learning/course');
    const response = await route.fetch();
    if (isCourse && ++courseLoads > 1) await new Promise((r) => setTimeout(r, 1500));
    await route.fulfill({ response });
  });
  const macro = await openForge(page, LEARNER, 'page');
  await expect(macro.locator('#sc-course-title')).toHaveText('Fire safety');
  await macro.locator('#sc-continue').click();
  await expect(macro.locator('#sc-lesson-title')).toHaveText('Alarms');
  await macro.locator('#sc-next').click();
  await macro.locator('#sc-next').click();
  await macro.locator('#sc-start-quiz').click();
  await expect(macro.getByLabel('Leave the building')).toBeVisible();
  // The late answers (asked for before Start) arrive meanwhile and are dropped.
  await page.waitForTimeout(2500);
  expect(courseLoads).toBeGreaterThanOrEqual(2);
  await expect(macro.getByLabel('Leave the building')).toBeVisible();
  await expect(macro.locator('#sc-start-quiz')).toHaveCount(0);
  await macro.getByLabel('Leave the building').check();
  await macro.getByLabel('False').check();
  await expect(macro.locator('#sc-answer-state')).toHaveText('Answers saved');
  await macro.locator('#sc-submit-quiz').click();
  await expect(macro.locator('#sc-score')).toHaveText('100%');
  // The refresh after the submit shows the progress the dropped ones had.
  await expect(macro.locator('#sc-progress-text')).toContainText('100% complete');
  await expect(macro.locator('#sc-progress-text')).toContainText('2 of 2 lessons opened');
});

test('Forge mode: German locale and dark theme reach the page through getContext and theming', async ({ page, request, config }) => {
  await publishCourse(request, config.appBaseUrl, FIRE_SAFETY);
  await page.goto(`/sim/forge?user=${encodeURIComponent(LEARNER)}&loc=de-DE&theme=dark#page`);
  const macro = page.frameLocator('#forge-learner');
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(macro.locator('html')).toHaveAttribute('data-color-mode', 'dark');
  await expect(macro.locator('#sc-progress-text')).toContainText('abgeschlossen');
  await page.locator('#sim-theme').selectOption('light');
  await expect(macro.locator('html')).toHaveAttribute('data-color-mode', 'light');
});

test('Forge mode: the author publishes in the macro editor, the learner and the space admin see it', async ({ page, request, config }) => {
  await publishCourse(request, config.appBaseUrl, FIRE_SAFETY);
  await openForge(page, AUTHOR, 'page');
  await page.locator('#sim-edit-macro').click();
  const ed = page.frameLocator('#forge-editor');
  await expect(ed.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(ed.locator('#sc-course-title')).toHaveValue('Fire safety');
  const title = `Forge published ${Date.now()}`;
  await ed.locator('#sc-course-title').fill(title);
  await expect(ed.locator('#sc-save-state')).toHaveText('All changes saved', { timeout: 10_000 });
  await ed.locator('#sc-publish').click();
  // view.submit saved the macro config and closed the editor; the macro reloads.
  await expect(page.locator('#sim-editor-dialog')).toBeHidden({ timeout: 10_000 });
  const params = (await (await request.get('/sim/macro')).json()).params;
  expect(Object.keys(params)).toEqual(['course']);
  const macro = page.frameLocator('#forge-learner');
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(macro.locator('#sc-course-title')).toHaveText(title);

  const tab = await openForge(page, SPACE_ADMIN, 'space-tools');
  await expect(tab.locator(`#sc-admin-courses tr[data-course="${params.course}"]`)).toContainText(title);
});
