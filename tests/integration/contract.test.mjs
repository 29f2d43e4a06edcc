// What PROTOCOL.md and ADMIN.md state and no other test pinned: how numbers are judged
// (integers must fit in 64 bits, other numbers in a double), duplicate keys and two JSON
// values in one frame, where a reveal snapshot carries `correct`, the unit of the console's
// `until`, and 401 versus 403 on /metrics.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, signIn, describeMsg } from './lib/harness.mjs';

// The reply to a raw message: the ok/error whose re is `id`, or an error with re null.
function replyTo(c, id) {
  return c.waitFor((m) => (m.type === 'ok' || m.type === 'error') && (m.re === id || m.re === null),
    { what: `reply to ${id}` });
}

describe('numbers, duplicate keys, two values in a frame (PROTOCOL.md section 2)', () => {
  let server;
  let c;
  before(async () => {
    server = await startServer([]);
    c = await signIn(server.url, 'numbers', { join: ['lobby'] });
  });
  after(async () => {
    await c.close();
    await stopAndCheck(server);
  });

  it('a number beyond a double (1e400, -1e400) is bad_request, re null, no field', async () => {
    for (const n of ['1e400', '-1e400', '2E+308']) {
      c.sendRaw(`{"type":"ping","id":1,"extra":${n}}`);
      const r = await replyTo(c, 1);
      assert.deepEqual([r.type, r.code, r.re, 'field' in r], ['error', 'bad_request', null, false], describeMsg(r));
      assert.match(r.message, /out of range.*double/, r.message);
    }
  });

  it('a number within a double is accepted where any value is (1.5e300, 1e-400, -0, a long fraction)', async () => {
    for (const [n, id] of [['1.5e300', 2], ['-1.5e300', 3], ['1e-400', 4], ['-0', 5], ['123456789012345678901234567890.5', 6]]) {
      c.sendRaw(`{"type":"ping","id":${id},"extra":${n}}`);
      assert.equal((await replyTo(c, id)).type, 'ok', n);
    }
  });

  it('an integer literal beyond 64 bits is bad_request even in an unknown field', async () => {
    c.sendRaw('{"type":"ping","id":7,"extra":9223372036854775808}');
    const r = await replyTo(c, 7);
    assert.deepEqual([r.code, r.re], ['bad_request', null]);
  });

  it('a number with a fraction or exponent is never an integer: 5.0 and 1e2 are refused where integers go', async () => {
    c.sendRaw('{"type":"history","id":8,"room":"lobby","limit":5.0}');
    const h = await replyTo(c, 8);
    assert.deepEqual([h.code, h.field, h.re], ['bad_request', 'limit', 8]);
    c.sendRaw('{"type":"ping","id":1e2}');
    const p = await replyTo(c, 100);
    assert.deepEqual([p.code, p.field, p.re], ['bad_request', 'id', null]);
  });

  it('a key twice in one object, at any depth, is bad_json with re null', async () => {
    for (const text of ['{"type":"ping","id":9,"id":10}', '{"type":"ping","id":11,"x":{"k":1,"k":2}}']) {
      c.sendRaw(text);
      const r = await replyTo(c, -1);
      assert.deepEqual([r.code, r.re], ['bad_json', null], describeMsg(r));
      assert.match(r.message, /duplicate object key/);
    }
  });

  it('two JSON objects in one frame are bad_json and neither runs; trailing white space is fine', async () => {
    c.sendRaw('{"type":"say","id":12,"room":"lobby","text":"first"}{"type":"ping","id":13}');
    const r = await replyTo(c, -1);
    assert.deepEqual([r.code, r.re], ['bad_json', null], describeMsg(r));
    c.sendRaw('{"type":"ping","id":14} \r\n\t');
    assert.equal((await replyTo(c, 14)).type, 'ok');
    assert.ok(!c.log.some((m) => m.re === 12 || m.re === 13 || (m.type === 'chat' && m.text === 'first')),
      'nothing of the two-object frame ran');
  });
});

describe('a quiz snapshot (PROTOCOL.md 4.10)', () => {
  let server;
  before(async () => { server = await startServer(['--quiz-reveal-ms', '10000']); });
  after(async () => { await stopAndCheck(server); });

  it('carries `correct` beside `phase` during a reveal, and not during a question', async () => {
    const host = await signIn(server.url, 'quizhost');
    const { room } = await host.ok('create', { name: 'Snap', game: 'quiz', rounds: 2, seconds: 60 });
    await host.ok('start', { room: room.id });
    await host.nextEvent('question');
    const early = await signIn(server.url, 'early');
    const q = (await early.ok('join', { room: room.id })).game;
    assert.equal(q.phase, 'question');
    assert.ok(!('correct' in q), describeMsg(q));
    assert.deepEqual(Object.keys(q.question).sort(), ['choices', 'lang', 'text'], 'the shipped pack says "en"');

    await host.ok('answer', { room: room.id, round: 1, choice: 0 });
    const rv = await host.nextEvent('reveal');
    const late = await signIn(server.url, 'late');
    const g = (await late.ok('join', { room: room.id })).game;
    assert.equal(g.phase, 'reveal');
    assert.equal(g.correct, rv.correct);
    assert.deepEqual(Object.keys(g.question).sort(), ['choices', 'lang', 'text'], 'correct is not inside question');
    assert.deepEqual(Object.keys(g).sort(), ['correct', 'deadline', 'of', 'phase', 'players', 'question', 'round', 'scores']);
    await Promise.all([host.close(), early.close(), late.close()]);
  });
});

describe('operators (ADMIN.md)', () => {
  const TOKEN = 'contract-token';

  async function metrics(server, headers = {}) {
    const r = await fetch(`${server.httpUrl}/metrics`, { headers });
    return { status: r.status, auth: r.headers.get('www-authenticate'), body: await r.text() };
  }

  it('/metrics: 401 with WWW-Authenticate without or with a wrong token; 403 when the server has no admin token', async () => {
    const server = await startServer(['--admin-token', TOKEN]);
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }]) {
      const r = await metrics(server, headers);
      assert.deepEqual([r.status, r.auth], [401, 'Bearer'], JSON.stringify(headers));
      assert.ok(JSON.parse(r.body).error);
    }
    assert.equal((await metrics(server, { authorization: `Bearer ${TOKEN}` })).status, 200);
    await stopAndCheck(server);

    const closed = await startServer([]);
    for (const headers of [{}, { authorization: 'Bearer anything' }]) {
      const r = await metrics(closed, headers);
      assert.deepEqual([r.status, r.auth], [403, null]);
      assert.match(JSON.parse(r.body).error, /--admin-token/);
    }
    await stopAndCheck(closed);

    const open = await startServer(['--metrics-public', '--admin-token', TOKEN]);
    assert.equal((await metrics(open, { authorization: 'Bearer wrong' })).status, 200);
    await stopAndCheck(open);
  });

  it('`until` is milliseconds since the Unix epoch, null for ever', async () => {
    const server = await startServer(['--admin-token', TOKEN]);
    const c = await connect(`ws://127.0.0.1:${server.port}/admin/ws`, { protocol: 'parlor-admin.v1' });
    await c.ok('auth', { token: TOKEN });
    const t0 = Date.now();
    const m = await c.ok('mute', { name: 'someone', minutes: 5 });
    const t1 = Date.now();
    assert.ok(Number.isInteger(m.until));
    assert.ok(m.until >= t0 + 5 * 60000 - 1000 && m.until <= t1 + 5 * 60000 + 1000, `until ${m.until}`);
    const b = await c.ok('ban', { kind: 'name', target: 'someone', minutes: 60 });
    assert.ok(Math.abs(b.until - (Date.now() + 3600000)) < 5000, `until ${b.until}`);
    assert.equal((await c.ok('ban', { kind: 'name', target: 'another' })).until, null);
    await c.close();
    await stopAndCheck(server);
  });
});
