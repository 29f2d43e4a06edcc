// The quiz on a cluster (PROTOCOL.md 4.10, "On a cluster"): three nodes, clients connected
// straight to chosen nodes. One game across nodes (the same events in the same order
// everywhere, answers from any node count, the host is the creator everywhere); a member leaving
// on one node is seen leaving on the others; the owner killed (SIGKILL), frozen (SIGSTOP, then
// SIGCONT) or drained (SIGTERM) mid-game: another node goes on from the same round, scores and
// deadlines within --game-lease-ms + 1 s, no question or reveal is sent twice, and a drained
// node's players resume on other nodes in their seats.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, stopAndCheck, fresh, uniqueName, sleep } from '../lib/harness.mjs';
import { startCluster, startNode } from '../lib/cluster.mjs';

const LEASE = 1000;
const REVEAL = 300;
const REJOIN = 3;
const FLAGS = ['--game-lease-ms', LEASE, '--quiz-reveal-ms', REVEAL, '--rejoin-seconds', REJOIN];
const GAME = new Set(['game_started', 'question', 'reveal', 'game_over']);

// The pack the nodes import (startServer's --questions): a question's right choice, by its text
// (the server does not shuffle choices), so a test can answer right or wrong on purpose.
const CORRECT = new Map(readFileSync(path.join(REPO, 'questions/parlor-core.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
  .map((q) => [q.text, q.correct]));

let redis;
let db;
const nodes = {}; // id -> node, the ones not killed or drained yet
let spare = 4; // the next node's number

/** `n` live nodes, the oldest first, starting new ones when tests killed or drained some. */
async function live(n) {
  while (Object.keys(nodes).length < n) {
    const id = `n${spare++}`;
    nodes[id] = await startNode(redis, id, FLAGS, { db });
  }
  return Object.values(nodes).slice(0, n);
}

before(async () => {
  let list;
  ({ redis, db, nodes: list } = await startCluster(['n1', 'n2', 'n3'], FLAGS));
  for (const n of list) nodes[n.id] = n;
});

after(async () => {
  for (const n of Object.values(nodes)) {
    try { process.kill(n.proc.pid, 'SIGCONT'); } catch { /* gone */ }
  }
  for (const n of Object.values(nodes)) await stopAndCheck(n);
});

/** A guest signed in on `node`: { c, name, token, node }. */
async function player(node, prefix) {
  const name = uniqueName(prefix);
  const c = await fresh(node.url, { label: `${name}@${node.id}` });
  const hello = await c.ok('hello', { name });
  return { c, name, token: hello.token, node };
}

/** Joins `room` as soon as `p`'s node has heard of it; the join's ok. */
async function joinWhenKnown(p, room, pauseMs = 20) {
  for (let t = 0; ; t++) {
    const r = await p.c.request('join', { room });
    if (r.type === 'ok') return r;
    assert.equal(r.code, 'no_such_room', `${p.c.label}: join ${room} → ${JSON.stringify(r)}`);
    assert.ok(t < 5000 / pauseMs, `${p.c.label}: ${room} never known on ${p.node.id}`);
    await sleep(pauseMs);
  }
}

/** A quiz room made by `host` and joined by `others`, in that order; everyone sees everyone. */
async function table(host, others, { rounds, seconds }) {
  const made = await host.c.ok('create', { name: 'Cluster quiz', game: 'quiz', rounds, seconds });
  const room = made.room.id;
  assert.equal(made.room.host, host.name);
  for (const p of others) {
    const j = await joinWhenKnown(p, room);
    assert.equal(j.room.host, host.name, `${p.c.label}: the creator is the host (join reply)`);
  }
  // the game's players are the members its owner knows at the start: wait until it knows all
  for (const p of others) {
    await host.c.waitFor((m) => m.type === 'joined' && m.room === room && m.name === p.name,
      { what: `joined ${p.name} on ${host.node.id}`, timeout: 5000 });
  }
  return room;
}

/** `c`'s game events in `room`, in the order received. */
function gameLog(c, room) {
  return c.log.filter((m) => m.room === room && GAME.has(m.type));
}

/** The game events and `game` snapshots `c` received in `room` (its first `upTo` messages). */
function followed(c, room, upTo = c.log.length) {
  return c.log.slice(0, upTo).filter((m) => m.room === room && (GAME.has(m.type) || m.type === 'game'));
}

/**
 * Checks the game events one connection received: each round's question then its reveal, the
 * rounds one after the other and never twice, at most one game_over and only last. A `game`
 * snapshot (a resume) says where the game is: the events go on from there. `upTo`: only the
 * connection's first so many messages.
 */
function assertOrderly(c, room, upTo, what = '') {
  const evs = followed(c, room, upTo).filter((m) => m.type !== 'game_started');
  const desc = () => `${what}${c.label}: ${evs.map((m) => `${m.type}${m.round ?? ''}`).join(' ')}`;
  const revealed = new Set();
  const asked = new Set();
  let round = 0;
  let phase = null;
  for (const [i, m] of evs.entries()) {
    if (m.type === 'game_over') {
      assert.equal(i, evs.length - 1, `game_over is last: ${desc()}`);
      continue;
    }
    assert.ok(m.round >= round, `round numbers never go back: ${desc()}`);
    if (m.type === 'game') { // the state now: what was sent before is not sent again
      round = m.round;
      phase = m.phase;
      asked.add(m.round);
      if (phase === 'reveal') revealed.add(m.round);
    } else if (m.type === 'question') {
      assert.ok(!asked.has(m.round), `question ${m.round} asked twice: ${desc()}`);
      asked.add(m.round);
      if (round) assert.equal(m.round, round + 1, `rounds follow each other: ${desc()}`);
      else assert.equal(m.round, 1, `the first question is round 1: ${desc()}`);
      round = m.round;
      phase = 'question';
    } else {
      assert.ok(!revealed.has(m.round), `reveal ${m.round} delivered twice: ${desc()}`);
      revealed.add(m.round);
      assert.equal(m.round, round, `a reveal is of the round asked: ${desc()}`);
      assert.notEqual(phase, 'reveal', `two reveals in a row: ${desc()}`);
      round = m.round;
      phase = 'reveal';
    }
  }
}

const next = (p, room, type, pred = () => true, timeout = 5000) =>
  p.c.waitFor((m) => m.type === type && m.room === room && pred(m),
    { what: `${type} in ${room}`, timeout });

/** Answers round `q.round` right (or wrong when `right` is false); the ok. */
function answer(p, room, q, right = true) {
  const correct = CORRECT.get(q.text);
  assert.ok(correct !== undefined, `question not in the pack: ${q.text}`);
  return p.c.ok('answer', { room, round: q.round, choice: right ? correct : (correct + 1) % 4 });
}

/** The host starts; every member it saw join is a player, as `game_started` tells everyone. */
async function start(host, room, everyone) {
  await host.c.ok('start', { room });
  for (const p of everyone) {
    const st = await next(p, room, 'game_started');
    assert.deepEqual(st.players.slice().sort(), everyone.map((x) => x.name).sort(),
      `${p.c.label}: the players are the members the host saw join, on every node`);
  }
}

const scoreOf = (rv, name) => rv.scores.find((s) => s.name === name);

/** The `host` events the players `ps` received in `room`, labelled. */
const hostEvents = (ps, room) => ps.flatMap((p) => p.c.log
  .filter((m) => m.type === 'host' && m.room === room).map((m) => `${p.c.label}: host ${m.name}`));

function closeAll(ps) {
  return Promise.all(ps.map((p) => p.c.close()));
}

test('one game across three nodes: same events everywhere, answers from any node count', async () => {
  const [n1, n2, n3] = await live(3);
  const host = await player(n1, 'qh');
  const p2 = await player(n2, 'qb');
  const p3 = await player(n3, 'qc');
  const all = [host, p2, p3];
  const ROUNDS = 3;
  // p2 joins as soon as n2 knows the room: a join in the same ms as the create must not take
  // the host from its creator
  const made = await host.c.ok('create', { name: 'Across', game: 'quiz', rounds: ROUNDS, seconds: 2 });
  const room = made.room.id;
  assert.equal(made.room.host, host.name);
  const j2 = await joinWhenKnown(p2, room, 2);
  const j3 = await joinWhenKnown(p3, room);
  for (const [j, who] of [[j2, p2], [j3, p3]]) {
    assert.equal(j.room.host, host.name, `${who.c.label}: the join reply names the creator host`);
    assert.equal(j.room.state, 'waiting');
    assert.equal(j.room.game, 'quiz');
  }
  // (the names: a node lists its own members first, chat.c's member_names, not quite the order
  // of joining PROTOCOL.md 4.4 promises: not this file's matter)
  assert.deepEqual(j3.members.slice().sort(), [host.name, p2.name, p3.name].sort(), 'the members on every node');
  for (const p of [p2, p3]) {
    await host.c.waitFor((m) => m.type === 'joined' && m.room === room && m.name === p.name,
      { what: `joined ${p.name}`, timeout: 5000 });
  }
  await p2.c.waitFor((m) => m.type === 'joined' && m.room === room && m.name === p3.name,
    { what: `joined ${p3.name} on n2` });
  const listed = (await p3.c.ok('rooms')).rooms.find((r) => r.id === room);
  assert.equal(listed.host, host.name);
  assert.equal(listed.members, 3);

  assert.equal((await p2.c.request('start', { room })).code, 'not_allowed', 'only the host starts');
  await start(host, room, all);
  assert.equal(gameLog(p3.c, room)[0].rounds, ROUNDS);
  let expected = { [host.name]: 0, [p2.name]: 0, [p3.name]: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    const qs = [];
    for (const p of all) qs.push(await next(p, room, 'question', (m) => m.round === round));
    for (const q of qs.slice(1)) assert.deepEqual(q, qs[0], 'one question, the same on every node');
    // n2 answers right, n3 wrong, the host right: everyone answered, so an early reveal
    await answer(p2, room, qs[0], true);
    await answer(p3, room, qs[0], false);
    assert.equal((await p3.c.request('answer', { room, round, choice: 0 })).code, 'game_state',
      'one answer per round, across nodes');
    await answer(host, room, qs[0], true);
    const rvs = [];
    for (const p of all) rvs.push(await next(p, room, 'reveal', (m) => m.round === round));
    for (const rv of rvs.slice(1)) assert.deepEqual(rv, rvs[0], 'one reveal, the same on every node');
    const rv = rvs[0];
    assert.equal(rv.correct, CORRECT.get(qs[0].text));
    assert.ok(scoreOf(rv, p2.name).delta >= 100, `n2's right answer scores: ${JSON.stringify(rv)}`);
    assert.ok(scoreOf(rv, host.name).delta >= 100);
    assert.equal(scoreOf(rv, p3.name).delta, 0, 'n3\'s wrong answer counts as wrong');
    expected = Object.fromEntries(Object.entries(expected).map(([n, s]) => [n, s + scoreOf(rv, n).delta]));
    for (const s of rv.scores) assert.equal(s.score, expected[s.name]);
  }
  const overs = [];
  for (const p of all) overs.push(await next(p, room, 'game_over'));
  for (const o of overs.slice(1)) assert.deepEqual(o, overs[0], 'one ranking everywhere');
  for (const r of overs[0].ranking) assert.equal(r.score, expected[r.name]);
  assert.equal(overs[0].ranking.find((r) => r.name === p3.name).rank, 3);
  // the same stream, in the same order, on every node
  const logs = all.map((p) => gameLog(p.c, room));
  for (const l of logs.slice(1)) assert.deepEqual(l, logs[0]);
  assert.equal(logs[0].length, 1 + 2 * ROUNDS + 1);
  for (const p of all) assertOrderly(p.c, room);
  assert.deepEqual(hostEvents(all, room), [], 'the host never changed');
  const after = (await p2.c.ok('rooms')).rooms.find((r) => r.id === room);
  assert.equal(after.state, 'waiting');
  assert.equal(after.host, host.name);
  await closeAll(all);
});

test('the last member on a node leaving is seen leaving on the other nodes', async () => {
  const [n1, n2, n3] = await live(3);
  const host = await player(n1, 'lh');
  const p3 = await player(n3, 'lc');
  const room = await table(host, [p3], { rounds: 2, seconds: 2 });
  const seeLeft = (p, who, timeout) => p.c.waitFor((m) => m.type === 'left' && m.room === room && m.name === who,
    { what: `left ${who} on ${p.node.id}`, timeout });

  // a leave
  const a = await player(n2, 'la');
  await joinWhenKnown(a, room);
  for (const p of [host, p3]) await p.c.waitFor((m) => m.type === 'joined' && m.name === a.name, { what: 'joined' });
  await a.c.ok('leave', { room });
  for (const p of [host, p3]) await seeLeft(p, a.name, 3000);

  // a close with a close frame: gone at once
  const b = await player(n2, 'lb');
  await joinWhenKnown(b, room);
  for (const p of [host, p3]) await p.c.waitFor((m) => m.type === 'joined' && m.name === b.name, { what: 'joined' });
  await b.c.close();
  for (const p of [host, p3]) await seeLeft(p, b.name, 3000);

  // a drop: kept for --rejoin-seconds, then gone
  const d = await player(n2, 'ld');
  await joinWhenKnown(d, room);
  for (const p of [host, p3]) await p.c.waitFor((m) => m.type === 'joined' && m.name === d.name, { what: 'joined' });
  const dropped = Date.now();
  await d.c.terminate();
  for (const p of [host, p3]) {
    await seeLeft(p, d.name, REJOIN * 1000 + 4000);
    assert.ok(Date.now() - dropped >= REJOIN * 1000 - 500,
      `a dropped player is kept ${REJOIN} s (left after ${Date.now() - dropped} ms)`);
  }
  const listed = (await p3.c.ok('rooms')).rooms.find((r) => r.id === room);
  assert.equal(listed.members, 2, 'counted on no node any more');
  for (const p of [host, p3]) {
    const presence = p.c.log
      .filter((m) => (m.type === 'left' || m.type === 'joined') && m.room === room && m.name !== p3.name)
      .map((m) => `${m.type} ${m.name}`);
    assert.deepEqual(presence, [`joined ${a.name}`, `left ${a.name}`, `joined ${b.name}`, `left ${b.name}`,
      `joined ${d.name}`, `left ${d.name}`], `${p.c.label}: each arrival and departure once`);
  }
  await closeAll([host, p3]);
});

test('the owner killed mid-question: another node goes on with the same round and scores', async () => {
  const SECONDS = 2;
  const [owner, n2, n3] = await live(3);
  const host = await player(owner, 'kh');
  const p2 = await player(n2, 'kb');
  const p3 = await player(n3, 'kc');
  const room = await table(host, [p2, p3], { rounds: 4, seconds: SECONDS });
  await start(host, room, [host, p2, p3]);
  // round 1: everyone answers right
  const q1 = await next(p2, room, 'question', (m) => m.round === 1);
  for (const p of [host, p2, p3]) await answer(p, room, q1, true);
  const rv1 = await next(p3, room, 'reveal', (m) => m.round === 1);
  await next(p2, room, 'reveal', (m) => m.round === 1);
  for (const p of [host, p2, p3]) assert.ok(scoreOf(rv1, p.name).score >= 100);

  // round 2: n2 answers (acknowledged), then the owner dies
  const q2 = await next(p2, room, 'question', (m) => m.round === 2);
  await next(p3, room, 'question', (m) => m.round === 2);
  await answer(p2, room, q2, true);
  const killedAt = Date.now();
  await owner.kill();
  delete nodes[owner.id];
  const bound = LEASE + 1000 + SECONDS * 1000 + 500;
  const rvs = [];
  for (const p of [p2, p3]) {
    rvs.push(await next(p, room, 'reveal', (m) => m.round === 2, bound + 1000));
    if (p === p2) {
      const took = Date.now() - killedAt;
      assert.ok(took <= bound, `the game went on ${took} ms after the kill (lease ${LEASE} + 1 s + ${SECONDS} s)`);
      // n3 had not answered: the reveal waits for the question's own deadline, not a new one
      assert.ok(Date.now() >= q2.deadline - 20, `revealed ${q2.deadline - Date.now()} ms before the deadline`);
    }
  }
  assert.deepEqual(rvs[1], rvs[0]);
  const rv2 = rvs[0];
  assert.ok(scoreOf(rv2, p2.name).delta >= 100, `an answer acknowledged before the kill counts: ${JSON.stringify(rv2)}`);
  for (const p of [host, p2, p3]) {
    assert.equal(scoreOf(rv2, p.name).score, scoreOf(rv1, p.name).score + scoreOf(rv2, p.name).delta,
      `${p.name}'s score before the kill is kept`);
  }
  assert.equal(scoreOf(rv2, host.name).delta, 0);
  assert.equal(scoreOf(rv2, p3.name).delta, 0);

  // the rest of the game, from the new owner
  for (let round = 3; round <= 4; round++) {
    const q = await next(p2, room, 'question', (m) => m.round === round);
    assert.deepEqual(await next(p3, room, 'question', (m) => m.round === round), q);
    assert.ok(q.deadline > Date.now() && q.deadline <= Date.now() + SECONDS * 1000 + 200, `deadline ${q.deadline}`);
    await answer(p2, room, q, true);
    await answer(p3, room, q, true);
    const rv = await next(p2, room, 'reveal', (m) => m.round === round, SECONDS * 1000 + 2000);
    assert.deepEqual(await next(p3, room, 'reveal', (m) => m.round === round), rv);
    assert.ok(scoreOf(rv, p3.name).delta >= 100);
  }
  const over = await next(p2, room, 'game_over');
  assert.deepEqual(await next(p3, room, 'game_over'), over);
  assert.deepEqual(over.ranking.map((r) => r.name).sort(), [host.name, p2.name, p3.name].sort());
  for (const p of [p2, p3]) assertOrderly(p.c, room);
  assert.deepEqual(gameLog(p2.c, room), gameLog(p3.c, room));
  // the host died with its node: the longest-present member is the host now, on every node
  for (const p of [p2, p3]) {
    const h = await p.c.waitFor((m) => m.type === 'host' && m.room === room, { what: 'host', timeout: 5000 });
    assert.equal(h.name, p2.name);
  }
  for (const p of [p2, p3]) await p.c.sync();
  assert.deepEqual(hostEvents([p2, p3], room), [`${p2.c.label}: host ${p2.name}`, `${p3.c.label}: host ${p2.name}`]);
  assert.equal((await p3.c.ok('rooms')).rooms.find((r) => r.id === room).host, p2.name);
  await start(p2, room, [p2, p3]);
  await closeAll([p2, p3]);
});

test('an owner frozen (SIGSTOP) then thawed publishes nothing stale; the game ends normally', async () => {
  const SECONDS = 2;
  const FROZEN_MS = 4000;
  const [owner, n3, n4] = await live(3);
  const host = await player(owner, 'sh');
  const p3 = await player(n3, 'sc');
  const p4 = await player(n4, 'sd');
  const others = [p3, p4];
  const room = await table(host, others, { rounds: 4, seconds: SECONDS });
  await start(host, room, [host, p3, p4]);
  const q1 = await next(p3, room, 'question', (m) => m.round === 1);
  for (const p of [host, p3, p4]) await answer(p, room, q1, true);
  const rv1 = await next(p3, room, 'reveal', (m) => m.round === 1);
  const q2 = await next(p3, room, 'question', (m) => m.round === 2);
  await next(p4, room, 'question', (m) => m.round === 2);

  process.kill(owner.proc.pid, 'SIGSTOP');
  const stoppedAt = Date.now();
  let thawed = false;
  try {
    // answers reach the cluster while the owner is frozen, and count once another node owns it
    await answer(p3, room, q2, true);
    await answer(p4, room, q2, false);
    const rv2 = await next(p3, room, 'reveal', (m) => m.round === 2, LEASE + 1000 + SECONDS * 1000 + 1500);
    assert.ok(Date.now() - stoppedAt <= LEASE + 1000 + SECONDS * 1000 + 500,
      `taken over ${Date.now() - stoppedAt} ms after the owner froze`);
    assert.deepEqual(await next(p4, room, 'reveal', (m) => m.round === 2), rv2);
    assert.ok(scoreOf(rv2, p3.name).delta >= 100, JSON.stringify(rv2));
    assert.equal(scoreOf(rv2, p4.name).delta, 0);
    assert.equal(scoreOf(rv2, host.name).score, scoreOf(rv1, host.name).score, 'the frozen host keeps its score');
    // the new owner's own step: its epoch is the room's now
    await next(p3, room, 'question', (m) => m.round === 3, REVEAL + 3000);
    await next(p4, room, 'question', (m) => m.round === 3);
    // frozen past --cluster-timeout-ms (3 s) too: every timer of the old owner is overdue when
    // it wakes, its Redis link's watchdog included
    await sleep(FROZEN_MS - (Date.now() - stoppedAt));
    process.kill(owner.proc.pid, 'SIGCONT');
    thawed = true;
  } finally {
    if (!thawed) process.kill(owner.proc.pid, 'SIGCONT');
  }
  // the thawed owner's timers are overdue: whatever it tries now must be fenced off
  for (let round = 3; round <= 4; round++) {
    if (round > 3) {
      await next(p3, room, 'question', (m) => m.round === round, REVEAL + 3000);
      await next(p4, room, 'question', (m) => m.round === round);
    }
    const q = gameLog(p3.c, room).find((m) => m.type === 'question' && m.round === round);
    await answer(p3, room, q, true);
    await answer(p4, room, q, true);
    // the host does not answer: the deadline closes the round
    const rv = await next(p3, room, 'reveal', (m) => m.round === round, SECONDS * 1000 + 2000);
    assert.deepEqual(await next(p4, room, 'reveal', (m) => m.round === round), rv);
  }
  const over = await next(p3, room, 'game_over', () => true, REVEAL + 3000);
  assert.deepEqual(await next(p4, room, 'game_over'), over);
  assert.deepEqual(over.ranking.map((r) => r.name).sort(), [host.name, p3.name, p4.name].sort());
  // a moment for anything stale the old owner might still publish
  await sleep(LEASE);
  for (const p of others) await p.c.sync();
  for (const p of others) assertOrderly(p.c, room);
  assert.deepEqual(gameLog(p3.c, room), gameLog(p4.c, room), 'n3 and n4 saw one stream');
  await host.c.sync();
  const hostSaw = host.c.log.length;
  // the thawed node follows the game again: a new one starts from there
  const again = await host.c.request('start', { room });
  assert.equal(again.type, 'ok', `start on the thawed node: ${JSON.stringify(again)}`);
  await next(p3, room, 'game_started', () => true, 3000);
  await closeAll([host, p3, p4]);
  // the frozen node's own player, once it was thawed, got what it missed: the steps, each once,
  // or a snapshot, never a reveal of a question it was not asked
  assertOrderly(host.c, room, hostSaw, 'the thawed node\'s own player: ');
});

test('a drained owner hands the game over; its players resume on other nodes in their seats', async () => {
  const SECONDS = 4;
  const [owner, n2, n4] = await live(3);
  const host = await player(owner, 'dh');
  const mate = await player(owner, 'dm'); // a player on the owner's node who is not the host
  const p2 = await player(n2, 'db');
  const p4 = await player(n4, 'dd');
  const room = await table(host, [mate, p2, p4], { rounds: 3, seconds: SECONDS });
  const stayers = [p2, p4];
  const movers = [[host, n4], [mate, n2]];
  await start(host, room, [host, mate, p2, p4]);
  const q1 = await next(p2, room, 'question', (m) => m.round === 1);
  for (const p of [host, mate, p2, p4]) await answer(p, room, q1, true);
  const rv1 = await next(p2, room, 'reveal', (m) => m.round === 1);
  const q2 = await next(p2, room, 'question', (m) => m.round === 2);
  await next(p4, room, 'question', (m) => m.round === 2);
  for (const [p] of movers) await next(p, room, 'question', (m) => m.round === 2);
  const marks = stayers.map((p) => p.c.log.length);

  const code = owner.stop(); // SIGTERM: the drain gives the game up at once
  delete nodes[owner.id];
  const backs = [];
  for (const [p, to] of movers) {
    await p.c.nextEvent('shutdown');
    assert.equal((await p.c.closedWithin(3000, 'close after shutdown')).code, 1001);
    const back = { ...p, c: await fresh(to.url, { label: `${p.name}-back@${to.id}` }), node: to };
    const r = await back.c.ok('resume', { token: p.token });
    assert.equal(r.name, p.name);
    assert.equal(r.rejoined, true);
    const mine = r.rooms.find((x) => x.id === room);
    assert.ok(mine, `back in the quiz room: ${JSON.stringify(r.rooms)}`);
    assert.equal(mine.state, 'playing');
    assert.equal(mine.host, host.name, 'the host stays the creator');
    const snap = await back.c.nextEvent('game', { timeout: 3000 });
    assert.equal(snap.room, room);
    assert.equal(snap.round, 2);
    assert.equal(snap.phase, 'question', `resumed before the deadline: ${JSON.stringify(snap)}`);
    assert.equal(snap.deadline, q2.deadline, 'the deadline is kept');
    assert.equal(snap.question.text, q2.text);
    assert.deepEqual(snap.players.slice().sort(), [host.name, mate.name, p2.name, p4.name].sort());
    for (const s of rv1.scores) {
      assert.equal(snap.scores.find((x) => x.name === s.name)?.score, s.score, 'scores kept');
    }
    backs.push(back);
  }
  assert.equal(await code, 0, 'the drained node exits cleanly');
  assert.deepEqual(owner.sanitizerLines(), []);
  // their seats: they answer round 2 from their new nodes, and it counts
  for (const b of backs) await answer(b, room, q2, true);
  for (const p of stayers) await answer(p, room, q2, false);
  const rv2 = await next(p2, room, 'reveal', (m) => m.round === 2, SECONDS * 1000 + LEASE + 2000);
  assert.deepEqual(await next(p4, room, 'reveal', (m) => m.round === 2), rv2);
  for (const b of backs) {
    assert.deepEqual(await next(b, room, 'reveal', (m) => m.round === 2), rv2);
    assert.ok(scoreOf(rv2, b.name).delta >= 100, `${b.name} answered from its new node: ${JSON.stringify(rv2)}`);
    assert.equal(scoreOf(rv2, b.name).score, scoreOf(rv1, b.name).score + scoreOf(rv2, b.name).delta);
  }
  // the last round, and the end
  const q3 = await next(p2, room, 'question', (m) => m.round === 3, REVEAL + 3000);
  for (const p of [...backs, ...stayers]) {
    if (p !== p2) await next(p, room, 'question', (m) => m.round === 3);
    await answer(p, room, q3, true);
  }
  const over = await next(p2, room, 'game_over', () => true, SECONDS * 1000 + REVEAL + 3000);
  for (const p of [p4, ...backs]) assert.deepEqual(await next(p, room, 'game_over'), over);
  assert.deepEqual(over.ranking.map((r) => r.name).sort(), [host.name, mate.name, p2.name, p4.name].sort());
  for (const p of stayers) assertOrderly(p.c, room);
  for (const b of backs) assertOrderly(b.c, room);
  assert.deepEqual(hostEvents(backs, room), [], 'no host change for the movers either');
  for (const [i, p] of stayers.entries()) {
    const seen = p.c.log.slice(marks[i])
      .filter((m) => ['left', 'joined', 'host'].includes(m.type) && m.room === room)
      .map((m) => `${m.type} ${m.name}`);
    assert.deepEqual(seen, [], `${p.c.label}: nobody seen leaving, joining or taking the host`);
  }
  assert.equal((await p2.c.ok('rooms')).rooms.find((r) => r.id === room).host, host.name);
  await closeAll([...backs, ...stayers]);
});
