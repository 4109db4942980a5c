/**
 * The space tools tab: space administrators see the space's courses and,
 * per course, the learners' report (with a CSV download); other users are
 * told it is for administrators (the server asks Confluence).
 */
import { readFileSync } from 'fs';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, HYDRATED } from './fixtures';
import { callFn, FIRE_SAFETY, LEARNER, publishCourse, SPACE_ADMIN } from './courses';

// The learner's refused call shows up as a failed request in the console.
test.use({ expectedErrors: [/403 \(Forbidden\).*\/api\/space-admin\/overview/] });

test('a space admin sees the courses of the space; a learner is refused', async ({ page }) => {
  await page.goto(`/?user=${encodeURIComponent(SPACE_ADMIN)}#space-tools`);
  const tab = page.frameLocator('#sim-space-tools iframe');
  await expect(tab.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(tab.locator('#sc-admin-courses, #sc-admin-empty')).toBeVisible();
  await expect(tab.locator('#sc-admin-error')).toHaveCount(0);

  await page.locator('#sim-user').selectOption(LEARNER);
  const again = page.frameLocator('#sim-space-tools iframe');
  await expect(again.locator('#sc-admin-error')).toContainText('Only administrators', HYDRATED);
  await expect(again.locator('#sc-admin-courses')).toHaveCount(0);
});

test('the learner report shows progress and downloads as CSV', async ({ page, request, config }) => {
  // A new course; the learner opens its first lesson.
  const title = `Report course ${Date.now()}`;
  const courseId = await publishCourse(request, config.appBaseUrl, { ...FIRE_SAFETY, title });
  await callFn(request, config.appBaseUrl, LEARNER, 'learning/open-lesson', {
    course_id: courseId,
    version: '1',
    lesson_id: 'l1',
  });

  await page.goto(`/?user=${encodeURIComponent(SPACE_ADMIN)}#space-tools`);
  const tab = page.frameLocator('#sim-space-tools iframe');
  await expect(tab.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await tab.getByRole('button', { name: `Learner report for ${title}` }).click();
  await expect(tab.locator('#sc-report-title')).toContainText(title);
  await expect(tab.locator('#sc-report-totals [data-total="learners"]')).toHaveText('1');
  await expect(tab.locator('#sc-report-totals [data-total="in-progress"]')).toHaveText('1');
  const row = tab.locator(`#sc-report-rows tr[data-account="${LEARNER}"]`);
  await expect(row).toContainText('Leo Learner');
  await expect(row).toContainText('In progress');
  await expect(row).toContainText('1 of 2');

  const findings = (await new AxeBuilder({ page }).include(['#sim-space-tools iframe', 'html']).analyze()).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(findings).toEqual([]);

  const [download] = await Promise.all([page.waitForEvent('download'), tab.locator('#sc-report-csv').click()]);
  expect(download.suggestedFilename()).toMatch(/report\.csv$/);
  const path = await download.path();
  const text = readFileSync(path, 'utf8');
  const lines = text.trim().split('\n');
  expect(lines[0]).toContain('Learner,Account ID,Status');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`Leo Learner,${LEARNER},In progress,33,1,2,0,1,0`);
});
