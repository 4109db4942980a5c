/**
 * The space tools tab: space administrators see the space's courses; other
 * users are told it is for administrators (the server asks Confluence).
 */
import { expect, test, HYDRATED } from './fixtures';

const SPACE_ADMIN = '557058:sam-spaceadmin-0003';
const LEARNER = '557058:leo-learner-0002';

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
