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
