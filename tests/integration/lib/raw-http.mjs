// A WebSocket handshake over a bare TCP socket, for tests that check the server's HTTP answer
// byte for byte (the `ws` package hides the status line and tolerates what other clients do not).

import net from 'node:net';

/**
 * Sends an upgrade request and reads the answer until the server closes the connection (or,
 * after a 101, until the headers are complete).
 * opts: { port, path = '/ws', protocol = 'parlor.v1' (null: no header), origin, localAddress,
 *         timeout = 5000 }
 * Resolves with { statusLine, status, headers (lower-case names), body, closed }.
 */
export function rawUpgrade({ port, path = '/ws', protocol = 'parlor.v1', origin, localAddress,
  timeout = 5000 }) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = buf.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) {
        reject(new Error(`no complete HTTP response (${closed ? 'closed' : 'timed out'}): ` +
          JSON.stringify(text)));
        return;
      }
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ statusLine, status: Number(statusLine.split(' ')[1]), headers,
        body: text.slice(end + 4), closed });
    };
    const timer = setTimeout(() => finish(false), timeout);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.toString('latin1').startsWith('HTTP/1.1 101') && buf.includes('\r\n\r\n')) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => { /* 'close' follows */ });
    sock.on('connect', () => {
      sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
        'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\n' +
        (protocol === null ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`) +
        (origin ? `Origin: ${origin}\r\n` : '') + '\r\n');
    });
  });
}

const PHRASES = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' };

/**
 * Asserts a refusal as PROTOCOL.md section 1 states it: an HTTP/1.1 status line with the
 * status, a text/plain body of exactly one line (`body` plus a newline), its length in
 * content-length, `connection: close`, and the server closing the connection.
 */
export async function assertRefused(assert, opts, status, body) {
  const r = await rawUpgrade(opts);
  const ctx = `${JSON.stringify(opts)} → ${r.statusLine} ${JSON.stringify(r.body)}`;
  assert.equal(r.statusLine, `HTTP/1.1 ${status} ${PHRASES[status]}`, ctx);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8', ctx);
  assert.equal(r.headers.connection, 'close', ctx);
  assert.equal(r.body, `${body}\n`, ctx);
  assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.body), ctx);
  assert.equal(r.closed, true, `${ctx}: the server did not close the connection`);
  return r;
}
