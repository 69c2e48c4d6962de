import { defineConfig, devices } from '@playwright/test';

// End-to-end tests for prefcenter. Each test file starts its own server on a fresh
// database (see tests/server.ts); the binary is $PREFCENTER_BIN, by default
// ../target/debug/prefcenter (relative to this folder). The browser is the system
// Chromium: never run `npx playwright install` here.
export default defineConfig({
  testDir: 'tests',
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: 'list',
  outputDir: 'test-results',
  use: {
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
      },
    },
  ],
});
