// Moderation across nodes (ADMIN.md "In a cluster"): two nodes (own ports, one SQLite file)
// joined through one Redis. What an operator does on node a's console reaches the players on
// node b: a ban closes b's socket (after `banned`) and b refuses the name at hello; a mute is
// told on b and b refuses the say; a kick, an announcement, closing a room that lives on b and
// deleting a message said on b; an unban and an unmute lift them on b. Both consoles list both
// nodes with their figures.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stopAndCheck, connect, fresh, signIn, uniqueName, sleep } from '../lib/harness.mjs';
import { startRedis, startNode } from '../lib/cluster.mjs';

const TOKEN = 'cluster-console';

let redis;
let a;
let b;
let dir;

before(async () => {
  redis = await startRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-cluster-mod-'));
  const db = path.join(dir, 'parlor.db');
  const flags = ['--admin-token', TOKEN, '--rejoin-seconds', '0'];
  a = await startNode(redis, 'a', flags, { db });
  b = await startNode(redis, 'b', flags, { db });
});

after(async () => {
  if (b) await stopAndCheck(b);
  if (a) await stopAndCheck(a);
  await rm(dir, { recursive: true, force: true });
});

async function console_(node) {
  const c = await connect(`ws://127.0.0.1:${node.port}/admin/ws`, { protocol: 'parlor-admin.v1' });
  await c.ok('auth', { token: TOKEN });
  return c;
}

// Node b hears of actions on parlor:admin once its subscription is confirmed: until then a
// published action would reach nobody. The console's nodes list says when both nodes have
// written their figures, which they do once their link is up; the subscription is made on the
// same link before the first figures, so one more announcement that b's player hears settles it.
async function waitBothListening(c, player) {
  for (let i = 0; ; i++) {
    await c.ok('announce', { text: `probe ${i}` });
    const got = await player.waitFor((m) => m.type === 'announce', { timeout: 300 }).catch(() => null);
    if (got) return;
    assert.ok(i < 50, 'node b never heard an announcement made on node a');
  }
}

test('a ban on one node closes the player on the other, which then refuses the name', async () => {
  const c = await console_(a);
  const name = uniqueName('troll');
  const troll = await signIn(b.url, name);
  await waitBothListening(c, troll);
  const t0 = Date.now();
  const ban = await c.ok('ban', { kind: 'name', target: name, minutes: 60, reason: 'insults' });
  assert.deepEqual(await troll.nextEvent('banned'), { type: 'banned', until: ban.until, reason: 'insults' });
  assert.deepEqual(await troll.closed, { code: 1008, reason: 'banned' });
  console.log(`ban on a closed the socket on b after ${Date.now() - t0} ms`);

  const back = await fresh(b.url);
  const e = await back.request('hello', { name });
  assert.deepEqual([e.type, e.code, e.until, e.reason], ['error', 'not_allowed', ban.until, 'insults']);
  await back.close();

  // lifted on a: b lets the name in again
  assert.equal((await c.ok('unban', { kind: 'name', target: name })).lifted, true);
  let r;
  for (let i = 0; i < 100; i++) {
    const again = await fresh(b.url);
    r = await again.request('hello', { name });
    await again.close();
    if (r.type === 'ok') break;
    await sleep(20);
  }
  assert.equal(r.type, 'ok', `hello on b after the unban → ${JSON.stringify(r)}`);
  await c.close();
});

test('a ban by address closes the matching players on the other node', async () => {
  const c = await console_(a);
  const p = await signIn(b.url, uniqueName('addr'), { wsOptions: { localAddress: '127.0.0.7' } });
  await waitBothListening(c, p);
  await c.ok('ban', { kind: 'address', target: '127.0.0.7', minutes: 5 });
  assert.equal((await p.nextEvent('banned')).type, 'banned');
  assert.deepEqual(await p.closed, { code: 1008, reason: 'banned' });
  await c.ok('unban', { kind: 'address', target: '127.0.0.7' });
  await c.close();
});

test('a mute on one node is told on the other, which refuses the say; unmute lifts it', async () => {
  const c = await console_(a);
  const name = uniqueName('loud');
  const loud = await signIn(b.url, name, { join: ['lobby'] });
  await waitBothListening(c, loud);
  const m = await c.ok('mute', { name, minutes: 5, reason: 'shouting' });
  assert.deepEqual(await loud.nextEvent('muted'), { type: 'muted', until: m.until, reason: 'shouting' });
  const refused = await loud.request('say', { room: 'lobby', text: 'hey' });
  assert.deepEqual([refused.code, refused.until, refused.reason], ['not_allowed', m.until, 'shouting']);

  await c.ok('unban', { kind: 'mute', target: name });
  assert.deepEqual(await loud.nextEvent('unmuted'), { type: 'unmuted' });
  await loud.ok('say', { room: 'lobby', text: 'free again' });
  await Promise.all([loud.close(), c.close()]);
});

test('kick and announce reach the players of every node', async () => {
  const c = await console_(a);
  const here = await signIn(a.url, uniqueName('here'));
  const there = await signIn(b.url, uniqueName('there'));
  await waitBothListening(c, there);
  const sent = await c.ok('announce', { text: 'Server news' });
  assert.ok(sent.recipients >= 1, 'the reply counts the players of node a');
  assert.equal((await here.waitFor((m) => m.type === 'announce' && m.text === 'Server news')).text, 'Server news');
  assert.equal((await there.waitFor((m) => m.type === 'announce' && m.text === 'Server news')).text, 'Server news');

  await c.ok('kick', { name: there.label, reason: 'spam' });
  assert.deepEqual(await there.closed, { code: 1008, reason: 'kicked: spam' });
  await Promise.all([here.close(), c.close()]);
});

test('close_room on one node closes the room whose members are on the other', async () => {
  const c = await console_(a);
  const host = await signIn(b.url, uniqueName('host'));
  await waitBothListening(c, host);
  const { room } = await host.ok('create', { name: 'Doomed' });
  await c.ok('close_room', { room: room.id });
  assert.deepEqual(await host.nextEvent('room_closed'), { type: 'room_closed', room: room.id });
  const gone = await host.request('say', { room: room.id, text: 'anyone?' });
  assert.equal(gone.type, 'error');
  assert.equal((await c.request('close_room', { room: 'lobby' })).code, 'not_allowed');
  await Promise.all([host.close(), c.close()]);
});

test('a message said on one node and deleted on the other is gone there too', async () => {
  const c = await console_(a);
  const speaker = await signIn(b.url, uniqueName('speaker'), { join: ['lobby'] });
  const reader = await signIn(b.url, uniqueName('reader'), { join: ['lobby'] });
  await waitBothListening(c, speaker);
  const said = await speaker.ok('say', { room: 'lobby', text: 'delete me' });
  const ev = await reader.waitFor((m) => m.type === 'chat' && m.text === 'delete me');
  assert.equal(ev.seq, said.seq);

  const streamed = () => redis.cli('XRANGE', 'parlor:room:lobby:stream', `0-${said.seq}`, `0-${said.seq}`);
  assert.match(streamed(), /delete me/);
  const del = await c.ok('delete_message', { room: 'lobby', seq: said.seq });
  assert.equal(del.deleted, true);
  for (const p of [speaker, reader])
    assert.deepEqual(await p.nextEvent('chat_deleted'), { type: 'chat_deleted', room: 'lobby', seq: said.seq });

  // gone from the room's stream, from which a node repairing a gap would deliver it again
  assert.equal(streamed(), '');
  // gone from b's history: a newcomer on b does not see it
  const late = await fresh(b.url);
  await late.ok('hello', { name: uniqueName('late') });
  const j = await late.ok('join', { room: 'lobby' });
  assert.ok(!j.history.some((m) => m.seq === said.seq), 'the deleted message left b\'s history');
  await Promise.all([speaker.close(), reader.close(), late.close(), c.close()]);
});

test('each console lists every node with its figures', async () => {
  for (const [node, other] of [[a, b], [b, a]]) {
    const c = await console_(node);
    const s = await c.waitFor((m) => m.type === 'stats' && Array.isArray(m.nodes) && m.nodes.length === 2,
      { timeout: 5000 });
    assert.deepEqual(s.nodes.map((n) => n.node), ['a', 'b']);
    for (const n of s.nodes) {
      for (const k of ['connections', 'users', 'rooms', 'db_queue', 'loop_lag_ms', 'link_up', 'age_ms', 'silent'])
        assert.ok(k in n, `node ${n.node} has ${k}: ${JSON.stringify(n)}`);
      assert.equal(n.link_up, true);
      assert.equal(n.silent, false);
    }
    const r = await c.ok('nodes');
    assert.equal(r.node, node.id);
    assert.deepEqual(r.nodes.map((n) => n.node).sort(), [node.id, other.id].sort());
    await c.close();
  }
});
