// Benchmarks (figures, never pass/fail): the phone profile of the tests, run by `cargo xtask bench`.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testMatch: '*.bench.ts',
  timeout: 600_000,
  retries: 0,
  // No trace: its snapshots of the page run on the page's main thread, inside what is timed.
  use: { ...base.use, trace: 'off' },
});
