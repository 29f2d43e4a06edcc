// AdminClient: the operators' console connection (protocol/ADMIN.md): the same request layer
// and reconnection as a player's, on /admin/ws with the parlor-admin.v1 subprotocol, signed in
// with `auth` and signed in again by itself after a drop.

import { Channel, ADMIN_PROTOCOL } from './core.js';

export class AdminClient extends Channel {
  /** opts: as ParlorClient's; `url` is the console's endpoint, ws://host:port/admin/ws. */
  constructor(opts = {}) {
    super({ protocol: ADMIN_PROTOCOL, ...opts });
    this._token = null;
  }

  // no welcome on this endpoint: the socket takes requests once open
  _onOpen(conn) {
    this._ready(conn, null);
  }

  /** Authenticates with the operator's token; from then on a drop reconnects and authenticates again. */
  async auth(token) {
    const reply = await this.request('auth', { token }, { barrier: true });
    this._token = token;
    this._live = true;
    this._attempt = 0;
    this.state = 'ready';
    this.emit('signedin', { reply, automatic: false });
    return reply;
  }

  /**
   * Connects and authenticates, retrying with backoff until it succeeds: what a console that
   * should stay up wants. Resolves with the first `auth` reply.
   */
  start(token) {
    this._token = token;
    this._live = true;
    return new Promise((resolve, reject) => {
      const offs = [
        this.on('signedin', (ev) => { offs.forEach((f) => f()); resolve(ev.reply); }),
        this.on('close', (ev) => { if (!ev.reconnecting) { offs.forEach((f) => f()); reject(Object.assign(new Error(`closed ${ev.code} ${ev.reason}`), ev)); } }),
      ];
      this.state = 'reconnecting';
      this._reconnect();
    });
  }

  _canRecover() {
    return typeof this._token === 'string';
  }

  async _recover() {
    return this._enqueue('auth', { token: this._token }, { barrier: true });
  }

  rooms() { return this.request('rooms').then((r) => r.rooms); }
  users(q) { return this.request('users', q === undefined ? {} : { q }).then((r) => r.users); }
  announce(text) { return this.request('announce', { text }); }
  kick(name, reason) { return this.request('kick', reason === undefined ? { name } : { name, reason }); }
  mute(name, minutes, reason) { return this.request('mute', reason === undefined ? { name, minutes } : { name, minutes, reason }); }
  /** opts: {kind: 'name' | 'address', target, minutes?, reason?} */
  ban(opts) { return this.request('ban', opts); }
  unban(kind, target) { return this.request('unban', { kind, target }); }
  closeRoom(room) { return this.request('close_room', { room }); }
  deleteMessage(room, seq) { return this.request('delete_message', { room, seq }); }
  /** opts: {before?, limit?, q?} */
  roomChat(room, opts = {}) { return this.request('room_chat', { room, ...opts }); }
  backup() { return this.request('backup'); }
  backupStatus() { return this.request('backup_status'); }
  drain(seconds) { return this.request('drain', seconds === undefined ? {} : { seconds }); }
}
