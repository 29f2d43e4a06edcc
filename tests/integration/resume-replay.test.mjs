// Resume never costs a player their session (PROTOCOL.md 4.1b): the missed chat of every room is
// replayed as the socket drains, outside the slow-consumer limits, and the `ok` reports per room
// what is replayed (`replay {count, from, to, recovered}`), so the client can page the rest.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, fresh, signIn, NO_RATE_LIMITS } from './lib/harness.mjs';

// `writer` says `n` messages in `room`, `batch` in flight at once; returns the last seq.
async function sayMany(writer, room, n, text, batch = 50) {
  let last = 0;
  for (let done = 0; done < n; done += batch) {
    const k = Math.min(batch, n - done);
    const rs = await Promise.all(Array.from({ length: k },
      (_, i) => writer.ok('say', { room, text: `${text} ${done + i}` })));
    last = rs[rs.length - 1].seq;
    writer.inbox = writer.inbox.filter((m) => m.type !== 'chat');
  }
  return last;
}

// Waits until `c` has received `n` chat events in total; returns them per room.
async function chatsByRoom(c, n, timeout = 30000) {
  const t0 = Date.now();
  for (;;) {
    const chats = c.log.filter((m) => m.type === 'chat');
    if (chats.length >= n) {
      const by = {};
      for (const m of chats) (by[m.room] ||= []).push(m);
      return by;
    }
    if (c.closeInfo) assert.fail(`closed (${JSON.stringify(c.closeInfo)}) after ${chats.length} of ${n} chats`);
    if (Date.now() - t0 > timeout) assert.fail(`only ${chats.length} of ${n} chats within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('resume in 16 rooms with 205 missed messages each (default limits)', () => {
  let server;
  const ROOMS = 16;
  const MISSED = 205;
  before(async () => {
    server = await startServer(['--rejoin-seconds', '60', '--rooms-per-session', String(ROOMS),
      '--sendq-max-messages', '2048', ...NO_RATE_LIMITS]);
  });
  after(async () => { await stopAndCheck(server); });

  it('replays 200 per room, reports recovered:false, keeps the session, and history pages the rest', async (t) => {
    const writer = await signIn(server.url, 'writer');
    const bob = await fresh(server.url, { label: 'bob' });
    const { token } = await bob.ok('hello', { name: 'bob' });
    const rooms = [];
    for (let i = 0; i < ROOMS; i++) {
      const { room } = await writer.ok('create', { name: `room ${i}`, max: 10 });
      await bob.ok('join', { room: room.id });
      rooms.push(room.id);
    }
    await bob.terminate(); // dropped: the session is kept
    const last = {};
    for (const id of rooms) last[id] = await sayMany(writer, id, MISSED, 'missed');

    const back = await fresh(server.url, { label: 'bob again' });
    const seen = Object.fromEntries(rooms.map((id) => [id, 0]));
    const r = await back.ok('resume', { token, seen }, { timeout: 20000 });
    assert.equal(r.rejoined, true);
    assert.deepEqual(Object.keys(r.replay).sort(), [...rooms].sort());
    for (const id of rooms) {
      assert.deepEqual(r.replay[id],
        { count: 200, from: last[id] - 199, to: last[id], recovered: false }, id);
    }
    const by = await chatsByRoom(back, ROOMS * 200);
    for (const id of rooms) {
      const seqs = by[id].map((m) => m.seq);
      assert.equal(seqs.length, 200, id);
      seqs.forEach((s, i) => { if (s !== last[id] - 199 + i) assert.fail(`${id}: #${i} has seq ${s}`); });
    }
    // still signed in, with every room: the token still works and a new message arrives live
    assert.equal(back.closeInfo, null);
    await back.ok('ping');
    const live = await writer.ok('say', { room: rooms[3], text: 'live after the replay' });
    const ev = await back.waitFor((m) => m.type === 'chat' && m.seq === live.seq);
    assert.equal(ev.text, 'live after the replay');

    // the gap the report announced pages back with history
    const page = await back.ok('history', { room: rooms[0], before: r.replay[rooms[0]].from, limit: 200 });
    assert.deepEqual(page.messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
    t.diagnostic(`${ROOMS * 200} events replayed`);
    await Promise.all([writer.close(), back.close()]);
  });
});

describe('resume replay is outside the byte limit (--sendq-max-bytes 65536)', () => {
  let server;
  before(async () => {
    server = await startServer(['--rejoin-seconds', '60', '--sendq-max-bytes', '65536', ...NO_RATE_LIMITS]);
  });
  after(async () => { await stopAndCheck(server); });

  it('5 rooms of 150 missed 1000-character messages (about 800 kB) come back whole', async () => {
    const writer = await signIn(server.url, 'bwriter');
    const ann = await fresh(server.url, { label: 'ann' });
    const { token } = await ann.ok('hello', { name: 'ann' });
    const rooms = [];
    for (let i = 0; i < 5; i++) {
      const { room } = await writer.ok('create', { name: `long ${i}`, max: 10 });
      await ann.ok('join', { room: room.id });
      rooms.push(room.id);
    }
    await writer.ok('say', { room: rooms[0], text: 'seen before the drop' });
    const seenSeq = (await ann.nextEvent('chat')).seq;
    await ann.terminate();
    const text = 'я'.repeat(990);
    for (const id of rooms) await sayMany(writer, id, 150, text, 25);

    const back = await fresh(server.url, { label: 'ann again' });
    const r = await back.ok('resume', { token, seen: Object.fromEntries(rooms.map((id) => [id, id === rooms[0] ? seenSeq : 0])) });
    const by = await chatsByRoom(back, 5 * 150);
    for (const id of rooms) {
      assert.equal(by[id].length, 150, id);
      assert.equal(r.replay[id].recovered, true, id);
      assert.equal(r.replay[id].count, 150, id);
      assert.equal(r.replay[id].from, by[id][0].seq);
      assert.equal(r.replay[id].to, by[id][149].seq);
    }
    assert.equal(back.closeInfo, null);
    await back.ok('ping');
    await Promise.all([writer.close(), back.close()]);
  });

  it('a room with nothing missed reports count 0, recovered; a room not asked about has no entry', async () => {
    const writer = await signIn(server.url, 'cwriter');
    const cat = await fresh(server.url, { label: 'cat' });
    const { token } = await cat.ok('hello', { name: 'cat' });
    const { room: a } = await writer.ok('create', { name: 'quiet', max: 10 });
    const { room: b } = await writer.ok('create', { name: 'other', max: 10 });
    await cat.ok('join', { room: a.id });
    await cat.ok('join', { room: b.id });
    const s1 = await writer.ok('say', { room: a.id, text: 'one' });
    await cat.waitFor((m) => m.type === 'chat' && m.seq === s1.seq);
    await cat.terminate();
    const back = await fresh(server.url, { label: 'cat again' });
    const r = await back.ok('resume', { token, seen: { [a.id]: s1.seq, nowhere: 3 } });
    assert.deepEqual(r.replay, { [a.id]: { count: 0, recovered: true } });
    await back.sync();
    assert.equal(back.log.filter((m) => m.type === 'chat').length, 0);
    await Promise.all([writer.close(), back.close()]);
  });
});

describe('bursts are not slowness (default send queue limits)', () => {
  let server;
  before(async () => { server = await startServer(['--rate-close-after', '3600']); });
  after(async () => { await stopAndCheck(server); });

  it('300 say pipelined in one write: every one answered, the connection stays open', async () => {
    const c = await signIn(server.url, 'piper', { join: ['lobby'] });
    const frames = [];
    for (let i = 1; i <= 300; i++) frames.push(JSON.stringify({ type: 'say', id: 1000 + i, room: 'lobby', text: `burst ${i}` }));
    // one TCP write carrying 300 WebSocket frames
    c.ws._socket.cork();
    for (const f of frames) c.sendRaw(f);
    c.ws._socket.uncork();
    const replies = [];
    for (let i = 1; i <= 300; i++) replies.push(await c.reply(1000 + i, { timeout: 20000 }));
    // the burst, plus what the bucket refilled while the server worked through them
    const oks = replies.filter((r) => r.type === 'ok').length;
    assert.ok(oks >= c.welcome.limits.say_burst && oks < 30, `${oks} ok`);
    assert.ok(replies.every((r) => r.type === 'ok' || r.code === 'rate_limited'));
    assert.equal(c.closeInfo, null);
    await c.close();
  });
});

describe('a client that pipelines faster than it reads is slowed, not closed (default queue limits)', () => {
  let server;
  before(async () => { server = await startServer(NO_RATE_LIMITS); });
  after(async () => { await stopAndCheck(server); });

  it('40 pipelined history pages of 200 2-kB messages (16 MB), read late, all arrive', async () => {
    const w = await signIn(server.url, 'pager', { join: ['lobby'] });
    await sayMany(w, 'lobby', 200, 'я'.repeat(990), 25);
    const c = await signIn(server.url, 'reader', { join: ['lobby'] });
    c.ws.pause(); // reads nothing for a second while its requests pile up
    c.ws._socket.cork();
    for (let i = 1; i <= 40; i++) c.sendRaw(JSON.stringify({ type: 'history', id: 100 + i, room: 'lobby', limit: 200 }));
    c.ws._socket.uncork();
    await new Promise((r) => setTimeout(r, 1000));
    c.ws.resume();
    for (let i = 1; i <= 40; i++) {
      const r = await c.reply(100 + i, { timeout: 30000 });
      assert.equal(r.type, 'ok', JSON.stringify(r).slice(0, 200));
      assert.equal(r.messages.length, 200);
    }
    assert.equal(c.closeInfo, null);
    await Promise.all([w.close(), c.close()]);
  });
});

describe('a client over a soft limit for --sendq-soft-seconds is closed', () => {
  let server;
  before(async () => {
    server = await startServer([...NO_RATE_LIMITS, '--sendq-max-bytes', '1073741824',
      '--sendq-max-messages', '1000000', '--sendq-soft-bytes', '65536', '--sendq-soft-seconds', '1']);
  });
  after(async () => { await stopAndCheck(server); });

  it('a client that stops reading is closed 1008 "too slow" far below the hard limits', async () => {
    const flooder = await signIn(server.url, 'sflooder', { join: ['lobby'] });
    const slow = await signIn(server.url, 'sslow', { join: ['lobby'] });
    assert.equal(slow.welcome.limits.sendq_soft_bytes, 65536);
    assert.equal(slow.welcome.limits.sendq_soft_seconds, 1);
    await flooder.nextEvent('joined');
    slow.ws.pause();
    const text = 'я'.repeat(990);
    let sent = 0;
    while (!flooder.inbox.some((m) => m.type === 'left' && m.name === 'sslow') && sent < 40000) {
      const rs = await Promise.all(Array.from({ length: 20 }, () => flooder.request('say', { room: 'lobby', text })));
      for (const r of rs) assert.equal(r.type, 'ok', JSON.stringify(r));
      sent += 20;
      flooder.inbox = flooder.inbox.filter((m) => m.type !== 'chat');
    }
    // the hard limits are a gigabyte away: only the soft limit can have closed it. Its close
    // frame waited behind megabytes it never read, so it may have been dropped (1006) instead.
    slow.ws.resume();
    const info = await slow.closedWithin(15000, 'close after resuming');
    assert.ok(info.code === 1008 || info.code === 1006, JSON.stringify(info));
    if (info.code === 1008) assert.equal(info.reason, 'too slow');
    await flooder.close();
  });
});
