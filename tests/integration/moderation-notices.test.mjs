// What operators do reaches the player (PROTOCOL.md "muted", "unmuted", "banned"; ADMIN.md
// `room_chat`): a mute is announced on the player's connection when it starts, when it is
// lifted and at sign-in; a ban is explained before the close and at sign-in with `until` and
// `reason` as data; the console lists a room's recent chat with seqs, to delete one; a drain
// ends with a clean 1001 close.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, signIn } from './lib/harness.mjs';

const TOKEN = 'notices-token';

async function console_(server) {
  const c = await connect(`ws://127.0.0.1:${server.port}/admin/ws`, { protocol: 'parlor-admin.v1' });
  await c.ok('auth', { token: TOKEN });
  return c;
}

describe('moderation notices', () => {
  let server;
  before(async () => { server = await startServer(['--admin-token', TOKEN]); });
  after(async () => { await stopAndCheck(server); });

  it('a mute is told when it starts and ends, and again at sign-in while it lasts', async () => {
    const c = await console_(server);
    const loud = await signIn(server.url, 'Loud', { join: ['lobby'] });
    const m = await c.ok('mute', { name: 'loud', minutes: 5, reason: 'shouting' });
    assert.deepEqual(await loud.nextEvent('muted'), { type: 'muted', until: m.until, reason: 'shouting' });
    const refused = await loud.request('say', { room: 'lobby', text: 'hey' });
    assert.equal(refused.code, 'not_allowed');
    assert.equal(refused.until, m.until);
    assert.equal(refused.reason, 'shouting');

    await loud.close();
    const again = await connect(server.url);
    const ok = await again.ok('hello', { name: 'LOUD' });
    assert.equal(ok.name, 'LOUD');
    assert.deepEqual(await again.nextEvent('muted'), { type: 'muted', until: m.until, reason: 'shouting' });

    await c.ok('unban', { kind: 'mute', target: 'loud' });
    assert.deepEqual(await again.nextEvent('unmuted'), { type: 'unmuted' });
    await again.ok('join', { room: 'lobby' });
    await again.ok('say', { room: 'lobby', text: 'free again' });
    assert.equal((await c.request('mute', { name: 'loud', minutes: 5, reason: '' })).code, 'bad_request');
    await Promise.all([again.close(), c.close()]);
  });

  it('a ban is explained before the close, and at sign-in, with until and reason', async () => {
    const c = await console_(server);
    const troll = await signIn(server.url, 'Troll');
    const b = await c.ok('ban', { kind: 'name', target: 'troll', minutes: 60, reason: 'insults' });
    assert.deepEqual(await troll.nextEvent('banned'), { type: 'banned', until: b.until, reason: 'insults' });
    assert.deepEqual(await troll.closed, { code: 1008, reason: 'banned' });

    const back = await connect(server.url);
    const e = await back.request('hello', { name: 'troll' });
    assert.equal(e.code, 'not_allowed');
    assert.equal(e.until, b.until);
    assert.equal(e.reason, 'insults');
    await back.close();

    await c.ok('ban', { kind: 'name', target: 'forever', reason: undefined });
    const f = await connect(server.url);
    const e2 = await f.request('hello', { name: 'Forever' });
    assert.equal(e2.code, 'not_allowed');
    assert.equal(e2.until, null);
    assert.ok(!('reason' in e2));
    await c.ok('unban', { kind: 'name', target: 'troll' });
    await c.ok('unban', { kind: 'name', target: 'forever' });
    await Promise.all([f.close(), c.close()]);
  });

  it('room_chat lists recent messages with seqs, pages with before, filters with q', async () => {
    const c = await console_(server);
    const p = await signIn(server.url, 'Chatty', { join: ['lobby'] });
    const seqs = [];
    for (const text of ['one', 'two', 'Three', 'four']) seqs.push((await p.ok('say', { room: 'lobby', text })).seq);
    const all = await c.ok('room_chat', { room: 'lobby', limit: 3 });
    assert.equal(all.room, 'lobby');
    assert.deepEqual(all.messages.map((m) => m.text), ['two', 'Three', 'four']);
    assert.deepEqual(Object.keys(all.messages[0]).sort(), ['from', 'seq', 'text', 'ts']);
    assert.equal(all.messages[2].seq, seqs[3]);
    const older = await c.ok('room_chat', { room: 'lobby', before: seqs[1], limit: 5 });
    assert.deepEqual(older.messages.map((m) => m.text).slice(-1), ['one']);
    const found = await c.ok('room_chat', { room: 'lobby', q: 'thr' });
    assert.deepEqual(found.messages.map((m) => m.seq), [seqs[2]]);
    await c.ok('delete_message', { room: 'lobby', seq: seqs[2] });
    assert.deepEqual((await c.ok('room_chat', { room: 'lobby', q: 'thr' })).messages, []);
    assert.equal((await c.request('room_chat', { room: 'nowhere' })).code, 'no_such_room');
    assert.equal((await c.request('room_chat', { room: 'lobby', limit: 0 })).field, 'limit');
    await Promise.all([p.close(), c.close()]);
  });
});
