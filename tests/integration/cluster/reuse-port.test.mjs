// Two parlor processes on one port (--reuse-port) with one SQLite file, joined through Redis:
// the kernel spreads the connections over both, and the players cannot tell: every member of
// the lobby receives every message exactly once, in one order with no gaps.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, signIn, uniqueName, NO_RATE_LIMITS, sleep } from '../lib/harness.mjs';
import { startRedis, startNode, getFresh, waitLinked } from '../lib/cluster.mjs';

const CLIENTS = 24;
const SAYS = 3;

let redis;
let nodes = [];
let dir;

before(async () => {
  redis = await startRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-reuse-'));
  const db = path.join(dir, 'parlor.db');
  const flags = ['--reuse-port', '--metrics-public', ...NO_RATE_LIMITS];
  const a = await startNode(redis, 'a', flags, { db });
  const b = await startServer(['--cluster', redis.url, '--node-id', 'b', ...flags],
    { db, port: a.port, readyLog: /listening on/ });
  b.id = 'b';
  nodes = [a, b];
  // both answer on the one port: ask until each has said its link is up
  const seen = new Set();
  for (let i = 0; i < 200 && seen.size < 2; i++) {
    const h = await waitLinked(a.httpUrl, i % 2 ? 'a' : 'b', 200).catch(() => null);
    if (h) seen.add(h.node);
  }
  assert.equal(seen.size, 2, 'both processes answer on the shared port with their link up');
});

after(async () => {
  for (const n of nodes) await stopAndCheck(n);
  await rm(dir, { recursive: true, force: true });
});

/** Connections per node, read from /metrics on fresh connections until both have answered. */
async function connectionsPerNode(httpUrl) {
  const per = {};
  for (let i = 0; i < 100 && Object.keys(per).length < 2; i++) {
    const { body } = await getFresh(`${httpUrl}/metrics`);
    const node = /parlor_cluster_info\{node="([^"]+)"\} 1/.exec(body)[1];
    per[node] = Number(/^parlor_connections (\d+)/m.exec(body)[1]);
  }
  return per;
}

test('players on both processes chat in one order, each message exactly once', async () => {
  const url = nodes[0].url;
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await signIn(url, uniqueName('p'), { join: ['lobby'] }));
  const per = await connectionsPerNode(nodes[0].httpUrl);
  assert.ok(per.a > 0 && per.b > 0, `the kernel gave both processes players: ${JSON.stringify(per)}`);
  assert.equal(per.a + per.b, CLIENTS);

  const sent = [];
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < SAYS; k++) {
      const text = `m${i}.${k}`;
      const ok = await c.request('say', { room: 'lobby', text });
      assert.equal(ok.type, "ok", JSON.stringify(ok) + nodes.map((n) => n.stderr()).join("\n----\n"));
      sent.push(text);
    }
  }));
  const total = CLIENTS * SAYS;
  const mine = (c) => c.log.filter((m) => m.type === 'chat' && m.room === 'lobby' && /^m\d+\.\d+$/.test(m.text));
  for (const c of clients) {
    for (let t = 0; mine(c).length < total && t < 200; t++) await sleep(25);
  }
  const reference = mine(clients[0]).map((m) => `${m.seq}:${m.text}`);
  assert.equal(reference.length, total, 'every message reached the first player');
  assert.deepEqual([...new Set(reference.map((x) => x.split(':')[1]))].sort(), [...sent].sort());
  const seqs = mine(clients[0]).map((m) => m.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, 'no gap, no reordering');
  for (const c of clients) {
    assert.deepEqual(mine(c).map((m) => `${m.seq}:${m.text}`), reference, `${c.label} saw the same order`);
  }
  for (const c of clients) c.close();
});

test('Redis restarting: a say is refused (server_busy), never lost; chat flows again when it is back', async () => {
  const url = nodes[0].url;
  const clients = [];
  for (let i = 0; i < 8; i++) clients.push(await signIn(url, uniqueName('x'), { join: ['lobby'] }));
  const back = redis.restart(2);
  let refused;
  for (let t = 0; t < 100 && !refused; t++) {
    const r = await clients[0].request('say', { room: 'lobby', text: 'during the outage' });
    if (r.type === 'error') refused = r;
    else await sleep(50);
  }
  assert.ok(refused, 'a say fails once the link is known to be down');
  assert.equal(refused.code, 'server_busy');
  await back;
  for (const n of nodes) {
    for (let t = 0; t < 100; t++) {
      if ((await waitLinked(n.httpUrl, n.id, 100).catch(() => null))) break;
    }
  }
  // Redis came back empty: the seq goes on from what the nodes had delivered
  const last = Math.max(...clients.map((c) => Math.max(0, ...c.log.filter((m) => m.type === 'chat').map((m) => m.seq))));
  let ok;
  for (let t = 0; t < 100 && !ok; t++) {
    const r = await clients[1].request('say', { room: 'lobby', text: 'after the outage' });
    if (r.type === 'ok') ok = r;
    else await sleep(100);
  }
  assert.ok(ok, 'saying works again once Redis is back');
  assert.ok(ok.seq > last, `seq ${ok.seq} continues after ${last}`);
  for (const c of clients) {
    const m = await c.waitFor((e) => e.type === 'chat' && e.text === 'after the outage');
    assert.equal(m.seq, ok.seq);
  }
  for (const c of clients) c.close();
});
