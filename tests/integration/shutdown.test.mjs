// PROTOCOL.md §8: close 1001 when the server shuts down; clean exit on SIGTERM.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, connect, signIn } from './lib/harness.mjs';

describe('shutdown', () => {
  it('SIGTERM with clients connected: every client gets close 1001, the server exits 0', async () => {
    const server = await startServer();
    try {
      const a = await signIn(server.url, 'sa', { join: ['lobby'] });
      const b = await signIn(server.url, 'sb', { join: ['lobby'] });
      const { room } = await b.ok('create', { name: 'closing time' });
      await b.ok('say', { room: room.id, text: 'bye' });
      const anon = await connect(server.url, { label: 'anon' });
      await anon.nextEvent('welcome');
      await a.nextEvent('joined');

      const code = await server.stop();
      const infos = await Promise.all([a.closed, b.closed, anon.closed]);
      for (const info of infos) assert.equal(info.code, 1001, JSON.stringify(infos));
      assert.deepEqual(server.sanitizerLines(), [], server.stderr());
      assert.equal(code, 0, `exit code ${code} signal ${server.proc.signalCode}\n${server.stderr()}`);
    } finally {
      await server.stop().catch(() => {});
    }
  });

  it('SIGTERM with no clients: exits 0 promptly', async () => {
    const server = await startServer();
    const t0 = Date.now();
    const code = await server.stop();
    assert.equal(code, 0, server.stderr());
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(server.sanitizerLines(), [], server.stderr());
  });
});
