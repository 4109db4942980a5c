/**
 * The app in German: Confluence tells each iframe the user's locale as
 * `loc` (the simulator's *Language* switch, here `?loc=de-DE`), and the
 * learner view, the macro editor and the space tools tab speak it — words,
 * dates and numbers — on the server's first render and after hydration
 * alike (a mismatch would be a console error, which fails the test). What
 * the server answers (a refusal to publish) comes in German too. axe-core
 * still finds nothing serious, with `<html lang="de">`.
 */
import type { FrameLocator, Page } from '@playwright/test';
import { AXE_CSP_NOISE, expectAccessible, FRAMES } from './a11y';
import { expect, test, HYDRATED } from './fixtures';
import { AUTHOR, FIRE_SAFETY, LEARNER, publishCourse, SPACE_ADMIN } from './courses';

// The admin test provokes one refusal on purpose (a search too long), to
// read the server's words in German.
// (One pattern: Playwright reads a two-element array option as [value, options].)
const REFUSED_SEARCH = /400 \(Bad Request\).*\/api\/space-admin\/search-users/;
test.use({
  expectedErrors: [new RegExp([...AXE_CSP_NOISE, REFUSED_SEARCH].map((re) => `(?:${re.source})`).join('|'))],
});

/** The simulated page as `user`, in German; `view` is `#page` or `#space-tools`. */
async function openInGerman(page: Page, user: string, view = '#page'): Promise<void> {
  await page.goto(`/?user=${encodeURIComponent(user)}&loc=de-DE${view}`);
}

/** `30.11.2026` (and a time after it where there is one). */
const GERMAN_DATE = /\b\d{2}\.\d{2}\.\d{4}\b/;

test('a learner meets the course in German: words, numbers, dates and the certificate', async ({
  page,
  request,
  config,
}) => {
  await publishCourse(request, config.appBaseUrl, FIRE_SAFETY);
  await openInGerman(page, LEARNER);
  const macro = page.frameLocator(FRAMES.macro);
  await expect(macro.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(macro.locator('html')).toHaveAttribute('lang', 'de');
  // The iframe URL carries Confluence's locale, as in Confluence.
  expect(new URL((await page.locator(FRAMES.macro).getAttribute('src'))!).searchParams.get('loc')).toBe('de-DE');

  await expect(macro.locator('#sc-progress-text')).toHaveText(
    '0\u00a0% abgeschlossen · 0 von 2 Lektionen geöffnet · 0 von 1 Quizzen bestanden',
  );
  await expect(macro.getByRole('navigation', { name: 'Inhaltsverzeichnis' })).toBeVisible();
  await expect(macro.getByRole('button', { name: 'Quiz · 2 Fragen' })).toBeVisible();
  await expectAccessible(page, FRAMES.macro, 'learner contents (de)');

  await macro.getByRole('button', { name: 'Dort weitermachen, wo du aufgehört hast' }).click();
  await expect(macro.locator('#sc-lesson-title')).toHaveText('Alarms');
  await macro.getByRole('button', { name: 'Weiter →' }).click();
  await macro.getByRole('button', { name: 'Weiter →' }).click();

  await expect(macro.locator('.sc-quiz')).toContainText('2 Fragen · Bestehensgrenze 80\u00a0%');
  await macro.getByRole('button', { name: 'Quiz starten' }).click();
  await expect(macro.locator('legend').first()).toHaveText('Frage 1 von 2 · 1 Punkt');
  await macro.getByLabel('Leave the building').check();
  await expect(macro.locator('#sc-answer-state')).toHaveText('Antworten gespeichert');
  await macro.getByLabel('Falsch').check();
  await expect(macro.locator('#sc-answer-state')).toHaveText('Antworten gespeichert');
  await expectAccessible(page, FRAMES.macro, 'quiz attempt (de)');
  await macro.getByRole('button', { name: 'Antworten abgeben' }).click();

  await expect(macro.locator('#sc-score')).toHaveText('100\u00a0%');
  await expect(macro.locator('#sc-result')).toContainText('– 2 von 2 Punkten. Bestanden. (Bestehensgrenze 80\u00a0%.)');
  const attempt = macro.locator('#sc-history .sc-history-row');
  await expect(attempt).toContainText('100\u00a0% (2 von 2)');
  await expect(attempt).toContainText('Bestanden');
  await expect(attempt).toContainText(GERMAN_DATE);
  await expect(attempt).toContainText(/\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC/);
  await expectAccessible(page, FRAMES.macro, 'quiz result (de)');

  await expect(macro.locator('#sc-progress-text')).toContainText('100\u00a0% abgeschlossen');
  await macro.getByRole('button', { name: 'Zertifikat ansehen' }).click();
  const certificate = macro.getByRole('article', { name: 'Abschlusszertifikat' });
  await expect(certificate).toContainText('hat abgeschlossen');
  await expect(certificate).toContainText(/Version 1 · abgeschlossen am \d{2}\.\d{2}\.\d{4}/);
  await expect(certificate.getByRole('button', { name: 'Drucken' })).toBeVisible();
  await expectAccessible(page, FRAMES.macro, 'certificate (de)');
});

test('the macro editor speaks German, and its calls ask the server for German', async ({
  page,
  request,
  config,
}) => {
  await publishCourse(request, config.appBaseUrl, FIRE_SAFETY);
  const apiLanguages: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(`${config.appBaseUrl}/api/`)) apiLanguages.push(r.headers()['accept-language'] ?? '(none)');
  });
  await openInGerman(page, AUTHOR);
  await page.locator('#sim-edit-macro').click();
  const editor: FrameLocator = page.frameLocator(FRAMES.editor);
  await expect(editor.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(editor.locator('html')).toHaveAttribute('lang', 'de');

  await expect(editor.locator('#sc-publish')).toHaveText('Veröffentlichen und speichern');
  await expect(editor.locator('#sc-cancel')).toHaveText('Abbrechen');
  await expect(editor.locator('#sc-save-state')).toHaveText('Alle Änderungen gespeichert');
  await expect(editor.getByRole('navigation', { name: 'Kursgliederung' })).toContainText('Kurs & Einstellungen');
  await expect(editor.getByLabel('Erlaubte Versuche (leer: unbegrenzt)')).toBeVisible();
  await expectAccessible(page, FRAMES.editor, 'editor course panel (de)');

  // The quiz: question kinds, labels and move buttons in German.
  await editor.getByRole('button', { name: 'Quiz (2)' }).click();
  await expect(editor.getByRole('heading', { name: 'Frage 1 · Einfachauswahl' })).toBeVisible();
  await expect(editor.getByRole('button', { name: 'Frage nach unten verschieben' }).first()).toBeVisible();
  await expectAccessible(page, FRAMES.editor, 'editor quiz (de)');

  // Versions: the publishing date as Germans write it.
  await editor.locator('#sc-versions-tab').click();
  await expect(editor.locator('#sc-versions')).toContainText(/\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2} UTC/);
  await expect(editor.locator('#sc-versions')).toContainText('Als Entwurf wiederherstellen');

  // What blocks publishing, in German: the editor's list and the server's refusal.
  await editor.locator('#sc-ol-course').click();
  await editor.locator('#sc-course-title').fill('');
  const problems = editor.locator('#sc-problems');
  await expect(problems.getByRole('heading')).toHaveText('1 Punkt vor dem Veröffentlichen zu beheben');
  await expect(problems.getByRole('button')).toHaveText('Kurs: Der Kurs braucht einen Titel.');
  await expect(editor.locator('#sc-save-state')).toHaveText('Alle Änderungen gespeichert');
  // Every call the editor made went out in the page's language (the server
  // answers in it: server/tests/api/authoring.rs).
  expect(apiLanguages.length).toBeGreaterThan(0);
  expect([...new Set(apiLanguages)]).toEqual(['de']);
  await expectAccessible(page, FRAMES.editor, 'editor problems (de)');
  await editor.locator('#sc-course-title').fill('Fire safety');
  await expect(editor.locator('#sc-problems')).toHaveCount(0);
  await expect(editor.locator('#sc-save-state')).toHaveText('Alle Änderungen gespeichert');
});

test('the space tools tab speaks German, with German dates and numbers', async ({ page, request, config }) => {
  const title = `Brandschutz ${Date.now()}`;
  await publishCourse(request, config.appBaseUrl, { ...FIRE_SAFETY, title });
  await openInGerman(page, SPACE_ADMIN, '#space-tools');
  const tab = page.frameLocator(FRAMES.spaceTools);
  await expect(tab.locator('#sc-hydrated')).toHaveText('yes', HYDRATED);
  await expect(tab.locator('html')).toHaveAttribute('lang', 'de');

  await expect(tab.getByRole('tab', { name: 'Kurse' })).toHaveAttribute('aria-selected', 'true');
  await expect(tab.getByRole('tab', { name: 'Prüfprotokoll' })).toBeVisible();
  await expect(tab.locator('#sc-admin-courses-caption')).toHaveText(/^Kurse in diesem Bereich \(\d+\)$/);
  await expect(tab.locator('#sc-admin-courses thead')).toContainText('Eingeschrieben');
  await expectAccessible(page, FRAMES.spaceTools, 'admin overview (de)');

  await tab.getByRole('button', { name: `Bericht zu den Lernenden von ${title}` }).click();
  await expect(tab.locator('#sc-course-meta')).toContainText('Veröffentlichte Version');
  await expect(tab.getByRole('tab', { name: 'Lernende' })).toBeVisible();
  await expect(tab.getByRole('button', { name: 'Alle Kurse' })).toBeVisible();

  // Enrolments: every word German, a refusal from the server too.
  await tab.getByRole('tab', { name: 'Einschreibungen' }).click();
  await expect(tab.locator('#sc-panel-enrolments')).toBeVisible();
  await expect(tab.getByRole('heading', { name: 'Personen einschreiben' })).toBeVisible();
  await expect(tab.getByRole('heading', { name: 'Eine Gruppe einschreiben' })).toBeVisible();
  await expect(tab.getByRole('heading', { name: 'Gruppenregeln' })).toBeVisible();
  await expect(tab.locator('#sc-user-search-state')).toHaveText(
    'Gib einen Teil eines Namens ein; wähle eine oder mehrere Personen aus.',
  );
  await expect(tab.locator('#sc-enrol-submit')).toHaveText('Einschreiben');
  await expect(tab.locator('#sc-sync-groups')).toHaveText('Gruppen jetzt abgleichen');
  await expect(tab.locator('#sc-group-results')).toHaveAttribute('aria-label', 'Gefundene Gruppen');
  await expect(tab.locator('#sc-user-results')).toHaveAttribute('aria-label', 'Gefundene Personen');
  await expect(tab.locator('#sc-group-due-days')).toHaveAttribute('aria-label', 'Tage nach der Einschreibung');
  // A name too long for Confluence's search: the server says why, in German.
  await tab.locator('#sc-user-search').fill('x'.repeat(101));
  await expect(tab.locator('#sc-user-search-state')).toHaveText('Suche nach höchstens 100 Zeichen.');
  await tab.locator('#sc-user-search').fill('');
  await expectAccessible(page, FRAMES.spaceTools, 'admin enrolments (de)');

  // The space's tab: support access, and the audit log with German times.
  await tab.getByRole('button', { name: 'Alle Kurse' }).click();
  await tab.getByRole('tab', { name: 'Prüfprotokoll' }).click();
  await expect(tab.locator('#sc-panel-space-audit')).toContainText(GERMAN_DATE);
  const support = tab.locator('#sc-support');
  await expect(support.getByRole('heading', { name: 'Support-Zugriff' })).toBeVisible();
  await expect(support).toContainText('Das Team von Smart Courses kann die Kurse');
  await expect(tab.locator('#sc-support-hours option:checked')).toHaveText('1 Tag');
  await expect(tab.locator('#sc-support-grant')).toHaveText('Support-Zugriff gewähren');
  await expectAccessible(page, FRAMES.spaceTools, 'admin support access (de)');
  await tab.locator('#sc-support-reason').fill('Fall 4711');
  await tab.locator('#sc-support-grant').click();
  await expect(tab.locator('#sc-support-status')).toContainText('Support-Zugriff gewährt bis');
  await expect(tab.locator('#sc-support-active')).toContainText('Support-Zugriff besteht bis');
  await expect(tab.locator('#sc-support-revoke')).toHaveText('Support-Zugriff beenden');
  await tab.locator('#sc-support-revoke').click();
  await expect(tab.locator('#sc-support-status')).toHaveText('Support-Zugriff beendet.');
  await expectAccessible(page, FRAMES.spaceTools, 'admin audit log (de)');
});
