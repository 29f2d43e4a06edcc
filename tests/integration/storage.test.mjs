// Persistence of chat (issue "storage"): acknowledged messages survive a restart and a
// kill -9, the lobby's history and seq continue, new rooms never reuse an id whose history is
// stored, `history` pages back through the database, and the file passes integrity_check.
// Runs on SQLite and again on PostgreSQL (integration_pg_storage: PARLOR_TEST_PG).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, signIn, NO_RATE_LIMITS, dbQuery, freshDb, DB_ENGINE } from './lib/harness.mjs';

const sqlite = dbQuery; // SQLite or PostgreSQL, whichever the suite runs on

describe('storage: chat survives restarts', () => {
  let dir;
  let db;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-store-'));
    db = freshDb(dir);
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('lobby history, seq and room ids continue after a clean restart', async () => {
    let server = await startServer(NO_RATE_LIMITS, { db });
    const a = await signIn(server.url, 'keeper', { join: ['lobby'] });
    for (let i = 1; i <= 60; i++) {
      const r = await a.ok('say', { room: 'lobby', text: `m${i}` });
      assert.equal(r.seq, i);
    }
    const { room } = await a.ok('create', { name: 'side' });
    assert.equal(room.id, 'r1');
    await a.ok('say', { room: 'r1', text: 'in the side room' });
    await a.close();
    await stopAndCheck(server);

    server = await startServer(NO_RATE_LIMITS, { db });
    const b = await signIn(server.url, 'returner');
    const j = await b.ok('join', { room: 'lobby' });
    assert.deepEqual(j.history.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 11));
    assert.equal(j.history.at(-1).text, 'm60');
    assert.equal(j.history.at(-1).from, 'keeper');
    const r = await b.ok('say', { room: 'lobby', text: 'after restart' });
    assert.equal(r.seq, 61, 'seq continues where it stopped');
    // r1 has stored history: a new room must not inherit it
    const c = await b.ok('create', { name: 'new side' });
    assert.equal(c.room.id, 'r2');
    const h = await b.ok('history', { room: 'r2' });
    assert.deepEqual(h.messages, []);
    await b.close();
    await stopAndCheck(server);
    if (DB_ENGINE === 'sqlite') assert.equal(sqlite(db, 'PRAGMA integrity_check'), 'ok');
  });

  it('history pages back through the database, oldest first', async () => {
    const server = await startServer(NO_RATE_LIMITS, { db });
    const a = await signIn(server.url, 'pager', { join: ['lobby'] });
    // the previous test left seq 1..61 in the lobby
    const last = await a.ok('history', { room: 'lobby', limit: 5 });
    assert.deepEqual(last.messages.map((m) => m.seq), [57, 58, 59, 60, 61]);
    assert.deepEqual(Object.keys(last.messages[0]).sort(), ['from', 'room', 'seq', 'text', 'ts', 'type']);
    const page = await a.ok('history', { room: 'lobby', before: 11, limit: 200 });
    assert.deepEqual(page.messages.map((m) => m.seq), Array.from({ length: 10 }, (_, i) => i + 1));
    assert.equal(page.messages[0].text, 'm1');
    const dflt = await a.ok('history', { room: 'lobby' });
    assert.equal(dflt.messages.length, 50);
    // a message just acknowledged is visible to the next read
    const r = await a.ok('say', { room: 'lobby', text: 'fresh' });
    const now = await a.ok('history', { room: 'lobby', limit: 1 });
    assert.deepEqual(now.messages.map((m) => [m.seq, m.text]), [[r.seq, 'fresh']]);

    assert.equal((await a.request('history', { room: 'lobby', limit: 201 })).field, 'limit');
    assert.equal((await a.request('history', { room: 'lobby', before: 0 })).field, 'before');
    assert.equal((await a.request('history', { room: 'nowhere' })).code, 'no_such_room');
    await a.ok('leave', { room: 'lobby' });
    assert.equal((await a.request('history', { room: 'lobby' })).code, 'not_in_room');
    await a.close();
    await stopAndCheck(server);
  });

  it('kill -9: every acknowledged message is on disk and the file is intact', async () => {
    const server = await startServer(NO_RATE_LIMITS, { db });
    const clients = await Promise.all(
      ['k1', 'k2', 'k3'].map((n) => signIn(server.url, n, { join: ['lobby'] })));
    const acked = [];
    // many messages in flight at once, so they are committed in shared batches
    await Promise.all(clients.map(async (c, ci) => {
      const replies = await Promise.all(Array.from({ length: 100 }, (_, i) =>
        c.request('say', { room: 'lobby', text: `kill ${ci}-${i}` })));
      for (const r of replies) {
        assert.equal(r.type, 'ok', JSON.stringify(r));
        acked.push(r.seq);
      }
    }));
    await server.kill();

    const stored = new Set(sqlite(db, "SELECT seq FROM messages WHERE room = 'lobby' AND text LIKE 'kill %'")
      .split('\n').map(Number));
    const missing = acked.filter((seq) => !stored.has(seq));
    assert.deepEqual(missing, [], 'acknowledged messages missing after kill -9');
    assert.equal(stored.size, 300);
    if (DB_ENGINE === 'sqlite') assert.equal(sqlite(db, 'PRAGMA integrity_check'), 'ok');

    // and the server starts again on that file
    const again = await startServer(NO_RATE_LIMITS, { db });
    const c = await signIn(again.url, 'after-kill');
    const j = await c.ok('join', { room: 'lobby' });
    assert.equal(j.history.length, 50);
    await c.close();
    await stopAndCheck(again);
  });
});

describe('storage: hot backups', () => {
  it('SQLite backs up; PostgreSQL answers 501 and points to pg_dump', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-bk-'));
    const server = await startServer(['--admin-token', 'tok-123', '--backup-dir', dir]);
    try {
      const r = await fetch(`${server.httpUrl}/admin/backup`, {
        method: 'POST', headers: { authorization: 'Bearer tok-123' },
      });
      const body = await r.json();
      if (DB_ENGINE === 'sqlite') {
        assert.equal(r.status, 202, JSON.stringify(body));
      } else {
        assert.equal(r.status, 501, JSON.stringify(body));
        assert.match(body.error, /pg_dump or pg_basebackup/);
      }
      await stopAndCheck(server);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('storage: a PostgreSQL URI', () => {
  // Needs no PostgreSQL: the server must fail to connect and say so without the password.
  it('an unreachable server stops parlor with a reason that hides the password', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-nopg-'));
    try {
      await assert.rejects(
        startServer([], { db: `postgresql://parlor:s3cret-pw@/parlor?host=${dir}&password=other-pw` }),
        (e) => /parlor-server: database 'postgresql:\/\/parlor:\*\*\*@\/parlor\?host=.*&password=\*\*\*'/.test(e.message) &&
          !/s3cret-pw|other-pw/.test(e.message.replace(/\(--port.*?\)/, '')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('storage: bad database path', { skip: DB_ENGINE !== 'sqlite' && 'SQLite files only' }, () => {
  // The database opens before the port does: the harness never sees a server that listens and
  // then dies, however slow its startup (valgrind).
  it('a database that cannot be opened stops the server with a one-line reason', async () => {
    await assert.rejects(
      startServer([], { db: '/nonexistent-dir/parlor.db' }),
      (e) => /parlor-server: database '\/nonexistent-dir\/parlor.db': unable to open/.test(e.message));
  });

  it('the port stays closed until the database is open', async () => {
    // Another program holds the database locked: the server waits out its busy timeout (5 s)
    // and gives up. All that time it must not listen, or a client (or a load balancer) would
    // find a server that then dies.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-lock-'));
    const db = freshDb(dir);
    const holder = spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      holder.stdout.setEncoding('utf8');
      const locked = new Promise((resolve) => {
        holder.stdout.on('data', (d) => { if (d.includes('locked')) resolve(); });
      });
      holder.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
      await locked;
      await assert.rejects(startServer([], { db }),
        (e) => /died during startup/.test(e.message) && /exit code 1/.test(e.message) &&
          /parlor-server: database '.*': database is locked/.test(e.message));
    } finally {
      holder.stdin.end();
      if (holder.exitCode === null && holder.signalCode === null) await once(holder, 'exit');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
