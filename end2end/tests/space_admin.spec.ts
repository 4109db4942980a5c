/**
 * The space tools tab: space administrators see the space's courses and,
 * per course, the learners (counts, charts, the table with filters and bulk
 * actions, each learner's attempts), enrolments (people, group rules),
 * analytics and the audit log, with CSV downloads; other users are told it
 * is for administrators (the server asks Confluence).
 */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { randomUUID } from 'crypto';
import type { APIRequestContext, Download, FrameLocator, Page } from '@playwright/test';
import { expect, test, HYDRATED } from './fixtures';
import { expectAccessible, FRAMES } from './a11y';
import { callFn, contextToken, FIRE_SAFETY, LEARNER, publishCourse, SPACE_ADMIN } from './courses';

// The learner's refused call shows up as a failed request in the console.
test.use({ expectedErrors: [/403 \(Forbidden\).*\/api\/space-admin\/overview/] });

async function openAdminTab(page: Page): Promise<FrameLocator> {
  await page.goto(`/?user=${encodeURIComponent(SPACE_ADMIN)}#space-tools`);
  const tab = page.frameLocator('#sim-space-tools iframe');
  await expect(tab.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  return tab;
}

/** Opens the course titled `title` from the course list. */
async function openCourse(tab: FrameLocator, title: string): Promise<void> {
  await tab.getByRole('button', { name: `Learner report for ${title}` }).click();
  await expect(tab.locator('#sc-report-title')).toContainText(title);
  await expect(tab.locator('#sc-report-totals')).toBeVisible();
}

/** Clicks `button` and reads the CSV it downloads (byte-order mark kept). */
async function downloadText(page: Page, click: () => Promise<void>): Promise<{ download: Download; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  const path = await download.path();
  return { download, text: readFileSync(path, 'utf8') };
}

/** Calls a JSON server function as `user`. */
async function callJson(request: APIRequestContext, appBaseUrl: string, user: string, name: string, data: object): Promise<any> {
  const token = await contextToken(request, user);
  const res = await request.post(`${appBaseUrl}/api/${name}`, { headers: { Authorization: `JWT ${token}` }, data });
  expect(res.ok(), `${name}: ${await res.text()}`).toBeTruthy();
  return res.json();
}

test('a space admin sees the courses of the space; a learner is refused', async ({ page }) => {
  const tab = await openAdminTab(page);
  await expect(tab.locator('#sc-admin-courses, #sc-admin-empty')).toBeVisible();
  await expect(tab.locator('#sc-admin-error')).toHaveCount(0);
  await expect(tab.locator('#sc-admin-space')).toHaveText('DEV');
  await expectAccessible(page, FRAMES.spaceTools, 'courses of the space');

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

  const tab = await openAdminTab(page);
  const courseRow = tab.locator(`#sc-admin-courses tr[data-course="${courseId}"]`);
  await expect(courseRow).toContainText(config.page.title);
  await expect(courseRow).toContainText(title);
  await expect(courseRow).toContainText('Open');
  await expect(courseRow.getByRole('link', { name: config.page.title })).toHaveAttribute('target', '_top');

  await openCourse(tab, title);
  await expect(tab.locator('#sc-report-totals [data-total="learners"]')).toHaveText('1');
  await expect(tab.locator('#sc-report-totals [data-total="in-progress"]')).toHaveText('1');
  await expect(tab.locator('#sc-chart-completion svg[role="img"]')).toBeVisible();
  await expect(tab.locator('#sc-chart-status svg[role="img"]')).toBeVisible();
  const row = tab.locator(`#sc-report-rows tr[data-account="${LEARNER}"]`);
  await expect(row).toContainText('Leo Learner');
  await expect(row).toContainText('In progress');
  await expect(row).toContainText('Not enrolled');
  await expect(row).toContainText('1 of 2');
  await expect(row.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '33');
  await expect(tab.locator('#sc-report-range')).toHaveText('Rows 1–1 of 1');

  // Filters go to the server: nobody has completed it yet.
  await tab.locator('#sc-filter-state').selectOption('completed');
  await expect(tab.locator('#sc-report-empty')).toContainText('No learner matches');
  await tab.locator('#sc-filter-clear').click();
  await expect(row).toBeVisible();

  await expectAccessible(page, FRAMES.spaceTools, 'course report with filters');

  const { download, text } = await downloadText(page, () => tab.locator('#sc-report-csv').click());
  expect(download.suggestedFilename()).toMatch(/-learners-\d{4}-\d{2}-\d{2}\.csv$/);
  expect(text.startsWith('\ufeff')).toBeTruthy();
  const lines = text.replace(/^\ufeff/, '').trim().split(/\r?\n/);
  expect(lines[0]).toContain('Name,Account ID,Status,Overdue,Enrolled,Enrolled because,Due,Progress %');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(`Leo Learner,${LEARNER},In progress,no,,not enrolled,,33,1,0,0,`);
  await expect(tab.locator('#sc-report-status')).toContainText('Downloaded');
});

test(
  'a space admin enrols a group with a due date, a learner from that group takes and passes the course, ' +
    'the admin sees the completion in the table and the chart, opens the attempt and downloads the CSV that contains it',
  async ({ page, request, config }) => {
    // A course only enrolled learners may take.
    const title = `Group course ${Date.now()}`;
    const courseId = await publishCourse(request, config.appBaseUrl, {
      ...FIRE_SAFETY,
      title,
      settings: { access: 'enrolled_only', pass_mark_percent: 50 },
    });
    // Not enrolled yet: the learner is refused.
    const refused = await request.post(`${config.appBaseUrl}/api/learning/start-attempt`, {
      headers: { Authorization: `JWT ${await contextToken(request, LEARNER)}` },
      form: { course_id: courseId, module_id: 'm1', client_token: randomUUID() },
    });
    expect(refused.status()).toBe(403);

    const tab = await openAdminTab(page);
    await openCourse(tab, title);
    await expect(tab.locator('#sc-course-meta')).toContainText('Enrolled learners only');
    await expect(tab.locator('#sc-report-empty')).toBeVisible();

    // Enrolments: the group new-starters (Leo, Rita, Mia, Omar), due by a date.
    await tab.getByRole('tab', { name: 'Enrolments' }).click();
    await expect(tab.locator('#sc-panel-enrolments')).toBeVisible();
    await tab.locator('#sc-group-search').fill('new');
    await tab.getByRole('radio', { name: 'new-starters' }).check();
    await tab.locator('#sc-group-due-at').check();
    await tab.locator('#sc-group-due-date').fill('2099-06-30');
    await tab.locator('#sc-enrol-group').click();
    await expect(tab.locator('#sc-enrol-status')).toContainText('Enrolled group new-starters (4 people; due by');
    await expect(tab.locator('#sc-enrol-status')).toContainText('4 newly enrolled');
    const rule = tab.locator('#sc-group-rules tr[data-group="new-starters"]');
    await expect(rule).toContainText('Due by');
    await expect(rule).toContainText('2099');
    await expect(rule).toContainText('4');

    // And one person directly, already overdue.
    await tab.locator('#sc-user-search').fill('Eve');
    await tab.getByRole('checkbox', { name: /Eve Engineer/ }).check();
    await expect(tab.locator('#sc-user-picked')).toContainText('Eve Engineer');
    await tab.locator('#sc-enrol-due').fill('2025-01-15');
    await tab.locator('#sc-enrol-submit').click();
    await expect(tab.locator('#sc-enrol-status')).toContainText('Enrolled 1 person, due by');
    await expectAccessible(page, FRAMES.spaceTools, 'enrolments');

    // The learners: five enrolled, nobody started, Eve overdue.
    await tab.getByRole('tab', { name: 'Learners' }).click();
    await expect(tab.locator('#sc-report-totals [data-total="enrolled"]')).toHaveText('5');
    await expect(tab.locator('#sc-report-totals [data-total="overdue"]')).toHaveText('1');
    await expect(tab.locator('#sc-report-totals [data-total="completed"]')).toHaveText('0');
    const leo = tab.locator(`#sc-report-rows tr[data-account="${LEARNER}"]`);
    await expect(leo).toContainText('Not started');
    await expect(leo).toContainText('Group new-starters');
    await expect(leo).toContainText('2099');

    // Rita (new-starters too) starts; Leo, a member of new-starters, takes the course and passes.
    await callFn(request, config.appBaseUrl, '557058:rita-reader-0004', 'learning/open-lesson', {
      course_id: courseId,
      version: '1',
      lesson_id: 'l1',
    });
    for (const lesson of ['l1', 'l2']) {
      await callFn(request, config.appBaseUrl, LEARNER, 'learning/open-lesson', {
        course_id: courseId,
        version: '1',
        lesson_id: lesson,
      });
    }
    const attempt = await callFn(request, config.appBaseUrl, LEARNER, 'learning/start-attempt', {
      course_id: courseId,
      module_id: 'm1',
      client_token: randomUUID(),
    });
    const now = Date.now();
    const answers = attempt.questions.map(({ question }: any) => {
      if (question.kind.type === 'single_choice') {
        const right = question.kind.options.find((o: any) => o.text === 'Leave the building');
        return [question.id, { type: 'choice', value: [right.id] }, now];
      }
      return [question.id, { type: 'bool', value: false }, now];
    });
    const result = await callJson(request, config.appBaseUrl, LEARNER, 'learning/submit', {
      attempt_id: attempt.attempt_id,
      answers,
    });
    expect(result.passed).toBe(true);

    // The admin sees the completion in the table and the chart.
    await tab.locator('#sc-report-refresh').click();
    await expect(tab.locator('#sc-report-totals [data-total="completed"]')).toHaveText('1');
    await expect(leo).toContainText('Completed');
    await expect(leo).toContainText('2 of 2');
    await expect(leo).toContainText('100%');
    await expect(leo.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
    await expect(tab.locator('#sc-chart-completion svg desc')).toContainText('1 of 5 enrolled learners completed');
    await expect(tab.locator('#sc-chart-status svg desc')).toContainText('Completed 1');

    // Filter by the group rule and by status.
    await tab.locator('#sc-filter-reason').selectOption('group:new-starters');
    await expect(tab.locator('#sc-report-range')).toHaveText('Rows 1–4 of 4');
    await tab.locator('#sc-filter-state').selectOption('completed');
    await expect(tab.locator('#sc-report-range')).toHaveText('Rows 1–1 of 1');
    await tab.locator('#sc-filter-clear').click();
    await expect(tab.locator('#sc-report-range')).toHaveText('Rows 1–5 of 5');

    // The README's picture of the report: SC_SCREENSHOTS=1 npx playwright test … space_admin
    if (process.env.SC_SCREENSHOTS) {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(500); // the host resizes the iframe after the content settles
      await page.screenshot({
        path: resolve(test.info().project.testDir, '../../docs/space-admin-report.png'),
        fullPage: true,
      });
    }

    // The attempt, answer by answer.
    await leo.getByRole('button', { name: 'Leo Learner' }).click();
    const detail = tab.locator('#sc-learner-detail');
    await expect(detail).toBeVisible();
    await expect(detail.locator('#sc-learner-facts')).toContainText('leo');
    const shown = detail.locator(`[data-attempt="${attempt.attempt_id}"]`);
    await expect(shown).toContainText('Basics — attempt 1');
    await expect(shown).toContainText('Passed');
    await expect(shown).toContainText('Score 2 of 2 (100%)');
    await expect(shown.locator('tr[data-question="q1"]')).toContainText('What do you do when the alarm rings?');
    await expect(shown.locator('tr[data-question="q1"]')).toContainText('Leave the building');
    await expect(shown.locator('tr[data-question="q1"]')).toContainText('Correct');
    await expectAccessible(page, FRAMES.spaceTools, "a learner's attempts");
    await tab.locator('#sc-learner-back').click();
    await expect(tab.getByRole('button', { name: 'Leo Learner' })).toBeFocused();

    // The learner table as CSV has the completion, the attempts CSV the attempt.
    const learners = await downloadText(page, () => tab.locator('#sc-report-csv').click());
    expect(learners.text.startsWith('\ufeff')).toBeTruthy();
    const rows = learners.text.replace(/^\ufeff/, '').trim().split(/\r?\n/);
    expect(rows[0]).toMatch(/^Name,Account ID,Status,Overdue,/);
    expect(rows).toHaveLength(6);
    const leoLine = rows.find((l) => l.includes(LEARNER));
    expect(leoLine).toMatch(new RegExp(`^Leo Learner,${LEARNER},Completed,no,[^,]+,group new-starters,2099-0[67]-\\d\\dT[\\d:]+Z,100,2,1,1,100.0,`));
    expect(rows.find((l) => l.startsWith('Eve Engineer'))).toContain(',Not started,yes,');

    const attempts = await downloadText(page, () => tab.locator('#sc-attempts-csv').click());
    expect(attempts.download.suggestedFilename()).toMatch(/-attempts-\d{4}-\d{2}-\d{2}\.csv$/);
    const attemptLines = attempts.text.split(/\r?\n/).filter((l) => l.startsWith(attempt.attempt_id));
    expect(attemptLines).toHaveLength(2);
    expect(attemptLines.join('\n')).toContain('Leave the building');

    // Analytics and the audit log show the same story.
    await tab.getByRole('tab', { name: 'Analytics' }).click();
    await expect(tab.locator('#sc-analytics')).toContainText('1 submitted attempt analysed');
    await expect(tab.locator('#sc-analytics tr[data-question="q1"]')).toContainText('Leave the building');
    await tab.getByRole('tab', { name: 'Audit log' }).click();
    await expect(tab.locator('#sc-audit-rows')).toContainText('new-starters');
    await expect(tab.locator('#sc-audit-rows')).toContainText('Sam Spaceadmin');
    await expectAccessible(page, FRAMES.spaceTools, 'analytics and audit log');
  },
);

test('bulk actions set due dates and unenrol; a group member stays enrolled through the group', async ({
  page,
  request,
  config,
}) => {
  const title = `Bulk course ${Date.now()}`;
  const courseId = await publishCourse(request, config.appBaseUrl, { ...FIRE_SAFETY, title });
  const admin = (name: string, data: object) => callJson(request, config.appBaseUrl, SPACE_ADMIN, name, data);
  await admin('space-admin/enrol-group', { course_id: courseId, group: 'engineering', due: 'None' });
  await admin('space-admin/enrol', { course_id: courseId, account_ids: [LEARNER, '557058:eve-engineer-0103'], due_at_ms: null });

  const tab = await openAdminTab(page);
  await openCourse(tab, title);
  await expect(tab.locator('#sc-report-totals [data-total="enrolled"]')).toHaveText('5');

  // Keyboard: the tabs follow the arrow keys.
  await tab.getByRole('tab', { name: 'Learners' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(tab.getByRole('tab', { name: 'Enrolments' })).toBeFocused();
  await expect(tab.getByRole('tab', { name: 'Enrolments' })).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowLeft');
  await expect(tab.getByRole('tab', { name: 'Learners' })).toHaveAttribute('aria-selected', 'true');

  // A due date for two people.
  await tab.getByRole('checkbox', { name: 'Select Leo Learner' }).check();
  await tab.getByRole('checkbox', { name: 'Select Eve Engineer' }).check();
  await expect(tab.locator('#sc-bulk-count')).toHaveText('2 selected');
  await tab.locator('#sc-bulk-due').fill('2098-03-01');
  await tab.locator('#sc-bulk-set-due').click();
  await expect(tab.locator('#sc-report-status')).toContainText('Due date set to');
  await expect(tab.locator(`#sc-report-rows tr[data-account="${LEARNER}"]`)).toContainText('2098');

  // Unenrol both: Eve is in engineering, so she stays.
  await tab.locator('#sc-select-all').uncheck();
  await tab.getByRole('checkbox', { name: 'Select Leo Learner' }).check();
  await tab.getByRole('checkbox', { name: 'Select Eve Engineer' }).check();
  await tab.locator('#sc-bulk-unenrol').click();
  await expect(tab.locator('#sc-bulk-unenrol-confirm')).toBeFocused();
  await tab.locator('#sc-bulk-unenrol-confirm').click();
  await expect(tab.locator('#sc-report-status')).toContainText('Unenrolled 1 person.');
  await expect(tab.locator('#sc-report-status')).toContainText('Eve Engineer');
  await expect(tab.locator('#sc-report-totals [data-total="enrolled"]')).toHaveText('4');

  // Removing the group rule unenrols the rest.
  await tab.getByRole('tab', { name: 'Enrolments' }).click();
  await tab.getByRole('button', { name: 'Remove group rule engineering' }).click();
  await tab.locator('#sc-remove-group-confirm').click();
  await expect(tab.locator('#sc-enrol-status')).toContainText('Removed group rule engineering: 4 people unenrolled');
  await expect(tab.locator('#sc-group-rules-empty')).toBeVisible();
});
