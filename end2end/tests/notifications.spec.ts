import { test, expect } from '@playwright/test';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { email, hydrated, signUp } from './helpers';

type Received = { headers: IncomingHttpHeaders; body: string };

test('a webhook set up in the app gets a signed test notice, and the delivery log shows it', async ({ page }) => {
  // A real receiver: records each request.
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    await signUp(page, email('hooks'));
    await page.goto('/settings');
    await page.getByRole('link', { name: 'Notification settings' }).click();
    await expect(page).toHaveURL(/\/settings\/notifications$/);
    await hydrated(page);
    await expect(page.getByTestId('no-deliveries')).toBeVisible();

    await page.getByLabel('Name').fill('Team alerts');
    await page.getByLabel('Address').fill(`http://127.0.0.1:${port}/lockstep`);
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secret = await page.getByTestId('webhook-secret').inputValue();
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    await expect(page.getByTestId('webhook-row')).toContainText('Team alerts');

    await page.getByTestId('send-test').click();
    // The notifier delivers within seconds; the log shows it once the page is read again.
    await expect
      .poll(async () => {
        await page.reload();
        return page.getByTestId('delivery-state').first().textContent();
      }, { timeout: 20_000 })
      .toBe('delivered');
    await expect(page.getByTestId('delivery-row').first()).toContainText('test');
    await page.screenshot({ path: 'screenshots/notifications.png', fullPage: true });

    // What arrived is signed with the secret shown once.
    expect(received).toHaveLength(1);
    const { headers, body } = received[0];
    expect(headers['lockstep-event']).toBe('test');
    const signature = String(headers['lockstep-signature']);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
    expect(timingSafeEqual(expected, Buffer.from(v1, 'hex'))).toBe(true);
    expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(120);
    expect(JSON.parse(body).event).toBe('test');
  } finally {
    server.close();
  }
});
