// Browser test of accounts and names (issue 16): sign up, log out, log in, a reload keeps the
// player signed in, a Cyrillic name, the player's own place on the leaderboard, and the name a
// dropped connection still holds.
//   PARLOR_BIN=build/debug/parlor-server node --test tests/e2e/accounts.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, startProxy, launchBrowser, newPage, signIn, REPO, WAIT_MS } from './harness.mjs';

let browser;
let server;
const proxies = [];

before(async () => {
  browser = await launchBrowser();
  server = await startServer(['--scrypt-log2n', '12', '--quiz-reveal-ms', '100',
    '--questions', path.join(REPO, 'questions', 'parlor-core.jsonl')]);
});

after(async () => {
  if (browser) await browser.close();
  for (const p of proxies) await p.close();
  if (server) await server.stop();
});

const connected = (page) => page.locator('[data-testid="conn-status"][data-state="connected"]')
  .waitFor({ timeout: WAIT_MS });
const signedInAs = async (page, name) => {
  await connected(page);
  await page.waitForFunction((n) => document.querySelector('[data-testid="me"]').textContent === n, name,
    { timeout: WAIT_MS });
  await page.locator('[data-testid="room-tab"][data-room-id="lobby"]').waitFor({ state: 'attached' });
};

async function accountForm(page, name, password, button) {
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT_MS });
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('password-input').fill(password);
  await page.getByTestId(button).click();
}

test('sign up, reload (still signed in), log out, reload (signed out), log in', async () => {
  const page = await newPage(browser);
  await page.goto(server.url);
  await accountForm(page, 'Walter', 'walter-password', 'register-button');
  await signedInAs(page, 'Walter');

  await page.reload();
  await signedInAs(page, 'Walter'); // nothing typed: the stored token signed it back in

  await page.getByTestId('signout-button').click();
  await page.getByTestId('signin-button').waitFor();
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT_MS });
  await page.waitForTimeout(300);
  assert.equal(await page.getByTestId('signin-button').isVisible(), true);
  assert.equal(await page.evaluate(() => localStorage.getItem('parlor.session')), null);

  await accountForm(page, 'walter', 'wrong-password', 'login-button');
  await page.getByTestId('signin-problem').getByText('Wrong name or password.').waitFor();
  await accountForm(page, 'WALTER', 'walter-password', 'login-button');
  await signedInAs(page, 'Walter'); // the name as registered
  // a guest may not take it
  const other = await newPage(browser);
  await other.goto(server.url);
  await other.getByTestId('name-input').fill('walter');
  await other.getByTestId('signin-button').click();
  await other.getByTestId('signin-problem').getByText(/belongs to an account/).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await other.context().close();
});

test('a Cyrillic name: a guest and an account; a mixed-script name is explained', async () => {
  const page = await newPage(browser, { locale: 'ru-RU' });
  await signIn(page, server.url, 'Наташа');
  assert.equal(await page.getByTestId('me').textContent(), 'Наташа');

  const acc = await newPage(browser, { locale: 'ru-RU' });
  await acc.goto(server.url);
  await accountForm(acc, 'Фёдор', 'пароль-длинный', 'register-button');
  await signedInAs(acc, 'Фёдор');

  const spoof = await newPage(browser);
  await spoof.goto(server.url);
  await spoof.getByTestId('name-input').fill('аlice'); // a Cyrillic а among Latin letters
  await spoof.getByTestId('signin-button').click();
  await spoof.getByTestId('signin-problem').getByText(/do not mix/).waitFor();
  for (const p of [page, acc, spoof]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

/** Plays a one-round quiz as a new account over the protocol, so it is on the leaderboard. */
async function playOneGame(name, password) {
  const ws = new WebSocket(server.url.replace('http', 'ws') + 'ws', 'parlor.v1');
  const inbox = [];
  let wake = () => {};
  ws.on('message', (d) => { inbox.push(JSON.parse(String(d))); wake(); });
  const next = async (pred) => {
    for (;;) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return inbox.splice(i, 1)[0];
      await new Promise((r) => { wake = r; });
    }
  };
  let id = 0;
  const req = async (msg) => {
    const my = ++id;
    ws.send(JSON.stringify({ ...msg, id: my }));
    const r = await next((m) => m.re === my);
    assert.equal(r.type, 'ok', JSON.stringify(r));
    return r;
  };
  await new Promise((r) => ws.once('open', r));
  await req({ type: 'register', name, password });
  const { room } = await req({ type: 'create', name: 'one', game: 'quiz', rounds: 1, seconds: 1 });
  await req({ type: 'start', room: room.id });
  await next((m) => m.type === 'question');
  await req({ type: 'answer', room: room.id, round: 1, choice: 0 });
  await next((m) => m.type === 'game_over');
  ws.close();
}

test('the leaderboard shows the signed-in player its own place', async () => {
  await playOneGame('Ranked', 'ranked-password');
  const page = await newPage(browser);
  await page.goto(server.url);
  await accountForm(page, 'Ranked', 'ranked-password', 'login-button');
  await signedInAs(page, 'Ranked');
  await page.getByTestId('leaderboard-button').click();
  // results are saved by a worker: refresh until the game is counted
  const mine = page.getByTestId('leaderboard-mine');
  for (let i = 0; i < 50 && !/Your place: 1 /.test(await mine.textContent()); i++) {
    await page.waitForTimeout(100);
    await page.getByTestId('leaderboard-refresh').click();
  }
  assert.match(await mine.textContent(), /^Your place: 1 of the ranked players, with \d+ points\.$/);
  await page.getByTestId('leaderboard-close').click();

  const guest = await newPage(browser);
  await signIn(guest, server.url, 'justvisiting');
  await guest.getByTestId('leaderboard-button').click();
  await guest.getByTestId('leaderboard-mine').getByText(/You are a guest/).waitFor();
  await page.context().close();
  await guest.context().close();
});

test('a guest reload resumes; when it cannot, the page says how long the name is held', async () => {
  const proxy = await startProxy(server.port);
  proxies.push(proxy);
  const page = await newPage(browser);
  await signIn(page, proxy.url, 'Hilda');
  await page.reload();
  await signedInAs(page, 'Hilda');

  // the network goes away (no close frame): the server keeps Hilda's name for rejoin_seconds
  proxy.setOffline(true);
  await page.locator('[data-testid="conn-status"][data-state="reconnecting"]').waitFor({ timeout: WAIT_MS });
  // a token the server does not know (as if it had been lost): resume cannot help
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem('parlor.session'));
    localStorage.setItem('parlor.session', JSON.stringify({ ...s, token: 'v1.-999.x.1.y' }));
  });
  proxy.setOffline(false);
  await page.reload();
  const problem = page.getByTestId('signin-problem');
  await problem.waitFor();
  assert.match(await problem.textContent(), /^This name is kept for \d+ more seconds/);
  const n = Number(/(\d+) more/.exec(await problem.textContent())[1]);
  assert.ok(n >= 1 && n <= 30, `held for ${n} s`);
  await page.context().close();
});
