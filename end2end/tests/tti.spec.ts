/**
 * Time to interactive of the learner view (README "Measured"): a course with
 * 20 questions in the page's macro, opened as a learner; inside the macro
 * iframe, from its navigation start to the `sc-hydrated` performance mark
 * the app leaves when hydration has finished. One first load in a fresh
 * browser context and five reloads. The reloads fetch the bundle again
 * (over loopback): Playwright turns the HTTP cache off for a page with
 * request routing, which the fixtures set up for the Atlassian CDN.
 *
 * The figures are printed and written to target/tti.json; nothing here
 * asserts a time (a timing assertion would only make the suite flaky). What
 * it does assert: the learner's iframe fetched exactly one WASM bundle, the
 * learner's own.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Frame, Page } from '@playwright/test';
import { expect, test, HYDRATED } from './fixtures';
import { LEARNER, publishCourse } from './courses';

const QUESTIONS = 20;

/** One module, two lessons and a quiz of `QUESTIONS` single-choice questions. */
function twentyQuestionCourse() {
  const questions = Array.from({ length: QUESTIONS }, (_, i) => ({
    id: `q${i + 1}`,
    prompt_md: `Question ${i + 1}: which exit is nearest to **room ${100 + i}**?`,
    points: 1,
    kind: {
      type: 'single_choice',
      options: [
        { id: 'a', text: `Exit ${i % 3 + 1}`, correct: true },
        { id: 'b', text: 'The lift', correct: false },
        { id: 'c', text: 'The window', correct: false },
      ],
    },
  }));
  return {
    title: 'Twenty questions',
    description_md: 'A course with a quiz of twenty questions.',
    modules: [
      {
        id: 'm1',
        title: 'Exits',
        lessons: [
          { id: 'l1', title: 'Alarms', body_md: 'When the **alarm** rings, leave.' },
          { id: 'l2', title: 'Exits', body_md: 'Know your two nearest exits.' },
        ],
        quiz: { questions },
      },
    ],
  };
}

type Sample = {
  /** ms from the iframe's navigation start */
  html_response_end: number;
  wasm_response_end: number;
  hydrated: number;
  wasm: string;
  wasm_transfer_bytes: number;
};

async function macroFrame(page: Page): Promise<Frame> {
  const iframe = page.locator('#sim-macro-slot iframe');
  await expect(page.frameLocator('#sim-macro-slot iframe').locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  const frame = await (await iframe.elementHandle())?.contentFrame();
  expect(frame, 'the macro iframe has a content frame').toBeTruthy();
  return frame!;
}

/** Reads the iframe's own performance timeline (its time origin is its navigation start). */
async function sample(frame: Frame): Promise<Sample> {
  await frame.waitForFunction(() => performance.getEntriesByName('sc-hydrated').length > 0, null, HYDRATED);
  const s = await frame.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const wasm = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) =>
      new URL(r.name).pathname.endsWith('.wasm'),
    );
    return {
      html_response_end: nav.responseEnd,
      wasm_urls: wasm.map((r) => new URL(r.name).pathname),
      wasm_response_end: wasm.length ? wasm[0].responseEnd : NaN,
      wasm_transfer_bytes: wasm.length ? wasm[0].transferSize : NaN,
      hydrated: performance.getEntriesByName('sc-hydrated')[0].startTime,
    };
  });
  // The split: the course macro loads its own bundle and nothing else.
  expect(s.wasm_urls, 'WASM fetched by the learner iframe').toHaveLength(1);
  expect(s.wasm_urls[0]).toMatch(/^\/pkg\/learner-[0-9a-f]+\/learner_bg\.wasm$/);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    html_response_end: round(s.html_response_end),
    wasm_response_end: round(s.wasm_response_end),
    hydrated: round(s.hydrated),
    wasm: s.wasm_urls[0],
    wasm_transfer_bytes: s.wasm_transfer_bytes,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

test('time to interactive of the learner view with a 20-question course (measured, not asserted)', async ({
  page,
  request,
  config,
}) => {
  await publishCourse(request, config.appBaseUrl, twentyQuestionCourse());
  await page.goto(`/?user=${encodeURIComponent(LEARNER)}#page`);
  const cold = await sample(await macroFrame(page));
  // The course itself arrives after hydration (a server function): it is there.
  await expect(page.frameLocator('#sim-macro-slot iframe').locator('#sc-course-title')).toHaveText('Twenty questions');

  const repeat: Sample[] = [];
  for (let i = 0; i < 5; i++) {
    await page.reload();
    repeat.push(await sample(await macroFrame(page)));
  }
  const result = {
    what: 'learner view (course macro iframe), 20-question course: ms from the iframe navigation start',
    measured_at: new Date().toISOString(),
    first: cold,
    reloads: repeat,
    reloads_median: {
      html_response_end: median(repeat.map((w) => w.html_response_end)),
      wasm_response_end: median(repeat.map((w) => w.wasm_response_end)),
      hydrated: median(repeat.map((w) => w.hydrated)),
    },
  };
  const out = path.join(__dirname, '..', '..', 'target', 'tti.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  console.log(
    `TTI learner view (20 questions): first load ${cold.hydrated} ms (wasm loaded at ${cold.wasm_response_end} ms, ` +
      `${cold.wasm_transfer_bytes} B transferred), median of 5 reloads ${result.reloads_median.hydrated} ms -> ${out}`,
  );
});
