// PROTOCOL.md §8: a connection the server closes always receives the close code, even when the
// client is still sending. A server that closed its socket with unread input would make the
// kernel answer with a reset, which discards the close frame on its way: the client would see
// 1006. Each case below closes 100 clients that flood the server while they are being closed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { startServer, stopAndCheck, NO_RATE_LIMITS, withTimeout, signIn } from './lib/harness.mjs';

const RUNS = 100;
const AT_ONCE = 20; // clients flooding at the same time
const PING = JSON.stringify({ type: 'ping' });

/**
 * Opens a connection, signs in, and sends pings as fast as the socket takes them until the
 * server's close frame arrives; `offend(ws)` is sent in the middle of the flood. Resolves
 * with the close code and reason the client saw.
 */
function flooder(url, name, offend = () => {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'parlor.v1', { perMessageDeflate: false });
    let sent = 0;
    const flood = () => {
      for (let k = 0; k < 50 && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 256 * 1024; k++) {
        ws.send(PING);
        if (++sent === 20) offend(ws);
      }
      if (ws.readyState === WebSocket.OPEN) setImmediate(flood);
    };
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'hello', name }));
      flood();
    });
    ws.on('error', () => { /* the close event reports what happened */ });
    ws.on('unexpected-response', (req, res) => reject(new Error(`${name}: HTTP ${res.statusCode}`)));
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** Runs `RUNS` flooders, `AT_ONCE` at a time; returns how many saw each "code reason". */
async function floodAll(url, prefix, offend) {
  const seen = {};
  for (let i = 0; i < RUNS; i += AT_ONCE) {
    const batch = Array.from({ length: Math.min(AT_ONCE, RUNS - i) },
      (_, j) => flooder(url, `${prefix}${i + j}`, offend));
    for (const { code, reason } of await withTimeout(Promise.all(batch), 30000,
      `${prefix}: a batch of flooders was not closed within 30 s`)) {
      const key = `${code} ${reason}`;
      seen[key] = (seen[key] || 0) + 1;
    }
  }
  return seen;
}

describe('close codes arrive while the client floods', () => {
  let server;
  before(async () => { server = await startServer([...NO_RATE_LIMITS, '--max-message', '1024']); });
  after(async () => { await stopAndCheck(server); });

  it('1009: a message over max_message, 100 times', async () => {
    const seen = await floodAll(server.url, 'big', (ws) => ws.send('x'.repeat(2000)));
    assert.deepEqual(seen, { '1009 message too big': RUNS });
  });

  it('1003: a binary frame, 100 times', async () => {
    const seen = await floodAll(server.url, 'bin', (ws) => ws.send(Buffer.from(PING), { binary: true }));
    assert.deepEqual(seen, { '1003 binary frames not accepted': RUNS });
  });

  it('1007: invalid UTF-8, 100 times', async () => {
    const seen = await floodAll(server.url, 'utf', (ws) => ws.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false }));
    assert.deepEqual(seen, { '1007 invalid UTF-8': RUNS });
  });
});

describe('close 1008 "rate limit" arrives while the client floods', () => {
  it('100 clients that stay over the rate', async () => {
    const server = await startServer(['--rate-per-sec', '1', '--rate-burst', '1', '--rate-close-after', '1']);
    const seen = await floodAll(server.url, 'rate');
    assert.deepEqual(seen, { '1008 rate limit': RUNS });
    await stopAndCheck(server);
  });
});

describe('close 1001 at shutdown arrives while the clients flood', () => {
  it('100 clients flooding when SIGTERM comes', async () => {
    const server = await startServer([...NO_RATE_LIMITS, '--drain-seconds', '0']);
    const opened = [];
    const closes = Array.from({ length: RUNS }, (_, i) => new Promise((resolve) => {
      opened.push(flooder(server.url, `bye${i}`, () => resolve()));
    }));
    await withTimeout(Promise.all(closes), 30000, 'every client flooding'); // each sent 20 pings
    server.proc.kill('SIGTERM');
    const seen = {};
    for (const { code, reason } of await withTimeout(Promise.all(opened), 30000, 'every client closed')) {
      const key = `${code} ${reason}`;
      seen[key] = (seen[key] || 0) + 1;
    }
    assert.deepEqual(seen, { '1001 server shutting down': RUNS });
    assert.equal((await server.exited).code, 0);
    assert.deepEqual(server.sanitizerLines(), []);
    await server.stop(); // already gone: this only tidies its files
  });
});

/** A client frame: FIN, `opcode`, masked with a zero key (any key will do). */
function frame(opcode, payload) {
  const body = Buffer.from(payload);
  assert.ok(body.length < 126);
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | body.length, 0, 0, 0, 0]), body]);
}

describe('a closing connection', () => {
  let server;
  before(async () => { server = await startServer(NO_RATE_LIMITS); });
  after(async () => { await stopAndCheck(server); });

  it('what the client sends after the frame that closes it is discarded, never handled', async () => {
    const watcher = await signIn(server.url, 'watcher', { join: ['lobby'] });
    const c = await signIn(server.url, 'closing', { join: ['lobby'] });
    // in one write: the bad frame, then a say the server must not act on
    c.ws._socket.write(Buffer.concat([
      frame(0x2, PING),
      frame(0x1, JSON.stringify({ type: 'say', room: 'lobby', text: 'after the close' })),
    ]));
    assert.equal((await c.closed).code, 1003);
    await watcher.sync();
    assert.deepEqual(watcher.pending((m) => m.type === 'chat'), []);
    await watcher.close();
  });

  it('a client that never answers the close frame is let go within 2 s', async () => {
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let got = Buffer.alloc(0);
    sock.on('data', (d) => { got = Buffer.concat([got, d]); });
    const ended = new Promise((r) => sock.once('close', r));
    sock.on('error', () => { /* a reset also ends it */ });
    sock.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Protocol: parlor.v1\r\n\r\n');
    sock.write(frame(0x2, 'binary')); // closes with 1003; this client never answers
    const t0 = Date.now();
    await withTimeout(ended, 4000, 'the server still holds the connection 4 s after its close frame');
    assert.ok(Date.now() - t0 >= 1000, 'the client had some time to answer');
    // the close frame came before the server let go: 0x88, length, code 1003
    const at = got.lastIndexOf(0x88);
    assert.ok(at > 0 && got.readUInt16BE(at + 2) === 1003, `no close frame 1003 in ${got.toString('hex')}`);
  });
});
