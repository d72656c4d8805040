import { defineConfig } from '@playwright/test';

// Debian's Chromium, never a downloaded browser. The flags keep it off this machine's closed
// network; WebGPU runs on SwiftShader here and needs --enable-unsafe-webgpu.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Not 4173, where `npm start` serves: a running lab must not stand in for the build under test.
const PORT = 4174;

export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 10 * 60_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    // The suite runs behind `vite preview`, which sends the isolation headers; without the service
    // worker a test's page.route() sees every request and no test inherits another's caches.
    // hosting.spec.ts turns it on, against dist/ on a plain static server.
    serviceWorkers: 'block',
    launchOptions: {
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
        '--enable-unsafe-webgpu',
      ],
    },
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
