import { test, expect } from '@playwright/test';
import { PASSWORD, email, hydrated, signUp } from './helpers';

test('sign up, invite a Viewer who joins read-only, sign out', async ({ browser }) => {
  const ann = email('ann');
  const vic = email('vic');

  // Ann signs up and lands in her empty workspace.
  const annContext = await browser.newContext();
  const page = await annContext.newPage();
  await signUp(page, ann);
  await expect(page.getByRole('heading', { name: 'No packages yet' })).toBeVisible();
  await expect(page.getByTestId('current-workspace')).toHaveText('My workspace');
  await page.screenshot({ path: 'screenshots/packages-empty.png', fullPage: true });

  // She renames it, so the invitee can tell it from his own.
  await page.goto('/settings');
  await hydrated(page);
  await page.getByLabel('Workspace name').fill('Acme Sync');
  await page.getByRole('button', { name: 'Rename' }).click();
  await expect(page.getByTestId('current-workspace')).toHaveText('Acme Sync');

  // She invites Vic as a Viewer and copies the link.
  await page.getByRole('link', { name: 'Members' }).click();
  await expect(page).toHaveURL(/\/members$/);
  await page.getByLabel('Email').fill(vic);
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const link = await page.getByTestId('invitation-link').inputValue();
  expect(link).toMatch(/\/invite\/[0-9a-f]{64}$/);
  await expect(page.getByTestId('invitation-row')).toContainText(vic);
  await page.screenshot({ path: 'screenshots/members-invited.png', fullPage: true });

  // Vic opens the link in his own browser, creates his account from it, and joins.
  const vicContext = await browser.newContext();
  const vp = await vicContext.newPage();
  await vp.goto(link);
  await expect(vp.getByTestId('invitation')).toContainText('Acme Sync');
  await expect(vp.getByTestId('invitation')).toContainText('Viewer');
  await vp.getByRole('link', { name: 'Create an account' }).click();
  await expect(vp.getByLabel('Email')).toHaveValue(vic);
  await hydrated(vp);
  await vp.getByLabel('Password').fill(PASSWORD);
  await vp.getByRole('button', { name: 'Create account' }).click();
  await expect(vp).toHaveURL(/\/invite\//);
  await hydrated(vp);
  await vp.getByTestId('accept-invitation').click();
  await expect(vp).toHaveURL(/\/packages$/);
  await expect(vp.getByTestId('current-workspace')).toHaveText('Acme Sync');
  await vp.getByTestId('user-menu').click();
  await expect(vp.getByTestId('current-role')).toHaveText('Role: Viewer');

  // As a Viewer he sees the members but cannot open an editor page.
  await vp.goto('/members');
  await expect(vp.getByTestId('member-row')).toHaveCount(2);
  await expect(vp.getByRole('button', { name: 'Create invitation link' })).toHaveCount(0);
  await vp.goto('/connections/new/postgres');
  await expect(vp.getByTestId('page-error')).toContainText('needs the Developer role');
  await vp.goto('/packages/new');
  await expect(vp.getByTestId('page-error')).toContainText('needs the Developer role');
  await vp.screenshot({ path: 'screenshots/viewer-forbidden.png', fullPage: true });

  // Ann sees him as a Viewer.
  await page.reload();
  await expect(page.getByTestId('member-row').filter({ hasText: vic })).toContainText('Viewer');

  // Vic signs out and is signed out.
  await hydrated(vp);
  await vp.getByTestId('user-menu').click();
  await vp.getByTestId('sign-out').click();
  await expect(vp).toHaveURL(/\/signin$/);
  await vp.goto('/packages');
  await expect(vp).toHaveURL(/\/signin\?next=/);

  await annContext.close();
  await vicContext.close();
});

test('forms work before the WASM loads', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/signup');
  // The browser accepts "name@host"; our server wants a dotted domain and says so.
  await page.getByLabel('Email').fill('nojs@intranet');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('.field-error')).toContainText('must be a domain such as example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Email').fill(email('nojs'));
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/packages$/);
  await expect(page.getByRole('heading', { name: 'No packages yet' })).toBeVisible();

  // Inviting without JavaScript still hands over the link.
  await page.goto('/members');
  await page.getByLabel('Email').fill(email('guest'));
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  await expect(page.getByTestId('invitation-link')).toHaveValue(/\/invite\/[0-9a-f]{64}$/);
  await context.close();
});

test('a wrong password is refused without saying whether the account exists', async ({ page }) => {
  const ann = email('ann');
  await signUp(page, ann);
  await page.context().clearCookies();
  for (const address of [ann, email('nobody')]) {
    await page.goto('/signin');
    await hydrated(page);
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('form-error')).toHaveText(
      'That email and password do not match an account. Check both and try again.',
    );
  }
});
