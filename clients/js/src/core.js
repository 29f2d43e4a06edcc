// parlor-client core: one WebSocket at a time, requests matched to replies by `re`, a send
// queue that keeps to the server's rate limits, and reconnection with jittered exponential
// backoff. ParlorClient (players, protocol/PROTOCOL.md) and AdminClient (operators,
// protocol/ADMIN.md) build on it. No dependencies in the browser; node loads `ws` when it has
// no global WebSocket.

export const PLAYER_PROTOCOL = 'parlor.v1';
export const ADMIN_PROTOCOL = 'parlor-admin.v1';

/** The error codes of PROTOCOL.md section 6, and the client's own three. */
export const ERROR_CODES = Object.freeze([
  'bad_json', 'bad_request', 'unknown_type', 'unauthorized', 'bad_credentials', 'name_taken',
  'no_such_room', 'no_such_user', 'room_full', 'not_in_room', 'not_allowed', 'rate_limited',
  'server_busy', 'game_state', 'internal',
  // local: no reply in time, the connection ended before the reply, the client was closed
  'timeout', 'disconnected', 'closed',
]);

/** A refused request (`error` reply) or a local failure; `code` is one of ERROR_CODES. */
export class ParlorError extends Error {
  constructor(code, message, reply) {
    super(message || code);
    this.name = 'ParlorError';
    this.code = code;
    this.field = reply && typeof reply.field === 'string' ? reply.field : undefined;
    // a mute or ban (PROTOCOL.md 5.1): until when (ms, or null for ever), and why
    if (reply && 'until' in reply) this.until = reply.until;
    if (reply && typeof reply.reason === 'string') this.reason = reply.reason;
    this.reply = reply || null;
    this.request = undefined; // the type of the request this refuses, when it answers one
  }
}

/** A ParlorError about the request `item` (its type in `request`). */
function requestError(item, code, message, reply) {
  const err = new ParlorError(code, message, reply);
  err.request = item.msg.type;
  return err;
}

/** Listeners by event name. A throwing listener does not break the client: it is rethrown later. */
export class Emitter {
  constructor() {
    this._listeners = new Map();
  }

  /** Calls `fn` on every `type` event; returns a function that removes it. */
  on(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
    return () => this.off(type, fn);
  }

  off(type, fn) {
    const set = this._listeners.get(type);
    if (set) set.delete(fn);
  }

  once(type, fn) {
    const off = this.on(type, (ev) => {
      off();
      fn(ev);
    });
    return off;
  }

  emit(type, ev) {
    const set = this._listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(ev);
      } catch (e) {
        setTimeout(() => { throw e; });
      }
    }
  }
}

export const DEFAULT_BACKOFF = Object.freeze({ base: 500, max: 15000, jitter: 0.3 });

/** PROTOCOL.md 4.1b: 0.5 s doubling to 15 s, ±30 %, so a restart does not bring everyone back at once. */
export function backoffDelay(attempt, opts = DEFAULT_BACKOFF, random = Math.random) {
  const { base, max, jitter } = { ...DEFAULT_BACKOFF, ...opts };
  const d = Math.min(max, base * 2 ** attempt);
  return Math.max(1, Math.round(d * (1 + (random() * 2 - 1) * jitter)));
}

// Refill a little slower than announced: the server measures the rate on its own clock.
const RATE_MARGIN = 0.9;

/** A token bucket that mirrors one of the server's (PROTOCOL.md 7). */
export class TokenBucket {
  constructor(perSec, burst, now = Date.now()) {
    this.perSec = perSec * RATE_MARGIN;
    this.burst = burst;
    this.tokens = burst;
    this.at = now;
  }

  level(now = Date.now()) {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.perSec) / 1000);
    this.at = now;
    return this.tokens;
  }

  /** Milliseconds until a token is there (0: now). */
  wait(now = Date.now()) {
    const t = this.level(now);
    return t >= 1 ? 0 : Math.ceil(((1 - t) * 1000) / this.perSec);
  }

  take(now = Date.now()) {
    this.level(now);
    this.tokens -= 1;
  }

  empty(now = Date.now()) {
    this.level(now);
    this.tokens = Math.min(this.tokens, 0);
  }
}

const SAY_TYPES = new Set(['say', 'whisper']);
const OPEN = 1;

async function webSocketClass(given) {
  if (given) return given;
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  // node without a global WebSocket: the `ws` package, loaded only here
  const mod = await import('ws');
  return mod.default || mod.WebSocket;
}

/**
 * One connection at a time to a parlor endpoint. Subclasses say when a new socket is ready for
 * requests (`_onOpen`, `_onEvent`) and how a dropped session is taken back (`_recover`).
 * States: idle, connecting, open (connected, not signed in), ready (signed in), reconnecting,
 * closed.
 */
export class Channel extends Emitter {
  constructor(opts = {}) {
    super();
    if (typeof opts.url !== 'string') throw new TypeError('parlor-client: the `url` option is required');
    this.url = opts.url;
    this.protocol = opts.protocol;
    this.requestTimeout = opts.requestTimeout ?? 15000;
    this.backoff = opts.reconnect === false ? null : { ...DEFAULT_BACKOFF, ...(opts.reconnect || {}) };
    this._shouldReconnect = opts.shouldReconnect || null;
    this._WebSocket = opts.WebSocket || null;
    this._random = opts.random || Math.random;
    this.state = 'idle';
    this.socket = null;         // the current WebSocket, null between connections
    this._conn = null;          // {ws, resolve, reject, settled, opened, intent}
    this._nextId = 1;
    this._pending = new Map();  // id -> queued item, sent and awaiting its reply
    this._queue = [];           // items not sent yet, in order
    this._barrier = null;       // id of a sign-in awaiting its reply: nothing else goes out
    this._buckets = null;       // {req, say} once the server's rates are known
    this._pumpTimer = null;
    this._attempt = 0;
    this._reconnectTimer = null;
    this._live = false;         // reconnect after a drop (set by a sign-in)
    this._stopped = false;      // the server said not to come back (banned)
  }

  get connected() {
    return this.state === 'open' || this.state === 'ready';
  }

  /** Opens a connection; resolves once it takes requests (a player's after `welcome`). */
  connect() {
    if (this._conn) return this._conn.promise;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    this._stopped = false;
    return this._open();
  }

  _open() {
    const conn = { ws: null, settled: false, opened: false, intent: null };
    conn.promise = new Promise((resolve, reject) => {
      conn.resolve = resolve;
      conn.reject = reject;
    });
    conn.promise.catch(() => {}); // the caller may not wait for it (automatic reconnects)
    this._conn = conn;
    this.state = 'connecting';
    this.emit('connecting', { attempt: this._attempt });
    webSocketClass(this._WebSocket).then((WS) => {
      if (this._conn !== conn) return;
      let ws;
      try {
        ws = new WS(this.url, this.protocol);
      } catch (e) {
        this._closed(conn, 1006, String((e && e.message) || e));
        return;
      }
      conn.ws = ws;
      this.socket = ws;
      ws.addEventListener('open', () => {
        if (this._conn !== conn) return;
        conn.opened = true;
        if (ws.protocol !== this.protocol) {
          conn.intent = 'stop';
          ws.close(1000);
          return;
        }
        this._onOpen(conn);
      });
      ws.addEventListener('message', (ev) => {
        if (this._conn === conn) this._onFrame(conn, ev.data);
      });
      ws.addEventListener('close', (ev) => {
        if (this._conn === conn) this._closed(conn, ev.code || 1006, ev.reason || '');
      });
      ws.addEventListener('error', () => { /* a close event follows */ });
    }, (e) => this._closed(conn, 1006, `cannot load a WebSocket implementation: ${e.message}`));
    return conn.promise;
  }

  /** The socket takes requests: settle connect(), or take the session back after a drop. */
  _ready(conn, value) {
    if (conn.settled) return;
    conn.settled = true;
    this.state = 'open';
    this._pump();
    if (conn.automatic) {
      this._recover(conn).then((reply) => {
        if (this._conn !== conn) return;
        this._attempt = 0;
        this.state = 'ready';
        this.emit('signedin', { reply, automatic: true });
        this._pump();
      }, (err) => {
        if (this._conn !== conn) return;
        // try again later (the old connection still holds the name, the server is busy) or
        // give up (the session is gone and cannot be taken back without the user)
        const again = ['name_taken', 'rate_limited', 'server_busy', 'timeout', 'internal', 'disconnected'].includes(err.code);
        if (!again) {
          this._live = false;
          this.emit('sessionlost', { error: err });
        }
        conn.intent = again ? 'retry' : 'stop';
        conn.error = err; // the close event says why the client ended this connection itself
        if (conn.ws) conn.ws.close(1000);
      });
    }
    conn.resolve(value);
  }

  _onFrame(conn, data) {
    if (typeof data !== 'string') return;
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    if ((msg.type === 'ok' || msg.type === 'error') && this._pending.has(msg.re)) {
      this._onReply(msg);
      return;
    }
    if (msg.type === 'error') {
      // a reply to nothing we wait for (re null: a frame the server could not read)
      this.emit('error', new ParlorError(msg.code, msg.message, msg));
      return;
    }
    if (msg.type === 'ok') return;
    this._onEvent(conn, msg);
  }

  _onReply(msg) {
    const item = this._pending.get(msg.re);
    this._pending.delete(msg.re);
    clearTimeout(item.timer);
    if (this._barrier === msg.re) this._barrier = null;
    if (msg.type === 'error' && msg.code === 'rate_limited' && item.retries < 5 && this._buckets) {
      // our buckets ran ahead of the server's: the request had no effect, send it again later
      item.retries += 1;
      this._buckets.req.empty();
      if (SAY_TYPES.has(item.msg.type)) this._buckets.say.empty();
      this._queue.unshift(item);
    } else if (msg.type === 'ok') {
      // synchronously, before the frames that follow this reply are handled
      if (item.onOk) item.onOk(msg);
      item.resolve(msg);
    } else {
      item.reject(requestError(item, msg.code, msg.message, msg));
    }
    this._pump();
  }

  _closed(conn, code, reason) {
    this._conn = null;
    this.socket = null;
    clearTimeout(this._pumpTimer);
    this._pumpTimer = null;
    this._barrier = null;
    const err = new ParlorError(conn.intent === 'close' ? 'closed' : 'disconnected', `the connection closed (${code}${reason ? ` ${reason}` : ''})`);
    for (const item of this._pending.values()) {
      clearTimeout(item.timer);
      item.reject(err);
    }
    this._pending.clear();
    for (const item of this._queue.splice(0)) item.reject(err);
    if (!conn.settled) {
      conn.settled = true;
      conn.reject(Object.assign(new ParlorError(err.code, err.message), { closeCode: code, closeReason: reason, opened: conn.opened }));
    }
    let again = this._live && this.backoff !== null && !this._stopped && conn.intent !== 'stop' && conn.intent !== 'close';
    if (again && conn.intent !== 'retry') again = this._reconnectAfter(code, reason);
    this.state = again ? 'reconnecting' : 'closed';
    let delay;
    if (again) {
      delay = backoffDelay(this._attempt, this.backoff, this._random);
      this._attempt += 1;
      this.reconnectAt = Date.now() + delay;
      this._reconnectTimer = setTimeout(() => this._reconnect(), delay);
    } else {
      this._live = false;
    }
    const ev = { code, reason, opened: conn.opened, reconnecting: again, delay, attempt: again ? this._attempt : 0 };
    if (conn.error) ev.error = conn.error;
    this.emit('close', ev);
  }

  /** Whether a close the client did not ask for is worth a reconnect. */
  _reconnectAfter(code, reason) {
    if (this._shouldReconnect) return this._shouldReconnect({ code, reason }) !== false;
    // the client's own faults would only repeat; a kick or ban means "stay away"
    if (code === 1002 || code === 1003 || code === 1007 || code === 1009) return false;
    if (code === 1008 && (reason === 'banned' || /^kicked/.test(reason) || /^bad token|too many attempts/.test(reason))) return false;
    return true;
  }

  _reconnect() {
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    if (this._conn || this.state !== 'reconnecting') return;
    this._open();
    this._conn.automatic = true;
  }

  /** While waiting to reconnect: try now instead of at the end of the delay. */
  reconnectNow() {
    if (this.state === 'reconnecting') this._reconnect();
  }

  /**
   * After a close that did not reconnect by itself (a kick, a ban that is over, a session the
   * client gave up on): connects again at once and takes the session back the way a reconnect
   * does, retrying with backoff from then on. `signedin` (automatic) says it is back. Does
   * nothing while connected or reconnecting, or when there is no session (never signed in, or
   * close() was called).
   */
  reopen() {
    if (this._conn || this.state === 'reconnecting' || !this._canRecover()) return;
    this._live = true;
    this._stopped = false;
    this._attempt = 0;
    this.state = 'reconnecting';
    this._reconnect();
  }

  /**
   * Sends `{type, id, ...fields}` through the send queue; resolves with the `ok` reply, rejects
   * with a ParlorError (the `error` reply's code, or timeout / disconnected / closed).
   */
  request(type, fields = {}, opts = {}) {
    if (!this.connected) {
      return Promise.reject(new ParlorError(this.state === 'closed' || this.state === 'idle' ? 'closed' : 'disconnected', 'not connected'));
    }
    return this._enqueue(type, fields, opts);
  }

  _enqueue(type, fields, opts = {}) {
    return new Promise((resolve, reject) => {
      const item = {
        msg: { type, ...fields }, resolve, reject, retries: 0, timer: null,
        timeout: opts.timeout ?? this.requestTimeout, barrier: !!opts.barrier, onOk: opts.onOk,
      };
      if (opts.front) this._queue.unshift(item);
      else this._queue.push(item);
      this._pump();
    });
  }

  /** How many requests wait for their turn in the send queue (not sent yet). */
  get queued() {
    return this._queue.length;
  }

  /** Sends what the buckets allow, in order; the first request that must wait holds the rest. */
  _pump() {
    clearTimeout(this._pumpTimer);
    this._pumpTimer = null;
    const ws = this.socket;
    while (this._queue.length && ws && ws.readyState === OPEN && this._barrier === null && this.connected) {
      const item = this._queue[0];
      const say = SAY_TYPES.has(item.msg.type);
      if (this._buckets) {
        const now = Date.now();
        const wait = Math.max(this._buckets.req.wait(now), say ? this._buckets.say.wait(now) : 0);
        if (wait > 0) {
          this._pumpTimer = setTimeout(() => this._pump(), wait);
          return;
        }
        this._buckets.req.take(now);
        if (say) this._buckets.say.take(now);
      }
      this._queue.shift();
      const id = this._nextId++;
      this._pending.set(id, item);
      if (item.barrier) this._barrier = id;
      item.timer = setTimeout(() => {
        if (this._pending.get(id) !== item) return;
        this._pending.delete(id);
        if (this._barrier === id) this._barrier = null;
        item.reject(requestError(item, 'timeout', `no reply to ${item.msg.type} within ${item.timeout} ms`));
        this._pump();
      }, item.timeout);
      const { type, ...rest } = item.msg;
      ws.send(JSON.stringify({ type, id, ...rest }));
    }
  }

  /** A new connection starts with full buckets on the server: so do ours. */
  _setRates(limits) {
    const n = (v, d) => (Number.isFinite(v) && v > 0 ? v : d);
    this._buckets = {
      req: new TokenBucket(n(limits.rate_per_sec, 20), n(limits.rate_burst, 40)),
      say: new TokenBucket(n(limits.say_per_sec, 5), n(limits.say_burst, 10)),
    };
  }

  /**
   * Closes the connection with a close frame (1000 unless told) and stops reconnecting: the
   * server lets a player leave their rooms at once. Resolves when the socket is closed.
   */
  close(code = 1000, reason) {
    this._live = false;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    const conn = this._conn;
    if (!conn) {
      this.state = 'closed';
      return Promise.resolve();
    }
    conn.intent = 'close';
    const done = new Promise((resolve) => this.once('close', resolve));
    if (conn.ws && conn.ws.readyState <= OPEN) {
      try {
        conn.ws.close(code, reason);
      } catch {
        this._closed(conn, code, reason || '');
      }
    } else {
      this._closed(conn, code, reason || '');
    }
    return done.then(() => {});
  }

  // subclass hooks
  _onOpen() {}
  _onEvent(conn, msg) {
    this.emit(msg.type, msg);
  }
  async _recover() {
    return null;
  }
  _canRecover() {
    return false;
  }
}
