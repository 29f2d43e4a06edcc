// A WebSocket stand-in for the unit tests: the test plays the server. Every socket the client
// opens is in FakeSocket.all; `serverSend` delivers a frame, `drop` ends the connection
// without a close frame (1006), `sent` holds what the client sent, parsed.

export class FakeSocket {
  static all = [];
  static last() {
    return FakeSocket.all[FakeSocket.all.length - 1];
  }

  constructor(url, protocol) {
    this.url = url;
    this.requested = protocol;
    this.protocol = '';
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    this.listeners = { open: [], message: [], close: [], error: [] };
    this.onSend = null; // (msg, socket) => void: an automatic server
    FakeSocket.all.push(this);
  }

  addEventListener(type, fn) {
    this.listeners[type].push(fn);
  }

  fire(type, ev) {
    for (const fn of this.listeners[type]) fn(ev);
  }

  send(data) {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    const msg = JSON.parse(data);
    this.sent.push(msg);
    if (this.onSend) this.onSend(msg, this);
  }

  close(code = 1000, reason = '') {
    if (this.readyState >= 2) return;
    this.closedWith = { code, reason };
    this.readyState = 3;
    queueMicrotask(() => this.fire('close', { code, reason }));
  }

  // ---- the server's side ----
  open(protocol = this.requested) {
    this.protocol = protocol;
    this.readyState = 1;
    this.fire('open', {});
  }

  serverSend(obj) {
    this.fire('message', { data: typeof obj === 'string' ? obj : JSON.stringify(obj) });
  }

  welcome(limits = {}) {
    this.serverSend({ type: 'welcome', server: 'parlor/test', protocol: 1, limits });
  }

  ok(re, fields = {}) {
    this.serverSend({ type: 'ok', re, ...fields });
  }

  error(re, code, fields = {}) {
    this.serverSend({ type: 'error', re, code, message: code, ...fields });
  }

  /** The server closes with a close frame. */
  serverClose(code, reason = '') {
    this.readyState = 3;
    this.fire('close', { code, reason });
  }

  /** The connection ends without a close frame. */
  drop() {
    this.readyState = 3;
    this.fire('close', { code: 1006, reason: '' });
  }
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Waits until `pred()` is true (polling every millisecond), or fails after `ms`. */
export async function until(pred, what = 'condition', ms = 2000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(1);
  }
}
