import { test, expect } from '@playwright/test';
import { createConnection, DST_DB, email, hydrated, signUp } from './helpers';

// The Salesforce emulator scripts/test.sh starts (`lockstep-emulator salesforce`).
const salesforce = process.env.E2E_SALESFORCE_URL ?? 'http://127.0.0.1:8081';

test('a Salesforce connection against the emulator, a task on it, the dedicated-account option, a run', async ({ page }) => {
  await signUp(page, email('cloud'));
  await page.goto('/connections/new');
  await page.getByRole('link', { name: 'Salesforce' }).click();
  await expect(page.getByRole('heading', { name: 'New Salesforce connection' })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Sales org');
  await page.getByLabel('Login URL').fill(salesforce);
  await page.getByLabel('Consumer key').fill('lockstep-emulator');
  await page.getByLabel('Consumer secret').fill('not-the-secret');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('connection-test')).toContainText('Authentication failed');
  await expect(page.getByTestId('connection-test')).toContainText('consumer key and secret');
  await page.getByLabel('Consumer secret').fill('emulator-secret');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('connection-test')).toContainText('Connected');
  await page.screenshot({ path: 'screenshots/salesforce-connection.png', fullPage: true });
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/connections$/);
  await expect(page.getByTestId('connection-row')).toContainText('Salesforce');
  await createConnection(page, 'Shop', DST_DB);

  // The dedicated-account option appears once a side is Salesforce.
  await page.goto('/packages/new');
  await hydrated(page);
  await page.getByLabel('Name').fill('Accounts');
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Shop (PostgreSQL)' });
  await page.getByLabel('Target', { exact: true }).selectOption({ label: 'Shop (PostgreSQL)' });
  await expect(page.getByTestId('dedicated-account')).toHaveCount(0);
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'Sales org (Salesforce)' });
  await expect(page.getByTestId('dedicated-account')).toContainText('Dedicated Salesforce account for synchronization');
  await page.getByLabel('Dedicated Salesforce account for synchronization').check();
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/packages\/[0-9a-f-]{36}$/);
  const packageUrl = page.url();
  await expect(page.getByLabel('Dedicated Salesforce account for synchronization')).toBeChecked();

  // An object without a modified timestamp is refused with the engine's reason.
  await hydrated(page);
  await page.getByRole('link', { name: '+ Add task' }).click();
  await page.getByLabel('Source table (Sales org)').selectOption('AccountHistory');
  await page.getByLabel('Target table (Shop)').selectOption('customers');
  await page.getByRole('button', { name: 'Check tables' }).click();
  await expect(page.getByTestId('task-problem')).toContainText('LastModifiedDate');

  await page.getByLabel('Source table (Sales org)').selectOption('Account');
  await page.getByRole('button', { name: 'Check tables' }).click();
  await hydrated(page);
  await page.getByLabel('Source to Target mapping of name').selectOption('column');
  await page.getByLabel('Source to Target column of name').selectOption('Name');
  await page.getByLabel('Target to Source mapping of Name').selectOption('column');
  await page.getByLabel('Target to Source column of Name').selectOption('name');
  await page.screenshot({ path: 'screenshots/salesforce-task.png', fullPage: true });
  await page.getByRole('button', { name: 'Save task' }).click();
  await expect(page).toHaveURL(packageUrl);
  await hydrated(page);

  await page.getByTestId('run-now').click();
  const finished = page.getByTestId('recent-runs').getByTestId('run-row');
  await expect(finished).toHaveCount(1, { timeout: 30_000 });
  await expect(finished.getByTestId('run-state')).toHaveText('succeeded');
  await finished.getByRole('link', { name: 'Details' }).click();
  await expect(page.getByTestId('api-calls')).toContainText('source');
});
