// 200 concurrent clients in the lobby: one message reaches each exactly once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, signIn } from './lib/harness.mjs';

const N = 200;

describe(`${N} clients`, () => {
  let server;
  // every joiner announced by name (above --presence-max, joins are counted instead)
  before(async () => { server = await startServer(['--presence-max', String(N)]); });
  after(async () => { await stopAndCheck(server); });

  it(`${N} clients sign in and join the lobby; one says a message; all receive it exactly once`, async () => {
    const clients = [];
    for (let i = 0; i < N; i += 20) {
      const batch = [];
      for (let j = i; j < Math.min(N, i + 20); j++) {
        batch.push(signIn(server.url, `m${String(j).padStart(3, '0')}`, { join: ['lobby'], timeout: 10000 }));
      }
      clients.push(...(await Promise.all(batch)));
    }
    const rooms = (await clients[0].ok('rooms')).rooms;
    assert.equal(rooms[0].members, N);

    const r = await clients[7].ok('say', { room: 'lobby', text: 'hello everyone' });
    await Promise.all(clients.map(async (c) => {
      const ev = await c.nextEvent('chat', { timeout: 10000 });
      assert.deepEqual({ ...ev, ts: 0 }, { type: 'chat', room: 'lobby', from: 'm007', text: 'hello everyone', ts: 0, seq: r.seq });
    }));
    await Promise.all(clients.map((c) => c.sync()));
    for (const c of clients) {
      assert.equal(c.log.filter((m) => m.type === 'chat').length, 1, `${c.label} chats`);
    }
    // the k-th joiner saw a joined event for each of the N-k later joiners, exactly once
    const counts = clients.map((c) => c.log.filter((m) => m.type === 'joined').length).sort((x, y) => x - y);
    assert.deepEqual(counts, Array.from({ length: N }, (_, i) => i));
    for (const c of clients) {
      const names = c.log.filter((m) => m.type === 'joined').map((m) => m.name);
      assert.equal(new Set(names).size, names.length, `${c.label} got a duplicate joined`);
    }
    await Promise.all(clients.map((c) => c.close()));
  });
});
