// PROTOCOL.md section 2, "Order of replies and events", and section 10 "Guarantees": replies are
// matched by `re`; the replies that wait for the database (say's ok, history, leaderboard,
// register, login) may be overtaken by later replies, say's and history's keep request order
// among themselves, every other reply comes in request order; the events a request causes for
// its sender come after its immediate ok (start, answer) or before its deferred one (say's chat).
// Also what a request gets while a sign-in is pending, and (section 7) that the rate limit is
// checked before anything else, malformed messages included.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, signIn, NO_RATE_LIMITS, describeMsg } from './lib/harness.mjs';

const isReply = (m) => m.type === 'ok' || m.type === 'error';

// Sends each request with a fresh id, without waiting; returns the ids.
function pipeline(c, reqs) {
  return reqs.map(([type, fields = {}]) => {
    const id = ++c.nextId;
    c.send({ type, id, ...fields });
    return id;
  });
}

// Index in c.log of the reply to `id` (which must have arrived).
function replyAt(c, id) {
  const i = c.log.findIndex((m) => isReply(m) && m.re === id);
  assert.ok(i >= 0, `no reply to ${id} in ${c.log.map(describeMsg).join(' | ')}`);
  return i;
}

function order(c, ids) {
  return c.log.filter((m) => isReply(m) && ids.includes(m.re)).map((m) => m.re);
}

describe('order of replies', () => {
  let server;
  // a say's batch waits 300 ms for company, so its ok is clearly deferred
  before(async () => {
    server = await startServer(['--db-batch-ms', '300', '--scrypt-log2n', '15',
      '--quiz-reveal-ms', '200', ...NO_RATE_LIMITS]);
  });
  after(async () => { await stopAndCheck(server); });

  it('a ping pipelined after a say is answered first; the say\'s chat event precedes its ok', async () => {
    const c = await signIn(server.url, 'overtaken', { join: ['lobby'] });
    const [say, ping] = pipeline(c, [['say', { room: 'lobby', text: 'slow to save' }], ['ping']]);
    const [sayOk, pingOk] = await Promise.all([c.reply(say), c.reply(ping)]);
    assert.equal(sayOk.type, 'ok');
    assert.equal(pingOk.type, 'ok');
    assert.ok(replyAt(c, ping) < replyAt(c, say), 'the ping overtook the say');
    const chat = c.log.findIndex((m) => m.type === 'chat' && m.seq === sayOk.seq);
    assert.ok(chat >= 0 && chat < replyAt(c, say), 'chat event before the ok');
    assert.equal(c.log[chat].text, 'slow to save');
    await c.close();
  });

  it('say and history replies keep request order among themselves; immediate replies keep theirs', async () => {
    const c = await signIn(server.url, 'pipeliner', { join: ['lobby'] });
    const ids = pipeline(c, [
      ['say', { room: 'lobby', text: 'one' }],       // 0 deferred
      ['ping'],                                      // 1
      ['say', { room: 'lobby', text: 'two' }],       // 2 deferred
      ['say', { room: 'nowhere', text: 'x' }],       // 3 an error found at once
      ['history', { room: 'lobby', limit: 200 }],    // 4 deferred
      ['join', { room: 'nowhere' }],                 // 5
      ['history', { room: 'nowhere' }],              // 6 an error found at once
      ['say', { room: 'lobby', text: 'three' }],     // 7 deferred
      ['leaderboard'],                               // 8 deferred, any order
      ['rooms'],                                     // 9
      ['ping'],                                      // 10
    ]);
    const rs = await Promise.all(ids.map((id) => c.reply(id)));
    const deferred = [0, 2, 4, 7].map((i) => ids[i]);
    const immediate = [1, 3, 5, 6, 9, 10].map((i) => ids[i]);
    assert.deepEqual(order(c, deferred), deferred, 'say/history replies in request order');
    assert.deepEqual(order(c, immediate), immediate, 'immediate replies in request order');
    assert.deepEqual([3, 5, 6].map((i) => rs[i].code), ['no_such_room', 'no_such_room', 'no_such_room']);
    const seqs = [0, 2, 7].map((i) => rs[i].seq);
    assert.ok(seqs[0] < seqs[1] && seqs[1] < seqs[2], `seqs ${seqs}`);
    // the history read came after the says before it, and before the one after it
    const seen = rs[4].messages.map((m) => m.seq);
    assert.ok(seen.includes(seqs[0]) && seen.includes(seqs[1]) && !seen.includes(seqs[2]), `history ${seen}`);
    assert.equal(rs[8].type, 'ok');
    // each request answered exactly once
    const answered = c.log.filter((m) => isReply(m) && ids.includes(m.re)).map((m) => m.re);
    assert.equal(answered.length, ids.length);
    for (const [k, i] of [0, 2, 7].entries()) {
      const chat = c.log.findIndex((m) => m.type === 'chat' && m.seq === seqs[k]);
      assert.ok(chat >= 0 && chat < replyAt(c, ids[i]), `chat ${seqs[k]} before its ok`);
    }
    await c.close();
  });

  it('while a sign-in is pending, other requests are answered at once: unauthorized, or not_allowed for a sign-in', async () => {
    const c = await connect(server.url);
    await c.nextEvent('welcome');
    const [reg, ping, hello, login] = pipeline(c, [
      ['register', { name: 'Pending', password: 'pending-password' }],
      ['ping'],
      ['hello', { name: 'other' }],
      ['login', { name: 'Pending', password: 'pending-password' }],
    ]);
    const [r, p, h, l] = await Promise.all([reg, ping, hello, login].map((id) => c.reply(id)));
    assert.equal(p.code, 'unauthorized', describeMsg(p));
    assert.match(p.message, /wait for the reply to your sign-in/);
    assert.equal(h.code, 'not_allowed', describeMsg(h));
    assert.equal(h.message, 'a sign-in is in progress');
    assert.equal(l.code, 'not_allowed', describeMsg(l));
    assert.equal(l.message, 'a sign-in is in progress');
    assert.equal(r.type, 'ok', describeMsg(r));
    assert.deepEqual(order(c, [reg, ping, hello, login]), [ping, hello, login, reg]);
    await c.ok('ping'); // signed in now
    await c.close();
  });

  it('start: ok, then game_started and the question; the last answer: ok, then reveal', async () => {
    const c = await signIn(server.url, 'solo');
    const { room } = await c.ok('create', { name: 'Order quiz', game: 'quiz', rounds: 1, seconds: 30 });
    const start = c.nextId + 1;
    await c.ok('start', { room: room.id });
    const q = await c.nextEvent('question');
    const at = (type) => c.log.findIndex((m) => m.type === type);
    assert.ok(replyAt(c, start) < at('game_started') && at('game_started') < at('question'));
    const answer = c.nextId + 1;
    await c.ok('answer', { room: room.id, round: q.round, choice: 0 });
    await c.nextEvent('reveal');
    assert.ok(replyAt(c, answer) < at('reveal'), 'ok before the reveal it caused');
    await c.nextEvent('game_over');
    await c.close();
  });
});

describe('the rate limit comes first (--rate-per-sec 1 --rate-burst 4)', () => {
  let server;
  before(async () => {
    server = await startServer(['--rate-per-sec', '1', '--rate-burst', '4', '--rate-close-after', '60']);
  });
  after(async () => { await stopAndCheck(server); });

  it('with the bucket empty, malformed messages get rate_limited, with re when the id could be read', async () => {
    const c = await signIn(server.url, 'flooder');
    const pings = pipeline(c, Array.from({ length: 6 }, () => ['ping']));
    const raw = [
      ['{', null],                                           // not JSON
      ['{"type":"nope","id":71}', 71],                       // unknown type, id read
      ['{"type":"say","id":72,"room":5,"text":"x"}', 72],    // bad field, id read
      ['{"type":"ping","id":"73"}', null],                   // the id itself is bad
      ['[1]', null],                                         // not an object
      ['{"type":"ping","id":74,"x":1e400}', null],           // number out of range
    ];
    for (const [text] of raw) c.sendRaw(text);
    const pr = await Promise.all(pings.map((id) => c.reply(id)));
    assert.equal(pr.at(-1).code, 'rate_limited', 'the bucket was empty before the malformed ones');
    const got = [];
    for (let i = 0; i < raw.length; i++) {
      got.push(await c.waitFor((m) => m.type === 'error' && !pings.includes(m.re), { what: `error #${i}` }));
    }
    assert.deepEqual(got.map((m) => m.code), raw.map(() => 'rate_limited'), got.map(describeMsg).join('\n'));
    assert.deepEqual(got.map((m) => m.re), raw.map(([, re]) => re));
    assert.ok(got.every((m) => !('field' in m)));
    await c.close();
  });
});
