// Browser tests of what the player types and reads (issue 16): commands, the outbox that keeps
// to the announced rates, words instead of protocol codes, Russian, layout on desktop and phone.
// Screenshots of the page go to build/screenshots/ (see README, "The browser client").
//   PARLOR_BIN=build/debug/parlor-server node --test tests/e2e/words.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn, message, WAIT_MS } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** Texts of the chat messages the page shows, in order. */
const texts = (page, from) => page.getByTestId('message-list').getByTestId('message')
  .filter({ has: page.getByTestId('message-from').getByText(from, { exact: true }) })
  .getByTestId('message-text').allTextContents();

test('an unknown command is never sent: the page says which commands there are', async () => {
  const a = await newPage(browser);
  const b = await newPage(browser);
  await signIn(a, server.url, 'cmd_a');
  await signIn(b, server.url, 'cmd_b');
  const input = a.getByTestId('message-input');

  for (const line of ['/wisper cmd_b the secret plan is at 9pm', '/x hi']) {
    await input.fill(line);
    await input.press('Enter');
    const t = a.getByTestId('toast-error').last();
    await t.waitFor();
    assert.match(await t.textContent(), /nothing was sent/);
    assert.match(await t.textContent(), new RegExp(line.split(' ')[0]));
    // the line stays in the composer to be fixed
    assert.equal(await input.inputValue(), line);
  }
  // "//" sends a line that starts with "/"; /help lists the commands
  await input.fill('//x is a path');
  await input.press('Enter');
  await message(b, 'cmd_a', '/x is a path').waitFor();
  await input.fill('/help');
  await input.press('Enter');
  await a.getByTestId('help').waitFor();
  assert.match(await a.getByTestId('help').textContent(), /\/w.*\/help.*\/\//s);
  // B saw the escaped line only: neither mistyped command went out
  assert.deepEqual(await texts(b, 'cmd_a'), ['/x is a path']);
  // A whisper typed with a capital W still is a whisper
  await input.fill('/W cmd_b psst');
  await input.press('Enter');
  await b.getByTestId('whisper-text').getByText('psst', { exact: true }).waitFor();
  assert.deepEqual(await texts(b, 'cmd_a'), ['/x is a path']);
  await a.context().close();
  await b.context().close();
});

test('lines typed or pasted faster than the say rate all arrive, in order, none refused', async () => {
  const a = await newPage(browser);
  const b = await newPage(browser);
  await signIn(a, server.url, 'fast_a');
  await signIn(b, server.url, 'fast_b');
  const input = a.getByTestId('message-input');

  // 25 lines with Enter, as fast as the keyboard goes (the default say rate is 5/s, burst 10)
  const typed = Array.from({ length: 25 }, (_, i) => `typed ${i + 1}`);
  for (const line of typed) {
    await input.fill(line);
    await input.press('Enter');
  }
  // what is not yet sent is shown as waiting
  assert.ok(await a.getByTestId('outbox-item').count() > 0, 'no line is shown as waiting');
  await message(b, 'fast_a', 'typed 25').waitFor({ timeout: 20_000 });
  assert.deepEqual(await texts(b, 'fast_a'), typed);

  // 25 lines pasted at once: each is a message, the last stays in the composer
  const pasted = Array.from({ length: 25 }, (_, i) => `pasted ${i + 1}`);
  await input.focus();
  await a.evaluate((text) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', text);
    document.getElementById('message-input').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, pasted.join('\n'));
  assert.equal(await input.inputValue(), 'pasted 25');
  await input.press('Enter');
  await message(b, 'fast_a', 'pasted 25').waitFor({ timeout: 20_000 });
  assert.deepEqual(await texts(b, 'fast_a'), [...typed, ...pasted]);
  await a.getByTestId('outbox').waitFor({ state: 'hidden' });
  assert.equal(await a.getByTestId('toast-error').count(), 0, 'a line was refused');
  assert.deepEqual(a.errors, []);
  await a.context().close();
  await b.context().close();
});
