/**
 * A learner inside the page: reads the lessons, takes the quiz (graded on the
 * server), sees the score, and gets a certificate. The course is authored and
 * published through the app's real API with a real context JWT from the
 * simulator, then put into the page's macro.
 */
import { expect, test, HYDRATED } from './fixtures';
import type { APIRequestContext } from '@playwright/test';

const AUTHOR = '557058:ada-author-0001';
const LEARNER = '557058:leo-learner-0002';

async function contextToken(request: APIRequestContext, user: string): Promise<string> {
  const res = await request.post('/sim/context-token', { data: { module: 'macro', user } });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).token;
}

async function publishCourse(request: APIRequestContext, appBaseUrl: string): Promise<string> {
  const token = await contextToken(request, AUTHOR);
  const headers = { Authorization: `JWT ${token}` };
  const content = {
    title: 'Fire safety',
    description_md: 'Ten minutes that may save your life.',
    modules: [
      {
        id: 'm1',
        title: 'Basics',
        lessons: [
          { id: 'l1', title: 'Alarms', body_md: 'When the **alarm** rings, leave.' },
          { id: 'l2', title: 'Exits', body_md: 'Know your two nearest exits.' },
        ],
        quiz: {
          questions: [
            {
              id: 'q1',
              prompt_md: 'What do you do when the alarm rings?',
              points: 1,
              kind: {
                type: 'single_choice',
                options: [
                  { id: 'a', text: 'Leave the building', correct: true },
                  { id: 'b', text: 'Finish the email', correct: false },
                ],
              },
            },
            { id: 'q2', prompt_md: 'Lifts are safe in a fire.', points: 1, kind: { type: 'true_false', answer: false } },
          ],
        },
      },
    ],
  };
  const saved = await request.post(`${appBaseUrl}/api/authoring/save-draft`, {
    headers,
    data: { course_id: null, revision: 0, content },
  });
  expect(saved.ok(), await saved.text()).toBeTruthy();
  const { course_id, revision } = await saved.json();
  const published = await request.post(`${appBaseUrl}/api/authoring/publish`, {
    headers,
    form: { course_id, revision: String(revision), material: 'false' },
  });
  expect(published.ok(), await published.text()).toBeTruthy();
  const macro = await request.put('/sim/macro', { data: { params: { course: course_id } } });
  expect(macro.ok()).toBeTruthy();
  return course_id;
}

test('a learner reads the lessons, passes the quiz and gets a certificate', async ({ page, request, config }) => {
  await publishCourse(request, config.appBaseUrl);
  await page.goto(`/?user=${encodeURIComponent(LEARNER)}#page`);
  const macro = page.frameLocator('#sim-macro-slot iframe');
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(macro.locator('#sc-course-title')).toHaveText('Fire safety');
  await expect(macro.locator('#sc-progress-text')).toContainText('0% complete');

  // Continue where you left off → the first lesson; then Next through the course.
  await macro.locator('#sc-continue').click();
  await expect(macro.locator('#sc-lesson-title')).toHaveText('Alarms');
  await expect(macro.locator('.sc-lesson strong')).toHaveText('alarm');
  await macro.locator('#sc-next').click();
  await expect(macro.locator('#sc-lesson-title')).toHaveText('Exits');
  await macro.locator('#sc-next').click();

  // The quiz: answers are saved as they are given, graded on submit.
  await macro.locator('#sc-start-quiz').click();
  await macro.getByLabel('Leave the building').check();
  await expect(macro.locator('#sc-answer-state')).toHaveText('Answers saved');
  await macro.getByLabel('False').check();
  await expect(macro.locator('#sc-answer-state')).toHaveText('Answers saved');
  await macro.locator('#sc-submit-quiz').click();
  await expect(macro.locator('#sc-score')).toHaveText('100%');
  await expect(macro.locator('#sc-result')).toContainText('You passed');

  // Completion and certificate.
  await expect(macro.locator('#sc-progress-text')).toContainText('100% complete');
  await macro.locator('#sc-show-certificate').click();
  await expect(macro.locator('#sc-cert-name')).toHaveText('Leo Learner');
  await expect(macro.locator('#sc-cert-course')).toHaveText('Fire safety');
});
