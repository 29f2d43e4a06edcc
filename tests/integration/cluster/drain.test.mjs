// Draining a node of a cluster (SIGTERM): its players are told, closed with 1001, and resume on
// another node with their names and rooms, and nobody sees them leave or join.

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
});

test('a drained node\'s players resume on another node with their names and rooms', async () => {
  const bob = await signIn(b.url, uniqueName('bob'), { join: ['lobby'] });
  const room = (await bob.ok('create', { name: 'Staying' })).room;
  const players = [];
  for (let i = 0; i < 3; i++) {
    const name = uniqueName('dr');
    const c = await fresh(a.url, { label: name });
    const hello = await c.ok('hello', { name });
    await c.ok('join', { room: 'lobby' });
    for (let t = 0; t < 100; t++) {
      if ((await c.request('join', { room: room.id })).type === 'ok') break;
      await sleep(50);
    }
    players.push({ c, name, token: hello.token });
  }
  await bob.ok('say', { room: room.id, text: 'before the drain' });
  const seen = [];
  for (const p of players) seen.push((await p.c.waitFor((m) => m.type === 'chat' && m.text === 'before the drain')).seq);
  const bobLogBefore = bob.log.length;

  const code = a.stop(); // SIGTERM: no game is running, so the drain ends at once
  for (const p of players) {
    await p.c.nextEvent('shutdown');
    assert.equal((await p.c.closed).code, 1001);
  }
  assert.equal(await code, 0, 'the drained node exits cleanly');
  await bob.ok('say', { room: room.id, text: 'while they moved' });

  const backs = [];
  for (const [i, p] of players.entries()) {
    const back = await fresh(b.url, { label: `${p.name}-back` });
    const r = await back.ok('resume', { token: p.token, seen: { [room.id]: seen[i] } });
    assert.equal(r.name, p.name);
    assert.deepEqual(r.rooms.map((x) => x.id).sort(), ['lobby', room.id].sort());
    assert.equal(r.replay[room.id].count, 1);
    assert.equal((await back.nextEvent('chat')).text, 'while they moved');
    backs.push(back);
  }
  const presence = bob.log.slice(bobLogBefore)
    .filter((m) => (m.type === 'left' || m.type === 'joined') && players.some((p) => p.name === m.name));
  assert.deepEqual(presence, [], 'nobody saw them leave or join');
  for (const c of backs) c.close();
  bob.close();
});
