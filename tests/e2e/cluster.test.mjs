// Browser test of the players' page on a cluster (README "Running a cluster"): one Redis, three
// nodes sharing one SQLite file, HAProxy in front (scripts/haproxy-test, the README's config).
// Two Chromium pages open the page through HAProxy and land on different nodes; they chat in
// the lobby and in a room one creates and the other joins from the room list, and whisper,
// all through the page. Then the node of one of them drains (SIGTERM): the page shows the
// restart notice, reconnects through HAProxy by itself, resumes on another node with its name
// and rooms, and the chat goes on. A quiz game across nodes is not played here: a quiz room
// and its game stay on the node that made them.
//   node --test tests/e2e/cluster.test.mjs
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage, signIn, message } from './harness.mjs';
import { startRedis, startNode, startHaproxy, health } from '../integration/lib/cluster.mjs';
import { stopAndCheck, sleep } from '../integration/lib/harness.mjs';

// Three ASan nodes, HAProxy and Chromium share two cores: waits are generous, never timed.
const WAIT = 30_000;
const BACK_WAIT = 90_000; // the drained page's way back: a few backoff rounds (0.5 s doubling)
const TRIES = 5;          // pages opened at most to get a second player on another node

let redis;
let dir;
const nodes = [];
let proxy;
let browser;

before(async () => {
  redis = await startRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-e2e-3nodes-'));
  const db = path.join(dir, 'parlor.db');
  // one after the other: the first creates the database's schema
  for (const id of ['n1', 'n2', 'n3']) nodes.push(await startNode(redis, id, [], { db }));
  proxy = await startHaproxy(nodes.map((n) => `127.0.0.1:${n.port}`));
  for (const name of ['node1', 'node2', 'node3']) await proxy.waitStatus(name, 'UP');
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await proxy?.stop();
  for (const n of nodes) await stopAndCheck(n); // a drained node's second stop is its first's
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Signed-in players per node, as each node's /healthz counts them: { n1: 1, n2: 0, n3: 0 }. */
async function usersPerNode(live = nodes) {
  const per = {};
  for (const n of live) per[n.id] = (await health(n.httpUrl)).users;
  return per;
}

/** Opens a page through HAProxy, signs in as `name`; resolves with { page, node } once a node counts it. */
async function openPlayer(name) {
  const before = await usersPerNode();
  const page = await newPage(browser);
  page.setDefaultTimeout(WAIT);
  const frames = recordFrames(page);
  await signIn(page, `${proxy.httpUrl}/`, name);
  for (let t = 0; ; t++) {
    const now = await usersPerNode();
    const grew = nodes.filter((n) => now[n.id] > before[n.id]);
    if (grew.length === 1) return { page, frames, node: grew[0] };
    assert.ok(t < 600, `no node counted ${name}: ${JSON.stringify({ before, now })}`);
    await sleep(50);
  }
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

/** The sign-in requests (hello/resume) a page sent, each with its reply. */
function signIns(frames) {
  return frames.filter((f) => f.dir === 'out' && ['hello', 'resume'].includes(f.msg.type))
    .map((f) => ({
      msg: f.msg,
      reply: frames.find((r) => r.conn === f.conn && r.dir === 'in' && ['ok', 'error'].includes(r.msg.type)
        && r.msg.re === f.msg.id)?.msg,
    }));
}

/** Page errors other than Chromium's own report of a connection the drain refused or cut. */
function unexpectedErrors(page) {
  return page.errors.filter((e) => !/^console: WebSocket connection to '[^']+' failed:/.test(e));
}

async function say(page, text) {
  await page.getByTestId('message-input').fill(text);
  await page.getByTestId('message-input').press('Enter');
}

const tab = (page, id) => page.locator(`[data-testid="room-tab"][data-room-id="${id}"]`);

async function openTab(page, id) {
  await tab(page, id).click();
  await page.locator(`[data-testid="room-tab"][data-room-id="${id}"][aria-selected="true"]`).waitFor();
}

/** The whispers pane of `page` shows `text` (from or to `peer`). */
async function seeWhisper(page, text) {
  await page.getByTestId('whispers-tab').click();
  await page.getByTestId('whisper').filter({ has: page.getByTestId('whisper-text').getByText(text, { exact: true }) })
    .waitFor();
}

test('two players on different nodes chat, share a room, whisper, and one moves when its node drains', async () => {
  // alice first; then players until one lands on another node (HAProxy's leastconn makes the
  // first one do so unless connections of other pages still count), the extras closed
  const alice = await openPlayer('alice');
  let bob;
  const extras = [];
  for (let t = 0; !bob; t++) {
    assert.ok(t < TRIES, `${TRIES} pages all landed on alice's node ${alice.node.id}`);
    const p = await openPlayer(t === 0 ? 'bob' : `bob${t}`);
    if (p.node !== alice.node) bob = p;
    else extras.push(p);
  }
  for (const p of extras) await p.page.context().close();
  const bobName = await bob.page.getByTestId('me').textContent();
  const a = alice.page;
  const b = bob.page;
  console.log(`alice on ${alice.node.id}, ${bobName} on ${bob.node.id} (${extras.length} extra page(s))`);

  // the lobby: presence and chat cross the nodes
  await a.locator(`[data-testid="member-list"] [data-testid="member"][data-name="${bobName}"]`).waitFor();
  await say(a, 'hello from alice');
  await message(b, 'alice', 'hello from alice').waitFor();
  await say(b, 'hi alice');
  await message(a, bobName, 'hi alice').waitFor();

  // alice creates a chat room on her node; bob finds it in his node's room list and joins it
  await a.getByTestId('create-name').fill('Cluster table');
  await a.getByTestId('create-button').click();
  const created = a.locator('[data-testid="room-tab"][aria-selected="true"]:not([data-room-id="lobby"])');
  await created.waitFor();
  const roomId = await created.getAttribute('data-room-id');
  const item = b.locator(`[data-testid="room-list"] [data-testid="room-item"][data-room-id="${roomId}"]`);
  for (let t = 0; !(await item.count()); t++) {
    assert.ok(t < 100, `${roomId} never reached ${bobName}'s room list`);
    await b.getByTestId('rooms-refresh').click();
    await sleep(300);
  }
  await item.getByTestId('room-join').click();
  await b.locator(`[data-testid="room-tab"][data-room-id="${roomId}"][aria-selected="true"]`).waitFor();
  await a.locator(`[data-testid="member-list"] [data-testid="member"][data-name="${bobName}"]`).waitFor();
  await say(a, 'welcome to my table');
  await message(b, 'alice', 'welcome to my table').waitFor();
  await say(b, 'nice table');
  await message(a, bobName, 'nice table').waitFor();

  // whispers across the nodes, typed as /w NAME TEXT
  await say(a, `/w ${bobName} psst, ${bobName}`);
  await seeWhisper(b, `psst, ${bobName}`);
  await say(b, '/w alice psst back');
  await seeWhisper(a, 'psst back');
  await openTab(a, roomId);
  await openTab(b, roomId);

  // bob's node drains: record the notices bob's page shows on the way
  await b.evaluate(() => {
    window.__notices = [];
    const seen = () => {
      const n = document.querySelector('[data-testid="ops-notice"]');
      const text = n && !n.hidden ? n.textContent : '';
      if (text && window.__notices.at(-1) !== text) window.__notices.push(text);
    };
    new MutationObserver(seen).observe(document.body, { childList: true, subtree: true, attributes: true, characterData: true });
  });
  const signInsBefore = signIns(bob.frames).length;
  const drained = bob.node;
  await stopAndCheck(drained); // SIGTERM; no game runs, so the drain ends at once (exit 0)
  await say(a, 'while you moved');
  await message(a, 'alice', 'while you moved').waitFor();

  // bob's page comes back by itself through HAProxy, on one of the other nodes
  await b.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: BACK_WAIT });
  const notices = await b.evaluate(() => window.__notices);
  assert.ok(notices.some((t) => /restart/i.test(t)), `the page showed the restart notice: ${JSON.stringify(notices)}`);
  await b.getByTestId('ops-notice').waitFor({ state: 'hidden' });
  const again = signIns(bob.frames).slice(signInsBefore);
  const last = again.at(-1);
  assert.ok(last, 'bob signed in again');
  assert.equal(last.msg.type, 'resume', `bob sent ${again.map((s) => s.msg.type).join(', ')}`);
  assert.equal(last.reply?.type, 'ok', JSON.stringify(last.reply));
  assert.equal(last.reply.rejoined, true, JSON.stringify(last.reply));
  assert.equal(last.reply.name, bobName);
  assert.ok(!again.some((s) => s.msg.type === 'hello'), 'no hello: the session moved');
  const live = nodes.filter((n) => n !== drained);
  const per = await usersPerNode(live);
  assert.ok(live.some((n) => per[n.id] > 0), JSON.stringify(per));

  // same name, same room tabs, and the chat goes on both ways
  assert.equal(await b.getByTestId('me').textContent(), bobName);
  await tab(b, 'lobby').waitFor();
  await tab(b, roomId).waitFor();
  await openTab(b, roomId);
  await message(b, 'alice', 'while you moved').waitFor();
  await sleep(300); // a duplicate would arrive right behind
  assert.equal(await message(b, 'alice', 'while you moved').count(), 1);
  assert.equal(await message(b, 'alice', 'welcome to my table').count(), 1);
  await say(a, 'still here?');
  await message(b, 'alice', 'still here?').waitFor();
  await say(b, 'moved and still here');
  await message(a, bobName, 'moved and still here').waitFor();
  await openTab(b, 'lobby');
  await openTab(a, 'lobby');
  await say(b, 'lobby from the new node');
  await message(a, bobName, 'lobby from the new node').waitFor();
  await say(a, `/w ${bobName} found you`);
  await seeWhisper(b, 'found you');

  assert.deepEqual(a.errors, []);
  assert.deepEqual(unexpectedErrors(b), []);
  await a.context().close();
  await b.context().close();
});
