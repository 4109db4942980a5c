/**
 * The offline Confluence host simulator, end to end: a Confluence-like host page
 * (baseURL, e.g. http://127.0.0.1:3101) embeds the real app (another origin, e.g.
 * http://127.0.0.1:3100) through Atlassian's `atlassian-connect-js` host library.
 *
 * Every test fails on an uncaught exception in the host page or in an app iframe, and
 * on console errors other than the known ACJS noise (reference pitfall 7,
 * /work/shared/reference/ap-host-simulator.md).
 */
import { expect, test, HYDRATED, type SimConfig, type SimUser } from './fixtures';
import type { Frame, Locator, Page } from '@playwright/test';

// The default user (an author, not a space admin) is refused the space admin
// overview; the browser logs that refused request.
test.use({ expectedErrors: [/403 \(Forbidden\).*\/api\/space-admin\/overview/] });

const DEMO = 'Welcome to Acme';

// These tests show the page as the simulator seeds it, with its demo course in the
// macro (other suites store courses of their own in the simulated page).
test.beforeEach(async ({ request }) => {
  const { demo } = await (await request.get('/sim/state')).json();
  expect(demo.state, 'the demo course is seeded').toBe('ready');
  const res = await request.put('/sim/macro', { data: { params: { course: demo.course } } });
  expect(res.ok(), 'PUT /sim/macro').toBeTruthy();
});

/** The "Viewing as" user the page starts with. */
async function currentUser(page: Page, config: SimConfig): Promise<SimUser> {
  const select = page.locator('#sim-user');
  await expect(select).toBeEnabled();
  const accountId = await select.inputValue();
  const user = config.users.find((u) => u.accountId === accountId);
  expect(user, `#sim-user value ${accountId} is one of /sim/config users`).toBeTruthy();
  return user!;
}

async function frameOf(iframe: Locator): Promise<Frame> {
  const handle = await iframe.elementHandle();
  const frame = await handle?.contentFrame();
  expect(frame, 'iframe has a content frame').toBeTruthy();
  return frame!;
}

/** Asserts the iframe is served by the app, on another origin than the host page. */
async function expectCrossOriginApp(page: Page, iframe: Locator, config: SimConfig) {
  const src = await iframe.getAttribute('src');
  expect(src, 'iframe src').toBeTruthy();
  const url = new URL(src!, page.url());
  expect(url.origin).not.toBe(new URL(page.url()).origin);
  expect(url.origin).toBe(new URL(config.appBaseUrl).origin);
  expect(url.searchParams.get('jwt'), 'signed iframe URL carries a jwt').toBeTruthy();
  // And the browser treats it as cross-origin: the app cannot reach into the host.
  const frame = await frameOf(iframe);
  const access = await frame.evaluate(() => {
    try {
      void window.parent.document.title;
      return 'same-origin';
    } catch (e) {
      return (e as Error).name;
    }
  });
  expect(access).toBe('SecurityError');
}

/**
 * The server verified who is looking, from the context JWT that AP.context.getToken()
 * returned: the demo course shows this user's own progress (the simulator's seed has
 * Leo open two lessons; the author has opened none).
 */
async function expectVerifiedAs(macro: FrameLocator, user: SimUser) {
  await expect(macro.locator('#sc-course-title')).toHaveText(DEMO, { timeout: 10_000 });
  const opened = user.role === 'learner' ? 2 : 0;
  await expect(macro.locator('#sc-progress-text')).toContainText(`${opened} of 4 lessons opened`);
}

test('page embeds the course macro cross-origin; identity round-trips through AP and the server', async ({ page, config }) => {
  expect(config.space.key).toBe('DEV');
  await page.goto('/');

  await expect(page.locator('#sim-install-state')).toHaveText('Installed in Smart Courses', { timeout: 15_000 });
  await expect(page.locator('#sim-page-title')).toHaveText(config.page.title);
  const user = await currentUser(page, config);

  const iframe = page.locator('#sim-macro-slot iframe');
  await expect(iframe).toHaveCount(1);
  const macro = page.frameLocator('#sim-macro-slot iframe');
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expectCrossOriginApp(page, iframe, config);

  expect(user.role, 'the page starts as the author').toBe('author');
  await expectVerifiedAs(macro, user);

  // The host answered the token call itself (host log, one line per AP call).
  await expect(page.locator('#sim-log li[data-call="context.getToken"][data-source="macro"][data-outcome="ok"]').first()).toBeAttached();
});

test('switching "Viewing as" re-creates the macro iframe for the new user', async ({ page, config }) => {
  const learner = config.users.find((u) => u.role === 'learner');
  expect(learner, 'a learner in /sim/config').toBeTruthy();

  await page.goto('/');
  const iframe = page.locator('#sim-macro-slot iframe');
  const macro = page.frameLocator('#sim-macro-slot iframe');
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  const before = await currentUser(page, config);
  expect(before.accountId, 'the page does not start as the learner').not.toBe(learner!.accountId);
  const oldId = await iframe.getAttribute('id');
  const oldSrc = await iframe.getAttribute('src');

  await page.locator('#sim-user').selectOption(learner!.accountId);

  // A new iframe (new extension id, freshly signed URL), and only that one.
  await expect(page.locator(`#sim-macro-slot iframe:not([id="${oldId}"])`)).toHaveCount(1);
  await expect(iframe).toHaveCount(1);
  expect(await iframe.getAttribute('src')).not.toBe(oldSrc);
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);

  await expectVerifiedAs(macro, learner!);
});

test('"Edit macro" opens the editor dialog with the app editor; Close dismisses it without saving', async ({ page, config, request }) => {
  const stored = (await (await request.get('/sim/macro')).json()) as { params: Record<string, unknown> };
  const hasCourse = Object.keys(stored.params ?? {}).length > 0;

  await page.goto('/');
  await expect(page.frameLocator('#sim-macro-slot iframe').locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  const macroId = await page.locator('#sim-macro-slot iframe').getAttribute('id');

  await page.locator('#sim-edit-macro').click();
  const dialog = page.locator('#sim-editor-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.locator('#sim-editor-title')).toHaveText(hasCourse ? 'Edit Smart Course' : 'Insert Smart Course');

  const iframe = page.locator('#sim-editor-dialog iframe');
  await expect(iframe).toHaveCount(1);
  await expect(page.frameLocator('#sim-editor-dialog iframe').locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expectCrossOriginApp(page, iframe, config);

  await page.locator('#sim-editor-cancel').click();
  await expect(dialog).toBeHidden();
  await expect(iframe).toHaveCount(0);

  // Nothing was saved, so the page kept its macro iframe as it was.
  await expect(page.locator('#sim-log li[data-call="confluence.saveMacro"]')).toHaveCount(0);
  await expect(page.locator('#sim-macro-slot iframe')).toHaveAttribute('id', macroId!);
  expect((await (await request.get('/sim/macro')).json()).params).toEqual(stored.params);
});

test('#space-tools deep link shows Space settings with the Smart Courses admin tab', async ({ page, config }) => {
  await page.goto('/#space-tools');

  await expect(page.locator('#sim-space-tools')).toBeVisible();
  await expect(page.locator('#sim-page')).toBeHidden();
  await expect(page.getByRole('tab', { name: 'Smart Courses' })).toHaveAttribute('aria-selected', 'true');

  const iframe = page.locator('#sim-space-tools iframe');
  await expect(iframe).toHaveCount(1);
  await expect(page.frameLocator('#sim-space-tools iframe').locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expectCrossOriginApp(page, iframe, config);
  // The page's macro is not loaded behind the settings view.
  await expect(page.locator('#sim-macro-slot iframe')).toHaveCount(0);
});
