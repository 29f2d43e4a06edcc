// Hostile clients (issue "hardening"): every byte a client sends is hostile until proved
// otherwise, and no client may hurt another. Each case asserts the server's answer to the bad
// client and that a well-behaved client on the side is still served.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, stopAndCheck, connect, signIn, NO_RATE_LIMITS, sleep, REPO } from './lib/harness.mjs';

function fdCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`timed out after ${ms} ms waiting for ${what}`);
}

/** Opens a WebSocket with raw options; resolves with 'open' or the refusal's HTTP status. */
function handshake(url, opts = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, opts.protocol ?? 'parlor.v1', opts);
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode); res.resume(); ws.terminate(); });
    ws.on('error', (e) => resolve(`error: ${e.message}`));
  });
}

describe('hostile input on one connection leaves the others served', () => {
  let server;
  let bystander;
  before(async () => {
    server = await startServer(['--max-message', '65536', ...NO_RATE_LIMITS]);
    bystander = await signIn(server.url, 'bystander');
  });
  after(async () => {
    await bystander.close();
    await stopAndCheck(server);
  });

  it('random bytes as text frames: invalid UTF-8 closes with 1007, valid noise gets bad_json', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await connect(server.url);
      await c.nextEvent('welcome');
      c.sendRaw(randomBytes(64 + i * 50), { binary: false });
      const closed = await Promise.race([c.closed, c.nextEvent('error').then((e) => e)]);
      if (closed.code !== undefined) assert.equal(closed.code, 1007);
      else assert.ok(['bad_json', 'bad_request', 'unknown_type'].includes(closed.code), JSON.stringify(closed));
      c.close();
    }
    const c = await connect(server.url);
    await c.nextEvent('welcome');
    c.sendRaw('\u0001\u0002 not json at all \uffff', { binary: false });
    assert.equal((await c.nextEvent('error')).code, 'bad_json');
    await bystander.ok('ping');
    await c.close();
  });

  it('10,000 levels of nesting are refused without harm', async () => {
    const c = await signIn(server.url, 'nester');
    c.sendRaw('['.repeat(10000) + ']'.repeat(10000));
    assert.equal((await c.nextEvent('error')).code, 'bad_json');
    c.sendRaw(`{"type":"ping","id":1,"x":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`);
    assert.equal((await c.nextEvent('error')).code, 'bad_json');
    await c.ok('ping'); // still usable
    await bystander.ok('ping');
    await c.close();
  });

  it('a 1 MB frame closes only its sender, with 1009', async () => {
    const c = await signIn(server.url, 'big');
    c.sendRaw('x'.repeat(1 << 20));
    const { code } = await c.closed;
    assert.equal(code, 1009);
    await bystander.ok('ping');
  });

  it('an abrupt disconnect in the middle of a flood does not kill the server (SIGPIPE)', async () => {
    const talker = await signIn(server.url, 'talker', { join: ['lobby'] });
    const victims = await Promise.all(Array.from({ length: 5 }, (_, i) =>
      signIn(server.url, `victim${i}`, { join: ['lobby'] })));
    const text = 'y'.repeat(900);
    const flood = Array.from({ length: 200 }, () => talker.request('say', { room: 'lobby', text }));
    for (const v of victims) v.ws._socket.destroy(); // RST while the server writes to them
    for (const r of await Promise.all(flood)) assert.equal(r.type, 'ok', JSON.stringify(r));
    await bystander.ok('ping');
    await talker.close();
  });
});

describe('connection limits and the handshake', () => {
  let server;
  before(async () => {
    server = await startServer(['--allowed-origin', 'http://good.example,https://also.example',
      '--handshake-timeout', '2']);
  });
  after(async () => { await stopAndCheck(server); });

  it('origins: another site gets 403; allowed ones and non-browsers get in', async () => {
    assert.equal(await handshake(server.url, { origin: 'http://evil.example' }), 403);
    assert.equal(await handshake(server.url, { origin: 'http://good.example' }), 'open');
    assert.equal(await handshake(server.url, { origin: 'https://ALSO.example' }), 'open');
    assert.equal(await handshake(server.url, {}), 'open'); // no Origin: not a browser
  });

  it('wrong path, missing subprotocol: 404 and 400', async () => {
    assert.equal(await handshake(`http://127.0.0.1:${server.port}/other`.replace('http', 'ws')), 404);
    assert.equal(await handshake(server.url, { protocol: [] }), 400);
  });

  it('a half-open handshake is dropped after --handshake-timeout; others are served meanwhile', async () => {
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    sock.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'); // never finished
    const ended = new Promise((r) => { sock.once('close', r); });
    const c = await signIn(server.url, 'patient');
    await c.ok('ping');
    const t0 = Date.now();
    await Promise.race([ended, sleep(6000).then(() => assert.fail('the half-open socket was kept'))]);
    assert.ok(Date.now() - t0 < 6000);
    await c.close();
  });

  it('security headers on static files and endpoints', async () => {
    for (const p of ['/', '/app.js', '/admin/backup']) {
      const r = await fetch(`${server.httpUrl}${p}`);
      await r.arrayBuffer();
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/, p);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', p);
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer', p);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', p);
      assert.equal(r.headers.get('strict-transport-security'), null, `${p}: no HSTS without TLS`);
    }
  });
});

describe('connection caps', () => {
  let server;
  before(async () => {
    server = await startServer(['--max-connections', '4', '--max-per-address', '3']);
  });
  after(async () => { await stopAndCheck(server); });

  it('per address and in total: 503 beyond the limit, and room again after a close', async () => {
    const from1 = await Promise.all([1, 2, 3].map(() => connect(server.url)));
    assert.equal(await handshake(server.url), 503, 'a 4th connection from 127.0.0.1');
    const other = await connect(server.url, { wsOptions: { localAddress: '127.0.0.2' } });
    assert.equal(await handshake(server.url, { localAddress: '127.0.0.3' }), 503, 'a 5th in total');
    await from1[0].close();
    await waitFor(async () => (await handshake(server.url, { localAddress: '127.0.0.3' })) === 'open',
      3000, 'a free slot after a close');
    await Promise.all([...from1.slice(1), other].map((c) => c.close()));
  });

});

describe('a burst of 1,000 connections opened and dropped', () => {
  it('leaves no descriptor or session behind', async () => {
    const server = await startServer(['--max-connections', '5000']);
    const bystander = await signIn(server.url, 'steady');
    await bystander.ok('ping');
    const before = fdCount(server.proc.pid);
    for (let round = 0; round < 4; round++) {
      const socks = await Promise.all(Array.from({ length: 250 }, () => new Promise((resolve) => {
        const ws = new WebSocket(server.url, 'parlor.v1');
        ws.on('open', () => resolve(ws));
        ws.on('error', () => resolve(null));
      })));
      assert.equal(socks.filter((s) => !s).length, 0, 'every connection opened');
      for (const s of socks) (round % 2 ? s.terminate() : s.close());
    }
    await waitFor(() => fdCount(server.proc.pid) <= before, 10000,
      `descriptors back to ${before} (now ${fdCount(server.proc.pid)})`);
    await bystander.ok('ping');
    // the name of a dropped client is free again: its session is gone
    await (await signIn(server.url, 'steady2')).close();
    await bystander.close();
    await stopAndCheck(server);
  });
});

describe('graceful failure at startup', () => {
  // Every check runs before the port opens, so none of these ever listens, even under valgrind.
  it('port in use, unwritable database, missing www: one line naming the cause, exit 1',
    async () => {
    const first = await startServer([]);
    const cases = [
      [['--port', String(first.port)], /port \d+ is already in use/],
      [['--db', '/proc/parlor.db'], /database '\/proc\/parlor.db': unable to open/],
      [['--www', '/nonexistent-www'], /--www '\/nonexistent-www': No such file or directory/],
      [['--tls-cert', '/nonexistent.pem'], /--tls-cert and --tls-key go together/],
    ];
    for (const [args, want] of cases) {
      await assert.rejects(startServer(args),
        (e) => want.test(e.message) && /exit code [12]/.test(e.message), String(args));
    }
    await stopAndCheck(first);
  });

  it('a missing --www is reported before the database is created', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parlor-www-'));
    const db = path.join(dir, 'never.db');
    try {
      await assert.rejects(startServer(['--www', '/nonexistent-www'], { db }),
        (e) => /--www '\/nonexistent-www': No such file or directory/.test(e.message));
      assert.equal(existsSync(db), false, 'the database was created before the check');
      await assert.rejects(startServer(['--www', path.join(REPO, 'README.md')], { db }),
        (e) => /Not a directory/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
