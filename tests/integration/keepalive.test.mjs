// PROTOCOL.md §7 ping_interval and idle_timeout.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, signIn, sleep } from './lib/harness.mjs';

describe('--ping-interval 1 --idle-timeout 3', () => {
  let server;
  before(async () => { server = await startServer(['--ping-interval', '1', '--idle-timeout', '3', '--rejoin-seconds', '0']); });
  after(async () => { await stopAndCheck(server); });

  it('a silent client is pinged and, answering with pongs, stays connected; a dead one is dropped', async (t) => {
    const quiet = await signIn(server.url, 'quiet', { join: ['lobby'] });
    const watcher = await signIn(server.url, 'watcher', { join: ['lobby'] });
    const dead = await signIn(server.url, 'dead', { join: ['lobby'] });
    // reads everything but never answers a WebSocket ping
    const mute = await signIn(server.url, 'mute', { join: ['lobby'], wsOptions: { autoPong: false } });
    await quiet.nextEvent('joined');
    await quiet.nextEvent('joined');
    await quiet.nextEvent('joined');
    await watcher.nextEvent('joined');
    await watcher.nextEvent('joined');
    const t0 = Date.now();
    dead.ws.pause();   // reads nothing, answers no ping
    // the watcher keeps talking, so only quiet and dead are silent
    const timer = setInterval(() => watcher.send({ type: 'ping' }), 500);
    try {
      const left = await watcher.waitFor((m) => m.type === 'left' && m.name === 'dead',
        { timeout: 6000, what: 'left of the dead client' });
      const elapsed = Date.now() - t0;
      t.diagnostic(`dead client dropped after ${elapsed} ms`);
      assert.equal(left.room, 'lobby');
      assert.ok(elapsed >= 2500, `dropped after only ${elapsed} ms`);
      const muteInfo = await mute.closedWithin(3000);
      t.diagnostic(`client that never pongs: closed after ${Date.now() - t0} ms with ${JSON.stringify(muteInfo)}, ` +
        `having received ${mute.pings} pings`);
      assert.ok(mute.pings >= 1);
      if (Date.now() - t0 < 3500) await sleep(3500 - (Date.now() - t0));
    } finally {
      clearInterval(timer);
    }
    assert.ok(quiet.pings >= 1, `quiet client got ${quiet.pings} WebSocket pings`);
    assert.equal(quiet.isOpen, true);
    await quiet.ok('ping');
    dead.ws.resume();
    const info = await dead.closed;
    t.diagnostic(`dead client close: ${JSON.stringify(info)}`);
    await Promise.all([quiet.close(), watcher.close()]);
  });
});
