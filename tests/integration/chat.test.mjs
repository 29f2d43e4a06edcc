// PROTOCOL.md §4.6–4.8: say, history, whisper, ping.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, stopAndCheck, signIn, assertKeys, assertTimestamp, NO_RATE_LIMITS,
} from './lib/harness.mjs';

const CHAT_KEYS = ['type', 'room', 'from', 'text', 'ts', 'seq'];

describe('chat, whisper, ping', () => {
  let server;
  before(async () => { server = await startServer(NO_RATE_LIMITS); });
  after(async () => { await stopAndCheck(server); });

  it('say reaches every member (sender included) with room/from/text/ts/seq; ok carries the seq', async () => {
    const a = await signIn(server.url, 'alice');
    const { room } = await a.ok('create', { name: 'chatroom' });
    const b = await signIn(server.url, 'bob', { join: [room.id] });
    const c = await signIn(server.url, 'carol', { join: [room.id] });
    const outsider = await signIn(server.url, 'outsider', { join: ['lobby'] });

    const texts = ['hello <b>all</b>', 'second', '  spaced  ', 'üñíçødé 💬 "quotes" \\ back\nslash', '&amp; <script>'];
    let expectSeq = 1;
    for (const text of texts) {
      const r = await a.ok('say', { room: room.id, text });
      assertKeys(r, ['type', 're', 'seq'], 'say ok');
      assert.equal(r.seq, expectSeq);
      for (const member of [a, b, c]) {
        const ev = await member.nextEvent('chat');
        assertKeys(ev, CHAT_KEYS, `${member.label} chat`);
        assert.equal(ev.room, room.id);
        assert.equal(ev.from, 'alice');
        assert.equal(ev.text, text);
        assert.equal(ev.seq, expectSeq);
        assertTimestamp(ev.ts, 'chat.ts');
      }
      expectSeq++;
    }
    // others can say too and share the room's sequence
    const rb = await b.ok('say', { room: room.id, text: 'from bob' });
    assert.equal(rb.seq, expectSeq);
    for (const member of [a, b, c]) {
      const ev = await member.nextEvent('chat');
      assert.equal(ev.from, 'bob');
      assert.equal(ev.seq, expectSeq);
    }
    // the outsider got nothing
    await outsider.sync();
    assert.deepEqual(outsider.pending((m) => m.type === 'chat'), []);
    await Promise.all([a, b, c, outsider].map((x) => x.close()));
  });

  it('seq is per room and starts at 1; concurrent senders see one shared order', async () => {
    const a = await signIn(server.url, 'seqA');
    const { room } = await a.ok('create', { name: 'seq room' });
    const b = await signIn(server.url, 'seqB', { join: [room.id] });
    const other = await a.ok('create', { name: 'other seq room' });
    assert.equal((await a.ok('say', { room: other.room.id, text: 'x' })).seq, 1);
    // both send 20 messages without waiting
    const N = 20;
    const pa = []; const pb = [];
    for (let i = 0; i < N; i++) {
      pa.push(a.ok('say', { room: room.id, text: `a${i}` }));
      pb.push(b.ok('say', { room: room.id, text: `b${i}` }));
    }
    const seqs = [...(await Promise.all(pa)), ...(await Promise.all(pb))].map((r) => r.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, Array.from({ length: 2 * N }, (_, i) => i + 1));
    const evA = []; const evB = [];
    for (let i = 0; i < 2 * N; i++) {
      evA.push(await a.waitFor((m) => m.type === 'chat' && m.room === room.id));
      evB.push(await b.waitFor((m) => m.type === 'chat' && m.room === room.id));
    }
    assert.deepEqual(evA.map((e) => e.seq), Array.from({ length: 2 * N }, (_, i) => i + 1));
    assert.deepEqual(evA, evB);
    // each sender's own messages are in the order sent
    assert.deepEqual(evA.filter((e) => e.from === 'seqA').map((e) => e.text), Array.from({ length: N }, (_, i) => `a${i}`));
    await Promise.all([a.close(), b.close()]);
  });

  it('text length counts code points: 1000 ok, 1001 → bad_request; multi-byte and astral ok', async () => {
    const a = await signIn(server.url, 'lengths', { join: ['lobby'] });
    const ok = ['x'.repeat(1000), 'я'.repeat(1000), '😀'.repeat(1000), 'x'];
    for (const text of ok) {
      await a.ok('say', { room: 'lobby', text });
      assert.equal((await a.nextEvent('chat')).text, text);
    }
    for (const text of ['x'.repeat(1001), 'я'.repeat(1001), '😀'.repeat(1001)]) {
      await a.err('say', { room: 'lobby', text }, 'bad_request', 'text');
    }
    await a.close();
  });

  it('say: empty or whitespace-only text and wrong types → bad_request naming the field', async () => {
    const a = await signIn(server.url, 'badsay', { join: ['lobby'] });
    for (const text of ['', ' ', '   ', '\t', '\n', ' \t\r\n ']) {
      await a.err('say', { room: 'lobby', text }, 'bad_request', 'text');
    }
    for (const text of [5, null, true, { t: 'x' }, ['x']]) {
      await a.err('say', { room: 'lobby', text }, 'bad_request', 'text');
    }
    await a.err('say', { room: 'lobby' }, 'bad_request', 'text');
    for (const room of [5, null, { r: 1 }]) {
      await a.err('say', { room, text: 'hi' }, 'bad_request', 'room');
    }
    await a.err('say', { text: 'hi' }, 'bad_request', 'room');
    await a.sync();
    assert.deepEqual(a.pending((m) => m.type === 'chat'), []);
    await a.close();
  });

  it('history: a later joiner gets the last 50 chat events, oldest first, exactly as sent', async () => {
    const a = await signIn(server.url, 'historian');
    const { room } = await a.ok('create', { name: 'history' });
    // history of a fresh room is empty
    const early = await signIn(server.url, 'early');
    assert.deepEqual((await early.ok('join', { room: room.id })).history, []);
    const sent = [];
    for (let i = 1; i <= 55; i++) {
      const r = await a.ok('say', { room: room.id, text: `message ${i}` });
      assert.equal(r.seq, i);
      sent.push(await a.nextEvent('chat'));
    }
    const late = await signIn(server.url, 'late');
    const j = await late.ok('join', { room: room.id });
    assert.equal(j.history.length, 50);
    assert.deepEqual(j.history.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 6));
    assert.deepEqual(j.history, sent.slice(5));
    // the early member's live events equal the history too
    const live = [];
    for (let i = 0; i < 55; i++) live.push(await early.nextEvent('chat'));
    assert.deepEqual(live.slice(5), j.history);
    await Promise.all([a.close(), early.close(), late.close()]);
  });

  it('history has fewer entries when fewer were said, and includes messages of members who left', async () => {
    const a = await signIn(server.url, 'h2a');
    const { room } = await a.ok('create', { name: 'short history' });
    const b = await signIn(server.url, 'h2b', { join: [room.id] });
    await b.ok('say', { room: room.id, text: 'bye' });
    await b.close();
    await a.ok('say', { room: room.id, text: 'still here' });
    const c = await signIn(server.url, 'h2c');
    const j = await c.ok('join', { room: room.id });
    assert.deepEqual(j.history.map((e) => [e.from, e.text, e.seq]), [['h2b', 'bye', 1], ['h2a', 'still here', 2]]);
    await Promise.all([a.close(), c.close()]);
  });

  it('whisper: target gets {from,text,ts}, sender gets ok with the canonical name; target name is case-insensitive', async () => {
    const a = await signIn(server.url, 'Whisperer');
    const b = await signIn(server.url, 'Target');
    const r = await a.ok('whisper', { to: 'target', text: 'psst' });
    assertKeys(r, ['type', 're', 'to'], 'whisper ok');
    assert.equal(r.to, 'Target');
    const w = await b.nextEvent('whisper');
    assertKeys(w, ['type', 'from', 'text', 'ts'], 'whisper event');
    assert.equal(w.from, 'Whisperer');
    assert.equal(w.text, 'psst');
    assertTimestamp(w.ts, 'whisper.ts');
    await a.ok('whisper', { to: 'TARGET', text: 'я'.repeat(1000) });
    assert.equal((await b.nextEvent('whisper')).text, 'я'.repeat(1000));
    await a.sync();
    assert.deepEqual(a.pending((m) => m.type === 'whisper'), []);
    await Promise.all([a.close(), b.close()]);
  });

  it('whisper errors: offline → no_such_user, self → not_allowed, bad fields → bad_request', async () => {
    const a = await signIn(server.url, 'Solo', { join: ['lobby'] });
    const b = await signIn(server.url, 'gone', { join: ['lobby'] });
    await a.nextEvent('joined');
    await b.close();
    await a.nextEvent('left'); // the server has processed the disconnect
    await a.err('whisper', { to: 'gone', text: 'hi' }, 'no_such_user');
    await a.err('whisper', { to: 'nobody_at_all', text: 'hi' }, 'no_such_user');
    await a.err('whisper', { to: 'Solo', text: 'hi' }, 'not_allowed');
    await a.err('whisper', { to: 'solo', text: 'hi' }, 'not_allowed');
    for (const to of [5, null, ['x'], { n: 'x' }]) await a.err('whisper', { to, text: 'hi' }, 'bad_request', 'to');
    await a.err('whisper', { text: 'hi' }, 'bad_request', 'to');
    const c = await signIn(server.url, 'listener');
    for (const text of ['', '   ', 'x'.repeat(1001), 7, null, {}]) {
      await a.err('whisper', { to: 'listener', text }, 'bad_request', 'text');
    }
    await a.err('whisper', { to: 'listener' }, 'bad_request', 'text');
    await c.sync();
    assert.deepEqual(c.pending((m) => m.type === 'whisper'), []);
    await Promise.all([a.close(), c.close()]);
  });

  it('ping: ok with the server time', async () => {
    const a = await signIn(server.url, 'pinger');
    const before0 = Date.now();
    const r = await a.ok('ping');
    assertKeys(r, ['type', 're', 'time'], 'ping ok');
    assertTimestamp(r.time, 'ping.time', 3000);
    assert.ok(r.time >= before0 - 1000 && r.time <= Date.now() + 1000, `time ${r.time}`);
    await a.close();
  });

  it('id: any integer is echoed as re; no id → re null; replies come in request order', async () => {
    const a = await signIn(server.url, 'ids');
    for (const id of [0, -7, 2147483648, 9007199254740991]) {
      a.send({ type: 'ping', id });
      const r = await a.reply(id);
      assert.equal(r.type, 'ok');
    }
    a.send({ type: 'ping' });
    const r = await a.waitFor((m) => m.type === 'ok' && m.re === null, { what: 'ok with re null' });
    assert.ok('re' in r);
    // pipelined requests of several kinds are answered in order
    const first = a.nextId + 1;
    const ps = [
      a.request('ping'), a.request('rooms'), a.request('join', { room: 'nowhere' }), a.request('ping'),
      a.request('create', { name: 'order' }), a.request('whisper', { to: 'nobody', text: 'x' }), a.request('ping'),
    ];
    await Promise.all(ps);
    const replies = a.log.filter((m) => (m.type === 'ok' || m.type === 'error') && m.re >= first && m.re < first + ps.length);
    assert.deepEqual(replies.map((m) => m.re), Array.from({ length: ps.length }, (_, i) => first + i));
    await a.close();
  });
});
