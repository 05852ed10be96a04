import { test, expect } from '@playwright/test';
import { email, hydrated, signUp } from './helpers';

// The PostgreSQL server the suite runs against (scripts/test.sh passes it).
const pg = new URL(process.env.E2E_PG_URL ?? 'postgres://postgres@127.0.0.1:5432');

test('create a PostgreSQL connection: test it, see a readable failure, save, find it, delete it', async ({ page }) => {
  await signUp(page, email('dev'));

  await page.getByRole('link', { name: 'Connections' }).click();
  await expect(page.getByRole('heading', { name: 'No connections yet' })).toBeVisible();
  await page.getByRole('link', { name: '+ New connection' }).click();

  // The catalogue: databases to choose, cloud apps coming, warehouses explained.
  await expect(page.getByText('Google BigQuery')).toBeVisible();
  await expect(page.getByTestId('connector').filter({ hasText: 'Amazon Redshift' })).toContainText(
    'Not supported for synchronization',
  );
  await page.screenshot({ path: 'screenshots/connector-catalogue.png', fullPage: true });
  await page.getByRole('link', { name: 'PostgreSQL' }).click();
  await expect(page.getByRole('heading', { name: 'New PostgreSQL connection' })).toBeVisible();
  await hydrated(page);

  await page.getByLabel('Name').fill('Local CRM');
  await page.getByLabel('Host').fill(pg.hostname);
  await page.getByLabel('Port').fill(pg.port || '5432');
  await page.getByLabel('Database').fill('no_such_database');
  await page.getByLabel('User').fill(decodeURIComponent(pg.username) || 'postgres');
  await page.getByLabel('SSL mode').selectOption('disable');

  // A wrong database name is named as such, and nothing typed is lost.
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('connection-test')).toContainText('Database not found');
  await expect(page.getByLabel('Name')).toHaveValue('Local CRM');
  // Saving right after a failed test asks to confirm.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('[data-field="save_anyway"]')).toContainText('test of this connection failed');
  await expect(page.getByLabel('Save even though the test failed')).toBeVisible();
  await page.getByLabel('Database').fill('postgres');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('connection-test')).toContainText('Connected');
  await page.screenshot({ path: 'screenshots/connection-editor.png', fullPage: true });

  // A field error sits under its field.
  await page.getByLabel('Port').fill('70000');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('[data-field="port"]')).toContainText('between 1 and 65535');
  await page.getByLabel('Port').fill(pg.port || '5432');
  await page.getByRole('button', { name: 'Save' }).click();

  await expect(page).toHaveURL(/\/connections$/);
  const row = page.getByTestId('connection-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Local CRM');
  await expect(row).toContainText('PostgreSQL');
  await page.screenshot({ path: 'screenshots/connections-list.png', fullPage: true });

  // Edit keeps the values; delete asks first.
  await row.getByRole('link', { name: 'Edit' }).click();
  await expect(page.getByLabel('Name')).toHaveValue('Local CRM');
  await expect(page.getByLabel('Password')).toHaveValue('');
  await page.goto('/connections');
  await hydrated(page);
  await page.getByTestId('connection-row').getByText('Delete', { exact: true }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(page.getByRole('heading', { name: 'No connections yet' })).toBeVisible();
});

test('a MariaDB connection: a wrong password is named, the right one connects and is saved', async ({ page }) => {
  // The MariaDB server the suite runs against (scripts/test.sh passes it).
  const my = new URL(process.env.E2E_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  await signUp(page, email('maria'));
  await page.goto('/connections/new/mysql');
  await hydrated(page);
  await expect(page.getByLabel('Port')).toHaveValue('3306');
  await page.getByLabel('Name').fill('Shop on MariaDB');
  await page.getByLabel('Host').fill(my.hostname);
  await page.getByLabel('Port').fill(my.port || '3306');
  await page.getByLabel('Database').fill('information_schema');
  await page.getByLabel('User').fill(decodeURIComponent(my.username) || 'root');
  await page.getByLabel('Password').fill('certainly-not-the-password');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('connection-test')).toContainText('Authentication failed');
  await expect(page.getByLabel('Name')).toHaveValue('Shop on MariaDB');
  await page.getByLabel('Password').fill(decodeURIComponent(my.password));
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('connection-test')).toContainText('Connected');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/connections$/);
  await expect(page.getByTestId('connection-row')).toContainText('MySQL');
});
