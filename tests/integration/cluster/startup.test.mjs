// A node's startup checks (README "Running a cluster: startup checks"): before its port opens a
// node refuses to join a cluster whose live nodes use another database, or whose live node
// already has its --node-id, and refuses to start when Redis cannot be reached; nodes started at
// the same moment on one fresh SQLite file all start (the schema migration takes the write lock
// first).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN, WWW, freePort, tcpProbe, startServer, stopAndCheck, signIn, uniqueName } from '../lib/harness.mjs';
import { startRedis, startNode, waitLinked } from '../lib/cluster.mjs';

let redis;
let dir;

before(async () => {
  redis = await startRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-startup-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs a node that is expected to stop by itself: { code, stderr, listening }. */
async function refusedNode(args) {
  const port = await freePort();
  const proc = spawn(BIN, ['--port', String(port), '--www', WWW, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
  const code = await new Promise((resolve) => proc.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr, listening: await tcpProbe(port) };
}

/** The database identity a node logged at startup ("cluster: node 'x' on ..., database ID"). */
function databaseOf(node) {
  return node.stderr().match(/database ([0-9a-f]{32})/)?.[1];
}

test('a node on another SQLite file than the running node is refused, naming both databases', async () => {
  const info = ['--log-level', 'info'];
  const a = await startNode(redis, 'db-a', info, { db: path.join(dir, 'a.db') });
  const r = await refusedNode(['--db', path.join(dir, 'b.db'), '--cluster', redis.url,
    '--node-id', 'db-b']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.listening, false);
  const theirs = databaseOf(a);
  assert.ok(theirs, a.stderr());
  assert.match(r.stderr, new RegExp(`--db ${path.join(dir, 'b.db')} is database [0-9a-f]{32}, ` +
    `but node 'db-a' of the cluster on ${redis.url} uses database ${theirs}`));
  assert.match(r.stderr, /every node of a cluster must use the same database/);
  assert.doesNotMatch(r.stderr.match(/is database ([0-9a-f]+)/)[1], new RegExp(theirs));

  // the same file: both run, and chat crosses
  const b = await startNode(redis, 'db-b', info, { db: path.join(dir, 'a.db') });
  assert.equal(databaseOf(b), theirs);
  const name = uniqueName('ann');
  const ann = await signIn(a.url, name, { join: ['lobby'] });
  const bob = await signIn(b.url, uniqueName('bob'), { join: ['lobby'] });
  assert.equal((await ann.request('say', { room: 'lobby', text: 'across' })).type, 'ok');
  const heard = await bob.waitFor((m) => m.type === 'chat' && m.text === 'across');
  assert.equal(heard.from, name);
  ann.close();
  bob.close();

  // once every node on a.db is gone, a cluster may start on another database (a moved club)
  await stopAndCheck(a);
  await stopAndCheck(b);
  const c = await startNode(redis, 'db-c', info, { db: path.join(dir, 'c.db') });
  assert.notEqual(databaseOf(c), theirs);
  await stopAndCheck(c);
});

test('a second node with the id of a running node is refused; the id is free once it stops', async () => {
  const db = path.join(dir, 'ids.db');
  const first = await startNode(redis, 'twin', [], { db });
  const r = await refusedNode(['--db', db, '--cluster', redis.url, '--node-id', 'twin']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.listening, false);
  assert.match(r.stderr, /node id 'twin' is in use by a running node on .*give each node its own --node-id/);
  // the refused start took nothing from the running node
  await waitLinked(first.httpUrl, 'twin');
  await stopAndCheck(first);
  // a clean stop gives the id back: a restart takes it (without waiting for its TTL)
  const again = await startNode(redis, 'twin', [], { db });
  await stopAndCheck(again);
});

test('a node killed without a word: its id is taken again by a restart once its TTL has run out', async () => {
  const db = path.join(dir, 'killed.db');
  const first = await startNode(redis, 'phoenix', [], { db });
  await first.kill();
  assert.equal(redis.cli('EXISTS', 'parlor:alive:phoenix'), '1'); // still there: it had no word
  const again = await startNode(redis, 'phoenix', ['--log-level', 'info'], { db });
  assert.match(again.stderr(), /node id 'phoenix' was in use until recently/);
  await stopAndCheck(again);
});

test('Redis unreachable at startup: the node refuses to start, saying so', async () => {
  const url = `unix://${path.join(dir, 'no-redis.sock')}`;
  const r = await refusedNode(['--db', path.join(dir, 'x.db'), '--cluster', url, '--node-id', 'x']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.listening, false);
  assert.match(r.stderr, new RegExp(`cannot reach Redis at ${url}: .*start Redis first`));
});

test('nodes started at the same moment on one fresh SQLite file all start', async () => {
  for (let round = 0; round < 4; round++) {
    const db = path.join(dir, `together-${round}.db`);
    const nodes = await Promise.all(['p', 'q', 'r'].map((id) =>
      startServer(['--cluster', redis.url, '--node-id', `${id}${round}`, '--log-level', 'info'],
        { db })));
    const ids = nodes.map(databaseOf);
    assert.ok(ids[0], nodes[0].stderr());
    assert.deepEqual(ids, [ids[0], ids[0], ids[0]]);
    for (const n of nodes) await stopAndCheck(n);
  }
});
