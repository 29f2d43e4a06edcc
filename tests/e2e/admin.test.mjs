// Browser test of the operator's console (www-static/admin/, protocol/ADMIN.md) against the
// real server:
//   node --test tests/e2e/admin.test.mjs
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).
// The page loads uPlot from www-static/admin/vendor/, which scripts/copy-frontend-libs fills
// from node_modules (not in git): run it first.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { startServer, launchBrowser, newPage, REPO } from './harness.mjs';

const TOKEN = 'e2e-admin-token-7f3a9c';
const WAIT = 15_000; // the longest any step waits

let server;
let browser;

before(async () => {
  const vendor = path.resolve(REPO, process.env.PARLOR_WWW || 'www-static', 'admin/vendor/uPlot.iife.min.js');
  assert.ok(existsSync(vendor), `${vendor} is missing: run scripts/copy-frontend-libs`);
  server = await startServer(['--admin-token', TOKEN]);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    await server.stop(); // fails unless it exits 0 with no sanitizer report
  }
});

/** Rejects after `ms` with `what` unless `promise` settles first. */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A player on the players' protocol: connects to /ws, signs in as a guest and resolves once
 * the sign-in is confirmed. `closed` resolves with {code, reason} when the socket closes.
 */
async function guest(port, name) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'parlor.v1');
  const closed = new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }));
  });
  const signedIn = new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', id: 1, name })));
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      if (msg.re !== 1) return;
      if (msg.type === 'ok') resolve();
      else reject(new Error(`hello refused: ${JSON.stringify(msg)}`));
    });
    closed.then(({ code, reason }) => reject(new Error(`closed before sign-in: ${code} ${reason}`)));
  });
  await within(signedIn, WAIT, `${name} signs in`);
  return { ws, closed };
}

async function openConsole(page, token) {
  await page.goto(new URL('admin/', server.url).href);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT });
  await page.getByTestId('token-input').fill(token);
  await page.getByTestId('connect-button').click();
}

/** The connection count the console shows, as a number (NaN before the first figures). */
async function shownConnections(page) {
  return Number(await page.getByTestId('tile-connections').getAttribute('data-value'));
}

test('the console shows a player arrive and kicks them', async () => {
  const page = await newPage(browser);
  await openConsole(page, TOKEN);

  // the dashboard, live: connected, and at least two `stats` pushes seen (the first push
  // after sign-in already counts the console's own connection)
  await page.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: WAIT });
  await page.getByTestId('dashboard').waitFor({ state: 'visible', timeout: WAIT });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="dashboard"]').dataset.statsCount) >= 2,
    null, { timeout: WAIT });
  assert.equal(await page.getByTestId('signin-view').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('parlor.admin.token')), TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'the token must not reach localStorage');
  const before = await shownConnections(page);
  assert.ok(Number.isInteger(before) && before >= 1, `connections tile shows ${before}`);
  assert.match(await page.getByTestId('tile-version-value').textContent(), /^\d+\.\d+\.\d+/);
  // the lobby is listed, and cannot be closed
  const lobby = page.locator('[data-testid="room-row"][data-room-id="lobby"]');
  await lobby.waitFor({ timeout: WAIT });
  assert.equal(await lobby.getByTestId('room-close').isDisabled(), true);
  // a server alone has no nodes table
  assert.equal(await page.getByTestId('nodes-panel').isVisible(), false);

  // a player signs in: the count goes up within a few seconds, and they are listed
  const player = await guest(server.port, 'victim');
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="tile-connections"]').dataset.value) === n,
    before + 1, { timeout: WAIT });
  const row = page.locator('[data-testid="user-row"][data-name="victim"]');
  await row.waitFor({ timeout: WAIT });
  assert.equal(await row.getByTestId('user-name').textContent(), 'victim');

  // the search box filters the table through `users {q}`
  await page.getByTestId('users-search').fill('VICT');
  await page.waitForFunction(() => document.querySelector('[data-testid="users-count"]').textContent === '1 matching',
    null, { timeout: WAIT });
  await page.getByTestId('users-search').fill('nobody-like-this');
  await page.locator('[data-testid="users-empty"]').waitFor({ state: 'visible', timeout: WAIT });
  await page.getByTestId('users-search').fill('');
  await row.waitFor({ timeout: WAIT });

  // Kick asks first (Cancel does nothing), then kicks with a reason
  await row.getByTestId('user-kick').click();
  const dialog = page.getByTestId('dialog');
  await dialog.waitFor({ state: 'visible', timeout: WAIT });
  await page.getByTestId('dialog-cancel').click();
  await dialog.waitFor({ state: 'hidden', timeout: WAIT });
  assert.equal(player.ws.readyState, WebSocket.OPEN);

  await row.getByTestId('user-kick').click();
  await dialog.waitFor({ state: 'visible', timeout: WAIT });
  await page.getByTestId('dialog-input-reason').fill('spam');
  await page.getByTestId('dialog-confirm').click();

  const { code, reason } = await within(player.closed, WAIT, 'the kicked player\'s socket closes');
  assert.equal(code, 1008);
  assert.ok(reason.startsWith('kicked'), `close reason: ${JSON.stringify(reason)}`);

  const status = page.locator('[data-testid="action-status"][data-kind="ok"]');
  await status.waitFor({ timeout: WAIT });
  assert.match(await status.textContent(), /^Kick victim: ok/);
  await row.waitFor({ state: 'detached', timeout: WAIT });
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="tile-connections"]').dataset.value) === n,
    before, { timeout: WAIT });
  // the moderation action is in the log tail
  await page.getByTestId('log-list').getByTestId('log-line').filter({ hasText: 'victim' }).first().waitFor({ timeout: WAIT });

  // the charts drew (uPlot canvases)
  assert.equal(await page.getByTestId('charts-missing').isVisible(), false);
  assert.equal(await page.locator('[data-testid^="chart-"] canvas').count(), 3);
  // with the cursor off a chart its legend shows the newest values, not "Time: – connections: –"
  await page.waitForFunction(() => {
    const values = [...document.querySelectorAll('[data-testid="chart-connections"] .u-legend .u-value')];
    return values.length === 2 && values.every((v) => v.textContent.trim() !== '–' && v.textContent.trim() !== '');
  }, null, { timeout: WAIT });

  const shot = path.join(server.tmpdir, 'admin-console.png');
  await page.evaluate(() => window.scrollTo(0, 0)); // the sticky bars would sit mid-picture
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);

  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a wrong token is refused with a message', async () => {
  const page = await newPage(browser);
  await openConsole(page, 'not-the-token');
  const error = page.getByTestId('signin-error');
  await page.waitForFunction(() => document.querySelector('[data-testid="signin-error"]').textContent !== '',
    null, { timeout: WAIT });
  assert.match(await error.textContent(), /wrong admin token/i);
  assert.equal(await page.getByTestId('dashboard').isVisible(), false);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('parlor.admin.token')), null);
  await page.locator('[data-testid="conn-status"][data-state="error"]').waitFor({ timeout: WAIT });

  const shot = path.join(server.tmpdir, 'admin-wrong-token.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`screenshot: ${shot}`);
  assert.deepEqual(page.errors.filter((e) => !/WebSocket/.test(e)), []);
  await page.context().close();
});

test('without --admin-token the console says it is disabled', async () => {
  const plain = await startServer();
  try {
    const page = await newPage(browser);
    await page.goto(new URL('admin/', plain.url).href);
    await page.getByTestId('token-input').fill('anything');
    await page.getByTestId('connect-button').click();
    await page.waitForFunction(() => /disabled/.test(document.querySelector('[data-testid="signin-error"]').textContent),
      null, { timeout: WAIT });
    assert.match(await page.getByTestId('signin-error').textContent(), /disabled on this server \(403\)/);
    await page.context().close();
  } finally {
    await plain.stop();
  }
});

// last: it locks this address out of the console for a while
test('after repeated wrong tokens the console says so', async () => {
  const page = await newPage(browser);
  await page.goto(new URL('admin/', server.url).href);
  const error = page.getByTestId('signin-error');
  // the earlier test spent one wrong token; ADMIN.md refuses after three
  for (let i = 0; i < 4; i++) {
    await page.evaluate(() => { document.querySelector('[data-testid="signin-error"]').textContent = ''; });
    await page.getByTestId('token-input').fill(`wrong-${i}`);
    await page.getByTestId('connect-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="signin-error"]').textContent !== '',
      null, { timeout: WAIT });
    if (/too many attempts/i.test(await error.textContent())) break;
  }
  assert.match(await error.textContent(), /too many attempts/i);
  // the right token is refused too while the lockout lasts
  await page.evaluate(() => { document.querySelector('[data-testid="signin-error"]').textContent = ''; });
  await page.getByTestId('token-input').fill(TOKEN);
  await page.getByTestId('connect-button').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="signin-error"]').textContent !== '',
    null, { timeout: WAIT });
  assert.match(await error.textContent(), /too many attempts/i);
  assert.equal(await page.getByTestId('dashboard').isVisible(), false);
  await page.context().close();
});
