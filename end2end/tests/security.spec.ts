import { test, expect, type Page } from '@playwright/test';
import { email, hydrated, signUp, createConnection, SRC_DB } from './helpers';

/** Records every Content-Security-Policy violation and CSP console message of the page. */
async function watchCsp(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/content security policy|refused to (execute|load|apply|evaluate|compile)/i.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => {
    if (/content security policy/i.test(error.message)) problems.push(`error: ${error.message}`);
  });
  // Runs before any page script, outside the page's CSP.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __csp: string[] }).__csp = seen;
    document.addEventListener('securitypolicyviolation', (e) => {
      seen.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return problems;
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
}

test('the app hydrates and works under its Content-Security-Policy, with no violation', async ({ page }) => {
  const problems = await watchCsp(page);

  // The policy is there, with a nonce and without inline-script leniency.
  const response = await page.goto('/signin');
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("'nonce-");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(response?.headers()['referrer-policy']).toBe('same-origin');
  await hydrated(page);
  expect(await violations(page)).toEqual([]);

  // Sign up, save a connection, move around client-side.
  await signUp(page, email('csp'));
  await createConnection(page, 'CSP source', SRC_DB);
  await expect(page.getByText('CSP source', { exact: true })).toBeVisible();
  await page.getByRole('link', { name: 'Runs' }).click();
  await expect(page).toHaveURL(/\/runs$/);
  await page.getByRole('link', { name: 'Packages' }).click();
  await expect(page).toHaveURL(/\/packages$/);
  await page.getByRole('link', { name: 'Connections' }).click();
  await expect(page.getByText('CSP source', { exact: true })).toBeVisible();
  // Client-side navigation keeps the same document: still hydrated, still no violation.
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  expect(await violations(page)).toEqual([]);
  expect(problems).toEqual([]);
});

test('another site cannot frame the app', async ({ page, baseURL }) => {
  const response = await page.goto('/signin');
  expect(response?.headers()['x-frame-options']).toBe('DENY');
  await page.goto('about:blank');
  await page.setContent(`<iframe id="f" src="${new URL('/signin', baseURL).href}"></iframe>`);
  // Chromium replaces a refused frame with its error page.
  await expect
    .poll(() => page.frames().find((f) => f !== page.mainFrame())?.url() ?? '')
    .toMatch(/^chrome-error:/);
  await expect(page.frameLocator('#f').getByRole('button', { name: 'Sign in' })).toHaveCount(0);
});
