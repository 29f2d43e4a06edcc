// Browser test: what operators do reaches the player's page (issue 16). The operator's side is
// the console protocol (protocol/ADMIN.md, parlor-admin.v1 at /admin/ws) or the console page
// itself; the player's side is www-static/ in Chromium.
//   node --test tests/e2e/moderation.test.mjs
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync } from 'node:fs';
import WebSocket from 'ws';
import { startServer, launchBrowser, newPage, signIn, message, REPO } from './harness.mjs';

const TOKEN = 'e2e-moderation-token';

let server;
let browser;

before(async () => {
  server = await startServer(['--admin-token', TOKEN]);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** A socket on `path` with `protocol`: request() sends with an id and resolves with the reply. */
async function socket(port, pathname, protocol) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${pathname}`, protocol);
  const inbox = [];
  const waiters = [];
  let nextId = 1;
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    inbox.push(msg);
    for (const w of [...waiters]) {
      if (w.pred(msg)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg);
      }
    }
  });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const waitFor = (pred) => {
    const seen = inbox.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  return {
    ws,
    waitFor,
    async request(type, fields = {}) {
      const id = nextId++;
      ws.send(JSON.stringify({ type, id, ...fields }));
      return waitFor((m) => (m.type === 'ok' || m.type === 'error') && m.re === id);
    },
    async ok(type, fields = {}) {
      const r = await this.request(type, fields);
      assert.equal(r.type, 'ok', `${type}: ${JSON.stringify(r)}`);
      return r;
    },
    close() { ws.close(); },
  };
}

async function admin(srv = server) {
  const c = await socket(srv.port, '/admin/ws', 'parlor-admin.v1');
  await c.ok('auth', { token: TOKEN });
  return c;
}

/** The page's socket stays closed for `ms`: no automatic reconnect. */
async function staysOffline(page, ms) {
  await page.waitForTimeout(ms);
  assert.notEqual(await page.getByTestId('conn-status').getAttribute('data-state'), 'connected');
  assert.notEqual(await page.getByTestId('conn-status').getAttribute('data-state'), 'reconnecting');
}

test('an announcement is a banner in every open room, kept in the room log', async () => {
  const c = await admin();
  const p = await newPage(browser);
  await signIn(p, server.url, 'hearer');
  await p.getByTestId('create-name').fill('Side room');
  await p.getByTestId('create-button').click();
  await p.locator('[data-testid="room-title"]', { hasText: 'Side room' }).waitFor();

  const r = await c.ok('announce', { text: 'Maintenance at 22:00' });
  assert.ok(r.recipients >= 1);
  await p.getByTestId('message-list').getByTestId('announce').filter({ hasText: 'Maintenance at 22:00' }).waitFor();
  await p.locator('[data-testid="room-tab"][data-room-id="lobby"]').click();
  const inLobby = p.getByTestId('message-list').getByTestId('announce');
  await inLobby.filter({ hasText: 'Maintenance at 22:00' }).waitFor();
  assert.match(await inLobby.textContent(), /Announcement/);
  assert.deepEqual(p.errors, []);
  await p.context().close();
  c.close();
});

test('a kick is not retried: the page says why and offers to come back', async () => {
  const c = await admin();
  const p = await newPage(browser);
  await signIn(p, server.url, 'kickme');
  await c.ok('kick', { name: 'kickme', reason: 'spamming links' });
  const notice = p.getByTestId('ops-notice');
  await notice.getByText('A moderator removed you from the chat.').waitFor();
  await notice.getByText('Reason: spamming links').waitFor();
  await staysOffline(p, 1500);
  const users = await c.ok('users', { q: 'kickme' });
  assert.deepEqual(users.users, [], 'the page did not come back by itself');

  await notice.getByTestId('ops-come-back').click();
  await p.locator('[data-testid="conn-status"][data-state="connected"]').waitFor();
  assert.ok(await notice.isHidden());
  await p.locator('[data-testid="room-tab"][data-room-id="lobby"]').waitFor();
  assert.deepEqual(p.errors, []);
  await p.context().close();
  c.close();
});

test('a ban says until when and why, never reconnects, and the sign-in form says it too', async () => {
  const c = await admin();
  const p = await newPage(browser);
  await signIn(p, server.url, 'banme');
  const b = await c.ok('ban', { kind: 'name', target: 'banme', minutes: 90, reason: 'hate speech' });
  const until = new Date(b.until);
  const hhmm = `${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`;
  const notice = p.getByTestId('ops-notice');
  await notice.getByText('You are banned from this server until', { exact: false }).waitFor();
  assert.match(await notice.getByTestId('ops-text').textContent(), new RegExp(hhmm));
  await notice.getByText('Reason: hate speech').waitFor();
  await staysOffline(p, 1500);
  assert.equal(await notice.getByTestId('ops-come-back').count(), 0, 'no way back before the ban ends');

  // a fresh page: the sign-in form explains the refusal
  const q = await newPage(browser);
  await q.goto(server.url);
  await q.getByTestId('name-input').fill('BanMe');
  await q.getByTestId('signin-button').click();
  const text = q.getByTestId('banned-text');
  await text.waitFor();
  assert.match(await text.textContent(), new RegExp(`This name is banned until .*${hhmm}.*Reason: hate speech`));
  assert.doesNotMatch(await q.locator('#signin-error').textContent(), /not_allowed|Z\b/);
  await c.ok('unban', { kind: 'name', target: 'banme' });
  assert.deepEqual([...p.errors, ...q.errors], []);
  await p.context().close();
  await q.context().close();
  c.close();
});

test('a mute closes the composer at once with its end in local time, and keeps the draft', async () => {
  const c = await admin();
  const p = await newPage(browser);
  await signIn(p, server.url, 'hushed');
  await p.getByTestId('message-input').fill('half-typed thought');
  const m = await c.ok('mute', { name: 'hushed', minutes: 30, reason: 'flooding' });
  const note = p.getByTestId('mute-note');
  await note.waitFor();
  const until = new Date(m.until);
  const hhmm = `${String(until.getHours()).padStart(2, '0')}:${String(until.getMinutes()).padStart(2, '0')}`;
  assert.match(await note.textContent(), new RegExp(`muted you until ${hhmm}.*Reason: flooding`));
  assert.ok(await p.getByTestId('message-input').isDisabled());
  assert.ok(await p.getByTestId('send-button').isDisabled());
  assert.equal(await p.getByTestId('message-input').inputValue(), 'half-typed thought');

  await c.ok('unban', { kind: 'mute', target: 'hushed' });
  await p.getByTestId('mute-note').waitFor({ state: 'hidden' });
  assert.ok(await p.getByTestId('message-input').isEnabled());
  assert.equal(await p.getByTestId('message-input').inputValue(), 'half-typed thought');
  await p.getByTestId('message-input').press('Enter');
  await message(p, 'hushed', 'half-typed thought').waitFor();
  assert.deepEqual(p.errors, []);
  await p.context().close();
  c.close();
});

test('closing a room takes its members out at once, saying so', async () => {
  const c = await admin();
  const p = await newPage(browser);
  await signIn(p, server.url, 'roomer');
  await p.getByTestId('create-name').fill('Doomed den');
  await p.getByTestId('create-button').click();
  const tab = p.locator('[data-testid="room-tab"]', { hasText: 'Doomed den' });
  await tab.waitFor();
  const id = await tab.getAttribute('data-room-id');
  await c.ok('close_room', { room: id });
  await tab.waitFor({ state: 'detached' });
  await p.getByTestId('toast-error').getByText('The room “Doomed den” was closed by a moderator.').waitFor();
  assert.equal(await p.locator('[data-testid="room-tab"][aria-selected="true"]').getAttribute('data-room-id'), 'lobby');
  assert.deepEqual(p.errors, []);
  await p.context().close();
  c.close();
});

test('a message deleted from the console leaves every page at once', async () => {
  const vendor = path.resolve(REPO, process.env.PARLOR_WWW || 'www-static', 'admin/vendor/uPlot.iife.min.js');
  assert.ok(existsSync(vendor), `${vendor} is missing: run scripts/copy-frontend-libs`);
  const a = await newPage(browser);
  const b = await newPage(browser);
  await signIn(a, server.url, 'writer');
  await signIn(b, server.url, 'reader');
  await a.getByTestId('message-input').fill('a link to something nasty');
  await a.getByTestId('message-input').press('Enter');
  await message(b, 'writer', 'a link to something nasty').waitFor();

  // the operator finds it in the console's room chat view and deletes it
  const op = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  await op.goto(`${server.url}admin/`);
  await op.getByTestId('token-input').fill(TOKEN);
  await op.getByTestId('connect-button').click();
  await op.getByTestId('room-chat-room').fill('lobby');
  await op.getByTestId('room-chat-q').fill('nasty');
  await op.getByTestId('room-chat-load').click();
  const row = op.getByTestId('room-chat-message').filter({ hasText: 'a link to something nasty' });
  await row.waitFor();
  await row.getByTestId('room-chat-delete').click();
  await op.getByTestId('dialog-confirm').click();
  await row.waitFor({ state: 'detached' });

  for (const p of [a, b]) {
    await message(p, 'writer', 'a link to something nasty').waitFor({ state: 'detached' });
    await p.getByTestId('message-deleted').waitFor();
  }
  assert.deepEqual([...a.errors, ...b.errors], []);
  for (const p of [a, b, op]) await p.context().close();
});

test('a rate-limit close is not retried', async () => {
  const s = await startServer(['--rate-per-sec', '2', '--rate-burst', '30', '--rate-close-after', '1']);
  try {
    const p = await newPage(browser);
    // keep the page's socket reachable to flood it as a misbehaving script would
    await p.addInitScript(() => {
      const Native = window.WebSocket;
      window.__sockets = [];
      window.WebSocket = class extends Native {
        constructor(...args) { super(...args); window.__sockets.push(this); }
      };
    });
    await signIn(p, s.url, 'flooder');
    await p.evaluate(() => new Promise((resolve) => {
      const ws = window.__sockets.at(-1);
      const t = setInterval(() => {
        if (ws.readyState !== 1) { clearInterval(t); resolve(); return; }
        ws.send('{"type":"ping"}');
      }, 50);
    }));
    await p.getByTestId('ops-notice').getByText('You were disconnected for sending too many messages too fast.').waitFor();
    await staysOffline(p, 1500);
    assert.equal(await p.evaluate(() => window.__sockets.length), 1, 'no second socket');
    await p.context().close();
  } finally {
    await s.stop();
  }
});

test('shutdown: a countdown while games finish, no "Play again", then a restart and a reconnect', async () => {
  const questions = path.join(REPO, 'questions', 'parlor-core.jsonl');
  const args = ['--admin-token', TOKEN, '--questions', questions, '--quiz-reveal-ms', '200'];
  const s = await startServer(args);
  let s2;
  try {
    const p = await newPage(browser);
    await signIn(p, s.url, 'stayer');
    await p.getByTestId('create-game-quiz').check();
    await p.getByTestId('create-name').fill('My quiz');
    await p.getByTestId('create-button').click();
    await p.getByTestId('quiz-start').waitFor();

    // another room plays a game, so the drain waits for it
    const g = await socket(s.port, '/ws', 'parlor.v1');
    await g.ok('hello', { name: 'gamer' });
    const { room } = await g.ok('create', { name: 'Long game', game: 'quiz', rounds: 1, seconds: 60 });
    await g.ok('start', { room: room.id });
    await g.waitFor((m) => m.type === 'question');

    const c = await admin(s);
    await c.ok('drain', { seconds: 120 });
    const notice = p.getByTestId('ops-notice');
    await notice.getByText(/The server will restart in \d+ s/).waitFor();
    assert.equal(await p.getByTestId('quiz-start').count(), 0, 'no new game during a drain');

    // the game ends, the server closes cleanly and exits
    g.ws.send(JSON.stringify({ type: 'answer', id: 99, room: room.id, round: 1, choice: 0 }));
    await notice.getByText('The server is restarting. You will be reconnected when it is back.').waitFor();
    await s.stop(); // exits 0 with no sanitizer report, or the test fails
    await p.getByTestId('conn-status').getByText(/server restarting, trying again in \d+ s/).waitFor();
    assert.doesNotMatch(await p.getByTestId('conn-status').textContent(), /1006|connection lost/);

    s2 = await startServer(args, { port: s.port }); // the restart: same address, fresh database
    await p.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: 20_000 });
    await notice.waitFor({ state: 'hidden' });
    // a reconnect attempt that finds the server still down is logged by Chromium itself,
    // whatever the page does: how many there are depends on how fast the restart is
    const refused = /WebSocket connection to .* failed: .*ERR_CONNECTION_REFUSED/;
    assert.deepEqual(p.errors.filter((e) => !refused.test(e)), []);
    await p.context().close();
  } finally {
    await s.stop();
    if (s2) await s2.stop();
  }
});

