// Admin-supplied content is data, never HTML: a set of script payloads (script tags, event
// handlers, `javascript:` URLs, CSS `url()`, markup breaking out of attributes, Unicode
// direction tricks) saved in every field of the compliance setup runs nowhere: not on the
// console's pages, not on the contact's pages in three languages, not on the sign-up form or
// the "what changed" page. A dialog listener catches any `alert`.
import { execFileSync } from 'node:child_process';
import type { Page } from '@playwright/test';
import { test, expect, binaryPath, centerUrl } from './server';

const PASSWORD = 'violet tram kettle 93';
const PAYLOADS = [
  `<script>alert('script')</script>`,
  `<img src=x onerror="alert('img')">`,
  `"><svg onload=alert('svg')>`,
  `javascript:alert('js')`,
  `</style><style>body{background:url("javascript:alert('css')")}</style>`,
  `'"><iframe srcdoc="<script>alert('frame')</script>">`,
  `\u202Etxt.exe\u202C <a href="javascript:alert('a')">x</a>`,
];
// Every field gets the vectors that would run if the text reached the page as markup: a name
// (at most 120 characters) the executing ones, a long text all of them, a short one the two
// shortest. Each starts with a readable marker so the test can find it on a page.
const NAME = `"><script>alert('s')</script><img src=x onerror="alert('i')"><svg onload=alert('v')>`;
const SHORT = `<img src=x onerror="alert('i')">`;
const LONG = PAYLOADS.join(' ');
const p = (i: number, field: string, kind: 'name' | 'short' | 'long' = 'name') =>
  `${field}${i} ${kind === 'name' ? NAME : kind === 'short' ? SHORT : LONG}`;

async function noScriptRan(page: Page, where: string, dialogs: string[]) {
  expect(dialogs, `a dialog opened on ${where}`).toEqual([]);
  const injected = await page.evaluate(() => ({
    img: document.querySelectorAll('img[src="x"]').length,
    svg: document.querySelectorAll('svg[onload]').length,
    iframe: document.querySelectorAll('iframe').length,
    jsLinks: Array.from(document.querySelectorAll('a[href]')).filter((a) =>
      (a as HTMLAnchorElement).href.trim().toLowerCase().startsWith('javascript:'),
    ).length,
    scripts: Array.from(document.scripts).filter((s) => s.textContent?.includes('alert')).length,
    styles: Array.from(document.querySelectorAll('style')).filter((s) => s.textContent?.includes('javascript:')).length,
  }));
  expect(injected, `markup injected on ${where}`).toEqual({ img: 0, svg: 0, iframe: 0, jsLinks: 0, scripts: 0, styles: 0 });
}

test('script payloads saved in every setup field execute nowhere', async ({ page, server }) => {
  test.setTimeout(90_000);
  const dialogs: string[] = [];
  page.on('dialog', async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  execFileSync(binaryPath(), ['user', 'create', 'admin@contoso.com', '--role', 'admin'], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, PREFCENTER_DATABASE_URL: `sqlite://${server.dir}/db.sqlite`, PREFCENTER_DATA_DIR: server.dir },
  });
  await page.goto(`${server.base}/admin/sign-in`);
  await page.getByLabel('Email').fill('admin@contoso.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.goto(`${server.base}/admin/profiles`);
  await page.getByRole('link', { name: 'Contoso' }).click();
  const profileUrl = page.url();

  // The profile: every text field; a script URL is refused, then a real one with markup in it.
  await page.getByRole('link', { name: 'Edit settings' }).click();
  await page.locator('#f-name').fill(p(0, 'Name'));
  await page.locator('#f-sender_name').fill(p(1, 'Sender'));
  await page.locator('#f-footer_address').fill(p(2, 'Address', 'long'));
  await page.locator('#f-legal_footer').fill(p(3, 'Legal', 'long'));
  await page.locator('#f-jurisdiction').fill(p(4, 'Juris', 'short'));
  await page.locator('#f-privacy_url').fill(`javascript:alert('privacy')`);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#f-privacy_url-error')).toBeVisible();
  await noScriptRan(page, 'the refused profile form', dialogs);
  await page.locator('#f-privacy_url').fill(`https://contoso.com/privacy?q="><script>alert('q')</script>`);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await noScriptRan(page, 'the profile page', dialogs);

  // A purpose and a topic, in three languages.
  await page.getByRole('link', { name: 'Add a purpose' }).click();
  await page.locator('#f-name').fill(p(5, 'Purpose'));
  await page.locator('#f-key').fill('xss-purpose');
  await page.locator('#f-description').fill(p(6, 'PurposeText', 'long'));
  await page.locator('#f-name_de').fill(p(0, 'ZweckDe'));
  await page.locator('#f-description_ar').fill(p(1, 'WasfAr', 'long'));
  await page.locator('#f-name_ar').fill(p(2, 'IsmAr'));
  // Opt-out, so that Holly receives it and can unsubscribe from it below.
  await page.locator('#f-enforcement-non_restrictive').check();
  await page.getByRole('button', { name: 'Add the purpose' }).click();
  await expect(page.getByRole('status')).toHaveText('Added.');
  await noScriptRan(page, 'the profile page with the new purpose', dialogs);
  await page.getByRole('link', { name: /^Add a topic to Purpose5/ }).click();
  await page.locator('#f-name').fill(p(3, 'Topic'));
  await page.locator('#f-key').fill('xss-topic');
  await page.locator('#f-description').fill(p(4, 'TopicText', 'long'));
  await page.locator('#f-name_de').fill(p(5, 'ThemaDe'));
  await page.locator('#f-description_de').fill(p(6, 'ThemaText', 'long'));
  await page.getByRole('button', { name: 'Add the topic' }).click();
  await expect(page.getByRole('status')).toHaveText('Added.');

  // Every console page that shows them.
  for (const path of ['/admin/profiles', new URL(profileUrl).pathname, '/admin/audit']) {
    await page.goto(`${server.base}${path}`);
    await noScriptRan(page, path, dialogs);
  }
  for (const link of [/^Edit Topic3/, /^Edit Purpose5/, /^Retire Topic3/]) {
    await page.goto(profileUrl);
    await page.getByRole('link', { name: link }).click();
    await noScriptRan(page, `the page behind "${link}"`, dialogs);
  }
  await page.goto(`${profileUrl}/edit`);
  await noScriptRan(page, 'the profile form', dialogs);
  // The words are there, as text.
  await page.goto(profileUrl);
  await expect(page.getByText(p(3, 'Topic'), { exact: true })).toBeVisible();

  // The contact's pages, in English, German and Arabic; the sign-up form; a change.
  const holly = server.holly;
  for (const url of [holly, centerUrl(holly), `${centerUrl(holly)}?lang=de`, `${holly}?lang=ar`, `${server.base}/s/contoso`, `${server.base}/s/contoso?lang=de`]) {
    await page.goto(url);
    await noScriptRan(page, url, dialogs);
  }
  await page.goto(`${centerUrl(holly)}?lang=de`);
  await expect(page.getByText(p(5, 'ThemaDe'), { exact: true })).toBeVisible();
  await page.goto(centerUrl(holly));
  await expect(page.getByText(p(3, 'Topic'), { exact: true })).toBeVisible();
  await page.goto(holly);
  await page.getByRole('button', { name: /^Unsubscribe from Topic3/ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your preferences are updated');
  await noScriptRan(page, 'the "what changed" page', dialogs);
  await expect(page.locator('ul.changes')).toContainText(p(3, 'Topic'));
  // The brand bar shows the profile's name as text.
  await expect(page.locator('.brandname')).toHaveText(p(0, 'Name'));
});
