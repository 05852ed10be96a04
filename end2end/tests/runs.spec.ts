import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createConnection, createPackage, DST_DB, email, hydrated, signUp, SRC_DB } from './helpers';

test('run a package from the browser, watch it finish, download its failed records', async ({ page }) => {
  await signUp(page, email('runner'));
  await createConnection(page, 'Warehouse', SRC_DB);
  await createConnection(page, 'Store', DST_DB);

  const packageUrl = await createPackage(page, 'Orders', 'Warehouse (PostgreSQL)', 'Store (PostgreSQL)');
  await expect(page.getByTestId('no-runs')).toBeVisible();
  await hydrated(page);

  // One order breaks the target's CHECK (quantity > 0) once mapped: a failed record.
  await page.getByRole('link', { name: '+ Add task' }).click();
  await expect(page).toHaveURL(/\/tasks\/new/);
  await page.getByLabel('Source table (Warehouse)').selectOption('orders');
  await page.getByLabel('Target table (Store)').selectOption('orders');
  await page.getByRole('button', { name: 'Check tables' }).click();
  await hydrated(page);
  await page.getByLabel('Source to Target mapping of quantity').selectOption('expression');
  await page.getByLabel('Source to Target value of quantity').fill('quantity - 1');
  await page.getByRole('button', { name: 'Save task' }).click();
  await expect(page).toHaveURL(packageUrl);
  await hydrated(page);

  await page.getByTestId('run-now').click();
  // The run shows while it is queued or running, then lands in the history by itself.
  const finished = page.getByTestId('recent-runs').getByTestId('run-row');
  await expect(finished).toHaveCount(1, { timeout: 30_000 });
  // Every task ran but one record failed: the run says so.
  await expect(finished.getByTestId('run-state')).toHaveText('succeeded with errors');
  await expect(page.getByTestId('runs-chart')).toBeVisible();
  await page.screenshot({ path: 'screenshots/package-runs.png', fullPage: true });

  await finished.getByRole('link', { name: 'Details' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  // (More than one when the suite runs again on the same databases: earlier copies of 'pen'.)
  await expect(page.getByTestId('failed-record').first()).toContainText('insert');
  await expect(page.getByTestId('failed-record').first()).toContainText('quantity');
  const rows = page.getByTestId('task-counts');
  await expect(rows.first()).toContainText('Source → Target');
  const download = page.waitForEvent('download');
  await page.getByTestId('errors-csv').click();
  const file = await (await download).path();
  const csv = readFileSync(file!, 'utf8');
  expect(csv.split('\r\n')[0]).toBe('task,direction,side,record_key,operation,message');
  expect(csv).toContain('"orders → orders","source_to_target","target"');
  await page.screenshot({ path: 'screenshots/run-details.png', fullPage: true });

  // The workspace's Runs page lists it; failed-only keeps runs with failed records.
  await page.goto('/runs?failed_only=yes');
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  await expect(page.getByTestId('run-row')).toContainText('Orders');
  await page.goto('/runs?state=failed');
  await expect(page.getByTestId('run-row')).toHaveCount(0);
  await page.goto('/runs?state=succeeded_with_errors');
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  await expect(page.getByTestId('run-filters').getByLabel('State')).toHaveValue('succeeded_with_errors');
});

test('create a schedule and see its next occurrences', async ({ page }) => {
  await signUp(page, email('scheduler'));
  await createConnection(page, 'A', SRC_DB);
  await createConnection(page, 'B', DST_DB);
  await createPackage(page, 'Nightly', 'A (PostgreSQL)', 'B (PostgreSQL)');
  await hydrated(page);

  const schedule = page.getByTestId('schedule');
  await expect(schedule.getByTestId('schedule-summary')).toContainText('runs only when you press Run');
  // The schedule is a one-line summary; the header's Schedule opens its editor, which shows
  // only the controls of the chosen recurrence.
  await expect(schedule.getByLabel('Time zone')).toBeHidden();
  await page.getByTestId('package-head').getByRole('link', { name: 'Schedule', exact: true }).click();
  await expect(schedule.getByLabel('Time zone')).toBeVisible();
  await expect(schedule.getByLabel('One-time date')).toBeHidden();
  await expect(schedule.getByLabel('Every N', { exact: true })).toBeHidden();
  await schedule.getByLabel('Every', { exact: true }).selectOption('week');
  await expect(schedule.locator('input[name="days[0]"]')).toBeVisible();
  await expect(schedule.getByLabel('Every N days')).toBeHidden();
  await schedule.getByLabel('Every', { exact: true }).selectOption('day');
  await schedule.getByLabel('Time of day').fill('02:30');
  await schedule.getByLabel('Time zone').fill('Europe/Berlin');
  await schedule.getByRole('button', { name: 'Show next runs' }).click();
  const next = schedule.getByTestId('next-occurrences').locator('li');
  await expect(next).toHaveCount(5);
  await expect(next.first()).toContainText('02:30');
  // Bad input names the field and keeps what was typed.
  await schedule.getByLabel('Time zone').fill('Mars/Base');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await expect(schedule.locator('[data-field="time_zone"]')).toContainText('IANA');
  await schedule.getByLabel('Time zone').fill('Europe/Berlin');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await expect(schedule.getByTestId('schedule-summary')).toContainText('Every day at 02:30 (Europe/Berlin)');
  await page.reload();
  await expect(page.getByTestId('schedule-summary')).toContainText('Every day at 02:30 (Europe/Berlin)');
  await expect(page.getByTestId('next-occurrences').locator('li')).toHaveCount(5);
  // Every 15 minutes: a refused save keeps every field as typed (the unit stays minutes).
  await hydrated(page);
  const again = page.getByTestId('schedule');
  await again.locator('summary').first().click();
  await again.locator('input[name="time_mode"][value="every"]').check();
  await again.getByLabel('Every N', { exact: true }).fill('15');
  await again.getByLabel('Unit').selectOption('minutes');
  await again.getByLabel('Time zone').fill('Not/AZone');
  await again.getByRole('button', { name: 'Save schedule' }).click();
  await expect(again.locator('[data-field="time_zone"]')).toContainText('IANA');
  await expect(again.getByLabel('Unit')).toHaveValue('minutes');
  await expect(again.getByLabel('Every N', { exact: true })).toHaveValue('15');
  await expect(again.locator('input[name="time_mode"][value="every"]')).toBeChecked();
  await again.getByLabel('Time zone').fill('Europe/Berlin');
  await again.getByRole('button', { name: 'Save schedule' }).click();
  await expect(again.getByTestId('schedule-summary')).toContainText('Every 15 minutes every day (Europe/Berlin)');
  await expect(again.getByTestId('schedule-summary')).toContainText('next at');
  await page.screenshot({ path: 'screenshots/schedule.png', fullPage: true });
});
