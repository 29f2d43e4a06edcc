// Resume on any node: a player whose connection dropped on node a comes back through node b
// (as a balancer without stickiness would send them) with the same name and rooms, the exact
// chat they missed, and nobody saw them leave or join.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stopAndCheck, fresh, signIn, uniqueName, sleep } from '../lib/harness.mjs';
import { startCluster } from '../lib/cluster.mjs';

let a;
let b;

before(async () => {
  ({ nodes: [a, b] } = await startCluster(['a', 'b'], ['--scrypt-log2n', '10']));
});

after(async () => {
  await stopAndCheck(b);
  await stopAndCheck(a);
});

test('a guest dropped on one node resumes on the other with the exact missed chat', async () => {
  const name = uniqueName('ann');
  const ann = await fresh(a.url, { label: name });
  const hello = await ann.ok('hello', { name });
  const bob = await signIn(b.url, uniqueName('bob'), { join: ['lobby'] });
  const room = (await bob.ok('create', { name: 'Across' })).room;
  await ann.ok('join', { room: 'lobby' });
  for (let t = 0; t < 100; t++) {
    const r = await ann.request('join', { room: room.id });
    if (r.type === 'ok') break;
    await sleep(50); // until a has heard of the room
  }
  await bob.ok('say', { room: room.id, text: 'before' });
  await bob.ok('say', { room: 'lobby', text: 'lobby before' });
  const seen = {
    [room.id]: (await ann.waitFor((m) => m.type === 'chat' && m.text === 'before')).seq,
    lobby: (await ann.waitFor((m) => m.type === 'chat' && m.text === 'lobby before')).seq,
  };
  const bobLogBefore = bob.log.length;

  await ann.terminate(); // the network drops: no close frame
  const missed = [];
  for (const [where, text] of [[room.id, 'away 1'], ['lobby', 'away 2'], [room.id, 'away 3']]) {
    const ok = await bob.ok('say', { room: where, text });
    missed.push([where, ok.seq, text]);
  }

  const back = await fresh(b.url, { label: `${name}-back` });
  const r = await back.ok('resume', { token: hello.token, seen });
  assert.equal(r.name, name);
  assert.equal(r.rejoined, true);
  assert.deepEqual(r.rooms.map((x) => x.id).sort(), ['lobby', room.id].sort());
  assert.notEqual(r.token, hello.token);
  assert.deepEqual(r.replay[room.id], { count: 2, from: missed[0][1], to: missed[2][1], recovered: true });
  assert.deepEqual(r.replay.lobby, { count: 1, from: missed[1][1], to: missed[1][1], recovered: true });
  const replayed = [];
  while (replayed.length < 3) replayed.push(await back.nextEvent('chat'));
  assert.deepEqual(replayed.map((m) => [m.room, m.seq, m.text]).sort(),
    missed.map(([w, s, t]) => [w, s, t]).sort());

  // live again, on b: chat flows both ways
  await bob.ok('say', { room: room.id, text: 'welcome back' });
  assert.equal((await back.waitFor((m) => m.type === 'chat' && m.text === 'welcome back')).room, room.id);
  await back.ok('say', { room: room.id, text: 'thanks' });
  await bob.waitFor((m) => m.type === 'chat' && m.text === 'thanks');
  // nobody saw ann leave or join
  const presence = bob.log.slice(bobLogBefore).filter((m) => (m.type === 'left' || m.type === 'joined') && m.name === name);
  assert.deepEqual(presence, []);
  // the name lives on b now: a whisper from a's side reaches it
  const carol = await signIn(a.url, uniqueName('carol'));
  const w = await carol.ok('whisper', { to: name, text: 'found you' });
  assert.equal(w.to, name);
  assert.equal((await back.nextEvent('whisper')).text, 'found you');
  // and the token it had is spent
  const again = await fresh(a.url);
  const refused = await again.request('resume', { token: hello.token });
  assert.equal(refused.type, 'error');
  for (const c of [back, bob, carol, again]) c.close();
});

test('an account dropped on one node resumes on the other', async () => {
  const name = uniqueName('acct');
  const dan = await fresh(a.url, { label: name });
  const reg = await dan.ok('register', { name, password: 'correct horse battery' });
  await dan.ok('join', { room: 'lobby' });
  await dan.terminate();
  const back = await fresh(b.url);
  const r = await back.ok('resume', { token: reg.token, seen: {} });
  assert.equal(r.name, name);
  assert.equal(r.rejoined, true);
  assert.deepEqual(r.rooms.map((x) => x.id), ['lobby']);
  back.close();
});

test('a resume whose session ended everywhere is refused', async () => {
  const name = uniqueName('gone');
  const g = await fresh(a.url, { label: name });
  const hello = await g.ok('hello', { name });
  g.close(); // a clean close ends the session at once
  await g.closed;
  await sleep(100);
  const back = await fresh(b.url);
  const r = await back.request('resume', { token: hello.token });
  assert.equal(r.type, 'error');
  assert.equal(r.code, 'unauthorized');
  back.close();
});
