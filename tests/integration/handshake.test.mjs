// PROTOCOL.md §1: path /ws and subprotocol parlor.v1 are required; the HTTP side serves the web client.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, signIn } from './lib/harness.mjs';

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

  it('without a subprotocol the handshake is refused', async () => {
    await assert.rejects(connect(server.url, { protocol: null, label: 'noproto' }));
  });

  it('with another subprotocol the handshake is refused', async () => {
    await assert.rejects(connect(server.url, { protocol: 'parlor.v2', label: 'v2' }));
  });

  for (const p of ['/', '/other', '/ws/', '/wss', '/WS', '/index.html']) {
    it(`on path ${p} the handshake is refused`, async () => {
      await assert.rejects(connect(`ws://127.0.0.1:${server.port}${p}`, { label: p }));
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
