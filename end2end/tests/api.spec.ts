import { test, expect } from '@playwright/test';
import { createConnection, DST_DB, email, hydrated, signUp, SRC_DB } from './helpers';

test('a token made in the app drives the REST API, and its run shows on the package page', async ({ page, request }) => {
  await signUp(page, email('api'));
  await createConnection(page, 'Notes source', SRC_DB);
  await createConnection(page, 'Notes target', DST_DB);

  // Workspace settings → API tokens: the secret is shown once.
  await page.goto('/settings');
  await page.getByRole('link', { name: 'Manage API tokens' }).click();
  await expect(page).toHaveURL(/\/settings\/tokens$/);
  await hydrated(page);
  await expect(page.getByTestId('openapi-link')).toHaveAttribute('href', '/api/v1/openapi.json');
  await page.getByLabel('Name').fill('deploy script');
  await page.getByLabel('Role').selectOption('developer');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('token-secret').inputValue();
  expect(secret).toMatch(/^lst_[0-9a-f]{64}$/);
  await expect(page.getByTestId('token-row')).toHaveCount(1);
  await expect(page.getByTestId('token-row')).toContainText('deploy script');
  await expect(page.getByTestId('token-row')).not.toContainText(secret);
  await page.screenshot({ path: 'screenshots/api-tokens.png', fullPage: true });

  const auth = { Authorization: `Bearer ${secret}` };
  const connections = await (await request.get('/api/v1/connections', { headers: auth })).json();
  const id = (name: string) => connections.find((c: { name: string }) => c.name === name).id;

  // A package from a package file, on the two saved connections.
  const name = `API notes ${Date.now()}`;
  const file = {
    name,
    source: { kind: 'postgres', url: 'postgres://not-used/by-the-api' },
    target: { kind: 'postgres', url: 'postgres://not-used/by-the-api' },
    tasks: [{ source: 'api_notes', target: 'api_notes', source_to_target: { body: 'body' }, target_to_source: { body: 'body' } }],
  };
  const created = await request.post(
    `/api/v1/packages?source_connection=${id('Notes source')}&target_connection=${id('Notes target')}`,
    { headers: auth, data: file },
  );
  expect(created.status(), await created.text()).toBe(201);
  const packageId = (await created.json()).id;

  // Run it and watch it finish through the API.
  const started = await request.post(`/api/v1/packages/${packageId}/runs`, { headers: auth });
  expect(started.status()).toBe(202);
  const runId = (await started.json()).id;
  await expect
    .poll(async () => (await (await request.get(`/api/v1/runs/${runId}`, { headers: auth })).json()).state, { timeout: 30_000 })
    .toBe('succeeded');

  // The package page shows the run, started by the token's member through the API.
  await page.goto(`/packages/${packageId}`);
  const runs = page.getByTestId('recent-runs').getByTestId('run-row');
  await expect(runs).toHaveCount(1);
  await expect(runs.first()).toContainText('API token');

  // Revoked in the app: the API refuses it at once, as a problem document.
  await page.goto('/settings/tokens');
  await hydrated(page);
  await page.getByTestId('token-row').locator('summary', { hasText: 'Revoke' }).click();
  await page.getByRole('button', { name: 'Yes, revoke' }).click();
  await expect(page.getByTestId('token-state')).toHaveText('Revoked');
  const refused = await request.get('/api/v1/packages', { headers: auth });
  expect(refused.status()).toBe(401);
  expect(refused.headers()['content-type']).toBe('application/problem+json');

  // The audit log names the token with what it did, and Ann with the revocation.
  await page.goto('/audit');
  const rows = page.getByTestId('audit-row');
  await expect(rows.first()).toContainText('revoked');
  await expect(rows.filter({ hasText: 'token “deploy script”' }).filter({ hasText: 'started' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'token “deploy script”' }).filter({ hasText: 'package' }).first()).toContainText(name);
  await page.screenshot({ path: 'screenshots/audit-log.png', fullPage: true });
  await page.goto('/audit?kind=run');
  await expect(page.getByTestId('audit-row')).toHaveCount(1);
});
