// Three nodes (one Redis, one SQLite file as on one machine, or one PostgreSQL database as on
// several: integration_pg_cluster_haproxy) behind HAProxy, run from
// the README's example config (scripts/haproxy-test): 300 players connect through the proxy,
// which spreads them over every node; 30 of them create a room each (so the rooms are made on
// every node) and the others join them through the proxy, ten to a room (so most members sit
// on another node than their room's creator); they chat, and every player receives every
// message of its room exactly once, in the same order as everyone else. parlor-loadtest, given
// the three nodes' URLs, finds the same with its order check, in rooms of ten. Redis is then
// stopped for five seconds while three rooms chat: says are refused, never lost or reordered.
// Last, one node drains (SIGTERM): its /healthz answers 503, HAProxy takes it out, and new
// players land on the other two and chat with the room's members there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO, stopAndCheck, fresh, freshDb, uniqueName, NO_RATE_LIMITS, sleep } from '../lib/harness.mjs';
import { startRedis, startNode, startHaproxy, getFresh, health, waitLinked } from '../lib/cluster.mjs';

const LOADTEST = process.env.PARLOR_LOADTEST || path.join(REPO, 'build/debug/parlor-loadtest');
const CLIENTS = 300;
const SAYS = 3;
const BATCH = 50; // players connecting at once
// Rooms the players are spread over, made by players on whichever node HAProxy gave them.
const ROOM_COUNT = 30;
// Three ASan nodes and this process's 300 clients share two cores, and one SQLite file's writes
// take turns: a reply may take longer than the harness's usual 5 s without being lost.
const PATIENT = { timeout: 30000 };

let redis;
let nodes = [];
let proxy;
let dir;
const players = []; // { client, room }

before(async () => {
  redis = await startRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-3nodes-'));
  const db = freshDb(dir); // one SQLite file, or with PARLOR_TEST_PG one PostgreSQL database
  // one after the other: the first creates the database's schema
  for (const id of ['a', 'b', 'c']) {
    nodes.push(await startNode(redis, id, ['--metrics-public', ...NO_RATE_LIMITS], { db }));
  }
  proxy = await startHaproxy(nodes.map((n) => `127.0.0.1:${n.port}`));
  for (const name of ['node1', 'node2', 'node3']) await proxy.waitStatus(name, 'UP');
});

after(async () => {
  for (const p of players) p.client.close();
  await proxy?.stop();
  for (const n of nodes) await stopAndCheck(n);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Connects through `url`, signs in as `name` and joins `join`, with PATIENT replies. */
async function signIn(url, name, { join = [] } = {}) {
  const c = await fresh(url, { label: name, ...PATIENT });
  await c.ok('hello', { name }, PATIENT);
  for (const room of join) await c.ok('join', { room }, PATIENT);
  return c;
}

/** parlor_connections of each node, asked directly: { a: 97, b: 102, c: 101 }. */
async function connectionsPerNode() {
  const per = {};
  for (const n of nodes) {
    const { body } = await getFresh(`${n.httpUrl}/metrics`);
    per[n.id] = Number(/^parlor_connections (\d+)/m.exec(body)[1]);
  }
  return per;
}

/** The room ids the players use: rooms the first ROOM_COUNT players create, one each. */
async function makeRooms(first) {
  return Promise.all(first.slice(0, ROOM_COUNT).map(async (c, k) =>
    (await c.ok('create', { name: `table ${k}`, max: CLIENTS }, PATIENT)).room.id));
}

/**
 * Joins `room`, made on another node perhaps: a room reaches the other nodes' lists through
 * Redis within moments of its `create`, so a join right after it may find no such room yet
 * (README "Running a cluster"); anything else, or a room that never comes, fails the test.
 */
async function joinShared(client, room) {
  for (let t = 0; ; t++) {
    const r = await client.request('join', { room }, PATIENT);
    if (r.type === 'ok') return r;
    assert.ok(r.code === 'no_such_room' && t < 200, `${client.label} join ${room}: ${JSON.stringify(r)}`);
    await sleep(50);
  }
}

test('README example config is what the tests run', async () => {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const cfg = await readFile(path.join(REPO, 'packaging/haproxy/parlor.cfg'), 'utf8');
  assert.ok(readme.includes(cfg), 'README "Running a cluster" quotes packaging/haproxy/parlor.cfg verbatim');
});

test('300 players through HAProxy reach all three nodes and see every message once, in one order', async () => {
  const clients = [];
  for (let i = 0; i < CLIENTS; i += BATCH) {
    clients.push(...await Promise.all(Array.from({ length: Math.min(BATCH, CLIENTS - i) },
      (_, k) => signIn(proxy.url, uniqueName(`h${i + k}_`)))));
  }
  const per = await connectionsPerNode();
  for (const n of nodes) assert.ok(per[n.id] > 0, `HAProxy gave node ${n.id} players: ${JSON.stringify(per)}`);
  assert.equal(per.a + per.b + per.c, CLIENTS);

  const rooms = await makeRooms(clients);
  await Promise.all(clients.map(async (client, i) => {
    const room = rooms[i % rooms.length];
    if (i >= rooms.length) await joinShared(client, room);
    players.push({ client, room });
  }));
  // each room, listed on every node, comes to count its ten members wherever they are (the
  // counts travel through Redis: a node may be a moment behind)
  for (const n of nodes) {
    const list = await signIn(n.url, uniqueName(`lister_${n.id}_`));
    let wrong;
    for (let t = 0; t < 600; t++) {
      const listed = new Map((await list.ok('rooms', {}, PATIENT)).rooms.map((r) => [r.id, r]));
      wrong = rooms.filter((room) => listed.get(room)?.members !== CLIENTS / ROOM_COUNT)
        .map((room) => JSON.stringify(listed.get(room) ?? room));
      if (!wrong.length) break;
      await sleep(50);
    }
    assert.deepEqual(wrong, [], `node ${n.id} lists every room with its ${CLIENTS / ROOM_COUNT} members`);
    list.close();
  }

  const sent = new Map(rooms.map((r) => [r, []]));
  await Promise.all(players.map(async ({ client, room }, i) => {
    for (let k = 0; k < SAYS; k++) {
      const text = `m${i}.${k}`;
      await client.ok('say', { room, text }, PATIENT);
      sent.get(room).push(text);
    }
  }));

  const mine = (p) => p.client.log.filter((m) => m.type === 'chat' && m.room === p.room && /^m\d+\.\d+$/.test(m.text));
  for (const p of players) {
    const want = sent.get(p.room).length;
    for (let t = 0; mine(p).length < want && t < 1200; t++) await sleep(25);
  }
  for (const room of rooms) {
    const members = players.filter((p) => p.room === room);
    const reference = mine(members[0]).map((m) => `${m.seq}:${m.from}:${m.text}`);
    assert.equal(reference.length, sent.get(room).length, `every message of ${room} reached its first member`);
    assert.deepEqual(reference.map((x) => x.split(':')[2]).sort(), [...sent.get(room)].sort(),
      `${room}: each message exactly once`);
    const seqs = mine(members[0]).map((m) => m.seq);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `${room}: no gap, no reordering`);
    for (const p of members) {
      assert.deepEqual(mine(p).map((m) => `${m.seq}:${m.from}:${m.text}`), reference,
        `${p.client.label} saw ${room} in the same order`);
    }
  }
});

test('parlor-loadtest spread over the three nodes: nothing lost, one order for every member', async () => {
  const report = path.join(dir, 'lt.json');
  const urls = nodes.map((n) => n.url).join(',');
  // rooms of ten, each made by its first client on one node and joined from all three (a
  // join the room has not reached yet is asked again: order.join_retries, never an error)
  const lt = spawnSync(LOADTEST, ['--url', urls, '--scenario', 'chat', '--room-size', '10',
    '-c', '60', '--rate', '2', '--duration', '2', '--warmup', '0.5', '--drain', '20',
    '--name-prefix', 'ltc', '--max-errors', '0', '--quiet', '--json', report],
  { encoding: 'utf8', timeout: 120000 });
  assert.equal(lt.status, 0, `${lt.stdout}\n${lt.stderr}`);
  const r = JSON.parse(await readFile(report, 'utf8'));
  assert.equal(r.order.urls, 3);
  assert.equal(r.connections.ready, 60, JSON.stringify(r.connections));
  assert.ok(Number.isInteger(r.order.join_retries), JSON.stringify(r.order));
  console.log(`loadtest: ${r.deliveries.received} deliveries in rooms of ten over three nodes, `
    + `${r.order.join_retries} join(s) asked again before the room reached the node`);
  assert.ok(r.deliveries.received > 0 && r.deliveries.lost === 0, JSON.stringify(r.deliveries));
  assert.ok(r.order.checked >= r.deliveries.received, 'every delivery was judged');
  assert.deepEqual([r.order.order_violations, r.order.gaps, r.order.mismatches], [0, 0, 0]);
});

test('Redis stopped for 5 s during chat: says are refused, never lost; one order after it is back', async () => {
  const rooms = [...new Set(players.map((p) => p.room))].slice(0, 3);
  const members = players.filter((p) => rooms.includes(p.room));
  const acked = new Map(rooms.map((r) => [r, new Set()]));
  const refused = new Set();
  let saying = true;
  const talk = Promise.all(members.map(async ({ client, room }, i) => {
    for (let k = 0; saying; k++) {
      const text = `r${i}.${k}`;
      const r = await client.request('say', { room, text }, PATIENT);
      if (r.type === 'ok') acked.get(room).add(text);
      else {
        assert.equal(r.code, 'server_busy', `${client.label}: ${JSON.stringify(r)}`);
        refused.add(text);
      }
      await sleep(100);
    }
  }));
  await sleep(500);
  const back = redis.restart(5);
  // every node says so on /healthz (still 200: it serves its own players)
  for (const n of nodes) {
    let h;
    for (let t = 0; t < 100 && h?.cluster !== 'degraded'; t++) {
      h = await health(n.httpUrl).catch(() => ({}));
      if (h.cluster !== 'degraded') await sleep(50);
    }
    assert.equal(h.cluster, 'degraded', `node ${n.id}: ${JSON.stringify(h)}`);
  }
  await back;
  for (const n of nodes) await waitLinked(n.httpUrl, n.id, 15000);
  await sleep(1000); // chat flows again for a moment
  saying = false;
  await talk;
  assert.ok(refused.size > 0, 'some says met the outage');
  console.log(`Redis outage: ${[...acked.values()].reduce((a, x) => a + x.size, 0)} says acknowledged, `
    + `${refused.size} refused (server_busy), in ${rooms.length} rooms of ${members.length / rooms.length}`);

  const mine = (p) => p.client.log.filter((m) => m.type === 'chat' && m.room === p.room && /^r\d+\.\d+$/.test(m.text));
  for (const room of rooms) {
    const inRoom = members.filter((p) => p.room === room);
    assert.ok(acked.get(room).size > 0, `${room}: says were acknowledged`);
    for (const p of inRoom) {
      for (let t = 0; t < 400 && ![...acked.get(room)].every((x) => mine(p).some((m) => m.text === x)); t++) await sleep(25);
    }
    const reference = mine(inRoom[0]).map((m) => `${m.seq}:${m.text}`);
    const texts = reference.map((x) => x.split(':')[1]);
    assert.equal(new Set(texts).size, texts.length, `${room}: no message twice`);
    for (const x of acked.get(room)) assert.ok(texts.includes(x), `${room}: acknowledged ${x} was delivered`);
    const seqs = reference.map((x) => Number(x.split(':')[0]));
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `${room}: in seq order`);
    for (const p of inRoom) {
      assert.deepEqual(mine(p).map((m) => `${m.seq}:${m.text}`), reference, `${p.client.label} saw ${room} in the same order`);
    }
  }
});

test('a draining node answers 503 on /healthz, HAProxy takes it out, new players go to the others', async () => {
  const drained = nodes[2];
  // a game holds the drain open a moment: a drain hands a cluster's games over at the game's
  // next lease tick (a third of --game-lease-ms), and the node closes then
  const host = await signIn(drained.url, uniqueName('host'));
  const { room } = await host.ok('create', { name: 'drain holder', game: 'quiz', rounds: 1, seconds: 60 });
  await host.ok('start', { room: room.id });
  await host.nextEvent('game_started');
  const before = await connectionsPerNode();

  drained.proc.kill('SIGTERM');
  await host.nextEvent('shutdown');
  const health = await getFresh(`${drained.httpUrl}/healthz`);
  assert.equal(health.status, 503, health.body);
  assert.equal(JSON.parse(health.body).status, 'draining');
  await proxy.waitStatus('node3', 'DOWN');
  const st = await proxy.status();
  assert.ok(st.node1.startsWith('UP') && st.node2.startsWith('UP'), JSON.stringify(st));

  const NEW = 30;
  const room0 = players[0].room;
  const late = await Promise.all(Array.from({ length: NEW }, (_, i) =>
    signIn(proxy.url, uniqueName(`late${i}_`), { join: [room0] })));
  const now = await connectionsPerNode();
  assert.equal(now.a + now.b, before.a + before.b + NEW, `all ${NEW} new players on a and b: ${JSON.stringify({ before, now })}`);
  assert.ok(now.c <= before.c, `none on the draining node: ${JSON.stringify({ before, now })}`);
  // and they chat with the room's members on the nodes that stay
  const ok = await late[0].ok('say', { room: room0, text: 'after the drain' }, PATIENT);
  for (const p of players.filter((x) => x.room === room0 && x.client.isOpen)) {
    const m = await p.client.waitFor((e) => e.type === 'chat' && e.text === 'after the drain', PATIENT);
    assert.equal(m.seq, ok.seq, `${p.client.label} got it with the same seq`);
  }
  for (const c of [...late, host]) c.close();
});
