// Browser test of the players' page on a cluster (README "Running a cluster"): one Redis, three
// nodes sharing one SQLite file, HAProxy in front (scripts/haproxy-test, the README's config).
// In each test two Chromium pages open the page through HAProxy and land on different nodes.
// First they play one quiz game (PROTOCOL.md 4.10 "On a cluster"): one creates a quiz room,
// the other joins it from the room list, the host starts it, both see the same questions,
// answer (one right, one wrong each round, the right choice read from the question pack) and
// see the same reveals and the same final ranking. Then two others chat in the lobby and in a
// room one creates and the other joins from the room list, and whisper, all through the page,
// and the node of one of them drains (SIGTERM): the page shows the restart notice, reconnects
// through HAProxy by itself, resumes on another node with its name and rooms, and the chat
// goes on.
//   node --test tests/e2e/cluster.test.mjs
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage, signIn, message } from './harness.mjs';
import { startRedis, startNode, startHaproxy, health } from '../integration/lib/cluster.mjs';
import { stopAndCheck, sleep, REPO } from '../integration/lib/harness.mjs';

// Three ASan nodes, HAProxy and Chromium share two cores: waits are generous, never timed.
const WAIT = 30_000;
const BACK_WAIT = 90_000; // the drained page's way back: a few backoff rounds (0.5 s doubling)
const TRIES = 5;          // pages opened at most to get a second player on another node
const ROUNDS = 2;
const SECONDS = 8;        // both players answer at once, so a round ends well before this

// The question pack every node serves (the integration harness's --questions): the right
// choice of each question, by its text (every text in the pack is different).
const PACK = path.join(REPO, 'questions', 'parlor-core.jsonl');
const RIGHT = new Map(readFileSync(PACK, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  .map((q) => [q.text, q.correct]));

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

/**
 * Closes the pages and waits until no node of `live` counts a player any more, so that the
 * next test's openPlayer() sees only its own players come (a page closes its socket with a
 * close frame, which ends the session at once; a dropped one would be kept --rejoin-seconds).
 */
async function closePlayers(pages, live = nodes) {
  for (const page of pages) await page.context().close();
  for (let t = 0; ; t++) {
    const per = await usersPerNode(live);
    if (Object.values(per).every((n) => n === 0)) return;
    assert.ok(t < 800, `players still counted 40 s after their pages closed: ${JSON.stringify(per)}`);
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

/**
 * Two players on different nodes: `first` signs in, then players named `second`, `second`1,
 * ... until one lands on another node (HAProxy's leastconn makes the first one do so unless
 * connections of other pages still count), the extras closed. Resolves with openPlayer's
 * results, each with its `name`.
 */
async function twoPlayersOnTwoNodes(first, second) {
  const one = await openPlayer(first);
  let two;
  const extras = [];
  for (let t = 0; !two; t++) {
    assert.ok(t < TRIES, `${TRIES} pages all landed on ${first}'s node ${one.node.id}`);
    const p = await openPlayer(t === 0 ? second : `${second}${t}`);
    if (p.node !== one.node) two = p;
    else extras.push(p);
  }
  for (const p of extras) await p.page.context().close();
  one.name = await one.page.getByTestId('me').textContent();
  two.name = await two.page.getByTestId('me').textContent();
  console.log(`${one.name} on ${one.node.id}, ${two.name} on ${two.node.id} (${extras.length} extra page(s))`);
  return [one, two];
}

/** The quiz board of `page` once it shows `phase` (and `round`, if given). */
async function waitBoard(page, phase, round) {
  const board = page.locator(`[data-testid="quiz"][data-phase="${phase}"]${round ? `[data-round="${round}"]` : ''}`);
  await board.waitFor();
  return board;
}

const choice = (page, i) => page.locator(`[data-testid="quiz-choice"][data-index="${i}"]`);

/** The question of `round` as `page` shows it: { text, choices }. */
async function questionShown(page, round) {
  const board = await waitBoard(page, 'question', round);
  const text = await board.getByTestId('quiz-question').textContent();
  const choices = await board.locator('[data-testid="quiz-choice"] .choice-text').allTextContents();
  assert.equal(choices.length, 4, `round ${round}: ${JSON.stringify(choices)}`);
  return { text, choices };
}

/** Clicks choice `i`; the page marks it and disables every choice. */
async function answer(page, i) {
  await choice(page, i).click();
  await page.locator(`[data-testid="quiz-choice"][data-index="${i}"][data-chosen="true"]`).waitFor();
  for (let j = 0; j < 4; j++) assert.equal(await choice(page, j).isDisabled(), true, `choice ${j} after answering ${i}`);
}

/** The scores list of `page`'s board, top first: [{ name, score, delta }]. */
async function scoresShown(page) {
  const rows = [];
  for (const row of await page.getByTestId('quiz-player').all()) {
    rows.push({
      name: await row.getAttribute('data-name'),
      score: Number(await row.getByTestId('quiz-score').textContent()),
      delta: await row.getByTestId('quiz-delta').textContent(),
    });
  }
  return rows;
}

/** The final ranking of `page`'s board: [{ name, rank, score }]. */
async function rankingShown(page) {
  const board = await waitBoard(page, 'over');
  const rows = [];
  for (const row of await board.getByTestId('quiz-ranking-item').all()) {
    const pts = await row.getByTestId('quiz-ranking-score').textContent();
    assert.match(pts, /^\d+ pts$/);
    rows.push({ name: await row.getAttribute('data-name'), rank: Number(await row.getAttribute('data-rank')), score: parseInt(pts, 10) });
  }
  return rows;
}

/** The game events of room `room` a page received, in order. */
function gameEvents(frames, room) {
  return frames.filter((f) => f.dir === 'in' && f.msg.room === room
    && ['game_started', 'question', 'reveal', 'game_over', 'game'].includes(f.msg.type)).map((f) => f.msg);
}

// First, while all three nodes are up (the next test drains one).
test('two players on different nodes play one quiz game', async () => {
  const [ann, ben] = await twoPlayersOnTwoNodes('ann', 'ben');
  const a = ann.page;
  const b = ben.page;

  // ann creates a quiz room on her node
  await a.getByTestId('create-game-quiz').check();
  await a.getByTestId('create-name').fill('Cluster quiz');
  await a.getByTestId('create-rounds').fill(String(ROUNDS));
  await a.getByTestId('create-seconds').fill(String(SECONDS));
  await a.getByTestId('create-button').click();
  const created = a.locator('[data-testid="room-tab"][aria-selected="true"]:not([data-room-id="lobby"])');
  await created.waitFor();
  const roomId = await created.getAttribute('data-room-id');
  const idleA = await waitBoard(a, 'idle');
  await idleA.getByTestId('quiz-host').getByText(ann.name).waitFor();
  await idleA.getByTestId('quiz-start').waitFor();

  // ben finds it in his node's room list, a waiting quiz room hosted by ann, and joins it
  const item = b.locator(`[data-testid="room-list"] [data-testid="room-item"][data-room-id="${roomId}"]`);
  for (let t = 0; !(await item.count()); t++) {
    assert.ok(t < 100, `${roomId} never reached ${ben.name}'s room list`);
    await b.getByTestId('rooms-refresh').click();
    await sleep(300);
  }
  assert.equal(await item.getAttribute('data-game'), 'quiz');
  assert.equal(await item.getAttribute('data-state'), 'waiting');
  await item.getByTestId('room-host').filter({ hasText: ann.name }).waitFor();
  await item.getByTestId('room-join').click();
  await b.locator(`[data-testid="room-tab"][data-room-id="${roomId}"][aria-selected="true"]`).waitFor();
  const idleB = await waitBoard(b, 'idle');
  await idleB.getByTestId('quiz-host').getByText(ann.name).waitFor();
  assert.equal(await b.getByTestId('quiz-start').count(), 0, 'only the host has a Start button');
  await a.locator(`[data-testid="quiz-player"][data-name="${ben.name}"]`).waitFor();
  await b.locator(`[data-testid="quiz-player"][data-name="${ann.name}"]`).waitFor();

  // ann starts; each round both see the same question and answer, one right and one wrong
  // (ann right in round 1, ben in round 2), and both see the same reveal
  await a.getByTestId('quiz-start').click();
  const total = { [ann.name]: 0, [ben.name]: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    const qa = await questionShown(a, round);
    const qb = await questionShown(b, round);
    assert.deepEqual(qb, qa, `round ${round}: both pages show the same question`);
    const right = RIGHT.get(qa.text);
    assert.ok(right !== undefined, `round ${round}: "${qa.text}" is a question of the pack`);
    const wrong = (right + 1) % 4;
    const [winner, loser] = round % 2 ? [ann, ben] : [ben, ann];
    await answer(winner.page, right);
    await answer(loser.page, wrong);

    // both answered: the reveal comes at once, the same on both pages
    await waitBoard(a, 'reveal', round);
    await waitBoard(b, 'reveal', round);
    for (const [p, picked] of [[winner.page, right], [loser.page, wrong]]) {
      await p.locator(`[data-testid="quiz-choice"][data-index="${right}"][data-correct="true"]`).waitFor();
      assert.equal(await p.locator('[data-testid="quiz-choice"][data-correct="true"]').count(), 1);
      assert.equal(await choice(p, picked).getAttribute('data-chosen'), 'true');
      assert.equal(await choice(p, picked).getAttribute('data-wrong'), String(picked !== right));
      await p.locator(`[data-testid="quiz-feedback"].quiz-feedback--${picked === right ? 'good' : 'bad'}`).waitFor();
    }
    const sa = await scoresShown(a);
    const sb = await scoresShown(b);
    assert.deepEqual(sb, sa, `round ${round}: both pages show the same scores`);
    const by = Object.fromEntries(sa.map((s) => [s.name, s]));
    assert.deepEqual(Object.keys(by).sort(), [ann.name, ben.name]);
    assert.match(by[winner.name].delta, /^\+[1-9]\d*$/, `round ${round}: ${winner.name} answered right`);
    assert.equal(by[loser.name].delta, '+0', `round ${round}: ${loser.name} answered wrong`);
    for (const s of sa) {
      total[s.name] += Number(s.delta.slice(1));
      assert.equal(s.score, total[s.name], `round ${round}: ${s.name}'s score adds up its deltas`);
    }
  }

  // game over: both pages show the same ranking, the scores of the last reveal
  const ra = await rankingShown(a);
  const rb = await rankingShown(b);
  assert.deepEqual(rb, ra, 'both pages show the same final ranking');
  assert.deepEqual(ra.map((r) => r.name).sort(), [ann.name, ben.name]);
  for (const r of ra) assert.equal(r.score, total[r.name], `${r.name}'s final score`);
  assert.ok(ra[0].score >= ra[1].score, JSON.stringify(ra));
  assert.equal(ra[0].rank, 1);
  assert.equal(ra[1].rank, ra[0].score === ra[1].score ? 1 : 2, JSON.stringify(ra));
  await (await waitBoard(a, 'over')).getByTestId('quiz-start').waitFor(); // the host may play again
  assert.equal(await b.getByTestId('quiz-start').count(), 0);

  // underneath, the two nodes sent the same game events in the same order, none twice
  const ea = gameEvents(ann.frames, roomId);
  const eb = gameEvents(ben.frames, roomId);
  assert.deepEqual(ea.map((m) => m.type), ['game_started', ...Array(ROUNDS).fill(['question', 'reveal']).flat(), 'game_over']);
  assert.deepEqual(eb, ea);

  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await closePlayers([a, b]);
});

test('two players on different nodes chat, share a room, whisper, and one moves when its node drains', async () => {
  const [alice, bob] = await twoPlayersOnTwoNodes('alice', 'bob');
  const bobName = bob.name;
  const a = alice.page;
  const b = bob.page;

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
  await closePlayers([a, b], live);
});
