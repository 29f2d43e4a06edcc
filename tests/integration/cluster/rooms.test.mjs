// The room list across nodes: two nodes (own ports, one SQLite file) joined through Redis. A
// chat room created on one node can be listed and joined on the other, counts members on every
// node against its limit, and goes when it is empty everywhere, or when the node holding its
// last members dies.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stopAndCheck, fresh, signIn, uniqueName, sleep } from '../lib/harness.mjs';
import { startCluster } from '../lib/cluster.mjs';

let a;
let b;

before(async () => {
  ({ nodes: [a, b] } = await startCluster(['a', 'b']));
});

after(async () => {
  await stopAndCheck(b);
  if (a) await stopAndCheck(a);
});

/** Polls `c`'s room list until `pred(list)` holds; returns the list. */
async function roomsUntil(c, pred, what) {
  let list;
  for (let t = 0; t < 200; t++) {
    list = (await c.request('rooms')).rooms;
    if (pred(list)) return list;
    await sleep(50);
  }
  assert.fail(`${what}: ${JSON.stringify(list)}`);
}

test('a room created on one node is listed, joined and chatted in from the other', async () => {
  const alice = await signIn(a.url, uniqueName('ra'));
  const bob = await signIn(b.url, uniqueName('rb'));
  const made = await alice.request('create', { name: 'Chess club' });
  assert.equal(made.type, 'ok', JSON.stringify(made));
  const id = made.room.id;
  const seen = await roomsUntil(bob, (l) => l.some((r) => r.id === id), 'b lists the new room');
  assert.deepEqual(seen.find((r) => r.id === id), { ...made.room, members: 1 });
  const joined = await bob.request('join', { room: id });
  assert.equal(joined.type, 'ok', JSON.stringify(joined));
  assert.equal(joined.room.name, 'Chess club');
  assert.deepEqual(joined.members.sort(), [alice.label, bob.label].sort(),
    'the join lists the members on every node');
  await roomsUntil(alice, (l) => l.find((r) => r.id === id)?.members === 2, 'a counts b\'s member');
  assert.equal((await alice.nextEvent('joined')).name, bob.label, 'presence crosses nodes');
  for (let i = 0; i < 5; i++) {
    const who = i % 2 ? alice : bob;
    assert.equal((await who.request('say', { room: id, text: `move ${i}` })).type, 'ok');
  }
  for (const c of [alice, bob]) {
    const got = [];
    while (got.length < 5) {
      const m = await c.waitFor((e) => e.type === 'chat' && e.room === id);
      got.push(m);
    }
    assert.deepEqual(got.map((m) => m.text), ['move 0', 'move 1', 'move 2', 'move 3', 'move 4']);
    for (let i = 1; i < got.length; i++) assert.equal(got[i].seq, got[i - 1].seq + 1);
  }
  alice.close();
  bob.close();
});

test('joining on a node that was not listening: the history is the room\'s, nothing old comes live', async () => {
  const alice = await signIn(a.url, uniqueName('ha'));
  const bob = await signIn(b.url, uniqueName('hb'));
  const id = (await alice.ok('create', { name: 'Talkative' })).room.id;
  const said = [];
  for (let i = 0; i < 30; i++) said.push((await alice.ok('say', { room: id, text: `old ${i}` })).seq);
  await roomsUntil(bob, (l) => l.some((r) => r.id === id), 'b lists the room');
  const joined = await bob.ok('join', { room: id });
  assert.deepEqual(joined.history.map((m) => m.text), said.map((_, i) => `old ${i}`),
    'the join\'s history holds what was said on a');
  assert.deepEqual(joined.history.map((m) => m.seq), said);
  await alice.ok('say', { room: id, text: 'marker' });
  await bob.waitFor((m) => m.type === 'chat' && m.text === 'marker');
  assert.deepEqual(bob.log.filter((m) => m.type === 'chat' && m.room === id).map((m) => m.text), ['marker'],
    'nothing said before the join arrives as live chat');
  alice.close();
  bob.close();
});

test('pipelined requests get their replies in order, though some wait for Redis', async () => {
  const bob = await signIn(a.url, uniqueName('pa'));
  const id = (await bob.ok('create', { name: 'Pipes' })).room.id;
  await bob.ok('say', { room: id, text: 'earlier' });
  const watcher = await signIn(b.url, uniqueName('pw'));
  await roomsUntil(watcher, (l) => l.some((r) => r.id === id), 'b lists the room');
  watcher.close();
  const c = await fresh(b.url);
  const name = uniqueName('pb');
  // hello waits for Redis to agree on the name, join for b's catch-up of the room
  const reqs = [
    { type: 'hello', id: 101, name },
    { type: 'join', id: 102, room: id },
    { type: 'say', id: 103, room: id, text: 'right after joining' },
    { type: 'whisper', id: 104, to: bob.label, text: 'psst' },
    { type: 'ping', id: 105 },
  ];
  for (const r of reqs) c.ws.send(JSON.stringify(r));
  const replies = [];
  while (replies.length < reqs.length) replies.push(await c.waitFor((m) => m.type === 'ok' || m.type === 'error'));
  // PROTOCOL.md section 3: a say's ok comes once it is saved; every other reply in order
  assert.ok(replies.every((m) => m.type === 'ok'), JSON.stringify(replies));
  assert.deepEqual(replies.map((m) => m.re).filter((re) => re !== 103), [101, 102, 104, 105]);
  assert.deepEqual(replies[1].history.map((m) => m.text), ['earlier']);
  c.close();
  bob.close();
});

test('a room\'s limit counts members on every node', async () => {
  const alice = await signIn(a.url, uniqueName('la'));
  const bob = await signIn(b.url, uniqueName('lb'));
  const carol = await signIn(b.url, uniqueName('lc'));
  const made = await alice.request('create', { name: 'Pair', max: 2 });
  const id = made.room.id;
  await roomsUntil(bob, (l) => l.some((r) => r.id === id), 'b lists the room');
  assert.equal((await bob.request('join', { room: id })).type, 'ok');
  await roomsUntil(carol, (l) => l.find((r) => r.id === id)?.members === 2, 'b counts both');
  const full = await carol.request('join', { room: id });
  assert.equal(full.type, 'error');
  assert.equal(full.code, 'room_full');
  // empty on every node: gone from both lists
  assert.equal((await alice.request('leave', { room: id })).type, 'ok');
  assert.equal((await bob.request('leave', { room: id })).type, 'ok');
  await roomsUntil(carol, (l) => !l.some((r) => r.id === id), 'b forgets the emptied room');
  await roomsUntil(alice, (l) => !l.some((r) => r.id === id), 'a forgets the emptied room');
  for (const c of [alice, bob, carol]) c.close();
});

test('the members of a node killed without a word leave the counts; the room goes when empty', async () => {
  const dave = await signIn(a.url, uniqueName('ka'));
  const erin = await signIn(b.url, uniqueName('kb'));
  const id = (await dave.request('create', { name: 'Doomed' })).room.id;
  await roomsUntil(erin, (l) => l.some((r) => r.id === id), 'b lists the room');
  assert.equal((await erin.request('join', { room: id })).type, 'ok');
  await roomsUntil(erin, (l) => l.find((r) => r.id === id)?.members === 2, 'both counted');
  await a.kill();
  a = null;
  await roomsUntil(erin, (l) => l.find((r) => r.id === id)?.members === 1, 'a\'s member is gone');
  const left = await erin.waitFor((m) => m.type === 'left' && m.room === id, { timeout: 15000 });
  assert.equal(left.name, dave.label, 'the players here see the dead node\'s member leave');
  assert.equal((await erin.request('leave', { room: id })).type, 'ok');
  await roomsUntil(erin, (l) => !l.some((r) => r.id === id), 'the room goes with its last member');
  erin.close();
  dave.close();
});
