// Cluster tests' helpers: a Redis of their own (scripts/redis-test-server: Debian's redis-server
// on a Unix socket in a temporary directory, stopped after the file's tests however they end),
// nodes started with --cluster, and an HAProxy in front of them (scripts/haproxy-test: the
// README's example config, stopped the same way). Never the system's Redis or HAProxy.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { REPO, startServer, sleep, freePort, freshDb } from './harness.mjs';

const SCRIPT = path.join(REPO, 'scripts/redis-test-server');
const HAPROXY_SCRIPT = path.join(REPO, 'scripts/haproxy-test');

// Registered here, at the top level of the file's module graph: an after() called inside a
// before() hook would run when that hook ends.
const started = new Set();
const sharedDirs = new Set();
after(async () => {
  for (const r of [...started]) await r.stop();
  // (nodes still running keep their open files: the test file's own after() stops them)
  for (const d of sharedDirs) await rm(d, { recursive: true, force: true });
});
// HAProxy runs as a daemon: if the test process dies before its after hooks, stop it anyway
process.on('exit', () => {
  for (const r of started) r.stopNow?.();
});

/** Starts a Redis for this file: { url, dir, cli(...args), restart(seconds), stop() }. */
export async function startRedis() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-redis-'));
  const url = execFileSync(SCRIPT, ['start', dir], { encoding: 'utf8' }).trim();
  let stopped = false;
  const redis = {
    url,
    dir,
    cli: (...args) => execFileSync('redis-cli', ['-s', path.join(dir, 'redis.sock'), ...args],
      { encoding: 'utf8' }).trim(),
    /** Kills Redis, waits `seconds` and starts it again, empty; resolves when it is back. */
    restart: (seconds = 0) => promisify(execFile)(SCRIPT, ['restart', dir, String(seconds)]),
    async stop() {
      if (stopped) return;
      stopped = true;
      started.delete(redis);
      execFileSync(SCRIPT, ['stop', dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  started.add(redis);
  return redis;
}

/**
 * Starts a node of a cluster: startServer with --cluster and --node-id, waiting until its link
 * to Redis is up (/healthz says cluster "ok"). opts as startServer's, plus `id`.
 */
export async function startNode(redis, id, extraArgs = [], opts = {}) {
  const node = await startServer(['--cluster', redis.url, '--node-id', id, ...extraArgs], opts);
  node.id = id;
  await waitLinked(node.httpUrl, id);
  return node;
}

/**
 * One Redis and nodes `ids`, started one after another on one database (freshDb: a SQLite file
 * in a temporary directory, one machine's cluster; or, with PARLOR_TEST_PG, one PostgreSQL
 * database, as nodes on several machines share), all removed after the file's tests; the
 * caller stops the nodes (stopAndCheck) in its after(). Returns { redis, nodes, db }.
 */
export async function startCluster(ids, flags = [], opts = {}) {
  const redis = await startRedis();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-cluster-'));
  sharedDirs.add(dir);
  const db = freshDb(dir);
  const nodes = [];
  for (const id of ids) nodes.push(await startNode(redis, id, flags, { db, ...opts }));
  return { redis, nodes, db };
}

/** GET `url` on a new TCP connection (so --reuse-port may hand it to any of the processes). */
export function getFresh(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url}: no answer in 5 s`)));
  });
}

/** /healthz of whichever node answers at `httpUrl` (with --reuse-port: any of them). */
export async function health(httpUrl) {
  return JSON.parse((await getFresh(`${httpUrl}/healthz`)).body);
}

/** Waits until node `id`, reached through `httpUrl`, reports its Redis link up. */
export async function waitLinked(httpUrl, id, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const h = await health(httpUrl).catch(() => ({}));
    if (h.node === id && h.cluster === 'ok') return h;
    assert.ok(Date.now() < deadline, `node ${id} did not link to Redis within ${timeout} ms`);
    await sleep(50);
  }
}

/**
 * Starts HAProxy (scripts/haproxy-test: the README's packaging/haproxy/parlor.cfg, checks every
 * 100 ms) in front of `backends` ("host:port", named node1, node2, ... in that order) on a free
 * port of 127.0.0.1: { url, httpUrl, port, dir, status(), waitStatus(name, want), stop() }.
 */
export async function startHaproxy(backends) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-haproxy-'));
  const port = await freePort();
  execFileSync(HAPROXY_SCRIPT, ['start', dir, String(port), ...backends], { encoding: 'utf8' });
  let stopped = false;
  const proxy = {
    port,
    dir,
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    /** Each server's status as HAProxy sees it: { node1: 'UP', node2: 'DOWN', ... }. */
    async status() {
      const csv = await statsCommand(path.join(dir, 'haproxy.sock'), 'show stat');
      const [head, ...rows] = csv.trim().split('\n');
      const cols = head.replace(/^# /, '').split(',');
      const at = (name) => cols.indexOf(name);
      const out = {};
      for (const row of rows.map((r) => r.split(','))) {
        if (row[at('pxname')] === 'parlor_nodes' && !['BACKEND', 'FRONTEND'].includes(row[at('svname')])) {
          out[row[at('svname')]] = row[at('status')];
        }
      }
      return out;
    },
    /** Waits until server `name`'s status starts with `want` ('UP', 'DOWN'). */
    async waitStatus(name, want, timeout = 20000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const st = await proxy.status();
        if (st[name]?.startsWith(want)) return st;
        assert.ok(Date.now() < deadline, `HAProxy never saw ${name} ${want} in ${timeout} ms: ${JSON.stringify(st)}`);
        await sleep(50);
      }
    },
    stopNow() {
      if (stopped) return;
      stopped = true;
      started.delete(proxy);
      execFileSync(HAPROXY_SCRIPT, ['stop', dir]);
    },
    async stop() {
      proxy.stopNow();
    },
  };
  started.add(proxy);
  return proxy;
}

/** One command on HAProxy's stats socket; resolves with the whole answer. */
function statsCommand(socketPath, command) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath);
    let out = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d) => { out += d; });
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error(`HAProxy stats socket: no answer to ${command}`)));
  });
}
