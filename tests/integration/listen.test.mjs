// --listen (README "Flags"): the server accepts connections on the address it is given and on
// no other, whether given as an IPv4 address, an IPv6 address or a host name; an address it
// cannot listen on stops it at startup with one line naming the flag, never a server that
// silently listens on every interface.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BIN, WWW, freePort, tcpProbe, startServer, stopAndCheck, signIn } from './lib/harness.mjs';

const hasIpv6Loopback = Object.values(os.networkInterfaces()).flat()
  .some((a) => a && a.address === '::1');

async function health(host, port) {
  const r = await fetch(`http://${host}:${port}/healthz`);
  return r.status;
}

/** Runs the server with `args` and expects it to stop by itself: { code, stderr }. */
async function startupFailure(args) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-listen-'));
  try {
    const port = await freePort();
    const proc = spawn(BIN, ['--port', String(port), '--www', WWW, '--db', path.join(dir, 'p.db'),
      ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    const code = await new Promise((resolve) => proc.once('close', (c) => resolve(c)));
    clearTimeout(timer);
    const listening = await tcpProbe(port);
    return { code, stderr, listening };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('--listen', () => {
  it('127.0.0.1: serves there and refuses connections to another local address', async () => {
    const server = await startServer(['--listen', '127.0.0.1']);
    assert.equal(await health('127.0.0.1', server.port), 200);
    // 127.0.0.2 is loopback too on Linux: a server on every interface would answer there
    assert.equal(await tcpProbe(server.port, '127.0.0.2'), false, 'reachable on 127.0.0.2');
    if (hasIpv6Loopback) assert.equal(await tcpProbe(server.port, '::1'), false, 'reachable on ::1');
    const c = await signIn(server.url, 'local');
    await c.close();
    await stopAndCheck(server);
  });

  it('::1: serves on IPv6 loopback only (or says at startup that it cannot)', async () => {
    if (!hasIpv6Loopback) {
      const r = await startupFailure(['--listen', '::1']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--listen ::1/);
      return;
    }
    const server = await startServer(['--listen', '::1'], { probeHost: '::1' });
    assert.equal(await health('[::1]', server.port), 200);
    assert.equal(await tcpProbe(server.port, '127.0.0.1'), false, 'reachable on 127.0.0.1');
    await stopAndCheck(server);
  });

  it('a host name is resolved at startup: localhost', async () => {
    const server = await startServer(['--listen', 'localhost'], { probeHost: 'localhost' });
    assert.equal(await health('localhost', server.port), 200);
    assert.equal(await tcpProbe(server.port, '127.0.0.2'), false, 'reachable on 127.0.0.2');
    await stopAndCheck(server);
  });

  it('the environment variable PARLOR_LISTEN works as the flag does', async () => {
    const server = await startServer([], { env: { PARLOR_LISTEN: '127.0.0.1' } });
    assert.equal(await health('127.0.0.1', server.port), 200);
    assert.equal(await tcpProbe(server.port, '127.0.0.2'), false, 'reachable on 127.0.0.2');
    await stopAndCheck(server);
  });

  it('an address that is not this machine\'s, or no address at all, stops the server at startup', async () => {
    // 192.0.2.1 is reserved for documentation (RFC 5737): no interface has it
    let r = await startupFailure(['--listen', '192.0.2.1']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^parlor-server: --listen 192\.0\.2\.1: no interface of this machine has that address$/m);
    assert.equal(r.listening, false);

    r = await startupFailure(['--listen', 'no-such-host.invalid']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^parlor-server: --listen 'no-such-host\.invalid': not an IP address or a host name that resolves/m);
    assert.equal(r.listening, false);

    r = await startupFailure(['--listen', '']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--listen: expected a value/);
  });
});
