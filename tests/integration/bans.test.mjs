// Bans and mutes stored in SQLite survive a restart and are enforced (issue "storage"): a
// banned name cannot sign in (guest or account), a banned address cannot open a WebSocket,
// a muted user cannot say or whisper, and an expired ban is no ban.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, stopAndCheck, connect, fresh, signIn, dbQuery, freshDb } from './lib/harness.mjs';

const FAST = ['--scrypt-log2n', '12'];

const sqlite = dbQuery; // SQLite or PostgreSQL, whichever the suite runs on


describe('bans survive restarts and are enforced', () => {
  let dir;
  let db;
  let server;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-bans-'));
    db = freshDb(dir);
    server = await startServer(FAST, { db });
    const a = await fresh(server.url);
    await a.ok('register', { name: 'Outlaw', password: 'outlaw-pass' });
    await a.close();
    await stopAndCheck(server);
    const hour = Date.now() + 3600e3;
    sqlite(db, `INSERT INTO bans (kind, target, until, reason, created) VALUES
      ('name', 'Troll', NULL, 'spam', 1),
      ('name', 'OUTLAW', ${hour}, 'cheating', 1),
      ('name', 'pardoned', ${Date.now() - 1000}, 'expired', 1),
      ('address', '127.0.0.2', NULL, 'flood', 1),
      ('mute', 'quiet', ${hour}, 'shouting', 1)`);
    server = await startServer(FAST, { db });
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('a banned name cannot sign in as a guest, case-insensitively', async () => {
    const c = await fresh(server.url);
    const r = await c.request('hello', { name: 'troll' });
    assert.equal(r.code, 'not_allowed');
    assert.match(r.message, /banned/);
    assert.equal((await c.request('register', { name: 'TROLL', password: 'whatever1' })).code,
      'not_allowed');
    await c.close();
  });

  it('a banned account cannot log in until the ban ends; the message says until when', async () => {
    const c = await fresh(server.url);
    const r = await c.request('login', { name: 'outlaw', password: 'outlaw-pass' });
    assert.equal(r.code, 'not_allowed');
    assert.match(r.message, /banned until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    await c.close();
  });

  it('an expired ban is no ban', async () => {
    const c = await signIn(server.url, 'pardoned');
    await c.close();
  });

  it('a banned address cannot open a WebSocket; others can', async () => {
    const refused = await new Promise((resolve) => {
      const ws = new WebSocket(server.url, 'parlor.v1', { localAddress: '127.0.0.2' });
      ws.on('open', () => { ws.close(); resolve(false); });
      ws.on('error', () => resolve(true));
      ws.on('unexpected-response', () => resolve(true));
    });
    assert.equal(refused, true, 'the banned address got a WebSocket');
    const ok = await signIn(server.url, 'fromloopback');
    await ok.close();
  });

  it('a muted user can sign in and read, but not say or whisper', async () => {
    const other = await signIn(server.url, 'listener', { join: ['lobby'] });
    const q = await signIn(server.url, 'Quiet', { join: ['lobby'] });
    const r = await q.request('say', { room: 'lobby', text: 'hello?' });
    assert.equal(r.code, 'not_allowed');
    assert.match(r.message, /muted until/);
    assert.equal((await q.request('whisper', { to: 'listener', text: 'psst' })).code, 'not_allowed');
    await other.ok('say', { room: 'lobby', text: 'you can still read' });
    const ev = await q.nextEvent('chat');
    assert.equal(ev.text, 'you can still read');
    await Promise.all([q.close(), other.close()]);
  });
});
