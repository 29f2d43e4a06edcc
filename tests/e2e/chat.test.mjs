// Browser test of the web client against the real server:
//   node --test tests/e2e/
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launchBrowser, newPage, signIn, message, WAIT_MS } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    await server.stop(); // fails unless it exits 0 with no sanitizer report
  }
});

test('two users chat in the lobby', async () => {
  const a = await newPage(browser);
  const b = await newPage(browser);

  await signIn(a, server.url, 'alice');
  await signIn(b, server.url, 'bob');

  // B's name shows up in A's member list (joined event), and A's in B's (join reply).
  await a.locator('[data-testid="member-list"] [data-testid="member"][data-name="bob"]').waitFor();
  await b.locator('[data-testid="member-list"] [data-testid="member"][data-name="alice"]').waitFor();

  // A sends with Enter, B sees it with A's name.
  await a.getByTestId('message-input').fill('hello from alice');
  await a.getByTestId('message-input').press('Enter');
  await message(b, 'alice', 'hello from alice').waitFor();
  await message(a, 'alice', 'hello from alice').waitFor();

  // B replies with the send button, A sees it.
  await b.getByTestId('message-input').fill('hi alice, bob here');
  await b.getByTestId('send-button').click();
  await message(a, 'bob', 'hi alice, bob here').waitFor();

  // Markup in a chat text is shown literally.
  const markup = '<b>x</b> <img src=x onerror="window.__xss=1">';
  await b.getByTestId('message-input').fill(markup);
  await b.getByTestId('send-button').click();
  await message(a, 'bob', markup).waitFor();
  assert.equal(await a.getByTestId('message-list').locator('b, img').count(), 0, 'chat text was parsed as HTML');
  assert.equal(await a.evaluate(() => window.__xss), undefined);

  // The time shown is HH:MM.
  const time = await message(a, 'bob', markup).getByTestId('message-time').textContent();
  assert.match(time, /^\d\d:\d\d$/);

  // The room list shows the lobby with two members.
  await a.locator('[data-testid="room-list"] [data-testid="room-item"][data-room-id="lobby"]').waitFor();

  const shot = path.join(server.tmpdir, 'chat-alice.png');
  await a.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);

  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context().close();
  await b.context().close();
});

test('RU switch translates the sign-in button and is remembered', async () => {
  const page = await newPage(browser);
  await page.goto(server.url);
  const button = page.getByTestId('signin-button');
  await page.waitForFunction(() => document.querySelector('[data-testid="signin-button"]').textContent === 'Continue as guest', null, { timeout: WAIT_MS });

  await page.getByTestId('lang-ru').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="signin-button"]').textContent === 'Войти как гость', null, { timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ru');

  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT_MS });
  assert.equal(await button.textContent(), 'Войти как гость');

  await page.getByTestId('lang-en').click();
  assert.equal(await button.textContent(), 'Continue as guest');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a Russian browser starts in Russian', async () => {
  const page = await newPage(browser, { locale: 'ru-RU' });
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT_MS });
  assert.equal(await page.getByTestId('signin-button').textContent(), 'Войти как гость');
  await page.context().close();
});

test('a room above --presence-max shows a count and the members it knows', async () => {
  const small = await startServer(['--presence-max', '2']);
  const pages = [];
  try {
    for (const name of ['ann', 'ben', 'cat']) {
      const page = await newPage(browser);
      pages.push(page);
      await signIn(page, small.url, name);
    }
    const [ann, , cat] = pages;
    // ann knew ben by name; cat's arrival comes as a count of 3 a second later
    const more = ann.getByTestId('members-more');
    await more.waitFor({ timeout: WAIT_MS });
    assert.match(await more.textContent(), /\b1\b/);
    assert.equal(await ann.locator('#member-count').textContent(), '3');
    assert.equal(await ann.locator('[data-testid="member-list"] [data-testid="member"]').count(), 2);
    // cat got the first two names and lists herself
    assert.equal(await cat.locator('[data-testid="member-list"] [data-testid="member"]').count(), 3);
    assert.equal(await cat.getByTestId('members-more').count(), 0);

    // cat leaves: back to two, and the presence event brings the full list again
    await cat.context().close();
    pages.pop();
    await more.waitFor({ state: 'detached', timeout: WAIT_MS });
    assert.equal(await ann.locator('#member-count').textContent(), '2');
    for (const page of pages) assert.deepEqual(page.errors, []);
  } finally {
    for (const page of pages) await page.context().close();
    await small.stop();
  }
});
