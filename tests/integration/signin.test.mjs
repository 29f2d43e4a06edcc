// PROTOCOL.md §3 and §4.1: hello, unauthorized, names, sign-in timeout.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, fresh, signIn, assertKeys } from './lib/harness.mjs';

describe('sign-in', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await stopAndCheck(server); });

  it('hello ok carries re and name', async () => {
    const c = await fresh(server.url);
    c.send({ type: 'hello', id: 1, name: 'alice' });
    const r = await c.reply(1);
    assert.match(r.token, /^v1\.-\d+\./, 'a guest token names the session');
    assert.deepEqual({ ...r, token: undefined }, { type: 'ok', re: 1, name: 'alice', token: undefined });
    await c.close();
  });

  it('every request before hello → unauthorized (connection stays usable)', async () => {
    const c = await fresh(server.url);
    const reqs = [
      ['ping', {}],
      ['rooms', {}],
      ['say', { room: 'lobby', text: 'hi' }],
      ['join', { room: 'lobby' }],
      ['leave', { room: 'lobby' }],
      ['create', { name: 'x' }],
      ['whisper', { to: 'bob', text: 'hi' }],
    ];
    for (const [type, fields] of reqs) {
      const r = await c.err(type, fields, 'unauthorized');
      assertKeys(r, ['type', 're', 'code', 'message'], `${type} before hello`);
    }
    await c.ok('hello', { name: 'late_bloomer' });
    await c.ok('ping');
    await c.close();
  });

  it('bad names → bad_request field name; the socket can still sign in afterwards', async () => {
    const c = await fresh(server.url);
    const bad = [
      { name: '' },
      { name: 'a'.repeat(25) },
      { name: 'has space' },
      { name: 'аlice' }, // a Cyrillic а in a Latin name: a spoof
      { name: 'a\u200bb' }, // an invisible zero-width space
      { name: 'bob!' },
      { name: 'dot.name' },
      { name: 'tab\t' },
      { name: 42 },
      { name: null },
      { name: ['bob'] },
      { name: { n: 'bob' } },
      { name: true },
      {},
    ];
    for (const fields of bad) await c.err('hello', fields, 'bad_request', 'name');
    const r = await c.ok('hello', { name: 'A-z_09' });
    assert.equal(r.name, 'A-z_09');
    await c.close();
  });

  it('a 24-character name with every allowed character class is accepted', async () => {
    const c = await fresh(server.url);
    const name = 'Az09_-'.repeat(4);
    assert.equal(name.length, 24);
    const r = await c.ok('hello', { name });
    assert.equal(r.name, name);
    await c.close();
  });

  it('unknown fields in hello are ignored', async () => {
    const c = await fresh(server.url);
    await c.ok('hello', { name: 'extra_fields', colour: 'red', version: 2 });
    await c.close();
  });

  it('duplicate name, compared case-insensitively → name_taken', async () => {
    const a = await signIn(server.url, 'Dupe');
    const b = await fresh(server.url, { label: 'b' });
    await b.err('hello', { name: 'Dupe' }, 'name_taken');
    await b.err('hello', { name: 'dupe' }, 'name_taken');
    await b.err('hello', { name: 'DUPE' }, 'name_taken');
    // b is still not signed in and can pick another name
    await b.err('ping', {}, 'unauthorized');
    await b.ok('hello', { name: 'dupe2' });
    await Promise.all([a.close(), b.close()]);
  });

  it('second hello on the same socket → not_allowed (also with another name)', async () => {
    const c = await signIn(server.url, 'twice');
    await c.err('hello', { name: 'twice' }, 'not_allowed');
    await c.err('hello', { name: 'other_name' }, 'not_allowed');
    // other_name was not taken by the refused hello
    const d = await fresh(server.url);
    await d.ok('hello', { name: 'other_name' });
    await c.ok('ping');
    await Promise.all([c.close(), d.close()]);
  });

  it('a name is released when its connection closes', async () => {
    const watcher = await signIn(server.url, 'phoenix_watch', { join: ['lobby'] });
    const a = await signIn(server.url, 'Phoenix', { join: ['lobby'] });
    await watcher.nextEvent('joined');
    const closed = await a.close();
    assert.equal(closed.code, 1000);
    // once the server has processed the close (others see left), the name is free
    assert.deepEqual(await watcher.nextEvent('left'), { type: 'left', room: 'lobby', name: 'Phoenix' });
    const b = await fresh(server.url);
    await b.ok('hello', { name: 'phoenix' });
    await Promise.all([b.close(), watcher.close()]);
  });

  it('a dropped connection keeps its name for the rejoin grace period, then releases it', async () => {
    const s2 = await startServer(['--rejoin-seconds', '1']);
    const watcher = await signIn(s2.url, 'watcher', { join: ['lobby'] });
    const a = await signIn(s2.url, 'dropper', { join: ['lobby'] });
    await watcher.nextEvent('joined');
    await a.terminate(); // no close frame: the network dropped it
    const b = await connect(s2.url);
    await b.nextEvent('welcome');
    assert.equal((await b.request('hello', { name: 'dropper' })).code, 'name_taken', 'held for a rejoin');
    const left = await watcher.nextEvent('left', { timeout: 4000 });
    assert.deepEqual(left, { type: 'left', room: 'lobby', name: 'dropper' });
    await b.ok('hello', { name: 'dropper' });
    await Promise.all([b.close(), watcher.close()]);
    await stopAndCheck(s2);
  });

  it('a clean close (a close frame) leaves at once, grace or not', async () => {
    const watcher = await signIn(server.url, 'watcher2', { join: ['lobby'] });
    const a = await signIn(server.url, 'closer', { join: ['lobby'] });
    await watcher.nextEvent('joined');
    await a.close();
    assert.deepEqual(await watcher.nextEvent('left'), { type: 'left', room: 'lobby', name: 'closer' });
    const b = await fresh(server.url);
    await b.ok('hello', { name: 'closer' });
    await Promise.all([b.close(), watcher.close()]);
  });
});

describe('sign-in timeout (--signin-timeout 1)', () => {
  let server;
  before(async () => { server = await startServer(['--signin-timeout', '1']); });
  after(async () => { await stopAndCheck(server); });

  it('a client that never says hello is closed with 1008 within ~3 s; a signed-in one is not', async () => {
    const t0 = Date.now();
    const idle = await connect(server.url, { label: 'idle' });
    const good = await signIn(server.url, 'prompt');
    assert.equal(good.welcome.limits.signin_timeout, 1);
    const info = await idle.closedWithin(3500);
    const elapsed = Date.now() - t0;
    assert.equal(info.code, 1008);
    assert.match(info.reason, /sign-in timeout/);
    assert.ok(elapsed >= 900, `closed too early: ${elapsed} ms`);
    // the signed-in client, connected just as long, is still served
    await good.ok('ping');
    assert.equal(good.isOpen, true);
    await good.close();
  });

  it('a client that keeps sending non-hello requests is still closed', async () => {
    const c = await connect(server.url, { label: 'chatty' });
    await c.nextEvent('welcome');
    const timer = setInterval(() => { if (c.isOpen) c.send({ type: 'ping' }); }, 200);
    try {
      const info = await c.closedWithin(3500);
      assert.equal(info.code, 1008);
    } finally {
      clearInterval(timer);
    }
    const replies = c.log.filter((m) => m.type === 'error');
    assert.ok(replies.length > 0 && replies.every((m) => m.code === 'unauthorized' && m.re === null),
      JSON.stringify(replies.slice(0, 3)));
  });
});
