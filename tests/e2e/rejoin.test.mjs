// Browser test of rejoining after a dropped connection (PROTOCOL.md, `resume` with `seen`):
//   node --test tests/e2e/
// Page B talks to the server through a TCP proxy (harness startProxy) that the test can cut:
// both TCP connections are reset, so neither side gets a WebSocket close frame, as when a
// network goes away. The server keeps B's session for --rejoin-seconds; B's client resumes it.
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, startProxy, launchBrowser, newPage, signIn, message, REPO, WAIT_MS } from './harness.mjs';

const AWAY_MS = 1000;       // how long B stays offline
const QUIZ_SECONDS = 20;    // long enough for B to drop and come back within one question

let browser;
const servers = [];
const proxies = [];

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  for (const p of proxies) await p.close();
  for (const server of servers) {
    await server.stop(); // fails unless it exits 0 with no sanitizer report
  }
});

async function serverWithProxy(extraArgs = []) {
  // debug logging: the server logs "session N (name): dropped, kept for S s" when it keeps one
  const server = await startServer(['--log-level', 'debug',
    '--questions', path.join(REPO, 'questions', 'parlor-core.jsonl'), ...extraArgs]);
  servers.push(server);
  const proxy = await startProxy(server.port);
  proxies.push(proxy);
  return { server, proxy };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Page errors other than Chromium's own console report of the connections the test cut. */
function unexpectedErrors(page) {
  return page.errors.filter((e) => !/^console: WebSocket connection to '[^']+' failed:/.test(e));
}

/** Records the JSON frames of every WebSocket `page` opens: [{conn, dir: 'out'|'in', msg}]. */
function recordFrames(page) {
  const frames = [];
  let conns = 0;
  page.on('websocket', (ws) => {
    const conn = conns++;
    const add = (dir) => (f) => {
      try { frames.push({ conn, dir, msg: JSON.parse(f.payload) }); } catch { /* not JSON */ }
    };
    ws.on('framesent', add('out'));
    ws.on('framereceived', add('in'));
  });
  return frames;
}

/** The reply on connection `conn` to the request `req` (matched by id). */
function replyTo(frames, conn, req) {
  return frames.find((f) => f.conn === conn && f.dir === 'in' && (f.msg.type === 'ok' || f.msg.type === 'error')
    && f.msg.re === req.msg.id)?.msg;
}

function state(page) {
  return page.locator('[data-testid="conn-status"]').getAttribute('data-state');
}

async function waitState(page, s) {
  await page.locator(`[data-testid="conn-status"][data-state="${s}"]`).waitFor({ timeout: WAIT_MS });
}

/** Watches A's member list of the current room: window.__gone lists names that vanished. */
async function watchMembers(page, names) {
  await page.evaluate((watched) => {
    window.__gone = [];
    const list = document.querySelector('[data-testid="member-list"]');
    new MutationObserver(() => {
      for (const n of watched) {
        if (!list.querySelector(`[data-testid="member"][data-name="${n}"]`) && !window.__gone.includes(n)) window.__gone.push(n);
      }
    }).observe(list, { childList: true, subtree: true });
  }, names);
}

/**
 * Cuts B's connection, runs `whileAway`, restores the network after AWAY_MS and waits until B
 * is signed in again. Returns timings in ms.
 */
async function dropAndReturn(server, proxy, b, name, whileAway = async () => {}) {
  const keptLine = new RegExp(`session \\d+ \\(${name}\\): dropped, kept for \\d+ s`);
  const before = (server.stderr.match(new RegExp(keptLine, 'g')) || []).length;
  const t0 = Date.now();
  proxy.setOffline(true);
  await b.locator('[data-testid="conn-status"]:not([data-state="connected"])').waitFor({ timeout: WAIT_MS });
  const noticed = Date.now() - t0;
  // the server saw the drop without a close frame and keeps the session
  for (let i = 0; ; i++) {
    if ((server.stderr.match(new RegExp(keptLine, 'g')) || []).length > before) break;
    if (i > 100) assert.fail(`the server did not keep ${name}'s session:\n${server.stderr.slice(-2000)}`);
    await sleep(20);
  }
  await whileAway();
  const elapsed = Date.now() - t0;
  if (elapsed < AWAY_MS) await sleep(AWAY_MS - elapsed);
  proxy.setOffline(false);
  const t1 = Date.now();
  await waitState(b, 'connected');
  return { noticed, away: t1 - t0, back: Date.now() - t1, total: Date.now() - t0 };
}

/** The sign-in requests (hello/resume) B sent, with their connection and reply. */
function signIns(frames) {
  return frames.filter((f) => f.dir === 'out' && ['hello', 'resume', 'login', 'register'].includes(f.msg.type))
    .map((f) => ({ conn: f.conn, msg: f.msg, reply: replyTo(frames, f.conn, f) }));
}

test('a dropped guest comes back within the grace period: same rooms, missed chat once, nobody saw a leave', async () => {
  const { server, proxy } = await serverWithProxy();
  const a = await newPage(browser);
  const b = await newPage(browser);
  const framesB = recordFrames(b);

  await signIn(a, server.url, 'alice');
  await signIn(b, proxy.url, 'bob');
  await a.locator('[data-testid="member-list"] [data-testid="member"][data-name="bob"]').waitFor();
  await watchMembers(a, ['bob']);

  await a.getByTestId('message-input').fill('before the drop');
  await a.getByTestId('message-input').press('Enter');
  await message(b, 'alice', 'before the drop').waitFor();

  const hello = signIns(framesB);
  assert.equal(hello.length, 1);
  assert.equal(hello[0].msg.type, 'hello');
  assert.equal(typeof hello[0].reply.token, 'string', 'hello replies with a token');

  const timing = await dropAndReturn(server, proxy, b, 'bob', async () => {
    // A talks while B is away
    await a.getByTestId('message-input').fill('while you were away');
    await a.getByTestId('message-input').press('Enter');
    await message(a, 'alice', 'while you were away').waitFor();
  });

  // B resumed with the newest token and its last seq of the lobby, and was rejoined
  const after = signIns(framesB).slice(1);
  assert.ok(after.length >= 1, 'B signed in again');
  const last = after[after.length - 1];
  assert.equal(last.msg.type, 'resume', `B sent ${after.map((s) => s.msg.type).join(', ')}`);
  assert.equal(last.msg.token, hello[0].reply.token);
  assert.ok(Number.isInteger(last.msg.seen?.lobby) && last.msg.seen.lobby >= 1, `seen: ${JSON.stringify(last.msg.seen)}`);
  assert.equal(last.reply.type, 'ok', JSON.stringify(last.reply));
  assert.equal(last.reply.rejoined, true, JSON.stringify(last.reply));
  assert.ok(last.reply.rooms.some((r) => r.id === 'lobby'));
  assert.ok(!framesB.some((f) => f.conn === last.conn && f.dir === 'out' && f.msg.type === 'hello'), 'no hello after a rejoin');

  // A's message from while B was away shows exactly once, the earlier one too, and no gap
  await message(b, 'alice', 'while you were away').waitFor();
  await sleep(300); // a duplicate would arrive right behind
  assert.equal(await message(b, 'alice', 'while you were away').count(), 1);
  assert.equal(await message(b, 'alice', 'before the drop').count(), 1);
  assert.equal(await b.locator('[data-testid="message-list"] .divider').count(), 0, 'no history gap marked');
  const seqs = await b.locator('[data-testid="message-list"] [data-testid="message"]').evaluateAll((els) => els.map((e) => e.dataset.seq));
  assert.equal(new Set(seqs).size, seqs.length, `duplicate seqs: ${seqs}`);

  // B is still a member of the lobby, on both sides, and A never saw B leave
  await b.locator('[data-testid="room-tab"][data-room-id="lobby"][aria-selected="true"]').waitFor();
  await b.locator('[data-testid="member-list"] [data-testid="member"][data-name="alice"]').waitFor();
  await b.locator('[data-testid="member-list"] [data-testid="member"][data-name="bob"]').waitFor();
  assert.deepEqual(await a.evaluate(() => window.__gone), [], 'A\'s member list lost bob for a while');
  assert.equal(await a.getByTestId('notice').filter({ hasText: 'bob left' }).count(), 0);
  assert.equal(await a.getByTestId('notice').filter({ hasText: 'bob joined' }).count(), 1, 'only the first join');

  // and the connection works both ways
  await b.getByTestId('message-input').fill('back again');
  await b.getByTestId('message-input').press('Enter');
  await message(a, 'bob', 'back again').waitFor();
  await a.getByTestId('message-input').fill('welcome back');
  await a.getByTestId('message-input').press('Enter');
  await message(b, 'alice', 'welcome back').waitFor();
  assert.equal(await message(b, 'alice', 'welcome back').count(), 1);

  // A second drop: the resume carries the token the first resume returned (the newest one)
  const timing2 = await dropAndReturn(server, proxy, b, 'bob', async () => {
    await a.getByTestId('message-input').fill('away again');
    await a.getByTestId('message-input').press('Enter');
    await message(a, 'alice', 'away again').waitFor();
  });
  const second = signIns(framesB).at(-1);
  assert.equal(second.msg.type, 'resume');
  assert.equal(typeof last.reply.token, 'string');
  assert.equal(second.msg.token, last.reply.token, 'the second resume uses the newest token');
  assert.equal(second.reply.rejoined, true, JSON.stringify(second.reply));
  await message(b, 'alice', 'away again').waitFor();
  await sleep(300);
  assert.equal(await message(b, 'alice', 'away again').count(), 1);
  assert.equal(await message(b, 'alice', 'while you were away').count(), 1);
  assert.deepEqual(await a.evaluate(() => window.__gone), [], 'A\'s member list lost bob for a while');

  console.log(`chat rejoin: B noticed the drop after ${timing.noticed} ms, offline ${timing.away} ms, `
    + `connected again ${timing.back} ms after the network returned (${after.length} sign-in attempt(s)); `
    + `second drop: back ${timing2.back} ms after the network returned`);
  assert.deepEqual(a.errors, []);
  assert.deepEqual(unexpectedErrors(b), []);
  await a.context().close();
  await b.context().close();
});

test('a player who drops mid-question comes back to the same question and can answer', async () => {
  const { server, proxy } = await serverWithProxy();
  const a = await newPage(browser);
  const b = await newPage(browser);
  const framesB = recordFrames(b);
  await signIn(a, server.url, 'alice');
  await signIn(b, proxy.url, 'bob');

  await a.getByTestId('create-game-quiz').check();
  await a.getByTestId('create-name').fill('Rejoin quiz');
  await a.getByTestId('create-rounds').fill('1');
  await a.getByTestId('create-seconds').fill(String(QUIZ_SECONDS));
  await a.getByTestId('create-button').click();
  await a.locator('[data-testid="quiz"][data-phase="idle"]').waitFor();

  await b.getByTestId('rooms-refresh').click();
  await b.locator('[data-testid="room-item"][data-game="quiz"]').filter({ hasText: 'Rejoin quiz' }).getByTestId('room-join').click();
  await b.locator('[data-testid="quiz"][data-phase="idle"]').waitFor();
  await a.locator('[data-testid="quiz-player"][data-name="bob"]').waitFor();
  await watchMembers(a, ['bob']);

  await a.getByTestId('quiz-start').click();
  const qA = a.locator('[data-testid="quiz"][data-phase="question"][data-round="1"]');
  const qB = b.locator('[data-testid="quiz"][data-phase="question"][data-round="1"]');
  await qA.waitFor({ timeout: 15_000 });
  await qB.waitFor({ timeout: 15_000 });
  const question = await qA.getByTestId('quiz-question').textContent();
  assert.equal(await qB.getByTestId('quiz-question').textContent(), question);

  const timing = await dropAndReturn(server, proxy, b, 'bob', async () => {
    // A answers while B is away: the game waits for B, who is still a player
    await a.locator('[data-testid="quiz-choice"][data-index="0"]').click();
    await a.locator('[data-testid="quiz-choice"][data-index="0"][data-chosen="true"]').waitFor();
  });

  // B sees the same open question (from the `game` snapshot), still as a player, and answers
  await qB.waitFor();
  assert.equal(await qB.getByTestId('quiz-question').textContent(), question);
  assert.equal(await b.locator('[data-testid="quiz"]').getAttribute('data-watching'), 'false');
  assert.equal(await b.getByTestId('quiz-watching').count(), 0);
  assert.equal(await a.locator('[data-testid="quiz"]').getAttribute('data-phase'), 'question', 'the game waited for bob');
  const last = signIns(framesB).at(-1);
  assert.equal(last.msg.type, 'resume');
  assert.equal(last.reply.rejoined, true, JSON.stringify(last.reply));
  const game = framesB.find((f) => f.conn === last.conn && f.dir === 'in' && f.msg.type === 'game');
  assert.ok(game, 'a game snapshot followed the rejoin');
  assert.equal(game.msg.phase, 'question');
  assert.equal(game.msg.round, 1);

  const pick = b.locator('[data-testid="quiz-choice"][data-index="1"]');
  assert.equal(await pick.isDisabled(), false, 'B can answer');
  await pick.click();
  await b.locator('[data-testid="quiz-choice"][data-index="1"][data-chosen="true"]').waitFor();

  // every player answered: the reveal comes at once, and B's answer counted
  await a.locator('[data-testid="quiz"][data-phase="reveal"][data-round="1"]').waitFor({ timeout: 5000 });
  await b.locator('[data-testid="quiz"][data-phase="reveal"][data-round="1"]').waitFor({ timeout: 5000 });
  await b.locator('[data-testid="quiz-player"][data-name="bob"] [data-testid="quiz-delta"]').waitFor();
  await a.locator('[data-testid="quiz-player"][data-name="bob"] [data-testid="quiz-delta"]').waitFor();
  assert.equal(await b.locator('[data-testid="quiz-choice"][data-chosen="true"]').getAttribute('data-index'), '1');
  assert.deepEqual(await a.evaluate(() => window.__gone), [], 'A\'s member list lost bob for a while');
  assert.equal(await a.getByTestId('notice').filter({ hasText: 'bob left' }).count(), 0);

  console.log(`quiz rejoin: B noticed the drop after ${timing.noticed} ms, offline ${timing.away} ms, `
    + `connected again ${timing.back} ms after the network returned`);
  assert.deepEqual(a.errors, []);
  assert.deepEqual(unexpectedErrors(b), []);
  await a.context().close();
  await b.context().close();
});

test('while the server still counts the old connection, resume gets name_taken and retries until the rejoin', async () => {
  // the server notices a silent connection after --idle-timeout
  const { server, proxy } = await serverWithProxy(['--ping-interval', '1', '--idle-timeout', '3']);
  const a = await newPage(browser);
  const b = await newPage(browser);
  const framesB = recordFrames(b);
  await signIn(a, server.url, 'alice');
  await signIn(b, proxy.url, 'bob');
  await a.locator('[data-testid="member-list"] [data-testid="member"][data-name="bob"]').waitFor();
  await watchMembers(a, ['bob']);

  const t0 = Date.now();
  proxy.setOffline(true, { silent: true }); // B's side is cut; the server's side just goes quiet
  await b.locator('[data-testid="conn-status"]:not([data-state="connected"])').waitFor();
  await a.getByTestId('message-input').fill('are you there?');
  await a.getByTestId('message-input').press('Enter');
  await message(a, 'alice', 'are you there?').waitFor();
  await sleep(AWAY_MS);
  proxy.setOffline(false);
  await b.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: 20_000 });
  const back = Date.now() - t0;

  const again = signIns(framesB).slice(1);
  const taken = again.filter((s) => s.msg.type === 'resume' && s.reply?.code === 'name_taken');
  const last = again.at(-1);
  assert.ok(taken.length >= 1, `B's sign-ins: ${again.map((s) => `${s.msg.type}:${s.reply?.code ?? s.reply?.type}`).join(', ')}`);
  assert.equal(last.msg.type, 'resume');
  assert.equal(last.reply.rejoined, true, JSON.stringify(last.reply));
  assert.ok(!again.some((s) => s.msg.type === 'hello'), 'no hello: the session was kept');
  assert.match(server.stderr, /session \d+ \(bob\): dropped, kept for \d+ s/);

  await message(b, 'alice', 'are you there?').waitFor();
  await sleep(300);
  assert.equal(await message(b, 'alice', 'are you there?').count(), 1);
  assert.deepEqual(await a.evaluate(() => window.__gone), [], 'A\'s member list lost bob for a while');
  assert.equal(await a.getByTestId('notice').filter({ hasText: 'bob left' }).count(), 0);
  assert.equal(await b.getByTestId('toast-error').count(), 0, 'name_taken while resuming is not shown as an error');
  console.log(`silent drop: B signed in again after ${back} ms, ${taken.length} resume(s) refused with name_taken`);

  assert.deepEqual(a.errors, []);
  assert.deepEqual(unexpectedErrors(b), []);
  await a.context().close();
  await b.context().close();
});

test('without a kept session (rejoin off) the client signs in by name and joins its rooms again', async () => {
  const { server, proxy } = await serverWithProxy(['--rejoin-seconds', '0']);
  const a = await newPage(browser);
  const b = await newPage(browser);
  const framesB = recordFrames(b);
  await signIn(a, server.url, 'alice');
  await signIn(b, proxy.url, 'bob');
  await a.locator('[data-testid="member-list"] [data-testid="member"][data-name="bob"]').waitFor();

  proxy.setOffline(true);
  await b.locator('[data-testid="conn-status"]:not([data-state="connected"])').waitFor();
  await a.getByTestId('notice').filter({ hasText: 'bob left' }).waitFor(); // no grace: left at once
  await a.getByTestId('message-input').fill('you missed this');
  await a.getByTestId('message-input').press('Enter');
  await message(a, 'alice', 'you missed this').waitFor();
  await sleep(AWAY_MS);
  proxy.setOffline(false);
  await waitState(b, 'connected');

  await a.getByTestId('notice').filter({ hasText: 'bob joined' }).nth(1).waitFor();
  await message(b, 'alice', 'you missed this').waitFor();
  assert.equal(await message(b, 'alice', 'you missed this').count(), 1);
  await b.locator('[data-testid="member-list"] [data-testid="member"][data-name="alice"]').waitFor();

  // resume was refused (the guest session is gone), then hello with the same name
  const again = signIns(framesB).slice(1);
  const resume = again.find((s) => s.msg.type === 'resume');
  assert.ok(resume, `B sent ${again.map((s) => s.msg.type).join(', ')}`);
  assert.equal(resume.reply.type, 'error');
  assert.equal(resume.reply.code, 'unauthorized');
  const hello = again.find((s) => s.conn === resume.conn && s.msg.type === 'hello');
  assert.ok(hello, 'hello on the same connection after unauthorized');
  assert.equal(hello.msg.name, 'bob');
  assert.equal(hello.reply.type, 'ok');

  assert.deepEqual(a.errors, []);
  assert.deepEqual(unexpectedErrors(b), []);
  await a.context().close();
  await b.context().close();
});

test('signing out closes cleanly: the others see the leave at once and the token is forgotten', async () => {
  const { server, proxy } = await serverWithProxy();
  const a = await newPage(browser);
  const b = await newPage(browser);
  const framesB = recordFrames(b);
  await signIn(a, server.url, 'alice');
  await signIn(b, proxy.url, 'bob');
  await a.locator('[data-testid="member-list"] [data-testid="member"][data-name="bob"]').waitFor();

  const t0 = Date.now();
  await b.getByTestId('signout-button').click();
  await a.getByTestId('notice').filter({ hasText: 'bob left' }).waitFor({ timeout: 5000 });
  const left = Date.now() - t0;
  assert.ok(left < 5000, `left after ${left} ms`);
  assert.doesNotMatch(server.stderr, /\(bob\): dropped, kept/);
  assert.equal(await state(b), 'offline');

  // signing in again is a new session: hello, not resume
  await b.getByTestId('signin-button').click();
  await waitState(b, 'connected');
  const all = signIns(framesB);
  assert.deepEqual(all.map((s) => s.msg.type), ['hello', 'hello']);
  await a.getByTestId('notice').filter({ hasText: 'bob joined' }).nth(1).waitFor();
  console.log(`sign-out: A saw bob leave ${left} ms after the click`);

  assert.deepEqual(a.errors, []);
  assert.deepEqual(unexpectedErrors(b), []);
  await a.context().close();
  await b.context().close();
});
