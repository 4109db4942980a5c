/**
 * Authoring in the macro editor, as a Confluence author meets it: open the
 * editor dialog from the page, build a course (two lessons, several question
 * types), publish; the macro then holds the course id, reopening shows the
 * course, and a user without edit permission sees it read-only. Beside each
 * question the editor shows how learners did on it; who may take the course
 * is a setting, and changing it is audited when published.
 */
import { expect, test, HYDRATED } from './fixtures';
import type { FrameLocator, Page } from '@playwright/test';
import { callFn, callFnJson, FIRE_SAFETY, LEARNER, publishCourse, SPACE_ADMIN } from './courses';

const AUTHOR = '557058:ada-author-0001';
const VIEWER = '557058:rita-reader-0004';

async function openEditor(page: Page): Promise<FrameLocator> {
  await page.locator('#sim-edit-macro').click();
  await expect(page.locator('#sim-editor-dialog')).toBeVisible();
  const editor = page.frameLocator('#sim-editor-dialog iframe');
  await expect(editor.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  return editor;
}

async function emptyMacro(page: Page) {
  const res = await page.request.put('/sim/macro', { data: { params: {} } });
  expect(res.ok(), 'PUT /sim/macro').toBeTruthy();
}

async function macroParams(page: Page): Promise<Record<string, string>> {
  const res = await page.request.get('/sim/macro');
  expect(res.ok()).toBeTruthy();
  return (await res.json()).params;
}

test('an author builds, publishes and reopens a course; a viewer sees it read-only', async ({ page }) => {
  // A page whose macro has no course yet (the simulator's page holds its demo course).
  await emptyMacro(page);
  await page.goto(`/?user=${encodeURIComponent(AUTHOR)}#page`);
  await expect(page.locator('#sim-install-state')).toContainText(/installed/i, { timeout: 15_000 });
  const ed = await openEditor(page);

  await ed.locator('#sc-course-title').fill('Security basics');
  await ed.locator('#sc-add-module').click();
  await ed.locator('#sc-module-title').fill('Phishing');
  // Two lessons.
  await ed.locator('#sc-add-lesson').click();
  await ed.locator('#sc-lesson-title').fill('Spotting a phishing mail');
  await ed.locator('#sc-lesson-body').fill('# Look twice\n\nCheck the **sender** and hover over [links](https://example.com).');
  await expect(ed.locator('#sc-lesson-body-preview strong')).toHaveText('sender');
  await ed.getByRole('button', { name: 'Phishing', exact: true }).click();
  await ed.locator('#sc-add-lesson').click();
  await ed.locator('#sc-lesson-title').fill('Reporting');
  await ed.locator('#sc-lesson-body').fill('Use the *Report* button.');

  // A quiz with five question types, filled with the keyboard-usable controls.
  await ed.getByRole('button', { name: 'Phishing', exact: true }).click();
  await ed.locator('#sc-add-quiz').click();
  const add = async (kind: string) => {
    await ed.locator('#sc-new-kind').selectOption(kind);
    await ed.locator('#sc-add-question').click();
  };
  const q = (n: number) => ed.locator('article.sc-question-editor').nth(n);

  await add('single');
  await q(0).locator('textarea').first().fill('Which address is suspicious?');
  await q(0).getByLabel('Option 1 text').fill('support@examp1e.com');
  await q(0).getByLabel('Option 2 text').fill('support@example.com');
  await q(0).getByLabel('Option 3 text').fill('it@example.com');

  await add('multiple');
  await q(1).locator('textarea').first().fill('Which are warning signs?');
  await q(1).getByLabel('Option 1 text').fill('Urgency');
  await q(1).getByLabel('Option 2 text').fill('Unexpected attachment');
  await q(1).getByLabel('Option 3 text').fill('Your own name');

  await add('truefalse');
  await q(2).locator('textarea').first().fill('You should report phishing.');

  await add('numeric');
  await q(3).locator('textarea').first().fill('How many days do you have to report?');
  await q(3).getByLabel('Correct answer').fill('2');

  await add('ordering');
  await q(4).locator('textarea').first().fill('Order the steps');
  await q(4).getByLabel('Item 1', { exact: true }).fill('Stop');
  await q(4).getByLabel('Item 2', { exact: true }).fill('Check');
  await q(4).getByLabel('Item 3', { exact: true }).fill('Report');
  // Reorder with the keyboard-accessible buttons (no drag and drop needed).
  await q(4).getByRole('button', { name: 'Move item down' }).first().click();
  await expect(q(4).getByLabel('Item 1', { exact: true })).toHaveValue('Check');
  await q(4).getByRole('button', { name: 'Move item up' }).nth(1).click();
  await expect(q(4).getByLabel('Item 1', { exact: true })).toHaveValue('Stop');

  await expect(ed.locator('#sc-problems')).toHaveCount(0);
  await expect(ed.locator('#sc-save-state')).toHaveText('All changes saved', { timeout: 10_000 });
  await ed.locator('#sc-publish').click();

  // saveMacro + closeMacroEditor: the dialog closes, the macro holds the course id.
  await expect(page.locator('#sim-editor-dialog')).toBeHidden({ timeout: 10_000 });
  const params = await macroParams(page);
  expect(params.course).toMatch(/^[0-9a-f-]{36}$/);
  await expect(page.locator('#sim-log li[data-call="confluence.saveMacro"]')).toHaveCount(1);

  // Reopening shows the course and its first version.
  const again = await openEditor(page);
  await expect(again.locator('#sc-course-title')).toHaveValue('Security basics');
  await expect(again.locator('#sc-versions-tab')).toHaveText('Versions (1)');
  await again.getByRole('button', { name: 'Phishing', exact: true }).click();
  await expect(again.locator('#sc-module-title')).toHaveValue('Phishing');
  await page.locator('#sim-editor-cancel').click();
  await expect(page.locator('#sim-editor-dialog')).toBeHidden();
  expect((await macroParams(page)).course).toBe(params.course);

  // A user who may view but not edit the page gets a read-only outline.
  await page.locator('#sim-user').selectOption(VIEWER);
  const ro = await openEditor(page);
  await expect(ro.locator('#sc-readonly')).toBeVisible();
  await expect(ro.locator('#sc-readonly')).toContainText('Spotting a phishing mail');
  await expect(ro.locator('#sc-readonly')).toContainText('Quiz: 5 questions');
  await expect(ro.locator('#sc-publish')).toHaveCount(0);
  await expect(ro.locator('#sc-course-title')).toHaveCount(0);
});

test("the quiz panel shows how learners did on each question; a new access mode is audited on publish", async ({
  page,
  request,
  config,
}) => {
  // Version 1 published; the learner answers the true/false question right.
  const title = `Analysed ${Date.now()}`;
  const courseId = await publishCourse(request, config.appBaseUrl, { ...FIRE_SAFETY, title });
  const attempt = await callFn(request, config.appBaseUrl, LEARNER, 'learning/start-attempt', {
    course_id: courseId,
    module_id: 'm1',
    client_token: crypto.randomUUID(),
  });
  await callFnJson(request, config.appBaseUrl, LEARNER, 'learning/submit', {
    attempt_id: attempt.attempt_id,
    answers: [['q2', { type: 'bool', value: false }, Date.now()]],
  });

  await page.goto(`/?user=${encodeURIComponent(AUTHOR)}#page`);
  const ed = await openEditor(page);
  await expect(ed.locator('#sc-course-title')).toHaveValue(title);
  await ed.getByRole('button', { name: 'Quiz (2)' }).click();
  await expect(ed.locator('#sc-qa-note')).toContainText('version 1');
  await expect(ed.locator('#sc-qa-note')).toContainText('1 submitted attempt');
  await expect(ed.locator('#sc-qa-0-1')).toContainText('Facility 100%');
  await expect(ed.locator('#sc-qa-0-1')).toContainText('1 attempt (1 answered)');
  await expect(ed.locator('#sc-qa-0-0')).toContainText('Facility 0%');
  // An edited question is a new question to learners.
  await expect(ed.locator('#sc-qa-0-1')).not.toContainText('Edited since');
  await ed.locator('#sc-q0-1-prompt').fill('Lifts are safe to use in a fire.');
  await expect(ed.locator('#sc-qa-0-1')).toContainText('Edited since version 1');

  // Who can take the course: enrolled learners only, from the next version.
  await ed.getByRole('button', { name: 'Course & settings' }).click();
  const access = ed.getByLabel('Who can take this course');
  await expect(access).toHaveValue('open');
  await access.selectOption('enrolled_only');
  await expect(ed.locator('#sc-access-help')).toContainText('Only people a space admin enrols');
  await expect(ed.locator('#sc-save-state')).toHaveText('All changes saved', { timeout: 10_000 });
  await ed.locator('#sc-publish').click();
  await expect(page.locator('#sim-editor-dialog')).toBeHidden({ timeout: 10_000 });

  const log = await callFn(request, config.appBaseUrl, SPACE_ADMIN, 'space-admin/audit', { course_id: courseId });
  expect(log.entries[0].action).toBe('access_mode');
  expect(log.entries[0].summary).toContain('Enrolled learners only');
  expect(log.entries[0].summary).toContain('version 2');
  // The learner now sees the outline and why.
  const course = await callFn(request, config.appBaseUrl, LEARNER, 'learning/course', { course_id: courseId });
  expect(course.access.allowed).toBe(false);
});

test('each problem before publishing reads in the author\'s words and opens its field', async ({ page }) => {
  await emptyMacro(page);
  await page.goto(`/?user=${encodeURIComponent(AUTHOR)}#page`);
  const ed = await openEditor(page);
  await ed.locator('#sc-course-title').fill('Problems, plainly');
  await ed.locator('#sc-add-module').click();
  await ed.locator('#sc-module-title').fill('Basics');
  await ed.locator('#sc-add-lesson').click();
  await ed.locator('#sc-lesson-title').fill('');
  await ed.getByRole('button', { name: 'Basics', exact: true }).click();
  await ed.locator('#sc-add-quiz').click();
  for (let i = 0; i < 2; i++) {
    await ed.locator('#sc-new-kind').selectOption('truefalse');
    await ed.locator('#sc-add-question').click();
  }
  const q2 = ed.locator('article.sc-question-editor').nth(1);
  await q2.locator('textarea').first().fill('');
  await ed.locator('article.sc-question-editor').first().locator('textarea').first().fill('Smoke rises.');

  // No data paths: places as the outline names them.
  const problems = ed.locator('#sc-problems');
  await expect(problems).toBeVisible();
  await expect(problems).not.toContainText('modules[');
  const lessonProblem = problems.getByRole('button', { name: 'Module 1 “Basics” › Lesson 1: the lesson needs a title.' });
  const questionProblem = problems.getByRole('button', {
    name: 'Module 1 “Basics” › Quiz › Question 2: the question has no text.',
  });
  await expect(lessonProblem).toBeVisible();
  await expect(questionProblem).toBeVisible();

  // Each opens its item and puts the cursor in the field to fix.
  await ed.getByRole('button', { name: 'Course & settings' }).click();
  await questionProblem.click();
  const prompt = ed.locator('[data-path="modules[0].quiz.questions[1].prompt_md"]');
  await expect(prompt).toBeFocused();
  await page.keyboard.type('Fire doors may be wedged open.');
  await expect(q2.locator('textarea').first()).toHaveValue('Fire doors may be wedged open.');
  await expect(questionProblem).toHaveCount(0);

  await lessonProblem.click();
  await expect(ed.locator('#sc-lesson-title')).toBeFocused();
  await page.keyboard.type('Why it matters');
  await expect(problems).toHaveCount(0);
  await expect(ed.locator('#sc-publish')).toBeEnabled();
  await page.locator('#sim-editor-cancel').click();
});
