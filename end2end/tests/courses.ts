/**
 * Courses for the browser suites, made through the app's real API with real
 * context JWTs minted by the simulator (as AP.context.getToken() would).
 */
import { expect, type APIRequestContext } from '@playwright/test';

export const AUTHOR = '557058:ada-author-0001';
export const LEARNER = '557058:leo-learner-0002';
export const SPACE_ADMIN = '557058:sam-spaceadmin-0003';

export async function contextToken(request: APIRequestContext, user: string): Promise<string> {
  const res = await request.post('/sim/context-token', { data: { module: 'macro', user } });
  expect(res.ok()).toBeTruthy();
  return (await res.json()).token;
}

/** Calls a server function as `user`; the parsed JSON reply. */
export async function callFn(
  request: APIRequestContext,
  appBaseUrl: string,
  user: string,
  name: string,
  form: Record<string, string>,
): Promise<any> {
  const token = await contextToken(request, user);
  const res = await request.post(`${appBaseUrl}/api/${name}`, {
    headers: { Authorization: `JWT ${token}` },
    form,
  });
  expect(res.ok(), `${name}: ${await res.text()}`).toBeTruthy();
  return res.json();
}

/** Calls a JSON-encoded server function (`input = Json`) as `user`; the parsed JSON reply. */
export async function callFnJson(
  request: APIRequestContext,
  appBaseUrl: string,
  user: string,
  name: string,
  data: object,
): Promise<any> {
  const token = await contextToken(request, user);
  const res = await request.post(`${appBaseUrl}/api/${name}`, {
    headers: { Authorization: `JWT ${token}` },
    data,
  });
  expect(res.ok(), `${name}: ${await res.text()}`).toBeTruthy();
  return res.json();
}

/** Saves and publishes `content` as the author and puts it into the page's macro. */
export async function publishCourse(request: APIRequestContext, appBaseUrl: string, content: object): Promise<string> {
  const token = await contextToken(request, AUTHOR);
  const headers = { Authorization: `JWT ${token}` };
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

const lessons = [
  { id: 'l1', title: 'Alarms', body_md: 'When the **alarm** rings, leave.' },
  { id: 'l2', title: 'Exits', body_md: 'Know your two nearest exits.' },
];

/** Two lessons and a two-question quiz. */
export const FIRE_SAFETY = {
  title: 'Fire safety',
  description_md: 'Ten minutes that may save your life.',
  modules: [
    {
      id: 'm1',
      title: 'Basics',
      lessons,
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

/** One question of every kind (for the accessibility and offline tests). */
export const EVERY_KIND = {
  title: 'Every question kind',
  description_md: 'A course with one question of each kind.',
  settings: { pass_mark_percent: 50, feedback_mode: 'after_submit' },
  modules: [
    {
      id: 'm1',
      title: 'All kinds',
      lessons,
      quiz: {
        questions: [
          {
            id: 'single',
            prompt_md: 'Which colour is an extinguisher for electrical fires?',
            kind: {
              type: 'single_choice',
              options: [
                { id: 'a', text: 'Black (CO2)', correct: true },
                { id: 'b', text: 'Red (water)', correct: false },
              ],
            },
          },
          {
            id: 'multi',
            prompt_md: 'Which are fire hazards?',
            kind: {
              type: 'multiple_choice',
              options: [
                { id: 'a', text: 'Overloaded sockets', correct: true },
                { id: 'b', text: 'Blocked vents', correct: true },
                { id: 'c', text: 'A closed fire door', correct: false },
              ],
            },
          },
          { id: 'tf', prompt_md: 'Fire doors may be wedged open.', kind: { type: 'true_false', answer: false } },
          {
            id: 'text',
            prompt_md: 'What number do you call in an emergency in the UK?',
            kind: { type: 'short_text', accepted: [{ text: '999', mode: 'exact' }] },
          },
          {
            id: 'num',
            prompt_md: 'How many metres from the building is the assembly point?',
            kind: { type: 'numeric', answer: 50, tolerance: 5 },
          },
          {
            id: 'order',
            prompt_md: 'Put the steps in order.',
            kind: {
              type: 'ordering',
              items: [
                { id: 'i1', text: 'Raise the alarm' },
                { id: 'i2', text: 'Leave by the nearest exit' },
                { id: 'i3', text: 'Go to the assembly point' },
              ],
            },
          },
          {
            id: 'match',
            prompt_md: 'Match the extinguisher to the fire.',
            kind: {
              type: 'matching',
              pairs: [
                { id: 'p1', prompt: 'Paper', answer: 'Water' },
                { id: 'p2', prompt: 'Electrical', answer: 'CO2' },
              ],
            },
          },
        ],
      },
    },
  ],
};
