/**
 * The macro editor, accessible: axe-core (WCAG 2.2 AA) finds nothing serious
 * on any of its screens; focus lands somewhere sensible after adding, moving
 * and deleting modules, lessons, questions and options; and an author builds
 * and publishes a small course with the keyboard alone, which a learner then
 * sees in the page.
 */
import type { FrameLocator, Page } from '@playwright/test';
import { AXE_CSP_NOISE, expectAccessible, FRAMES } from './a11y';
import { AUTHOR, callFn, callFnJson, EVERY_KIND, LEARNER, publishCourse } from './courses';
import { expect, test, HYDRATED } from './fixtures';

const VIEWER = '557058:rita-reader-0004';

test.use({ expectedErrors: AXE_CSP_NOISE });

async function openEditor(page: Page, user = AUTHOR): Promise<FrameLocator> {
  await page.goto(`/?user=${encodeURIComponent(user)}#page`);
  await expect(page.locator('#sim-install-state')).toContainText(/installed/i, { timeout: 15_000 });
  await page.locator('#sim-edit-macro').click();
  await expect(page.locator('#sim-editor-dialog')).toBeVisible();
  const editor = page.frameLocator(FRAMES.editor);
  await expect(editor.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  return editor;
}

test('axe-core finds no serious or critical problem on any editor screen', async ({ page, request, config }) => {
  // A published course with every question kind, answered once, so the
  // figures beside the questions show.
  const courseId = await publishCourse(request, config.appBaseUrl, EVERY_KIND);
  const attempt = await callFn(request, config.appBaseUrl, LEARNER, 'learning/start-attempt', {
    course_id: courseId,
    module_id: 'm1',
    client_token: crypto.randomUUID(),
  });
  await callFnJson(request, config.appBaseUrl, LEARNER, 'learning/submit', {
    attempt_id: attempt.attempt_id,
    answers: [['tf', { type: 'bool', value: false }, Date.now()]],
  });

  const ed = await openEditor(page);
  const check = (screen: string) => expectAccessible(page, FRAMES.editor, screen);
  await expect(ed.locator('#sc-course-title')).toHaveValue('Every question kind');
  await expect(ed.locator('#sc-course-description-preview')).toContainText('one question of each kind');
  await check('course, settings, certificate and access');

  await ed.locator('#sc-export').click();
  await expect(ed.locator('#sc-export-json')).toBeVisible();
  await check('course JSON exported');

  await ed.getByRole('button', { name: 'All kinds', exact: true }).click();
  await expect(ed.locator('#sc-module-title')).toHaveValue('All kinds');
  await check('module');

  await ed.getByRole('button', { name: 'Alarms', exact: true }).click();
  await expect(ed.locator('#sc-lesson-body-preview strong')).toHaveText('alarm');
  await check('lesson with its Markdown field and preview');

  await ed.getByRole('button', { name: /^Quiz/ }).click();
  await expect(ed.locator('article.sc-question-editor')).toHaveCount(7);
  await expect(ed.locator('#sc-qa-note')).toContainText('1 submitted attempt');
  await check('quiz: every question kind with its figures');

  // Question import: open, check text with a problem.
  await ed.getByText('Import questions (GIFT or Aiken)').click();
  await ed.locator('#sc-import-text').fill('::Q1:: What is 2+2? {\n=4\n~5\n\n::Q2 broken {');
  await ed.locator('#sc-import-check').click();
  await expect(ed.locator('#sc-import-report')).toBeVisible();
  await check('quiz: question import with a report');

  // Problems that block publishing.
  await ed.locator('#sc-q0-0-prompt').fill('');
  await expect(ed.locator('#sc-problems')).toBeVisible();
  await check('problems before publishing');
  await ed.locator('#sc-q0-0-prompt').fill('Which colour is an extinguisher for electrical fires?');
  await expect(ed.locator('#sc-problems')).toHaveCount(0);

  await ed.locator('#sc-versions-tab').click();
  await expect(ed.locator('#sc-versions')).toBeVisible();
  await check('versions');

  // Someone who may not edit the page: the read-only outline.
  await page.locator('#sim-editor-cancel').click();
  await expect(page.locator('#sim-editor-dialog')).toBeHidden();
  const ro = await openEditor(page, VIEWER);
  await expect(ro.locator('#sc-readonly')).toBeVisible();
  await check('read-only outline');
});

/** The editor on an empty macro: a new course. */
async function openNewCourse(page: Page): Promise<FrameLocator> {
  const res = await page.request.put('/sim/macro', { data: { params: {} } });
  expect(res.ok()).toBeTruthy();
  return openEditor(page);
}

test('focus lands on the new item after Add, stays on the moved item, and moves on after Delete', async ({ page }) => {
  const ed = await openNewCourse(page);
  const live = ed.locator('#sc-live');

  // Add → the new item's first field, its suggested title selected (typing replaces it).
  await ed.locator('#sc-add-module').click();
  await expect(ed.locator('#sc-module-title')).toBeFocused();
  await expect(live).toHaveText('Module 1 added.');
  await page.keyboard.type('First');
  await expect(ed.locator('#sc-module-title')).toHaveValue('First');
  await ed.locator('#sc-add-module').click();
  await expect(ed.locator('#sc-module-title')).toBeFocused();
  await page.keyboard.type('Second');

  // Move → focus stays on the moved module's button; at the top, on the other one.
  await ed.locator('#sc-module-1-up').click();
  await expect(ed.locator('#sc-module-0-down')).toBeFocused();
  await expect(live).toHaveText('The module is now 1 of 2.');
  await expect(ed.locator('#sc-module-title')).toHaveValue('Second');
  await expect(ed.locator('#sc-ol-m0')).toHaveText('Second');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-module-1-up')).toBeFocused();
  await expect(ed.locator('#sc-ol-m1')).toHaveText('Second');

  // Lessons: add two, move, delete → the next, then the previous, then "+ Lesson".
  await ed.locator('#sc-add-lesson').click();
  await expect(ed.locator('#sc-lesson-title')).toBeFocused();
  await page.keyboard.type('L1');
  await ed.locator('#sc-ol-m1').click();
  await ed.locator('#sc-add-lesson').click();
  await expect(ed.locator('#sc-lesson-title')).toBeFocused();
  await page.keyboard.type('L2');
  await ed.locator('#sc-lesson-1-1-up').click();
  await expect(ed.locator('#sc-lesson-1-0-down')).toBeFocused();
  await expect(ed.locator('#sc-lesson-title')).toHaveValue('L2');
  await ed.locator('#sc-delete-lesson').click();
  await expect(ed.locator('#sc-ol-l1-0')).toBeFocused();
  await expect(ed.locator('#sc-lesson-title')).toHaveValue('L1');
  await expect(live).toHaveText('Lesson deleted.');
  await ed.locator('#sc-delete-lesson').click();
  await expect(ed.locator('#sc-add-lesson')).toBeFocused();

  // Quiz and questions.
  await ed.locator('#sc-add-quiz').click();
  await expect(ed.locator('#sc-new-kind')).toBeFocused();
  await ed.locator('#sc-add-question').click();
  await expect(ed.locator('#sc-q1-0-prompt')).toBeFocused();
  await expect(live).toHaveText('Single choice question added.');
  await page.keyboard.type('One');
  await ed.locator('#sc-new-kind').selectOption('truefalse');
  await ed.locator('#sc-add-question').click();
  await expect(ed.locator('#sc-q1-1-prompt')).toBeFocused();
  await page.keyboard.type('Two');
  await ed.locator('#sc-q1-1-up').click();
  await expect(ed.locator('#sc-q1-0-down')).toBeFocused();
  await expect(ed.locator('#sc-q1-0-prompt')).toHaveValue('Two');
  await expect(live).toHaveText('The question is now 1 of 2.');

  // Options: add → its text field; move → its button; remove → the next option, else the one before.
  await ed.locator('#sc-q1-1-add-opt').click();
  await expect(ed.locator('#sc-q1-1-opt-3')).toBeFocused();
  await page.keyboard.type('Four');
  await ed.locator('#sc-q1-1-opt-3-up').click();
  await expect(ed.locator('#sc-q1-1-opt-2-up')).toBeFocused();
  await expect(ed.locator('#sc-q1-1-opt-2')).toHaveValue('Four');
  await expect(live).toHaveText('The option is now 3 of 4.');
  await ed.getByRole('button', { name: 'Remove option 2' }).click();
  await expect(ed.locator('#sc-q1-1-opt-1')).toBeFocused();
  await expect(ed.locator('#sc-q1-1-opt-1')).toHaveValue('Four');
  await ed.getByRole('button', { name: 'Remove option 3' }).click();
  await expect(ed.locator('#sc-q1-1-opt-1')).toBeFocused();
  await expect(ed.locator('#sc-q1-1-opt-1')).toHaveValue('Four');
  await expect(ed.getByRole('button', { name: /^Remove option/ })).toHaveCount(2);

  // Delete a question → the next one's text; the last → the one before; none → "+ Question".
  await ed.getByRole('button', { name: 'Delete question 1' }).click();
  await expect(ed.locator('#sc-q1-0-prompt')).toBeFocused();
  await expect(ed.locator('#sc-q1-0-prompt')).toHaveValue('One');
  await expect(live).toHaveText('Question 1 deleted.');
  await ed.getByRole('button', { name: 'Delete question 1' }).click();
  await expect(ed.locator('#sc-add-question')).toBeFocused();
  await ed.locator('#sc-delete-quiz').click();
  await expect(ed.locator('#sc-add-quiz')).toBeFocused();

  // Delete a module → the next, else the previous, else "+ Module".
  await ed.locator('#sc-ol-m0').click();
  await ed.locator('#sc-delete-module').click();
  await expect(ed.locator('#sc-ol-m0')).toBeFocused();
  await expect(ed.locator('#sc-module-title')).toHaveValue('Second');
  await ed.locator('#sc-delete-module').click();
  await expect(ed.locator('#sc-add-module')).toBeFocused();
  await expect(live).toHaveText('Module deleted.');
});

/** What has the keyboard focus in the editor: its id, or its role and name. */
type Focus = { id: string; tag: string; name: string; value: string };

test('an author builds and publishes a course with the keyboard alone; the learner sees it', async ({ page }) => {
  await page.request.put('/sim/macro', { data: { params: {} } });
  await page.goto(`/?user=${encodeURIComponent(AUTHOR)}#page`);
  await expect(page.locator('#sim-install-state')).toContainText(/installed/i, { timeout: 15_000 });
  // Confluence's own button opens the macro editor.
  await page.locator('#sim-edit-macro').focus();
  await page.keyboard.press('Enter');
  const ed = page.frameLocator(FRAMES.editor);
  await expect(ed.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  const frame = (await (await page.locator(FRAMES.editor).elementHandle())!.contentFrame())!;

  const focused = (): Promise<Focus> =>
    frame.evaluate(() => {
      const el = document.activeElement as HTMLInputElement | null;
      const name =
        el?.getAttribute('aria-label') ?? el?.closest('label')?.textContent?.trim() ?? el?.textContent?.trim() ?? '';
      return { id: el?.id ?? '', tag: el?.tagName.toLowerCase() ?? '', name, value: el?.value ?? '' };
    });
  /** Presses `key` until the focused element is `want` (an id, or a test on it). */
  const moveTo = async (want: string | ((f: Focus) => boolean), key = 'Tab') => {
    const ok = typeof want === 'string' ? (f: Focus) => f.id === want : want;
    const seen: string[] = [];
    for (let i = 0; i < 80; i++) {
      const f = await focused();
      if (ok(f)) return;
      seen.push(f.id || `${f.tag} "${f.name}"`);
      await page.keyboard.press(key);
    }
    throw new Error(`${key} never reached ${want}; passed ${seen.join(' → ')}`);
  };
  const back = (want: string | ((f: Focus) => boolean)) => moveTo(want, 'Shift+Tab');

  // The app's first field; from here on, only keys.
  await ed.locator('#sc-course-title').focus();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('Keyboard only');

  // A module with a lesson.
  await moveTo('sc-add-module');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-module-title')).toBeFocused();
  await page.keyboard.type('Getting started');
  await moveTo('sc-add-lesson');
  await page.keyboard.press('Space');
  await expect(ed.locator('#sc-lesson-title')).toBeFocused();
  await page.keyboard.type('Welcome');
  await page.keyboard.press('Tab');
  await expect(ed.locator('#sc-lesson-body')).toBeFocused();
  await page.keyboard.type('# Hello\n\nThis course was built **without a mouse**.');
  await expect(ed.locator('#sc-lesson-body-preview strong')).toHaveText('without a mouse');

  // Back to the module in the outline; add its quiz.
  await back('sc-ol-m0');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-module-title')).toHaveValue('Getting started');
  await moveTo('sc-add-quiz');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-new-kind')).toBeFocused();

  // Question 1: single choice; the second option is the correct one (arrow keys in the radio group).
  await moveTo('sc-add-question');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-q0-0-prompt')).toBeFocused();
  await page.keyboard.type('Which key moves to the next field?');
  for (const [i, text] of ['Escape', 'Tab', 'Home'].entries()) {
    await moveTo(`sc-q0-0-opt-${i}`);
    await page.keyboard.type(text);
  }
  await back((f) => f.name === 'Option 1 is correct');
  await page.keyboard.press('ArrowDown');
  await expect(ed.getByRole('radio', { name: 'Option 2 is correct' })).toBeChecked();

  // Question 2: true/false, chosen in the select with the arrow keys; the answer is False.
  await moveTo('sc-new-kind');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(ed.locator('#sc-new-kind')).toHaveValue('truefalse');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-q0-1-prompt')).toBeFocused();
  await page.keyboard.type('Space activates a focused button.');
  await moveTo((f) => f.tag === 'input' && f.name === 'True');
  await page.keyboard.press('ArrowDown');
  await expect(ed.getByRole('radio', { name: 'False' })).toBeChecked();

  // Reorder by keyboard: question 2 up, then down again; focus follows the question.
  await back('sc-q0-1-up');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-q0-0-down')).toBeFocused();
  await expect(ed.locator('#sc-q0-0-prompt')).toHaveValue('Space activates a focused button.');
  await page.keyboard.press('Enter');
  await expect(ed.locator('#sc-q0-1-up')).toBeFocused();
  await expect(ed.locator('#sc-q0-0-prompt')).toHaveValue('Which key moves to the next field?');

  // Settings: pass mark, attempts, certificate validity.
  await back('sc-ol-course');
  await page.keyboard.press('Enter');
  for (const [id, value] of [
    ['sc-pass-mark', '50'],
    ['sc-attempts', '3'],
    ['sc-cert-days', '365'],
  ]) {
    await moveTo(id);
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(value);
  }
  await expect(ed.locator('#sc-cert-days')).toHaveValue('365');

  // Publish.
  await expect(ed.locator('#sc-problems')).toHaveCount(0);
  await back('sc-publish');
  await page.keyboard.press('Enter');
  await expect(page.locator('#sim-editor-dialog')).toBeHidden({ timeout: 10_000 });

  // The learner sees the published course in the page.
  await page.goto(`/?user=${encodeURIComponent(LEARNER)}#page`);
  const macro = page.frameLocator(FRAMES.macro);
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(macro.locator('#sc-course-title')).toHaveText('Keyboard only');
  await expect(macro.locator('#sc-toc')).toContainText('Welcome');
  await expect(macro.locator('#sc-toc')).toContainText('Quiz · 2 questions');
  await macro.locator('#sc-continue').click();
  await expect(macro.locator('.sc-lesson strong')).toHaveText('without a mouse');
});
