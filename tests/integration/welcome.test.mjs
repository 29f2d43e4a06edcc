// PROTOCOL.md §3.1 and §7: the welcome message and the limit flags.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, signIn, DEFAULT_LIMITS, assertKeys } from './lib/harness.mjs';

describe('welcome with default limits', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await stopAndCheck(server); });

  it('is the first message, with server, protocol and every documented limit at its default', async () => {
    const c = await connect(server.url);
    const w = await c.waitFor(() => true, { what: 'first message' });
    assert.equal(w.type, 'welcome', `first message: ${JSON.stringify(w)}`);
    assertKeys(w, ['type', 'server', 'protocol', 'limits'], 'welcome');
    assert.equal(typeof w.server, 'string');
    assert.match(w.server, /^parlor\/\S+$/);
    assert.equal(w.protocol, 1);
    assert.equal(typeof w.limits, 'object');
    // Every documented key with its default value, and nothing else.
    assert.deepEqual(w.limits, { ...DEFAULT_LIMITS });
    await c.close();
  });

  it('every connection gets its own welcome', async () => {
    const [a, b] = await Promise.all([connect(server.url), connect(server.url)]);
    assert.equal((await a.nextEvent('welcome')).protocol, 1);
    assert.equal((await b.nextEvent('welcome')).protocol, 1);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('every limit has a flag, and welcome shows its value', () => {
  // A distinct non-default value for every limit in §7.
  const custom = {
    max_message: 4096,
    name_max: 20,
    text_max: 50,
    room_name_max: 40,
    room_max_default: 10,
    room_max_limit: 100,
    lobby_max: 300,
    rooms_per_session: 8,
    max_rooms: 200,
    history: 20,
    signin_timeout: 7,
    sendq_max_messages: 1000,
    sendq_max_bytes: 500000,
    rate_per_sec: 11,
    rate_burst: 22,
    say_per_sec: 3,
    say_burst: 6,
    rate_close_after: 9,
    ping_interval: 25,
    idle_timeout: 55,
    max_connections: 900,
    max_per_address: 40,
    quiz_max_rounds: 30,
    quiz_max_seconds: 90,
    quiz_reveal_ms: 1500,
    rejoin_seconds: 12,
    presence_max: 7,
    sendq_soft_messages: 300,
    sendq_soft_bytes: 200000,
    sendq_soft_seconds: 4,
    resume_replay: 60,
  };
  let server;
  before(async () => {
    const flags = Object.entries(custom).flatMap(([k, v]) => [`--${k.replaceAll('_', '-')}`, String(v)]);
    server = await startServer(flags);
  });
  after(async () => { await stopAndCheck(server); });

  it('welcome.limits reflects each flag', async () => {
    const c = await connect(server.url);
    const w = await c.nextEvent('welcome');
    assert.deepEqual(w.limits, custom);
    await c.close();
  });

  it('--text-max 50: 50 characters ok, 51 → bad_request field text', async () => {
    const c = await signIn(server.url, 'textmax', { join: ['lobby'] });
    assert.equal(c.welcome.limits.text_max, 50);
    const r = await c.ok('say', { room: 'lobby', text: 'x'.repeat(50) });
    assert.equal(r.seq, 1);
    await c.err('say', { room: 'lobby', text: 'x'.repeat(51) }, 'bad_request', 'text');
    await c.close();
  });

  it('--name-max 20: 20-character name ok, 21 → bad_request field name', async () => {
    const a = await connect(server.url);
    await a.nextEvent('welcome');
    await a.err('hello', { name: 'n'.repeat(21) }, 'bad_request', 'name');
    await a.ok('hello', { name: 'n'.repeat(20) });
    await a.close();
  });
});
