// PROTOCOL.md §1: path /ws and subprotocol parlor.v1 are required; the HTTP side serves the web client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, signIn } from './lib/harness.mjs';
import { rawUpgrade, assertRefused } from './lib/raw-http.mjs';

describe('handshake', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await stopAndCheck(server); });

  it('with path /ws and subprotocol parlor.v1 the server agrees on parlor.v1', async () => {
    const c = await connect(server.url);
    assert.equal(c.ws.protocol, 'parlor.v1');
    assert.equal((await c.nextEvent('welcome')).type, 'welcome');
    await c.close();
  });

  it('parlor.v1 among several offered subprotocols is chosen', async () => {
    const c = await connect(server.url, { protocol: ['chat.v9', 'parlor.v1'] });
    assert.equal(c.ws.protocol, 'parlor.v1');
    await c.nextEvent('welcome');
    await c.close();
  });

  it('without a subprotocol the handshake is refused with 400', async () => {
    await assert.rejects(connect(server.url, { protocol: null, label: 'noproto' }), { statusCode: 400 });
  });

  it('with another subprotocol the handshake is refused with 400', async () => {
    await assert.rejects(connect(server.url, { protocol: 'parlor.v2', label: 'v2' }), { statusCode: 400 });
  });

  for (const p of ['/', '/other', '/ws/', '/wss', '/WS', '/index.html']) {
    it(`on path ${p} the handshake is refused with 404`, async () => {
      await assert.rejects(connect(`ws://127.0.0.1:${server.port}${p}`, { label: p }), { statusCode: 404 });
    });
  }

  it('the server still works after refused handshakes', async () => {
    const c = await signIn(server.url, 'survivor');
    await c.ok('ping');
    await c.close();
  });

  it('HTTP GET / returns 200 with HTML', async () => {
    const res = await fetch(`${server.httpUrl}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') || '', /^text\/html/);
    const body = await res.text();
    assert.match(body, /<html|<!doctype html/i);
  });
});

// PROTOCOL.md §1: every refusal is an HTTP/1.1 response with the documented status and a
// one-line text body, and the server closes the connection. Checked on the bytes, as a client
// stricter than `ws` (Python's websockets) reads them.
describe('refused handshakes get a complete HTTP/1.1 response', () => {
  const TOKEN = 'hs-token';
  let server;
  let port;
  before(async () => {
    server = await startServer(['--allowed-origin', 'http://good.example', '--admin-token', TOKEN,
      '--max-per-address', '2']);
    port = server.port;
  });
  after(async () => { await stopAndCheck(server); });

  const SUB = 'the subprotocol must be parlor.v1';
  it('no subprotocol: 400', () => assertRefused(assert, { port, protocol: null }, 400, SUB));
  it('another subprotocol (chat): 400', () => assertRefused(assert, { port, protocol: 'chat' }, 400, SUB));
  it('"http" as the subprotocol: 400', () => assertRefused(assert, { port, protocol: 'http' }, 400, SUB));
  it('the console\'s parlor-admin.v1 on /ws: 400',
    () => assertRefused(assert, { port, protocol: 'parlor-admin.v1' }, 400, SUB));
  it('parlor.v1 on the console\'s /admin/ws: 400', () => assertRefused(assert,
    { port, path: '/admin/ws', protocol: 'parlor.v1' }, 400, 'the subprotocol must be parlor-admin.v1'));
  it('a path with no WebSocket endpoint: 404', async () => {
    for (const path of ['/other', '/ws/', '/']) {
      await assertRefused(assert, { port, path }, 404, 'no WebSocket endpoint at this path');
    }
  });
  it('an origin not allowed: 403, and an allowed one is let in', async () => {
    await assertRefused(assert, { port, origin: 'http://evil.example' }, 403, 'origin not allowed');
    const ok = await rawUpgrade({ port, origin: 'http://good.example' });
    assert.equal(ok.statusLine, 'HTTP/1.1 101 Switching Protocols');
    assert.equal(ok.headers['sec-websocket-protocol'], 'parlor.v1');
  });
  it('a banned address: 403', async () => {
    const op = await connect(`ws://127.0.0.1:${port}/admin/ws`, { protocol: 'parlor-admin.v1', label: 'op' });
    await op.ok('auth', { token: TOKEN });
    await op.ok('ban', { kind: 'address', target: '127.0.0.2' });
    await assertRefused(assert, { port, localAddress: '127.0.0.2' }, 403, 'this address is banned');
    await op.ok('unban', { kind: 'address', target: '127.0.0.2' });
    await op.close();
  });
  it('too many connections from one address: 503', async () => {
    const held = await Promise.all([1, 2].map(() =>
      connect(server.url, { wsOptions: { localAddress: '127.0.0.3' } })));
    await assertRefused(assert, { port, localAddress: '127.0.0.3' }, 503,
      'too many connections from your address');
    await Promise.all(held.map((c) => c.close()));
  });
});

describe('a full server', () => {
  it('too many connections: 503', async () => {
    const server = await startServer(['--max-connections', '1']);
    const held = await connect(server.url);
    await assertRefused(assert, { port: server.port }, 503, 'too many connections');
    await held.close();
    await stopAndCheck(server);
  });
});
