import { test } from '@playwright/test';
import { createConnection, createPackage, DST_DB, email, signUp, SRC_DB } from '../tests/helpers';

// A cold load of the package page (empty cache) at 20 Mbit/s down, 5 Mbit/s up and 40 ms of
// latency, through Chromium's network emulation: the bytes on the wire and the time until
// the page is interactive (hydrated). Goal: interactive within 800 ms.
test('cold load of the package page at 20 Mbit/s + 40 ms', async ({ browser }) => {
  const setup = await browser.newContext();
  const page = await setup.newPage();
  await signUp(page, email('bench'));
  await createConnection(page, 'CRM', SRC_DB);
  await createConnection(page, 'Shop', DST_DB);
  const url = await createPackage(page, 'Bench', 'CRM (PostgreSQL)', 'Shop (PostgreSQL)');
  const cookies = await setup.cookies();
  await setup.close();

  // As served (compressed), and with compression refused (the bytes before compression).
  for (const [label, identity] of [['compressed', false], ['uncompressed', true]] as const) {
    const runs: { bytes: number; interactive: number; loaded: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext();
      await context.addCookies(cookies);
      const cold = await context.newPage();
      const cdp = await context.newCDPSession(cold);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      if (identity) {
        await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } });
      }
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 40,
        downloadThroughput: (20 * 1000 * 1000) / 8,
        uploadThroughput: (5 * 1000 * 1000) / 8,
      });
      let bytes = 0;
      cdp.on('Network.loadingFinished', (e) => {
        bytes += e.encodedDataLength;
      });
      const start = Date.now();
      await cold.goto(url, { waitUntil: 'load' });
      const loaded = Date.now() - start;
      await cold.waitForSelector('body[data-hydrated="true"]', { state: 'attached' });
      const interactive = Date.now() - start;
      await cold.waitForLoadState('networkidle');
      runs.push({ bytes, interactive, loaded });
      await context.close();
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(
      `cold load of the package page, ${label} (median of 5): ${Math.round(median(runs.map((r) => r.bytes)) / 1024)} KiB on the wire, ` +
        `load ${median(runs.map((r) => r.loaded))} ms, interactive ${median(runs.map((r) => r.interactive))} ms (goal: interactive ≤ 800 ms)`,
    );
  }
});
