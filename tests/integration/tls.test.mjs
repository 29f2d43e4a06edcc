// TLS (issue "hardening"): with --tls-cert and --tls-key the server speaks HTTPS and WSS on
// its port, TLS 1.2 and 1.3 only, and its responses carry HSTS. The certificate is a
// throwaway made here with the openssl command.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, connect } from './lib/harness.mjs';

function tlsHandshake(port, opts) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
      const v = s.getProtocol();
      s.end();
      resolve(v);
    });
    s.on('error', (e) => resolve(`refused: ${e.code ?? e.message}`));
  });
}

describe('TLS', () => {
  let dir;
  let server;
  let ca;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
      '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    ca = await readFile(cert);
    server = await startServer(['--tls-cert', cert, '--tls-key', key]);
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the client over HTTPS with HSTS and the other security headers', async () => {
    const res = await new Promise((resolve, reject) => {
      https.get(`https://127.0.0.1:${server.port}/`, { ca }, resolve).on('error', reject);
    });
    res.resume();
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['strict-transport-security'], /max-age=\d+/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  it('a refused WSS handshake gets its HTTP/1.1 status, one-line body and HSTS', async () => {
    const res = await new Promise((resolve, reject) => {
      https.get(`https://127.0.0.1:${server.port}/ws`, { ca, headers: {
        connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'chat' } },
      resolve).on('error', reject);
    });
    let body = '';
    res.setEncoding('utf8');
    for await (const d of res) body += d;
    assert.equal(res.statusCode, 400);
    assert.equal(res.httpVersion, '1.1');
    assert.equal(body, 'the subprotocol must be parlor.v1\n');
    assert.match(res.headers['strict-transport-security'], /max-age=\d+/);
  });

  it('speaks parlor.v1 over WSS, verified against the certificate', async () => {
    const c = await connect(`wss://127.0.0.1:${server.port}/ws`, { wsOptions: { ca } });
    const w = await c.nextEvent('welcome');
    assert.equal(w.protocol, 1);
    await c.ok('hello', { name: 'secure' });
    await c.ok('ping');
    await c.close();
  });

  it('accepts TLS 1.2 and 1.3 and refuses TLS 1.1', async () => {
    assert.equal(await tlsHandshake(server.port, { minVersion: 'TLSv1.3' }), 'TLSv1.3');
    assert.equal(await tlsHandshake(server.port, { maxVersion: 'TLSv1.2' }), 'TLSv1.2');
    // the client is told to allow TLS 1.1, so a refusal can only come from the server
    const old = await tlsHandshake(server.port, {
      minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0',
    });
    assert.match(String(old), /^refused/);
  });

  it('plain ws:// on the TLS port does not get a WebSocket', async () => {
    await assert.rejects(connect(`ws://127.0.0.1:${server.port}/ws`, { timeout: 3000 }));
  });
});
