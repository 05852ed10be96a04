import { expect, type Page } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** A unique email per run, so the suite can run against a database that already has data. */
export function email(name: string): string {
  return `${name}.${Date.now()}.${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** Waits until the WASM has hydrated the page, so clicks take the client-side path. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function signUp(page: Page, address: string): Promise<void> {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Email').fill(address);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/packages$/);
}

// Two databases with the tables of end2end/fixtures.sql (scripts/test.sh creates them).
const pg = new URL(process.env.E2E_PG_URL ?? 'postgres://postgres@127.0.0.1:5432');
export const SRC_DB = process.env.E2E_SRC_DB ?? 'lockstep_e2e_src';
export const DST_DB = process.env.E2E_DST_DB ?? 'lockstep_e2e_dst';

/** Saves a PostgreSQL connection to `database` on the test server. */
export async function createConnection(page: Page, name: string, database: string): Promise<void> {
  await page.goto('/connections/new/postgres');
  await hydrated(page);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Host').fill(pg.hostname);
  await page.getByLabel('Port').fill(pg.port || '5432');
  await page.getByLabel('Database').fill(database);
  await page.getByLabel('User').fill(decodeURIComponent(pg.username) || 'postgres');
  await page.getByLabel('SSL mode').selectOption('disable');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/connections$/);
}


/** Creates a package between two saved connections (named by their option labels) and
 * returns its page's URL. */
export async function createPackage(page: Page, name: string, source: string, target: string): Promise<string> {
  await page.goto('/packages/new');
  await hydrated(page);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Source', { exact: true }).selectOption({ label: source });
  await page.getByLabel('Target', { exact: true }).selectOption({ label: target });
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/packages\/[0-9a-f-]{36}$/);
  return page.url();
}

/** Opens an invitation link, creates the invitee's account from it and joins. */
export async function joinByInvitation(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await hydrated(page);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/invite\//);
  await hydrated(page);
  await page.getByTestId('accept-invitation').click();
  await expect(page).toHaveURL(/\/packages$/);
}
