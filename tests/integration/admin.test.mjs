// The operator's console protocol (protocol/ADMIN.md) over the real server: the token is
// required and guessing is slowed down; figures are pushed each second; announce, kick, mute,
// ban (surviving a restart), unban, close a room, delete a message and drain all work, and
// player sockets cannot speak it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, connect, signIn, NO_RATE_LIMITS } from './lib/harness.mjs';

const TOKEN = 'console-token';

function adminUrl(server) {
  return `ws://127.0.0.1:${server.port}/admin/ws`;
}

async function console_(server, token = TOKEN) {
  const c = await connect(adminUrl(server), { protocol: 'parlor-admin.v1' });
  const r = await c.request('auth', { token });
  return { c, r };
}

describe('admin console protocol', () => {
  let dir;
  let db;
  let server;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-admin-'));
    db = path.join(dir, 'parlor.db');
    server = await startServer(['--admin-token', TOKEN], { db });
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('is disabled (403) on a server without --admin-token', async () => {
    const plain = await startServer([]);
    await assert.rejects(connect(adminUrl(plain), { protocol: 'parlor-admin.v1' }),
      (e) => e.statusCode === 403);
    await stopAndCheck(plain);
  });

  it('a wrong token closes with 1008; repeated failures lock the address out', async () => {
    for (let i = 0; i < 3; i++) {
      const c = await connect(adminUrl(server), { protocol: 'parlor-admin.v1', wsOptions: { localAddress: '127.0.0.9' } });
      c.send({ type: 'auth', id: 1, token: 'guess' });
      const closed = await c.closed;
      assert.deepEqual([closed.code, closed.reason], [1008, 'bad token']);
    }
    const c = await connect(adminUrl(server), { protocol: 'parlor-admin.v1', wsOptions: { localAddress: '127.0.0.9' } });
    c.send({ type: 'auth', id: 1, token: TOKEN }); // even the right token waits now
    assert.equal((await c.closed).reason, 'too many attempts');
    const { r, c: ok } = await console_(server); // other addresses are unaffected
    assert.equal(r.type, 'ok');
    await ok.close();
  });

  it('requests before auth close the socket; player sockets cannot send admin requests', async () => {
    const c = await connect(adminUrl(server), { protocol: 'parlor-admin.v1' });
    c.send({ type: 'rooms', id: 1 });
    assert.equal((await c.closed).code, 1008);
    const p = await signIn(server.url, 'sneaky');
    assert.equal((await p.request('kick', { name: 'sneaky' })).code, 'unknown_type');
    await p.close();
  });

  it('auth returns history and log; stats are pushed every second', async () => {
    const { c, r } = await console_(server);
    assert.ok(Array.isArray(r.history));
    assert.ok(Array.isArray(r.log));
    const s1 = await c.nextEvent('stats', { timeout: 3000 });
    for (const k of ['connections', 'users', 'rooms', 'games', 'messages_in_per_s', 'db_queue',
      'db_p99_us', 'rss_bytes', 'cpu_percent', 'peak_connections', 'uptime_s', 'draining']) {
      assert.ok(k in s1, `stats has ${k}`);
    }
    const p = await signIn(server.url, 'counted');
    const s2 = await c.waitFor((m) => m.type === 'stats' && m.users > s1.users, { timeout: 4000 });
    assert.ok(s2.connections >= 2);
    await p.close();
    await c.close();
  });

  it('users and rooms; announce reaches every player; kick closes with the reason', async () => {
    const { c } = await console_(server);
    const ann = await signIn(server.url, 'AnnPlayer', { join: ['lobby'] });
    const bob = await signIn(server.url, 'BobPlayer');
    const users = await c.ok('users', { q: 'annp' });
    assert.deepEqual(users.users.map((u) => u.name), ['AnnPlayer']);
    assert.deepEqual(users.users[0].rooms, ['lobby']);
    assert.equal(users.users[0].address, '127.0.0.1');
    assert.equal(users.users[0].account, false);
    assert.ok((await c.ok('rooms')).rooms.some((r) => r.id === 'lobby'));
    for (const q of [5, null, true, ['annp'], { name: 'annp' }]) {
      const bad = await c.request('users', { q });
      assert.deepEqual([bad.type, bad.code, bad.field], ['error', 'bad_request', 'q'], JSON.stringify(q));
    }
    assert.ok((await c.ok('users', { q: '' })).users.length >= 2, 'an empty q matches everyone');

    const sent = await c.ok('announce', { text: 'Server news' });
    assert.ok(sent.recipients >= 2);
    for (const p of [ann, bob]) assert.equal((await p.nextEvent('announce')).text, 'Server news');

    await c.ok('kick', { name: 'bobplayer', reason: 'spam' });
    assert.deepEqual(await bob.closed, { code: 1008, reason: 'kicked: spam' });
    assert.equal((await c.request('kick', { name: 'nobody' })).code, 'no_such_user');
    const log = await c.waitFor((m) => m.type === 'log' && /kick BobPlayer/.test(m.text));
    assert.equal(log.level, 'info');
    await Promise.all([ann.close(), c.close()]);
  });

  it('mute, close a room, delete a message', async () => {
    const { c } = await console_(server);
    const loud = await signIn(server.url, 'loud', { join: ['lobby'] });
    const m = await c.ok('mute', { name: 'loud', minutes: 5 });
    assert.ok(m.until > Date.now());
    assert.equal((await loud.request('say', { room: 'lobby', text: 'hey' })).code, 'not_allowed');
    await c.ok('unban', { kind: 'mute', target: 'loud' });
    const said = await loud.ok('say', { room: 'lobby', text: 'to be deleted' });

    const del = await c.ok('delete_message', { room: 'lobby', seq: said.seq });
    assert.equal(del.deleted, true);
    assert.deepEqual(await loud.nextEvent('chat_deleted'), { type: 'chat_deleted', room: 'lobby', seq: said.seq });
    const h = await loud.ok('history', { room: 'lobby' });
    assert.ok(!h.messages.some((x) => x.seq === said.seq), 'gone from history');
    // deleting it again deletes nothing, and says so; no second chat_deleted goes out
    assert.equal((await c.ok('delete_message', { room: 'lobby', seq: said.seq })).deleted, false);
    const marker = await loud.ok('say', { room: 'lobby', text: 'after' });
    await loud.waitFor((m) => m.type === 'chat' && m.seq === marker.seq);
    assert.equal(loud.log.filter((m) => m.type === 'chat_deleted').length, 1);
    // a seq the room has not reached is not a message at all
    const beyond = await c.request('delete_message', { room: 'lobby', seq: marker.seq + 1 });
    assert.deepEqual([beyond.code, beyond.field], ['bad_request', 'seq']);

    const { room } = await loud.ok('create', { name: 'Doomed' });
    await c.ok('close_room', { room: room.id });
    assert.deepEqual(await loud.nextEvent('room_closed'), { type: 'room_closed', room: room.id });
    assert.equal((await loud.request('say', { room: room.id, text: 'x' })).code, 'no_such_room');
    assert.equal((await c.request('close_room', { room: 'lobby' })).code, 'not_allowed');
    await Promise.all([loud.close(), c.close()]);
  });

  it('a ban closes the player, survives a restart and refuses sign-in; unban lifts it', async () => {
    const { c } = await console_(server);
    const troll = await signIn(server.url, 'Troll');
    const b = await c.ok('ban', { kind: 'name', target: 'troll', reason: 'abuse' });
    assert.equal(b.until, null);
    assert.deepEqual(await troll.closed, { code: 1008, reason: 'banned' });
    await c.close();

    await stopAndCheck(server);
    server = await startServer(['--admin-token', TOKEN], { db });
    const again = await connect(server.url);
    await again.nextEvent('welcome');
    assert.equal((await again.request('hello', { name: 'TROLL' })).code, 'not_allowed');
    const { c: c2 } = await console_(server);
    await c2.ok('unban', { kind: 'name', target: 'troll' });
    await again.ok('hello', { name: 'troll' });
    await Promise.all([again.close(), c2.close()]);
  });

  it('address bans: only addresses and prefixes, matched by prefix, stored canonical, unban exact', async () => {
    const from = (addr) => ({ wsOptions: { localAddress: addr } });
    const refused = (addr) => assert.rejects(connect(server.url, from(addr)),
      (e) => e.statusCode === 403, `${addr} got a WebSocket`);
    const { c } = await console_(server);
    for (const target of ['not-an-ip', '127.0.0.2/33', '127.0.0.1/', '010.0.0.1', '127.0.0.5/30', '']) {
      const r = await c.request('ban', { kind: 'address', target });
      assert.deepEqual([r.type, r.code, r.field], ['error', 'bad_request', 'target'], target);
    }
    assert.match((await c.request('ban', { kind: 'address', target: '127.0.0.5/30' })).message,
      /127\.0\.0\.4\/30/, 'the refusal names the network');
    assert.equal((await c.request('unban', { kind: 'address', target: 'nonsense' })).field, 'target');

    // 127.0.0.4/30 is .4 to .7 (the console's 127.0.0.1 stays out of it)
    const inside = await signIn(server.url, 'inside', from('127.0.0.5'));
    const outside = await signIn(server.url, 'outside', from('127.0.0.8'));
    const b = await c.ok('ban', { kind: 'address', target: '::FFFF:127.0.0.4/126', reason: 'flood' });
    assert.deepEqual([b.target, b.until], ['127.0.0.4/30', null], 'stored as the IPv4 prefix');
    assert.deepEqual(await inside.closed, { code: 1008, reason: 'banned' });
    await refused('127.0.0.7');
    const again = await signIn(server.url, 'outside2', from('127.0.0.8'));
    const single = await c.ok('ban', { kind: 'address', target: '127.0.0.10/32', minutes: 5 });
    assert.equal(single.target, '127.0.0.10');
    await refused('127.0.0.10');

    // a restart keeps both rules
    await Promise.all([outside.close(), again.close(), c.close()]);
    await stopAndCheck(server);
    server = await startServer(['--admin-token', TOKEN], { db });
    await refused('127.0.0.6');
    await refused('127.0.0.10');

    // unban lifts exactly the rule it names, in any spelling of it
    const { c: c2 } = await console_(server);
    assert.equal((await c2.ok('unban', { kind: 'address', target: '127.0.0.6' })).lifted, false);
    await refused('127.0.0.6');
    assert.equal((await c2.ok('unban', { kind: 'address', target: '127.0.0.4/30' })).lifted, true);
    const back = await signIn(server.url, 'back', from('127.0.0.6'));
    assert.equal((await c2.ok('unban', { kind: 'address', target: '::ffff:127.0.0.10' })).lifted, true);
    const back2 = await signIn(server.url, 'back2', from('127.0.0.10'));
    await Promise.all([back.close(), back2.close(), c2.close()]);

    // and the unban is stored: after a restart the addresses are still welcome
    await stopAndCheck(server);
    server = await startServer(['--admin-token', TOKEN], { db });
    const later = await signIn(server.url, 'later', from('127.0.0.6'));
    await later.close();
  });

  it('delete_message beyond the recent history: the database says whether it was there', async () => {
    const s2 = await startServer(['--admin-token', TOKEN, '--history', '2', ...NO_RATE_LIMITS]);
    try {
      const p = await signIn(s2.url, 'talker', { join: ['lobby'] });
      const seqs = [];
      for (let i = 0; i < 5; i++) seqs.push((await p.ok('say', { room: 'lobby', text: `m${i}` })).seq);
      const { c } = await console_(s2);
      // the first message is only in the database now
      assert.equal((await c.ok('delete_message', { room: 'lobby', seq: seqs[0] })).deleted, true);
      assert.deepEqual(await p.nextEvent('chat_deleted'), { type: 'chat_deleted', room: 'lobby', seq: seqs[0] });
      assert.equal((await c.ok('delete_message', { room: 'lobby', seq: seqs[0] })).deleted, false);
      const h = await p.ok('history', { room: 'lobby', before: seqs[2] });
      assert.deepEqual(h.messages.map((m) => m.seq), [seqs[1]]);
      await Promise.all([p.close(), c.close()]);
    } finally {
      await stopAndCheck(s2);
    }
  });

  it("a worker's database failure reaches the console's log with SQLite's words, and /healthz", async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'parlor-admin-fail-'));
    const file = path.join(d, 'parlor.db');
    const s2 = await startServer(['--admin-token', TOKEN], { db: file });
    try {
      const p = await signIn(s2.url, 'writer', { join: ['lobby'] });
      await p.ok('say', { room: 'lobby', text: 'saved' });
      // the next chat line cannot be saved: a trigger refuses it, in the server's own database
      execFileSync('sqlite3', [file, "CREATE TRIGGER no_more BEFORE INSERT ON messages " +
        "BEGIN SELECT RAISE(ABORT, 'the disk says no'); END;"]);
      const { c } = await console_(s2);
      const r = await p.request('say', { room: 'lobby', text: 'lost' });
      assert.equal(r.code, 'internal', JSON.stringify(r));
      const log = await c.waitFor((m) => m.type === 'log' && /could not be saved/.test(m.text));
      assert.equal(log.level, 'error');
      assert.match(log.text, /the disk says no/);
      // /healthz says saving fails, while the node still serves (200); /metrics counts it
      const health = async () => (await fetch(`${s2.httpUrl}/healthz`)).json();
      let h = await health();
      assert.equal(h.status, 'ok');
      assert.equal(h.store, 'degraded');
      assert.equal(h.store_failing, 1);
      const metrics = await (await fetch(`${s2.httpUrl}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` } })).text();
      assert.match(metrics, /^parlor_store_failing 1$/m);
      // the next save that works ends it
      execFileSync('sqlite3', [file, 'DROP TRIGGER no_more']);
      assert.equal(typeof (await p.ok('say', { room: 'lobby', text: 'saved again' })).seq, 'number');
      h = await health();
      assert.equal(h.store, 'ok');
      assert.equal(h.store_failing, 0);
      await Promise.all([p.close(), c.close()]);
    } finally {
      await stopAndCheck(s2);
      await rm(d, { recursive: true, force: true });
    }
  });

  it('drain from the console: players are told and the server exits 0', async () => {
    const s2 = await startServer(['--admin-token', TOKEN]);
    const p = await signIn(s2.url, 'leaver');
    const { c } = await console_(s2);
    await c.ok('drain', { seconds: 5 });
    assert.equal((await p.nextEvent('shutdown')).seconds, 5);
    assert.equal((await p.closed).code, 1001);
    assert.equal((await s2.exited).code, 0);
    assert.deepEqual(s2.sanitizerLines(), []);
    await s2.stop();
  });
});
