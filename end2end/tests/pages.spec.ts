import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { PASSWORD, createConnection, createPackage, DST_DB, email, hydrated, joinByInvitation, signUp, SRC_DB } from './helpers';

/** No page may scroll sideways, nor any of its tables: their content fits the window. */
async function fitsWidth(page: Page, what: string): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: Math.max(
      document.documentElement.scrollWidth,
      ...Array.from(document.querySelectorAll('.table-card, table'), (e) => e.scrollWidth),
    ),
    width: window.innerWidth,
  }));
  expect(scroll, `${what} is ${scroll}px wide in a ${width}px window`).toBeLessThanOrEqual(width);
}

/** Creates a package between the two test databases with one task orders → orders. */
async function packageWithTask(page: Page, name: string): Promise<string> {
  const url = await createPackage(page, name, 'CRM (PostgreSQL)', 'Shop (PostgreSQL)');
  await hydrated(page);
  await page.getByRole('link', { name: '+ Add task' }).click();
  await page.getByLabel('Source table (CRM)').selectOption('orders');
  await page.getByLabel('Target table (Shop)').selectOption('orders');
  await page.getByRole('button', { name: 'Check tables' }).click();
  await hydrated(page);
  await page.getByRole('button', { name: 'Save task' }).click();
  await expect(page).toHaveURL(url);
  await hydrated(page);
  return url;
}

test('the package page after Skyvia\'s: header, sides, tasks, schedule summary, rename, 390 px', async ({ page }) => {
  await signUp(page, email('layout'));
  await createConnection(page, 'CRM', SRC_DB);
  await createConnection(page, 'Shop', DST_DB);
  const url = await packageWithTask(page, 'Orders sync');

  // The header: the name, the last run, the actions.
  const head = page.getByTestId('package-head');
  await expect(head.getByTestId('package-title')).toHaveText('Orders sync');
  await expect(head.getByTestId('never-run')).toBeVisible();
  for (const action of ['Run']) {
    await expect(head.getByRole('button', { name: action, exact: true })).toBeVisible();
  }
  for (const action of ['Schedule', 'Parameters', 'Log', 'Export']) {
    await expect(head.getByRole('link', { name: action, exact: true })).toBeVisible();
  }
  await expect(head.getByRole('button', { name: 'Clone' })).toBeVisible();
  await expect(head.getByText('Delete', { exact: true })).toBeVisible();
  // Source and target side by side, then the tasks.
  await expect(page.getByTestId('source-side')).toHaveText('CRM (PostgreSQL)');
  await expect(page.getByTestId('target-side')).toHaveText('Shop (PostgreSQL)');
  const sides = await page.getByTestId('source-side').boundingBox();
  const target = await page.getByTestId('target-side').boundingBox();
  expect(Math.abs(sides!.y - target!.y)).toBeLessThan(5);
  const task = page.getByTestId('task-row');
  await expect(task).toContainText('orders ⇄ orders');
  await expect(task.getByTestId('mapped-fields')).toHaveText('2 fields → · 2 fields ←');
  // The schedule is one line until opened.
  await expect(page.getByTestId('schedule-summary')).toContainText('runs only when you press Run');
  await expect(page.getByTestId('schedule-form')).toBeHidden();

  // Click the name to rename: the heading and the title follow, and it says Saved.
  await page.getByTestId('rename').click();
  await page.getByTestId('rename-form').getByLabel('Name').fill('Orders sync (EU)');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(head.getByTestId('package-title')).toHaveText('Orders sync (EU)');
  await expect(page.getByTestId('saved')).toBeVisible();
  await expect(page).toHaveTitle(/Orders sync \(EU\)/);
  // A refused rename keeps what was typed.
  await page.getByTestId('rename').click();
  await page.getByTestId('rename-form').getByLabel('Name').fill('   ');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByTestId('rename-form').getByTestId('form-error')).toBeVisible();
  await expect(page.getByTestId('rename-form').getByLabel('Name')).toHaveValue('   ');
  await page.screenshot({ path: 'screenshots/package-page-1280.png', fullPage: true });

  // Runs: the current run shows at the top, then the last runs; a run with a failed record
  // is told apart from one without.
  await page.getByTestId('run-now').click();
  await expect(page.getByTestId('recent-runs').getByTestId('run-row')).toHaveCount(1, { timeout: 30_000 });
  await expect(head.getByTestId('last-run').getByTestId('run-state')).toHaveText(/succeeded|succeeded with errors/);

  // Clone from the package page opens the copy; Delete goes back to the list.
  await page.getByTestId('package-head').getByRole('button', { name: 'Clone' }).click();
  await expect(page.getByTestId('package-title')).toHaveText('Copy of Orders sync (EU)');
  expect(page.url()).not.toBe(url);
  await hydrated(page);
  await page.getByTestId('package-head').getByText('Delete', { exact: true }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(page).toHaveURL(/\/packages$/);
  await expect(page.getByTestId('package-row')).toHaveCount(1);
  await page.goto(url);
  await hydrated(page);

  // At phone width no page scrolls sideways; tables become stacked cards.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await hydrated(page);
  await fitsWidth(page, 'the package page');
  await page.screenshot({ path: 'screenshots/package-page-390.png', fullPage: true });
  const edit = await task.getByRole('link', { name: 'Edit' }).getAttribute('href');
  for (const path of ['/packages', '/connections', '/runs', '/members', '/settings', edit!]) {
    await page.goto(path);
    await hydrated(page);
    await fitsWidth(page, path);
  }
  await page.screenshot({ path: 'screenshots/task-editor-390.png', fullPage: true });

  // A 200-character name wraps instead of widening the list, at both widths.
  await page.goto(url);
  await hydrated(page);
  const long = 'Quarterly-reconciliation-of-customer-accounts-'.repeat(5).slice(0, 200);
  await page.getByTestId('rename').click();
  await page.getByTestId('rename-form').getByLabel('Name').fill(long);
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByTestId('package-title')).toHaveText(long);
  await fitsWidth(page, 'the package page with a long name');
  await page.goto('/packages');
  await fitsWidth(page, 'the package list with a long name at 390 px');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.reload();
  await fitsWidth(page, 'the package list with a long name at 1280 px');
  await page.screenshot({ path: 'screenshots/packages-long-name.png', fullPage: true });

  // Menus close on navigation.
  await hydrated(page);
  await page.getByTestId('user-menu').click();
  await expect(page.locator('details.user-menu')).toHaveAttribute('open', '');
  await page.getByRole('menuitem', { name: 'Workspace settings' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.locator('details.user-menu')).not.toHaveAttribute('open', '');

});

test('the task editor: typed column lists, every problem at once with its position, functions', async ({ page }) => {
  await signUp(page, email('editor'));
  await createConnection(page, 'CRM', SRC_DB);
  await createConnection(page, 'Shop', DST_DB);
  await packageWithTask(page, 'Orders');
  await page.getByTestId('task-row').getByRole('link', { name: 'Edit' }).click();
  await hydrated(page);

  // Columns are picked from the read table's columns, with their types.
  const pick = page.getByLabel('Source to Target column of item');
  await expect(pick).toHaveValue('item');
  await expect(pick.locator('option', { hasText: 'quantity (integer)' })).toHaveCount(1);
  await expect(page.getByLabel('Source to Target value of item')).toBeHidden();
  await expect(page.getByTestId('function-list')).toContainText('upper(text)');

  // Two mistakes: an expression that does not compile and one whose result is text for an
  // integer column. Validate lists both, each under its column too.
  await page.getByLabel('Source to Target mapping of item').selectOption('expression');
  await page.getByLabel('Source to Target value of item').fill('lower(item');
  await page.getByLabel('Source to Target mapping of quantity').selectOption('expression');
  await page.getByLabel('Source to Target value of quantity').fill('upper(item)');
  await page.getByRole('button', { name: 'Validate' }).click();
  const problems = page.locator('[data-field="source_to_target"]');
  await expect(problems.first()).toContainText('item');
  await expect(problems.first()).toContainText('line 1');
  // A compile error is found first; once fixed, the values are tried on the first records.
  await page.getByLabel('Source to Target value of item').fill('lower(item)');
  await page.getByRole('button', { name: 'Validate' }).click();
  await expect(problems).toContainText(['quantity']);
  await expect(problems.first()).toContainText('record');
  await expect(page.getByTestId('s2t-row').filter({ hasText: 'quantity' }).locator('.field-error.inline')).toBeVisible();
  await expect(page.getByLabel('Source to Target value of quantity')).toHaveValue('upper(item)');
  await page.screenshot({ path: 'screenshots/task-editor-problems.png', fullPage: true });
  // Both at once when both are wrong in the compile step.
  await page.getByLabel('Source to Target value of item').fill('lower(item');
  await page.getByLabel('Source to Target value of quantity').fill('1 +');
  await page.getByRole('button', { name: 'Validate' }).click();
  await expect(problems).toHaveCount(2);
  await expect(problems.nth(0)).toContainText('item');
  await expect(problems.nth(1)).toContainText('quantity');

  await page.getByLabel('Source to Target mapping of quantity').selectOption('column');
  await page.getByLabel('Source to Target column of quantity').selectOption('quantity');
  await page.getByLabel('Source to Target value of item').fill('lower(item)');
  await page.getByRole('button', { name: 'Validate' }).click();
  await expect(page.getByTestId('validated')).toContainText('Both mappings are valid');
});

test('import from a file with its name filled in; export carries the schedule', async ({ page }) => {
  await signUp(page, email('importer'));
  await createConnection(page, 'CRM', SRC_DB);
  await createConnection(page, 'Shop', DST_DB);
  await packageWithTask(page, 'Weekly orders');
  await page.getByTestId('package-head').getByRole('link', { name: 'Schedule', exact: true }).click();
  const schedule = page.getByTestId('schedule');
  await schedule.getByLabel('Time zone').fill('Europe/Berlin');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await expect(schedule.getByTestId('schedule-summary')).toContainText('Europe/Berlin');

  const download = page.waitForEvent('download');
  await page.getByTestId('package-head').getByRole('link', { name: 'Export' }).click();
  const file = readFileSync((await (await download).path())!, 'utf8');
  expect(JSON.parse(file).schedule.time_zone).toBe('Europe/Berlin');

  await page.goto('/packages/import');
  await hydrated(page);
  await page.getByLabel('Package file').setInputFiles({
    name: 'weekly.lockstep.json',
    mimeType: 'application/json',
    buffer: Buffer.from(file),
  });
  await expect(page.getByLabel('File contents')).toHaveValue(file);
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Weekly orders');
  await page.getByLabel('Name', { exact: true }).fill('Weekly orders (copy)');
  await page.getByLabel('Source connection').selectOption({ label: 'CRM (PostgreSQL)' });
  await page.getByLabel('Target connection').selectOption({ label: 'Shop (PostgreSQL)' });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('package-title')).toHaveText('Weekly orders (copy)');
  await expect(page.getByTestId('schedule-summary')).toContainText('Europe/Berlin');
});

test('a Viewer reads every page with no control they cannot use', async ({ browser }) => {
  const ann = email('owner');
  const vic = email('viewer');
  const owner = await browser.newContext();
  const page = await owner.newPage();
  // The owner names her workspace as she signs up.
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(ann);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Workspace name').fill('Acme ops');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/packages$/);
  await expect(page.getByTestId('current-workspace')).toHaveText('Acme ops');
  await createConnection(page, 'CRM', SRC_DB);
  await createConnection(page, 'Shop', DST_DB);
  const url = await packageWithTask(page, 'Shared orders');
  await page.goto('/members');
  await hydrated(page);
  await page.getByLabel('Email').fill(vic);
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const link = await page.getByTestId('invitation-link').inputValue();
  // The next invitation starts from the role just used.
  await expect(page.getByLabel('Role', { exact: true })).toHaveValue('viewer');

  const viewer = await browser.newContext();
  const vp = await viewer.newPage();
  await joinByInvitation(vp, link);
  await hydrated(vp);

  // Lists: no create buttons, no row actions, no + NEW menu.
  await expect(vp.getByTestId('package-row')).toHaveCount(1);
  await expect(vp.getByRole('link', { name: '+ New synchronization package' })).toHaveCount(0);
  await expect(vp.getByRole('link', { name: 'Import' })).toHaveCount(0);
  await expect(vp.getByTestId('new-menu')).toHaveCount(0);
  await expect(vp.getByTestId('run-package')).toHaveCount(0);
  await vp.goto('/connections');
  await expect(vp.getByTestId('connection-row')).toHaveCount(2);
  await expect(vp.getByRole('link', { name: '+ New connection' })).toHaveCount(0);
  await expect(vp.getByRole('link', { name: 'Edit' })).toHaveCount(0);

  // The package page reads, with no error card and no control.
  await vp.goto(url);
  await hydrated(vp);
  await expect(vp.getByTestId('page-error')).toHaveCount(0);
  await expect(vp.getByTestId('package-title')).toHaveText('Shared orders');
  await expect(vp.getByTestId('task-row')).toContainText('orders ⇄ orders');
  await expect(vp.getByTestId('schedule-summary')).toBeVisible();
  for (const control of ['Run', 'Clone', 'Save name', 'Save settings']) {
    await expect(vp.getByRole('button', { name: control, exact: true })).toHaveCount(0);
  }
  for (const control of ['+ Add task', 'Edit']) {
    await expect(vp.getByRole('link', { name: control, exact: true })).toHaveCount(0);
  }
  await expect(vp.getByText('Delete', { exact: true })).toHaveCount(0);
  await expect(vp.getByText('Edit settings')).toHaveCount(0);
  await expect(vp.getByRole('button', { name: 'Save schedule' })).toHaveCount(0);
  await vp.screenshot({ path: 'screenshots/viewer-package.png', fullPage: true });

  // The task reads too, read-only.
  await vp.getByTestId('task-row').getByRole('link', { name: 'View' }).click();
  await hydrated(vp);
  await expect(vp.getByTestId('read-only')).toBeVisible();
  await expect(vp.getByTestId('s2t-row')).toHaveCount(2);
  await expect(vp.getByLabel('Source to Target mapping of item')).toBeDisabled();
  await expect(vp.getByRole('button', { name: 'Save task' })).toHaveCount(0);
  await vp.screenshot({ path: 'screenshots/viewer-task.png', fullPage: true });

  // The workspace switcher names both, with their owners.
  await expect(vp.getByTestId('current-workspace')).toHaveText('Acme ops');
  await vp.getByTestId('workspace-switcher').click();
  await expect(vp.getByTestId('workspace-owner').filter({ hasText: ann })).toHaveCount(1);

  await owner.close();
  await viewer.close();
});

test('forms keep what was typed when they are refused before the WASM has loaded', async ({ page }) => {
  await signUp(page, email('slow'));
  await createConnection(page, 'CRM', SRC_DB);
  await createConnection(page, 'Shop', DST_DB);
  const url = await packageWithTask(page, 'Slow link');
  // From here on the WASM never arrives: forms post as plain HTML forms.
  await page.route('**/*.wasm', (route) => route.abort());

  // A new package with a blank name: refused, and every field is as typed.
  await page.goto('/packages/new');
  await page.getByLabel('Name').fill('   ');
  await page.getByLabel('Source', { exact: true }).selectOption({ label: 'CRM (PostgreSQL)' });
  await page.getByLabel('Target', { exact: true }).selectOption({ label: 'Shop (PostgreSQL)' });
  await page.getByLabel('Locale').selectOption('de_DE');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/__err=/);
  await expect(page.locator('[data-field="name"]')).toBeVisible();
  await expect(page.getByLabel('Name')).toHaveValue('   ');
  await expect(page.getByLabel('Source', { exact: true })).toHaveValue(/[0-9a-f-]{36}/);
  await expect(page.getByLabel('Target', { exact: true })).toHaveValue(/[0-9a-f-]{36}/);
  await expect(page.getByLabel('Locale')).toHaveValue('de_DE');

  // The schedule: every 15 minutes with a zone that does not exist.
  await page.goto(url);
  const schedule = page.getByTestId('schedule');
  await schedule.locator('summary').first().click();
  await schedule.locator('input[name="time_mode"][value="every"]').check();
  await schedule.getByLabel('Every N', { exact: true }).fill('15');
  await schedule.getByLabel('Unit').selectOption('minutes');
  await schedule.getByLabel('Time zone').fill('Not/AZone');
  await schedule.getByRole('button', { name: 'Save schedule' }).click();
  await expect(page).toHaveURL(/__err=/);
  await expect(schedule.locator('[data-field="time_zone"]')).toBeVisible();
  await expect(schedule.getByLabel('Time zone')).toHaveValue('Not/AZone');
  await expect(schedule.getByLabel('Every N', { exact: true })).toHaveValue('15');
  await expect(schedule.getByLabel('Unit')).toHaveValue('minutes');
  await expect(schedule.locator('input[name="time_mode"][value="every"]')).toBeChecked();

  // The task editor: a mistake in an expression; the grid comes back as typed.
  const edit = await page.getByTestId('task-row').getByRole('link', { name: 'Edit' }).getAttribute('href');
  await page.goto(edit!);
  await page.getByLabel('Source to Target mapping of item').selectOption('expression');
  await page.getByLabel('Source to Target value of item').fill('lower(item');
  await page.getByRole('button', { name: 'Save task' }).click();
  await expect(page).toHaveURL(/__err=/);
  await expect(page.locator('[data-field="source_to_target"]')).toContainText('line 1');
  await expect(page.getByLabel('Source to Target mapping of item')).toHaveValue('expression');
  await expect(page.getByLabel('Source to Target value of item')).toHaveValue('lower(item');

  // A connection with its port out of range: every field but the password comes back.
  await page.goto('/connections/new/postgres');
  await page.getByLabel('Name').fill('Slow CRM');
  await page.getByLabel('Host').fill('db.internal');
  await page.getByLabel('Port').fill('70000');
  await page.getByLabel('Database').fill('crm');
  await page.getByLabel('User').fill('sync');
  await page.getByLabel('Password').fill('secret');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/__err=/);
  await expect(page.locator('[data-field="port"]')).toBeVisible();
  await expect(page.getByLabel('Name')).toHaveValue('Slow CRM');
  await expect(page.getByLabel('Host')).toHaveValue('db.internal');
  await expect(page.getByLabel('Port')).toHaveValue('70000');
  await expect(page.getByLabel('Database')).toHaveValue('crm');
  await expect(page.getByLabel('Password')).toHaveValue('');

  // A new workspace with a blank name.
  await page.goto('/settings');
  const create = page.locator('#new-workspace');
  await create.getByLabel('Name').fill('   ');
  await create.getByRole('button', { name: 'Create workspace' }).click();
  await expect(page).toHaveURL(/__err=/);
  await expect(create.locator('[data-field="name"]')).toBeVisible();
  await expect(create.getByLabel('Name')).toHaveValue('   ');

  // An invitation to an address that is not one: the role stays as chosen.
  await page.goto('/members');
  await page.getByLabel('Email').fill('nobody@intranet');
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  await expect(page).toHaveURL(/__err=/);
  await expect(page.locator('[data-field="email"]')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue('nobody@intranet');
  await expect(page.getByLabel('Role', { exact: true })).toHaveValue('viewer');

  // Import: what was pasted stays when the file is refused.
  await page.goto('/packages/import');
  await page.getByLabel('File contents').fill('{ "not": "a package" }');
  await page.getByLabel('Name', { exact: true }).fill('Pasted');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/__err=/);
  await expect(page.getByLabel('File contents')).toHaveValue('{ "not": "a package" }');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Pasted');
});
