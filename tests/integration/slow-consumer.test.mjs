// PROTOCOL.md §7 sendq_max_messages and §8 close 1008 "too slow".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, signIn, NO_RATE_LIMITS } from './lib/harness.mjs';

// Says in flight at once. Each brings the flooder two messages (its ok, which the chat log's
// group commit releases in bursts, and its own chat event): 2 × BATCH must stay under
// --sendq-max-messages, or a burst of acks alone can close the flooder as too slow.
const BATCH = 20;
const MAX_SAYS = 20000;

describe('slow consumer (--sendq-max-messages 50)', () => {
  let server;
  before(async () => { server = await startServer(['--sendq-max-messages', '50', ...NO_RATE_LIMITS]); });
  after(async () => { await stopAndCheck(server); });

  it('a client that stops reading is closed; a reading client gets every message in order', async (t) => {
    const flooder = await signIn(server.url, 'flooder');
    const { room } = await flooder.ok('create', { name: 'flood', max: 10 });
    const reader = await signIn(server.url, 'reader', { join: [room.id] });
    const slow = await signIn(server.url, 'slow', { join: [room.id] });
    assert.equal(slow.welcome.limits.sendq_max_messages, 50);
    await flooder.nextEvent('joined');
    await flooder.nextEvent('joined');
    await reader.nextEvent('joined');

    // ws.pause(), not ws._socket.pause(): ws resumes its socket by itself when its frame parser
    // drains, which turned the "slow" client back into a reader now and then.
    slow.ws.pause();

    const text = 'x'.repeat(1000);
    let sent = 0;
    let scanned = 0;
    let slowLeft = null;
    const t0 = Date.now();
    while (!slowLeft && sent < MAX_SAYS) {
      const batch = [];
      for (let i = 0; i < BATCH; i++) batch.push(flooder.request('say', { room: room.id, text }));
      const rs = await Promise.all(batch);
      for (const r of rs) assert.equal(r.type, 'ok', JSON.stringify(r));
      sent += BATCH;
      flooder.drain();
      for (; scanned < reader.log.length; scanned++) {
        const m = reader.log[scanned];
        if (m.type === 'left' && m.name === 'slow') { slowLeft = m; break; }
      }
    }
    const floodMs = Date.now() - t0;
    if (!slowLeft) {
      // the left event may still be on its way
      slowLeft = await reader.waitFor((m) => m.type === 'left' && m.name === 'slow',
        { timeout: 3000, what: `left of the slow client after ${sent} says` });
    }
    assert.deepEqual(slowLeft, { type: 'left', room: room.id, name: 'slow' });
    t.diagnostic(`slow client dropped after ${sent} says (${floodMs} ms)`);

    // the reader got every chat, in order, with no gap
    await reader.sync();
    const seqs = reader.log.filter((m) => m.type === 'chat' && m.room === room.id).map((m) => m.seq);
    assert.equal(seqs.length, sent);
    for (let i = 0; i < seqs.length; i++) {
      if (seqs[i] !== i + 1) assert.fail(`reader: chat #${i} has seq ${seqs[i]}, expected ${i + 1}`);
    }
    // the flooder is still fine
    await flooder.ok('ping');

    // let the slow client read what reached it, and see how it was closed
    slow.ws.resume();
    const info = await slow.closedWithin(15000, 'close after resuming');
    t.diagnostic(`slow client close: ${JSON.stringify(info)}; it had received ` +
      `${slow.log.filter((m) => m.type === 'chat').length} chats`);
    assert.ok(info.code === 1008 || info.code === 1006, JSON.stringify(info));
    if (info.code === 1008) assert.match(info.reason, /too slow/);
    // whatever reached the slow client is a gap-free prefix
    const slowSeqs = slow.log.filter((m) => m.type === 'chat').map((m) => m.seq);
    slowSeqs.forEach((s, i) => { if (s !== i + 1) assert.fail(`slow: chat #${i} has seq ${s}`); });
    assert.ok(slowSeqs.length < sent, 'the slow client cannot have received everything');

    await Promise.all([flooder.close(), reader.close()]);
  });
});

describe('slow consumer (--sendq-max-bytes 100000)', () => {
  let server;
  before(async () => { server = await startServer(['--sendq-max-bytes', '100000', ...NO_RATE_LIMITS]); });
  after(async () => { await stopAndCheck(server); });

  it('a client that stops reading is closed once its queue passes the byte limit', async (t) => {
    const flooder = await signIn(server.url, 'bflooder', { join: ['lobby'] });
    const slow = await signIn(server.url, 'bslow', { join: ['lobby'] });
    await flooder.nextEvent('joined');
    slow.ws.pause();
    const text = 'я'.repeat(1000);   // ~2 kB per chat event
    let sent = 0;
    let gone = false;
    while (!gone && sent < MAX_SAYS) {
      const rs = await Promise.all(Array.from({ length: BATCH }, () => flooder.request('say', { room: 'lobby', text })));
      for (const r of rs) assert.equal(r.type, 'ok', JSON.stringify(r));
      sent += BATCH;
      gone = flooder.inbox.some((m) => m.type === 'left' && m.name === 'bslow');
      flooder.inbox = flooder.inbox.filter((m) => m.type !== 'chat');
    }
    if (!gone) await flooder.waitFor((m) => m.type === 'left' && m.name === 'bslow', { timeout: 3000 });
    t.diagnostic(`slow client dropped after ${sent} says`);
    slow.ws.resume();
    const info = await slow.closedWithin(15000, 'close after resuming');
    t.diagnostic(`slow client close: ${JSON.stringify(info)}`);
    assert.ok(info.code === 1008 || info.code === 1006, JSON.stringify(info));
    if (info.code === 1008) assert.match(info.reason, /too slow/);
    await flooder.close();
  });
});
