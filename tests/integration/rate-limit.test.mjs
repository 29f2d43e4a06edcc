// PROTOCOL.md §7 (token buckets) and §8 (close 1008 "rate limit").
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, signIn, sleep, describeMsg, withTimeout } from './lib/harness.mjs';

function replies(c, fromId) {
  return c.log.filter((m) => (m.type === 'ok' || m.type === 'error') && typeof m.re === 'number' && m.re >= fromId);
}

describe('--rate-per-sec 5 --rate-burst 5', () => {
  let server;
  before(async () => { server = await startServer(['--rate-per-sec', '5', '--rate-burst', '5']); });
  after(async () => { await stopAndCheck(server); });

  it('20 pings at once: some ok, the rest rate_limited, each answered exactly once and in order', async () => {
    const c = await signIn(server.url, 'burster');
    const first = c.nextId + 1;
    const rs = await Promise.all(Array.from({ length: 20 }, () => c.request('ping')));
    const okN = rs.filter((r) => r.type === 'ok').length;
    const limited = rs.filter((r) => r.type === 'error' && r.code === 'rate_limited').length;
    assert.equal(okN + limited, 20, rs.map(describeMsg).join('\n'));
    // the bucket holds 5 tokens and hello took one
    assert.ok(okN >= 3 && okN <= 7, `ok count ${okN}`);
    assert.ok(limited >= 13, `rate_limited count ${limited}`);
    // the first requests got the tokens
    assert.ok(rs.slice(0, 3).every((r) => r.type === 'ok'), rs.slice(0, 5).map(describeMsg).join(' '));
    for (const r of rs.filter((x) => x.type === 'error')) assert.equal(typeof r.message, 'string');
    // tokens come back at 5 per second
    let r;
    const t0 = Date.now();
    do {
      await sleep(100);
      r = await c.request('ping');
    } while (r.type !== 'ok' && Date.now() - t0 < 3000);
    assert.equal(r.type, 'ok', describeMsg(r));
    const all = replies(c, first);
    const ids = all.map((m) => m.re);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'replies in request order');
    assert.equal(new Set(ids).size, ids.length, 'no request answered twice');
    assert.equal(ids.length, c.nextId - first + 1);
    assert.equal(c.isOpen, true);
    await c.close();
  });

  it('malformed messages count against the rate too', async () => {
    const c = await signIn(server.url, 'garbler');
    for (let i = 0; i < 12; i++) c.sendRaw('{');
    const errs = [];
    for (let i = 0; i < 12; i++) {
      errs.push(await c.waitFor((m) => m.type === 'error' && m.re === null, { what: `error #${i}` }));
    }
    const codes = errs.map((m) => m.code);
    assert.ok(codes.includes('bad_json') && codes.includes('rate_limited'), codes.join(','));
    assert.ok(codes.filter((x) => x === 'bad_json').length <= 7, codes.join(','));
    await c.close();
  });

  it('a rate-limited request has no effect', async () => {
    const c = await signIn(server.url, 'noeffect');
    const watcher = await signIn(server.url, 'watcher2', { join: ['lobby'] });
    // exhaust the bucket, then a join in the same burst must not take effect
    const rs = await Promise.all([
      ...Array.from({ length: 8 }, () => c.request('ping')),
      c.request('join', { room: 'lobby' }),
    ]);
    const join = rs.at(-1);
    assert.equal(join.code, 'rate_limited', describeMsg(join));
    await watcher.sync();
    assert.deepEqual(watcher.pending((m) => m.type === 'joined'), []);
    await Promise.all([c.close(), watcher.close()]);
  });
});

describe('--say-per-sec 1 --say-burst 2', () => {
  let server;
  before(async () => { server = await startServer(['--say-per-sec', '1', '--say-burst', '2']); });
  after(async () => { await stopAndCheck(server); });

  it('the third immediate say is rate_limited and not relayed; whisper shares the bucket; ping does not', async () => {
    const a = await signIn(server.url, 'sayer', { join: ['lobby'] });
    const b = await signIn(server.url, 'hearer', { join: ['lobby'] });
    await a.nextEvent('joined');
    const rs = await Promise.all([
      a.request('say', { room: 'lobby', text: 'one' }),
      a.request('say', { room: 'lobby', text: 'two' }),
      a.request('say', { room: 'lobby', text: 'three' }),
      a.request('whisper', { to: 'hearer', text: 'psst' }),
      a.request('ping'),
    ]);
    assert.deepEqual(rs.map((r) => r.type === 'ok' ? 'ok' : r.code),
      ['ok', 'ok', 'rate_limited', 'rate_limited', 'ok'], rs.map(describeMsg).join('\n'));
    assert.deepEqual([rs[0].seq, rs[1].seq], [1, 2]);
    await b.sync();
    assert.deepEqual(b.pending((m) => m.type === 'chat').map((m) => m.text), ['one', 'two']);
    assert.deepEqual(b.pending((m) => m.type === 'whisper'), []);
    // the say bucket is per connection: b can still say
    assert.equal((await b.ok('say', { room: 'lobby', text: 'mine' })).seq, 3);
    // and a's bucket refills at 1 per second
    let r;
    const t0 = Date.now();
    do {
      await sleep(200);
      r = await a.request('say', { room: 'lobby', text: 'again' });
    } while (r.type !== 'ok' && Date.now() - t0 < 3000);
    assert.equal(r.type, 'ok', describeMsg(r));
    assert.equal(r.seq, 4);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('--rate-per-sec 1 --rate-burst 1 --rate-close-after 1', () => {
  let server;
  before(async () => {
    server = await startServer(['--rate-per-sec', '1', '--rate-burst', '1', '--rate-close-after', '1']);
  });
  after(async () => { await stopAndCheck(server); });

  it('a client that keeps exceeding the rate is closed with 1008 "rate limit"; others are not', async () => {
    const calm = await signIn(server.url, 'calm');
    const c = await signIn(server.url, 'flooder');
    const t0 = Date.now();
    const timer = setInterval(() => { if (c.isOpen) c.send({ type: 'ping' }); }, 20);
    let info;
    try {
      info = await withTimeout(c.closed, 5000, () =>
        `not closed after 5 s of flooding; replies: ${c.log.filter((m) => m.type === 'ok').length} ok, ` +
        `${c.log.filter((m) => m.code === 'rate_limited').length} rate_limited`);
    } finally {
      clearInterval(timer);
    }
    const elapsed = Date.now() - t0;
    assert.equal(info.code, 1008, JSON.stringify(info));
    assert.match(info.reason, /rate limit/);
    assert.ok(elapsed >= 900, `closed after only ${elapsed} ms`);
    assert.ok(c.log.some((m) => m.code === 'rate_limited'));
    await calm.ok('ping');
    await calm.close();
  });
});
