// ParlorClient: a player's connection (protocol/PROTOCOL.md). Sign-in, rooms, chat, whispers,
// history, the leaderboard and the quiz as promise-returning methods; events as listeners; and
// after a dropped connection, a reconnect that takes the session back with `resume` and fills
// whatever gap the replay leaves from `history`, so that the application sees each room's
// chat once and in seq order.

import { Channel, ParlorError, PLAYER_PROTOCOL } from './core.js';

/** PROTOCOL.md section 7: the limits a server announces, at their defaults. */
export const DEFAULT_LIMITS = Object.freeze({
  max_message: 8192, name_max: 24, text_max: 1000, room_name_max: 48, room_max_default: 50,
  room_max_limit: 500, lobby_max: 20000, rooms_per_session: 16, max_rooms: 1000, history: 50,
  signin_timeout: 10, sendq_max_messages: 2048, sendq_max_bytes: 1048576, rate_per_sec: 20,
  rate_burst: 40, say_per_sec: 5, say_burst: 10, rate_close_after: 10, ping_interval: 30,
  idle_timeout: 60, max_connections: 20000, max_per_address: 0, quiz_max_rounds: 50,
  quiz_max_seconds: 120, quiz_reveal_ms: 3000, rejoin_seconds: 30, presence_max: 100,
  sendq_soft_messages: 512, sendq_soft_bytes: 262144, sendq_soft_seconds: 10, resume_replay: 200,
});

const HISTORY_PAGE = 200; // the most `history` returns at once (4.8)
const SIGNIN_TYPES = new Set(['hello', 'register', 'login', 'resume']);

const maxSeq = (list) => list.reduce((m, c) => (c && Number.isInteger(c.seq) && c.seq > m ? c.seq : m), 0);

export class ParlorClient extends Channel {
  /**
   * opts: url (ws://host:port/ws), WebSocket (a constructor; default the global one, or the `ws`
   * package in node), requestTimeout (ms, 15000), reconnect ({base, max, jitter} or false),
   * shouldReconnect({code, reason}), gapLimit (messages fetched per room after a resume, 1000).
   */
  constructor(opts = {}) {
    super({ protocol: PLAYER_PROTOCOL, ...opts });
    this.gapLimit = opts.gapLimit ?? 1000;
    this.limits = { ...DEFAULT_LIMITS };
    this.server = null;      // welcome.server
    this.name = null;        // our name as the server spells it, once signed in
    this.token = null;       // the newest token: what a reconnect resumes with
    this.account = false;    // signed in with an account (register, login, an account's token)
    this.rooms = new Map();  // id -> {id, info, lastSeq}: the rooms we are in
    this._held = new Map();  // room id -> chat events held while a gap is filled
  }

  _onEvent(conn, msg) {
    switch (msg.type) {
      case 'welcome':
        if (msg.limits && typeof msg.limits === 'object') {
          for (const [k, v] of Object.entries(msg.limits)) if (Number.isFinite(v)) this.limits[k] = v;
        }
        this.server = typeof msg.server === 'string' ? msg.server : null;
        this._setRates(this.limits);
        this._ready(conn, msg); // first: a welcome listener may send requests at once
        this.emit('welcome', msg);
        return;
      case 'chat':
        this._chat(msg);
        return;
      case 'room_closed':
        this.rooms.delete(msg.room);
        this._held.delete(msg.room);
        break;
      case 'banned':
        this._stopped = true; // "a client should not reconnect by itself until `until`" (5.1)
        break;
      default:
        break;
    }
    this.emit(msg.type, msg);
  }

  /** Passes on each room's chat once, in seq order; holds it while that room's gap is filled. */
  _chat(msg) {
    const held = this._held.get(msg.room);
    if (held) {
      held.push(msg);
      return;
    }
    const room = this.rooms.get(msg.room);
    if (room && Number.isInteger(msg.seq)) {
      if (msg.seq <= room.lastSeq) return; // seen already (replayed, or in a history page)
      room.lastSeq = msg.seq;
    }
    this.emit('chat', msg);
  }

  request(type, fields = {}, opts = {}) {
    // one sign-in at a time, and nothing else until it is answered (PROTOCOL.md 2)
    if (SIGNIN_TYPES.has(type)) opts = { ...opts, barrier: true };
    return super.request(type, fields, opts);
  }

  // ---- sign-in (4.1, 4.1a, 4.1b) --------------------------------------------------------------

  /** Signs in as a guest. */
  hello(name) {
    return this._signIn('hello', { name }, false);
  }

  register(name, password) {
    return this._signIn('register', { name, password }, true);
  }

  login(name, password) {
    return this._signIn('login', { name, password }, true);
  }

  /**
   * Signs in with a token from an earlier sign-in (after a reload, say). `seen` maps room ids to
   * the last seq the application has: those rooms' missed chat follows as `chat` events.
   */
  async resume(token, seen, opts = {}) {
    const fields = { token };
    if (seen && typeof seen === 'object') fields.seen = seen;
    for (const [id, seq] of Object.entries(seen || {})) if (!this.rooms.has(id)) this.rooms.set(id, { id, info: null, lastSeq: seq });
    const reply = await this.request('resume', fields, { onOk: (r) => this._resumed(r, fields.seen) });
    this._signedIn(reply, opts.account ?? null);
    await this._afterResume(reply, fields.seen);
    this.emit('signedin', { reply, automatic: false });
    return reply;
  }

  /**
   * Takes back a session this client did not sign in itself (a token kept across a page
   * reload): connects and recovers as after a drop: `resume` with `token`, a guest whose session
   * ended signs in again as `name`, and retries with backoff while the server still counts the
   * old connection or is busy (the `close` event's `error` says why). `signedin` (automatic)
   * says it is back, `sessionlost` that the token no longer works.
   */
  restore({ token, name, account }) {
    if (this._conn || this.state === 'reconnecting') return;
    this.token = token;
    this.name = typeof name === 'string' ? name : null;
    // unless told, the token's shape says (PROTOCOL.md: a guest's is "v1.-<n>...")
    this.account = typeof account === 'boolean' ? account : !/^v1\.-/.test(token);
    this.reopen();
  }

  _canRecover() {
    return typeof this.token === 'string' && this.token !== '';
  }

  async _signIn(type, fields, account) {
    const reply = await this.request(type, fields);
    this._signedIn(reply, account);
    this.emit('signedin', { reply, automatic: false });
    return reply;
  }

  _signedIn(reply, account) {
    this.name = typeof reply.name === 'string' ? reply.name : this.name;
    if (typeof reply.token === 'string') this.token = reply.token;
    // a token's kind is in its shape (PROTOCOL.md: a guest's is "v1.-<n>...", an account's "v1.<id>...")
    this.account = account ?? (typeof this.token === 'string' && !/^v1\.-/.test(this.token));
    this._live = true;
    this._attempt = 0;
    this.state = 'ready';
  }

  /** After a drop: `resume`, or a guest's `hello` when the server has ended the session. */
  async _recover() {
    const seen = {};
    for (const [id, r] of this.rooms) seen[id] = r.lastSeq;
    let reply;
    try {
      reply = await this._enqueue('resume', { token: this.token, seen }, { barrier: true, onOk: (r) => this._resumed(r, seen) });
    } catch (err) {
      if (err.code !== 'unauthorized' || this.account || !this.name) throw err;
      // a guest whose session ended (grace over, server restarted): the same name again
      reply = await this._enqueue('hello', { name: this.name }, { barrier: true });
      this._signedIn(reply, false);
      await this._rejoin([...this.rooms.keys()]);
      return reply;
    }
    this._signedIn(reply, this.account);
    await this._afterResume(reply, seen);
    return reply;
  }

  /** Runs as the resume's ok arrives, before the replay that follows it. */
  _resumed(reply, seen) {
    if (reply.rejoined !== true) return;
    const replay = reply.replay && typeof reply.replay === 'object' ? reply.replay : {};
    const kept = new Set();
    for (const info of Array.isArray(reply.rooms) ? reply.rooms : []) {
      if (!info || typeof info.id !== 'string') continue;
      kept.add(info.id);
      const room = this.rooms.get(info.id) || { id: info.id, info: null, lastSeq: seen?.[info.id] ?? 0 };
      room.info = info;
      this.rooms.set(info.id, room);
      // older messages were left out of the replay: hold the replay until history fills the gap
      if (replay[info.id] && replay[info.id].recovered === false) this._held.set(info.id, []);
    }
    this._lost = [...this.rooms.keys()].filter((id) => !kept.has(id));
  }

  async _afterResume(reply, seen) {
    if (reply.rejoined !== true) {
      // an account's token after the grace period: signed in, but in no room
      await this._rejoin([...this.rooms.keys()]);
      return;
    }
    const replay = reply.replay && typeof reply.replay === 'object' ? reply.replay : {};
    const lost = this._lost || [];
    this._lost = null;
    await Promise.all([
      ...[...this._held.keys()].map((id) => this._fillGap(id, seen?.[id] ?? 0, replay[id].from)),
      this._rejoin(lost),
    ]);
  }

  /** Joins rooms the server no longer has us in, passing on what they said meanwhile. */
  async _rejoin(ids) {
    await Promise.all(ids.map(async (id) => {
      const room = this.rooms.get(id);
      const after = room ? room.lastSeq : 0;
      let reply;
      try {
        reply = await this._enqueue('join', { room: id }, {
          onOk: (r) => {
            const history = Array.isArray(r.history) ? r.history : [];
            // hold the room's chat until the gap before this history is filled
            this._held.set(id, history.slice());
          },
        });
      } catch (err) {
        if (err.code === 'disconnected' || err.code === 'closed') throw err;
        this.rooms.delete(id);
        this._held.delete(id);
        this.emit('roomlost', { room: id, error: err });
        return;
      }
      if (room) room.info = reply.room;
      const history = Array.isArray(reply.history) ? reply.history : [];
      if (after > 0 && history.length > 0 && history[0].seq > after + 1) await this._fillGap(id, after, history[0].seq);
      else this._release(id);
      this.emit('rejoined', { room: id, reply });
    }));
  }

  /**
   * Pages back through `history` from seq `before` (absent: the newest) to the message after
   * `after`, then passes on those and the held events, in order.
   */
  async _fillGap(id, after, before) {
    const found = [];
    let cursor = Number.isInteger(before) ? before : undefined;
    try {
      for (;;) {
        const fields = { room: id, limit: HISTORY_PAGE };
        if (cursor !== undefined) fields.before = cursor;
        const page = await this._enqueue('history', fields);
        const msgs = (Array.isArray(page.messages) ? page.messages : []).filter((m) => m.seq > after);
        found.unshift(...msgs);
        if (msgs.length === 0 || msgs[0].seq <= after + 1 || msgs.length < page.messages.length) break;
        if (found.length >= this.gapLimit) {
          this.emit('gap', { room: id, after, before: msgs[0].seq });
          break;
        }
        cursor = msgs[0].seq;
      }
    } catch (err) {
      if (err.code === 'disconnected' || err.code === 'closed') throw err;
      this.emit('gap', { room: id, after, before: found.length ? found[0].seq : before, error: err });
    }
    const held = this._held.get(id) || [];
    this._held.set(id, found.concat(held));
    this._release(id);
  }

  _release(id) {
    const held = this._held.get(id);
    this._held.delete(id);
    if (!held) return;
    held.sort((a, b) => a.seq - b.seq);
    for (const m of held) this._chat(m);
  }

  // ---- rooms, chat, history (4.2 - 4.9) -----------------------------------------------------------

  /** The rooms on the server (4.2). */
  async listRooms() {
    return (await this.request('rooms')).rooms;
  }

  /** Creates a room and joins it (4.3, 4.10 for a quiz room). */
  async create(opts) {
    const fields = { name: opts.name };
    for (const k of ['max', 'game', 'rounds', 'seconds']) if (opts[k] !== undefined) fields[k] = opts[k];
    const reply = await this.request('create', fields);
    this.rooms.set(reply.room.id, { id: reply.room.id, info: reply.room, lastSeq: 0 });
    return reply;
  }

  /** Joins a room (4.4); the reply's `history` and a running game's `game` are not events. */
  async join(room) {
    const reply = await this.request('join', { room }, {
      onOk: (r) => {
        const known = this.rooms.get(room);
        const last = maxSeq(Array.isArray(r.history) ? r.history : []);
        if (known) {
          known.info = r.room;
          known.lastSeq = Math.max(known.lastSeq, last);
        } else this.rooms.set(room, { id: room, info: r.room, lastSeq: last });
      },
    });
    return reply;
  }

  async leave(room) {
    try {
      return await this.request('leave', { room });
    } finally {
      this.rooms.delete(room);
    }
  }

  /** Says `text` in `room` (4.6); resolves with `{seq}` once the message is saved. */
  say(room, text) {
    return this.request('say', { room, text });
  }

  whisper(to, text) {
    return this.request('whisper', { to, text });
  }

  /** Older messages of a room (4.8): up to `limit` (1-200) with seq below `before`, oldest first. */
  async history(room, opts = {}) {
    const fields = { room };
    if (opts.before !== undefined) fields.before = opts.before;
    if (opts.limit !== undefined) fields.limit = opts.limit;
    return (await this.request('history', fields)).messages;
  }

  /** The server's clock (4.9). */
  async ping() {
    return (await this.request('ping')).time;
  }

  // ---- the quiz (4.10) --------------------------------------------------------------------------

  start(room) {
    return this.request('start', { room });
  }

  answer(room, round, choice) {
    return this.request('answer', { room, round, choice });
  }

  /** `{entries, me?}` (4.10). */
  leaderboard(limit) {
    return this.request('leaderboard', limit === undefined ? {} : { limit });
  }

  close(code, reason) {
    const done = super.close(code, reason);
    this.name = null;
    this.token = null;
    this.account = false;
    this.rooms.clear();
    this._held.clear();
    return done;
  }
}

export { ParlorError };
