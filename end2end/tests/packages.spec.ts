import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createConnection, DST_DB, email, hydrated, signUp, SRC_DB } from './helpers';

test('build a package between two databases: connections, a task, mappings, persisted', async ({ page }) => {
  await signUp(page, email('builder'));
  await createConnection(page, 'CRM', SRC_DB);
  await createConnection(page, 'Shop', DST_DB);

  await page.goto('/packages/new');
  await hydrated(page);
  await expect(page.getByLabel('Name')).toHaveValue('Untitled');
  await page.getByLabel('Name').fill('Customers');
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'CRM (PostgreSQL)' });
  await page.getByLabel('Target', { exact: true }).selectOption({ label: 'Shop (PostgreSQL)' });
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/packages\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('package-title')).toHaveText('Customers');
  await expect(page.getByTestId('no-tasks')).toBeVisible();

  // A table whose key the application assigns is refused with the engine's reason.
  await page.getByRole('link', { name: '+ Add task' }).click();
  await page.getByLabel('Source table (CRM)').selectOption('legacy_codes');
  await page.getByLabel('Target table (Shop)').selectOption('customers');
  await page.getByRole('button', { name: 'Check tables' }).click();
  await expect(page.getByTestId('task-problem')).toContainText('assigned by the application');

  await page.getByLabel('Source table (CRM)').selectOption('customers');
  await page.getByRole('button', { name: 'Check tables' }).click();
  await expect(page.getByTestId('s2t-row')).toHaveCount(3);
  await hydrated(page);
  // Same-named columns are mapped already; `name` is required.
  await expect(page.getByLabel('Source to Target mapping of name')).toHaveValue('column');
  await expect(
    page.getByTestId('s2t-row').filter({ has: page.locator('strong', { hasText: /^name$/ }) }),
  ).toContainText('required');
  await page.getByLabel('Source to Target mapping of tier').selectOption('constant');
  await page.getByLabel('Source to Target value of tier').fill('gold');
  await page.getByLabel('Source to Target mapping of email').selectOption('expression');
  await page.getByLabel('Source to Target value of email').fill('lower(email');
  await page.getByRole('button', { name: 'Save task' }).click();
  // The expression's error comes back with its position; nothing typed is lost.
  await expect(page.locator('[data-field="source_to_target"]')).toContainText('email');
  await expect(page.locator('[data-field="source_to_target"]')).toContainText('line 1');
  await expect(page.getByLabel('Source to Target value of tier')).toHaveValue('gold');
  await page.screenshot({ path: 'screenshots/task-editor.png', fullPage: true });
  await page.getByLabel('Source to Target value of email').fill('lower(coalesce(email, ""))');
  // Validate checks both mappings without reading rows.
  await page.getByRole('button', { name: 'Validate' }).click();
  await expect(page.getByTestId('validated')).toContainText('Both mappings are valid');
  // Preview runs both mappings on the first rows of each table.
  await page.getByRole('button', { name: 'Preview', exact: true }).click();
  await expect(page.getByTestId('preview')).toContainText('ann@example.com');
  await expect(page.getByTestId('preview')).toContainText('gold');
  // Preview matching reads both tables and writes nothing: Ann is on both sides, Bob has no
  // email (so he is new on the source).
  await page.getByLabel('Match key 1 source').fill('email');
  await page.getByLabel('Match key 1 target').fill('email');
  await page.getByRole('button', { name: 'Preview matching' }).click();
  await expect(page.getByTestId('match-paired')).toHaveText('1');
  await expect(page.getByTestId('match-new-source')).toHaveText('1');
  // (Other tests' rows may be in the target table too: each is new there.)
  await expect(page.getByTestId('match-new-target')).toHaveText(/^[1-9][0-9]*$/);
  await expect(page.getByTestId('match-ambiguous')).toHaveText('0');
  await page.getByLabel('Match key 1 source').fill('');
  await page.getByLabel('Match key 1 target').fill('');
  await page.getByRole('button', { name: 'Save task' }).click();

  await expect(page).toHaveURL(/\/packages\/[0-9a-f-]{36}$/);
  const task = page.getByTestId('task-row');
  await expect(task).toHaveCount(1);
  await expect(task).toContainText('customers');
  // The Parameters window shows LastSyncTime and InitTrackingObjects and resets them.
  const parameters = page.getByTestId('parameter-row');
  await expect(parameters).toContainText('Not installed yet (first run)');
  await page.getByTestId('package-head').getByRole('link', { name: 'Parameters', exact: true }).click();
  await page.getByText('Reset LastSyncTime').click();
  await expect(page.getByTestId('parameters')).toContainText('Nothing is deleted or duplicated');
  await page.getByTestId('parameters').getByRole('button', { name: 'Yes, reset' }).first().click();
  await expect(parameters).toContainText('full comparison due');
  await page.screenshot({ path: 'screenshots/package-page.png', fullPage: true });

  // Everything persisted: reload, open the task again.
  await page.reload();
  await hydrated(page);
  const edit = await task.getByRole('link', { name: 'Edit' }).getAttribute('href');
  await page.goto(edit!);
  await expect(page.getByLabel('Source to Target mapping of tier')).toHaveValue('constant');
  await expect(page.getByLabel('Source to Target value of tier')).toHaveValue('gold');
  await expect(page.getByLabel('Source to Target value of email')).toHaveValue('lower(coalesce(email, ""))');

  // The package list shows it.
  await page.goto('/packages');
  await expect(page.getByTestId('package-row')).toContainText('CRM (PostgreSQL) → Shop (PostgreSQL)');

  // Export it as the sync command's file (no password) and import it again under another name.
  const download = page.waitForEvent('download');
  await page.getByTestId('package-row').getByRole('link', { name: 'Export' }).click();
  const file = readFileSync((await (await download).path())!, 'utf8');
  expect(file).toContain(`/${SRC_DB}`);
  expect(file).toContain('"customers"');
  await page.goto('/packages/import');
  await hydrated(page);
  await page.getByLabel('File contents').fill(file);
  await page.getByLabel('Source connection').selectOption({ label: 'CRM (PostgreSQL)' });
  await page.getByLabel('Target connection').selectOption({ label: 'Shop (PostgreSQL)' });
  await page.getByRole('button', { name: 'Import' }).click();
  // Same name as the original: said so under the Name field, and what was pasted stays;
  // another name there imports it.
  await expect(page.locator('[data-field="name"]')).toContainText('name');
  await expect(page.getByLabel('File contents')).toHaveValue(file);
  await page.getByLabel('Name', { exact: true }).fill('Customers again');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/packages\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('package-title')).toHaveText('Customers again');
  await expect(page.getByTestId('task-row')).toHaveCount(1);
});
