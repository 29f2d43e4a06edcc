// Integration-test harness: start/stop the real parlor server and drive it with real
// WebSocket clients (the `ws` package). Used by tests/integration/*.test.mjs.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import WebSocket from 'ws';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.PARLOR_BIN || path.join(REPO, 'build/debug/parlor-server');
export const WWW = process.env.PARLOR_WWW || path.join(REPO, 'www-static');
export const DEFAULT_TIMEOUT = 5000;
// How long startServer waits for the server to listen (valgrind runs set it higher).
export const READY_TIMEOUT = Number(process.env.PARLOR_READY_TIMEOUT_MS) || 10000;

// PROTOCOL.md section 7: every limit with its default value.
export const DEFAULT_LIMITS = Object.freeze({
  max_message: 8192,
  name_max: 24,
  text_max: 1000,
  room_name_max: 48,
  room_max_default: 50,
  room_max_limit: 500,
  lobby_max: 20000,
  rooms_per_session: 16,
  max_rooms: 1000,
  history: 50,
  signin_timeout: 10,
  sendq_max_messages: 2048,
  sendq_max_bytes: 1048576,
  rate_per_sec: 20,
  rate_burst: 40,
  say_per_sec: 5,
  say_burst: 10,
  rate_close_after: 10,
  ping_interval: 30,
  idle_timeout: 60,
  max_connections: 20000,
  max_per_address: 0,
  quiz_max_rounds: 50,
  quiz_max_seconds: 120,
  quiz_reveal_ms: 3000,
  rejoin_seconds: 30,
  presence_max: 100,
  sendq_soft_messages: 512,
  sendq_soft_bytes: 262144,
  sendq_soft_seconds: 10,
  resume_replay: 200,
});

// Flags that lift every rate limit, for tests that send a lot.
export const NO_RATE_LIMITS = [
  '--rate-per-sec', '100000', '--rate-burst', '100000',
  '--say-per-sec', '100000', '--say-burst', '100000',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The store the servers use: SQLite files, or, when PARLOR_TEST_PG names the test cluster's
// database (tests/CMakeLists.txt runs some suites a second time so), a fresh PostgreSQL
// database per server, made in that cluster and dropped after the file's tests.
export const PG_URI = process.env.PARLOR_TEST_PG || '';
export const DB_ENGINE = PG_URI ? 'pg' : 'sqlite';
const pgDatabases = [];
let pgSeq = 0;

function psql(uri, sql) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', uri, '-c', sql],
    { encoding: 'utf8' }).trim();
}

/**
 * A database no server has used yet: `dir/name` for SQLite, or a new PostgreSQL database's URI.
 * Pass it as startServer's opts.db to keep it across restarts.
 */
export function freshDb(dir, name = 'parlor.db') {
  if (DB_ENGINE === 'sqlite') return path.join(dir, name);
  const db = `t_${process.pid}_${++pgSeq}`;
  psql(PG_URI, `CREATE DATABASE ${db}`);
  pgDatabases.push(db);
  return PG_URI.replace(/^(postgres(?:ql)?:\/\/[^/?]*\/)[^?]*/, `$1${db}`);
}

/** Runs SQL on a database of either engine; one row a line, columns split by '|'. */
export function dbQuery(db, sql) {
  if (/^postgres(ql)?:\/\//.test(db)) return psql(db, sql);
  return execFileSync('sqlite3', [db, sql], { encoding: 'utf8' }).trim();
}

// Every server process this file started that has not exited yet, with what kills it and
// removes its files. A test that fails (or times out) before it stops its server would
// otherwise leave a child process whose pipe keeps node's event loop alive, and `node --test`
// would wait for this file forever. node:test runs a top-level after() once every test of the
// file has finished, passed or not: it kills what is left. The 'exit' handler is the last
// resort when the process ends some other way (process.exit, a signal to the runner).
const running = new Map(); // proc -> async () => kill and clean up

// Root after() hooks run in the order they were registered, and this module is evaluated before
// the test file's body: registered here, this hook would kill the servers that a file's own
// top-level after() (the browser tests') is about to stop with SIGTERM and check. A microtask
// queued now runs once the whole module graph, the test file's body included, has been
// evaluated, and before any test runs: the hook goes after the file's own. It also drops the
// PostgreSQL databases the file's servers used.
queueMicrotask(() => after(async () => {
  if (running.size) {
    process.stderr.write(`harness: ${running.size} server(s) still running after the tests ` +
      `(pid ${[...running.keys()].map((p) => p.pid).join(', ')}); killing them\n`);
    await Promise.all([...running.values()].map((kill) => kill()));
  }
  for (const db of pgDatabases.splice(0)) psql(PG_URI, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
}));

process.on('exit', () => {
  for (const p of running.keys()) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/**
 * Kills `proc` (SIGKILL) after this file's tests if it is still running then, and runs
 * `cleanup` once it has exited. Every server a test file starts goes through here, the
 * browser tests' too.
 */
export function trackServer(proc, cleanup = async () => {}) {
  let gone = false;
  const exited = new Promise((resolve) => proc.once('exit', () => {
    gone = true;
    running.delete(proc);
    resolve();
  }));
  proc.once('error', () => { if (proc.pid === undefined) running.delete(proc); }); // never started
  running.set(proc, async () => {
    if (!gone) proc.kill('SIGKILL');
    await exited;
    await cleanup();
  });
}

/** A TCP port that was free a moment ago (bind port 0, read it, close). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** True when host:port (127.0.0.1 unless told) accepts a TCP connection within a second. */
export function tcpProbe(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

async function exists(p) {
  try { await stat(p); return true; } catch { return false; }
}

/**
 * Start the server binary on a free port with a fresh database.
 * opts: { bin, www, env, readyTimeout, probeHost (where readiness is probed: 127.0.0.1),
 *         port (listen there rather than on a free port: a restart on the same address),
 *         db (a database file that outlives this server; the caller removes it),
 *         readyLog (a RegExp: ready when stderr matches it, for a port another process already
 *         listens on with --reuse-port; pass --log-level info with it) }
 * Returns { port, url, httpUrl, proc, stderr(), stop(), sanitizerLines(), tmp }; the temporary
 * directory `tmp` is removed once the server has exited, however it ends.
 */
export async function startServer(extraArgs = [], opts = {}) {
  const bin = opts.bin || BIN;
  if (!(await exists(bin))) {
    throw new Error(`server binary not found: ${bin} (set PARLOR_BIN)`);
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'parlor-it-'));
  const www = opts.www || WWW;
  if (!(await exists(www))) {
    throw new Error(`www directory not found: ${www} (set PARLOR_WWW)`);
  }
  // opts.db: a database that outlives this server (restart tests); the caller removes it
  const db = opts.db || freshDb(tmp);
  const port = opts.port || await freePort();
  const args = ['--port', String(port), '--www', www, '--db', db,
    '--log-level', opts.readyLog ? 'info' : 'warn',
    '--questions', path.join(REPO, 'questions/parlor-core.jsonl'),
    ...extraArgs.map(String)];
  // The server also reads PARLOR_* variables; keep the caller's out of its way, except the
  // event loop, which the suites run under both of (tests/CMakeLists.txt).
  const env = Object.fromEntries(Object.entries(process.env)
    .filter(([k]) => !k.startsWith('PARLOR_') || k === 'PARLOR_EVENT_LIB'));
  const proc = spawn(bin, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...env, ...(opts.env || {}) },
  });
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { err += d; });
  let exitCode;
  let exitSignal;
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      resolve({ code, signal });
    });
  });
  // 'exit' may fire before stderr is fully drained; 'close' waits for the pipes.
  const closedPipes = new Promise((resolve) => proc.once('close', resolve));
  trackServer(proc, async () => {
    await closedPipes;
    await rm(tmp, { recursive: true, force: true });
  });
  let spawnError;
  proc.once('error', (e) => { spawnError = e; });

  const describeDeath = () =>
    `exit code ${exitCode}${exitSignal ? ` signal ${exitSignal}` : ''}\n--- stderr ---\n${err}`;

  const readyTimeout = opts.readyTimeout || READY_TIMEOUT;
  const deadline = Date.now() + readyTimeout;
  for (;;) {
    if (spawnError) throw new Error(`cannot spawn ${bin}: ${spawnError.message}`);
    if (exitCode !== undefined || exitSignal) {
      await closedPipes;
      await rm(tmp, { recursive: true, force: true });
      throw new Error(`server died during startup (${args.join(' ')}): ${describeDeath()}`);
    }
    if (opts.readyLog ? opts.readyLog.test(err) : await tcpProbe(port, opts.probeHost)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      await rm(tmp, { recursive: true, force: true });
      throw new Error(`server did not listen on ${port} within ${readyTimeout} ms (${args.join(' ')})\n` +
        `--- stderr ---\n${err}`);
    }
    await sleep(50);
  }

  let stopping;
  const server = {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    proc,
    tmp,
    args,
    stderr: () => err,
    exited,
    sanitizerLines: () =>
      err.split('\n').filter((l) => /AddressSanitizer|LeakSanitizer|runtime error:/.test(l)),
    /** SIGKILL, as a crash would; resolves when the process is gone. */
    async kill() {
      if (exitCode === undefined && !exitSignal) proc.kill('SIGKILL');
      await exited;
      await closedPipes;
      await rm(tmp, { recursive: true, force: true });
    },
    /** SIGTERM; resolves with the exit code (null if killed by a signal). */
    stop(timeout = 10000) {
      if (stopping) return stopping;
      stopping = (async () => {
        if (exitCode === undefined && !exitSignal) proc.kill('SIGTERM');
        let timer;
        const res = await Promise.race([
          exited,
          new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeout); }),
        ]);
        clearTimeout(timer);
        if (res === null) {
          proc.kill('SIGKILL');
          await exited;
          await closedPipes;
          await rm(tmp, { recursive: true, force: true });
          throw new Error(`server did not exit within ${timeout} ms of SIGTERM\n--- stderr ---\n${err}`);
        }
        await closedPipes;
        await rm(tmp, { recursive: true, force: true });
        return res.code;
      })();
      return stopping;
    },
  };
  return server;
}

/** Stop the server and assert a clean exit: code 0 and no sanitizer reports. */
export async function stopAndCheck(server) {
  if (!server) return;
  const code = await server.stop();
  assert.deepEqual(server.sanitizerLines(), [], `sanitizer reports:\n${server.stderr()}`);
  assert.equal(code, 0,
    `server exit code ${code} (signal ${server.proc.signalCode}) on SIGTERM\n--- stderr ---\n${server.stderr()}`);
}

function describeMsg(m) {
  const s = JSON.stringify(m);
  return s && s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

export class Client {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.log = [];        // every message received, in order
    this.rawLog = [];     // the same messages as received text
    this.inbox = [];      // received and not yet consumed by waitFor
    this.waiters = [];
    this.nextId = 0;
    this.closeInfo = null;
    this.pings = 0;       // WebSocket ping frames received from the server
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`${this.label}: connection closed (${code} ${this.closeInfo.reason}) ` +
            `while waiting for ${w.what}; unconsumed: ${this.inbox.map(describeMsg).join(' | ')}`));
        }
        resolve(this.closeInfo);
      });
    });
    ws.on('error', (e) => { this.lastError = e; });
    ws.on('ping', () => { this.pings++; });
    ws.on('message', (data, isBinary) => {
      let m;
      this.rawLog.push(isBinary ? data : data.toString());
      if (isBinary) {
        m = { type: '__binary__', data };
      } else {
        try { m = JSON.parse(data.toString()); } catch { m = { type: '__not_json__', raw: data.toString() }; }
      }
      this.log.push(m);
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(m);
      } else {
        this.inbox.push(m);
      }
    });
  }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  send(obj) { this.sendRaw(JSON.stringify(obj)); }

  sendRaw(data, opts = {}) {
    this.ws.send(data, { binary: false, ...opts }, () => { /* errors surface as close */ });
  }

  /** Resolve with (and consume) the first buffered or future message matching pred. */
  waitFor(pred, { timeout = DEFAULT_TIMEOUT, what = 'a matching message' } = {}) {
    const i = this.inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.closeInfo) {
      return Promise.reject(new Error(`${this.label}: connection already closed ` +
        `(${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}`));
    }
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject, what };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.label}: timed out after ${timeout} ms waiting for ${what}; ` +
          `unconsumed: ${this.inbox.slice(-10).map(describeMsg).join(' | ')}`));
      }, timeout);
      this.waiters.push(w);
    });
  }

  nextEvent(type, opts = {}) {
    return this.waitFor((m) => m.type === type, { what: `event '${type}'`, ...opts });
  }

  /** The reply (ok or error) whose re equals id. */
  reply(id, opts = {}) {
    return this.waitFor((m) => (m.type === 'ok' || m.type === 'error') && m.re === id,
      { what: `reply re=${JSON.stringify(id)}`, ...opts });
  }

  /** Send a request with a fresh integer id; resolve with its reply (ok or error). */
  request(type, fields = {}, opts = {}) {
    const id = ++this.nextId;
    this.send({ type, id, ...fields });
    return this.reply(id, { what: `reply to ${type} id=${id}`, ...opts });
  }

  /** Like request, but assert the reply is ok and return it. */
  async ok(type, fields = {}, opts = {}) {
    const r = await this.request(type, fields, opts);
    assert.equal(r.type, 'ok', `${this.label}: ${type} ${JSON.stringify(fields).slice(0, 200)} ` +
      `→ ${describeMsg(r)}`);
    return r;
  }

  /** Like request, but assert an error with the given code (and field for bad_request). */
  async err(type, fields, code, field) {
    const r = await this.request(type, fields);
    const ctx = `${this.label}: ${type} ${describeMsg(fields)} → ${describeMsg(r)}`;
    assert.equal(r.type, 'error', ctx);
    assert.equal(r.code, code, ctx);
    assert.equal(typeof r.message, 'string', `${ctx}: message must be a string`);
    if (field !== undefined) assert.equal(r.field, field, ctx);
    return r;
  }

  /** Unconsumed messages matching pred (does not consume). */
  pending(pred = () => true) { return this.inbox.filter(pred); }

  /** Drop every unconsumed message. */
  drain() { this.inbox.length = 0; }

  /** Round trip a ping, so everything the server queued before it has arrived. */
  async sync() { return this.ok('ping'); }

  close(code = 1000, reason) {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(code, reason);
    }
    return this.closed;
  }

  /** Resolve with {code, reason} when closed; reject if not closed within ms. */
  closedWithin(ms = DEFAULT_TIMEOUT, what = 'close') {
    return withTimeout(this.closed, ms, () => `${this.label}: no ${what} within ${ms} ms; last received: ` +
      `${this.log.slice(-3).map(describeMsg).join(' | ')}`);
  }

  /** Drop the TCP connection without a close handshake. */
  terminate() { this.ws.terminate(); return this.closed; }
}

/**
 * Open a WebSocket to url. protocol: subprotocol to offer (null for none).
 * Resolves with a Client once open; rejects if the handshake fails.
 */
export function connect(url, { protocol = 'parlor.v1', label = 'client', timeout = DEFAULT_TIMEOUT,
  wsOptions = {} } = {}) {
  return new Promise((resolve, reject) => {
    const ws = protocol === null
      ? new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeout, ...wsOptions })
      : new WebSocket(url, protocol, { perMessageDeflate: false, handshakeTimeout: timeout, ...wsOptions });
    // Attach the client before 'open' so no early message (welcome) is lost.
    const client = new Client(ws, label);
    let settled = false;
    const fail = (e) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(e);
    };
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      resolve(client);
    });
    ws.once('unexpected-response', (req, res) => {
      const e = new Error(`${label}: handshake refused with HTTP ${res.statusCode}`);
      e.statusCode = res.statusCode;
      res.resume();
      fail(e);
    });
    ws.once('error', (e) => fail(e));
  });
}

/** Connect and read the welcome (kept as c.welcome), without signing in. opts as connect's. */
export async function fresh(url, opts = {}) {
  const c = await connect(url, opts);
  c.welcome = await c.nextEvent('welcome');
  return c;
}

/** Connect, read the welcome, sign in as name, and join the given rooms. */
export async function signIn(url, name, { join = [], label = name, ...rest } = {}) {
  const c = await fresh(url, { label, ...rest });
  const r = await c.request('hello', { name });
  assert.equal(r.type, 'ok', `hello ${name} → ${describeMsg(r)}`);
  for (const room of join) {
    const j = await c.request('join', { room });
    assert.equal(j.type, 'ok', `${name} join ${room} → ${describeMsg(j)}`);
  }
  return c;
}

/** Race promise against a timer that is always cleared (so no timer keeps node alive). */
export async function withTimeout(promise, ms, message) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(typeof message === 'function' ? message() : message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

let nameCounter = 0;
/** A fresh valid user name, unique in this process. */
export function uniqueName(prefix = 'u') {
  nameCounter++;
  return `${prefix}${process.pid % 10000}_${nameCounter}`.slice(0, 24);
}

export function assertKeys(obj, keys, ctx = '') {
  assert.deepEqual(Object.keys(obj).sort(), [...keys].sort(),
    `${ctx} expected exactly the fields ${keys.join(',')}: ${describeMsg(obj)}`);
}

export function assertTimestamp(ts, ctx = '', slackMs = 5000) {
  assert.ok(Number.isInteger(ts), `${ctx} timestamp must be an integer: ${ts}`);
  assert.ok(Math.abs(ts - Date.now()) < slackMs, `${ctx} timestamp ${ts} too far from now ${Date.now()}`);
}

export { sleep, describeMsg };
