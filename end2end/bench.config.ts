import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// Benchmarks that print figures (not part of the test suite): `npx playwright test
// --config bench.config.ts` against a running server (E2E_BASE_URL), with the front end
// built by scripts/build-frontend.sh.
export default defineConfig({ ...base, testDir: './bench', timeout: 120_000 });
