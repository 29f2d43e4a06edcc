// Browser tests of what the player types and reads (issue 16): commands, the outbox that keeps
// to the announced rates, words instead of protocol codes, Russian, layout on desktop and phone.
// Screenshots of the page go to build/screenshots/ (see README, "The browser client").
//   PARLOR_BIN=build/debug/parlor-server node --test tests/e2e/words.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, newPage, signIn, message, startProxy, REPO } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer(['--questions', path.join(REPO, 'questions', 'parlor-core.jsonl'), '--quiz-reveal-ms', '1500']);
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

/** The codes of a table in PROTOCOL.md's section `n` (first column, in backticks or bare). */
async function protocolCodes(n) {
  const doc = await readFile(path.join(REPO, 'protocol', 'PROTOCOL.md'), 'utf8');
  const section = doc.split(/\n## /).find((s) => s.startsWith(`${n}. `));
  return [...section.matchAll(/^\| `?([a-z_0-9]+)`? \|/gm)].map((m) => m[1]).filter((c) => c !== 'code');
}

test('every error and close code reads as a sentence in English and Russian, never as a code', async () => {
  const errors = await protocolCodes(6);
  const closes = await protocolCodes(8);
  assert.ok(errors.includes('bad_credentials') && closes.includes('1006'), 'PROTOCOL.md tables not found');
  const a = await newPage(browser);
  await a.goto(server.url);
  const missing = await a.evaluate(async ({ errors, closes }) => {
    const i18n = await import('/i18n.js');
    const out = [];
    for (const lang of ['en', 'ru']) {
      i18n.setLang(lang, false);
      for (const key of [...errors.map((c) => `err.${c}`), ...closes.map((c) => `close.${c}`)]) {
        const s = i18n.t(key);
        const ok = s !== key && /^[A-ZА-ЯЁ].*\.$/u.test(s) && (lang === 'en' || /[а-яё]/i.test(s));
        if (!ok) out.push(`${lang} ${key}: ${s}`);
      }
    }
    return out;
  }, { errors, closes });
  assert.deepEqual(missing, []);

  // a name in use: the sign-in form says so in words
  await signIn(a, server.url, 'taken_name');
  const b = await newPage(browser);
  await b.goto(server.url);
  await b.getByTestId('name-input').fill('taken_name');
  await b.getByTestId('signin-button').click();
  const err = b.getByTestId('signin-error');
  // (the sign-in form's own, longer sentence: it also says what to do about it)
  await err.getByText(/^This name is taken: someone is using it/).waitFor();
  assert.doesNotMatch(await err.textContent(), /name_taken|[a-z]+_[a-z]+:/);

  // a whisper to nobody: a sentence, and the line comes back to the composer
  await a.getByTestId('message-input').fill('/w nobody_here hello');
  await a.getByTestId('message-input').press('Enter');
  const t = a.getByTestId('toast-error').last();
  await t.getByText('Nobody of that name is online.').waitFor();
  assert.doesNotMatch(await t.textContent(), /no_such_user/);
  assert.equal(await a.getByTestId('message-input').inputValue(), '/w nobody_here hello');

  // a lost connection: words in the status line, in Russian too, no 1006
  const proxy = await startProxy(server.port);
  const c = await newPage(browser);
  await signIn(c, proxy.url, 'lost_one');
  await c.getByTestId('lang-ru').click();
  proxy.setOffline(true);
  const detail = c.getByTestId('conn-detail');
  await detail.getByText('Соединение с сервером потеряно.').waitFor();
  assert.doesNotMatch(await detail.textContent(), /\d{4}/);
  proxy.setOffline(false);
  await proxy.close?.();
  for (const p of [a, b, c]) await p.context().close();
});

test('Russian: the lobby, the placeholder and room names read as Russian', async () => {
  const a = await newPage(browser);
  await signIn(a, server.url, 'russkiy');
  await a.getByTestId('lang-ru').click();
  const tab = a.locator('[data-testid="room-tab"][data-room-id="lobby"]');
  assert.equal((await tab.textContent()).trim(), 'Лобби');
  assert.equal(await a.getByTestId('room-title').textContent(), 'Лобби');
  assert.equal(await a.getByTestId('message-input').getAttribute('placeholder'), 'Сообщение в комнату «Лобби»');
  await a.getByTestId('create-name').fill('Викторина');
  await a.getByTestId('create-button').click();
  await a.locator('[data-testid="room-title"]', { hasText: 'Викторина' }).waitFor();
  assert.equal(await a.getByTestId('message-input').getAttribute('placeholder'), 'Сообщение в комнату «Викторина»');
  await a.getByTestId('lang-en').click();
  assert.equal((await tab.textContent()).trim(), 'Lobby');
  assert.equal(await a.getByTestId('message-input').getAttribute('placeholder'), 'Message to “Викторина”');
  await a.context().close();
});

test('desktop layout: equal heights, focus after Join, the quiz room limit, no timer at a reveal, no winner at 0', async () => {
  const a = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  const b = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  await signIn(a, server.url, 'lay_a');
  await signIn(b, server.url, 'lay_b');
  const height = async (p, id) => (await p.getByTestId(id).boundingBox()).height;
  assert.equal(await height(a, 'send-button'), await height(a, 'message-input'), 'Send is not as tall as the message box');
  assert.equal(await height(a, 'signout-button'), await height(a, 'leaderboard-button'), 'Sign out is not as tall as Leaderboard');

  // the form says what limit a room gets; a quiz room gets 12 (PROTOCOL.md 4.10)
  assert.equal(await a.getByTestId('create-max').getAttribute('placeholder'), 'Max 50');
  await a.getByTestId('create-game-quiz').check();
  assert.equal(await a.getByTestId('create-max').getAttribute('placeholder'), 'Max 12');
  await a.getByTestId('create-name').fill('Layout quiz');
  await a.getByTestId('create-rounds').fill('1');
  await a.getByTestId('create-seconds').fill('1');
  await a.getByTestId('create-button').click();
  await a.locator('#room-meta', { hasText: '1/12' }).waitFor();
  assert.equal(await a.evaluate(() => document.activeElement?.dataset.testid), 'message-input', 'focus after Create');

  // B joins from the list: typing goes to the room, not to the Lobby's Open button
  await b.getByTestId('rooms-refresh').click();
  await b.locator('[data-testid="room-item"]', { hasText: 'Layout quiz' }).getByTestId('room-join').click();
  await b.locator('[data-testid="room-title"]', { hasText: 'Layout quiz' }).waitFor();
  await b.locator('[data-testid="room-item"]', { hasText: 'Layout quiz' }).getByTestId('room-open').waitFor();
  assert.equal(await b.evaluate(() => document.activeElement?.dataset.testid), 'message-input', 'focus after Join');

  // nobody answers the one question: the reveal shows no "0 s", the end names no winner
  await a.getByTestId('quiz-start').click();
  await b.locator('[data-testid="quiz"][data-phase="reveal"]').waitFor({ timeout: 15_000 });
  assert.equal(await b.getByTestId('quiz-seconds').count(), 0, 'a timer is shown during the reveal');
  await b.locator('[data-testid="quiz"][data-phase="over"]').waitFor({ timeout: 15_000 });
  assert.match(await b.getByTestId('quiz-winner').textContent(), /^Nobody scored/);
  const notices = await b.getByTestId('notice').allTextContents();
  assert.ok(!notices.some((n) => /Winner/.test(n)), `a winner with 0 points: ${notices}`);
  for (const p of [a, b]) await p.context().close();
});

test('phone: own name, a close button on the members drawer, the quiz settings, a placeholder that fits', async () => {
  const a = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await signIn(a, server.url, 'phone_user');
  assert.ok(await a.getByTestId('me').isVisible(), 'own name hidden');
  await a.getByTestId('toggle-members').click();
  await a.getByTestId('members-close').click();
  await a.waitForFunction(() => !document.getElementById('chat-view').classList.contains('show-members'));
  for (const lang of ['en', 'ru']) {
    await a.getByTestId(`lang-${lang}`).click();
    const fits = await a.getByTestId('message-input').evaluate((input) => {
      const cs = getComputedStyle(input);
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const room = input.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      return { text: input.placeholder, need: ctx.measureText(input.placeholder).width, room };
    });
    assert.ok(fits.need <= fits.room, `placeholder "${fits.text}" needs ${fits.need}px of ${fits.room}px`);
  }
  await a.getByTestId('lang-en').click();
  await a.getByTestId('toggle-sidebar').click();
  await a.getByTestId('create-game-quiz').check();
  await a.getByTestId('create-name').fill('Phone quiz');
  await a.getByTestId('create-rounds').fill('7');
  await a.getByTestId('create-seconds').fill('25');
  await a.getByTestId('create-button').click();
  const settings = a.locator('.quiz-settings');
  await settings.waitFor();
  assert.ok(await settings.isVisible(), 'rounds and seconds hidden on a phone');
  assert.equal(await settings.textContent(), '7 rounds · 25 s each');
  await a.context().close();
});
