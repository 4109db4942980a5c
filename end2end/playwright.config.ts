import { defineConfig, devices } from "@playwright/test";

// Browser suite. Run from the repo root with scripts/test.sh, or:
//   npx playwright test -c end2end/playwright.config.ts
// after scripts/build-site.sh and `cargo build -p server --features dev-host`.
//
// The server below is the debug `smart-courses` binary with the dev-host simulator,
// on its own ports (3100 app, 3101 simulated Confluence) and a fresh SQLite file,
// so it never collides with scripts/run.sh (3000/3001).
// Browser: Debian's chromium; Playwright downloads none (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).

const CI = !!process.env.CI;

const APP_ADDR = "127.0.0.1:3100";
const HOST_ADDR = "127.0.0.1:3101";

const browser = {
  ...devices["Desktop Chrome"],
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    // Never pass --user-data-dir here: launch() rejects it (it already uses a fresh profile).
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  workers: 1,
  forbidOnly: CI,
  retries: CI ? 1 : 0,
  reporter: "list",
  use: {
    // Tests start on the simulated Confluence page, which embeds the app in an iframe.
    baseURL: `http://${HOST_ADDR}`,
    trace: "on-first-retry",
  },
  projects: [
    // The first run (the demo course the simulator seeds) is checked before any
    // other suite changes the simulated page.
    { name: "first-run", testMatch: /first_run\.spec\.ts/, use: browser },
    { name: "chromium", testIgnore: /first_run\.spec\.ts/, dependencies: ["first-run"], use: browser },
  ],
  webServer: {
    // Runs in the repo root (relative to this file); starts from an empty database every run.
    command:
      "rm -rf target/e2e && mkdir -p target/e2e && exec target/debug/smart-courses serve",
    cwd: "..",
    env: {
      APP_BASE_URL: `http://${APP_ADDR}`,
      LEPTOS_SITE_ADDR: APP_ADDR,
      DEV_HOST_ADDR: HOST_ADDR,
      DATABASE_URL: "sqlite://target/e2e/e2e.db",
      RUST_LOG: "info",
    },
    url: `http://${APP_ADDR}/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 5_000 },
  },
});
