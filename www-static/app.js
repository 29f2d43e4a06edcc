// parlor web client: speaks protocol/PROTOCOL.md (version 1) over a WebSocket at /ws.
// Every piece of text from the server or a user goes into the page through textContent or
// text nodes, never through innerHTML.

import { t, has, bind, applyI18n, setLang, getLang, detectLang, onLangChange } from './i18n.js';
// the client library (clients/js), copied here by scripts/copy-frontend-libs
import { ParlorClient, ParlorError } from './lib/parlor-client/index.js';
import { $, el, pad2, wsUrl } from './common/dom.js';
const WHISPERS = '@whispers';           // view key of the whispers pane (not a room id)
const NAME_KEY = 'parlor.name';
const SESSION_KEY = 'parlor.session';   // {name, token, account, rooms, seenAt}: staying signed in
const SEEN_SAVE_MS = 5000;              // how often seenAt is refreshed while connected
const PASSWORD_MIN = 8, PASSWORD_MAX = 128; // bytes of UTF-8 (PROTOCOL.md 4.1a)
const REQUEST_TIMEOUT_MS = 15000;
const ROOMS_REFRESH_MS = 10000;
const MAX_ITEMS = 1000;                 // kept per room view
const TOAST_MS = 6000;
const QUIZ_TICK_MS = 100;               // countdown refresh while a question is open
const CHOICE_KEYS = ['A', 'B', 'C', 'D'];
const QUIZ_MAX_DEFAULT = 12;           // a quiz room's member limit when create gives none (4.10)

// Used until the server's welcome arrives (the protocol's defaults).
const DEFAULT_LIMITS = {
  max_message: 8192, name_max: 24, text_max: 1000, room_name_max: 48, room_max_default: 50,
  room_max_limit: 500, rooms_per_session: 16, history: 50,
  quiz_max_rounds: 50, quiz_max_seconds: 120, quiz_reveal_ms: 3000,
};

// ---------------------------------------------------------------------------------------------
// state

const state = {
  client: null,           // the ParlorClient, from "Sign in" until signing out or giving up
  limits: { ...DEFAULT_LIMITS },
  active: false,          // the user wants to be signed in (from "Sign in" until "Sign out")
  sessionStarted: false,  // a sign-in succeeded since the user pressed "Sign in"
  signedIn: false,        // signed in on the current connection
  name: null,             // our name as the server confirmed it
  wantName: null,         // the name to sign in with
  token: null,            // newest sign-in token from the server; `resume` sends it after a drop
  rooms: new Map(),       // joined room id -> room
  order: [],              // joined room ids, in the order they were joined
  current: null,          // room id or WHISPERS
  roomList: null,         // last `rooms` reply
  whispers: [],           // whisper items
  whisperUnread: 0,
  whisperPeer: null,      // default target for plain text typed in the whispers pane
  countdownTimer: null,   // the "trying again in n s" line while the library waits to reconnect
  refreshTimer: null,
  lastClose: null,        // {code, reason} of the last close, shown in the status line
  clockOffset: 0,         // server clock minus ours, in ms (from a ping, see syncClock)
  quizTimer: null,        // interval that moves the countdown of the room being looked at
  leaderboard: null,      // last `leaderboard` entries
  leaderboardMe: null,    // the account's own place from the last `leaderboard` reply
  mode: 'guest',          // how the next first sign-in goes: 'guest' (hello), 'login', 'register'
  password: null,         // held from the form until that sign-in is answered, then dropped
  account: false,         // signed in with an account (its token resumes it for days)
  restoring: false,       // signing back in with the stored token after a reload
  restoreRooms: null,     // the rooms a reload was in, joined again after a fresh sign-in
  seenTimer: null,
  status: { key: 'status.offline', args: undefined, kind: 'offline' },
  // what operators did (see "what operators do")
  mute: null,             // {until (ms or null), reason} while muted
  muteTimer: null,
  draining: null,         // {end} after `shutdown`, until the server closes
  restarting: false,      // closed with 1001: reconnecting to the restarted server
  stopped: false,         // the server closed us on purpose: no automatic reconnect
  pendingBan: null,       // the `banned` event, until its close arrives
  opsNotice: null,        // {kind, key, args, reason, button} under the top bar
  opsTimer: null,
  // what the player types (see "what the player types")
  outbox: [],             // lines on their way: {n, room | to, text, raw, status, error}
  outboxTimer: null,
  outboxBusy: false,
};

// ---------------------------------------------------------------------------------------------
// DOM helpers

const ui = {};

/** An element whose text is the translated `key`, kept translated on language change. */
function tr(tag, key, args, props = {}) {
  return bind(el(tag, props), key, args);
}

function hhmm(ts) {
  const d = new Date(ts);
  if (!Number.isFinite(d.getTime())) return '--:--';
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}
function fullTime(ts) {
  const d = new Date(ts);
  return Number.isFinite(d.getTime()) ? d.toLocaleString(getLang()) : '';
}

const codePoints = (s) => [...s].length;
const sameName = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
const isMe = (name) => sameName(name, state.name);

function nameHue(name) {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return h % 360;
}

// ---------------------------------------------------------------------------------------------
// validation (same rules as PROTOCOL.md section 4)

function validName(name) {
  const max = state.limits.name_max || DEFAULT_LIMITS.name_max;
  if (typeof name !== 'string') return false;
  const n = codePoints(name.normalize('NFC'));
  // letters, marks and digits of any script (the server also refuses mixed scripts)
  return n >= 1 && n <= max && /^[\p{L}\p{Mn}\p{Mc}\p{Nd}_-]+$/u.test(name);
}

function validRoomName(name) {
  const n = codePoints(name);
  return n >= 1 && n <= state.limits.room_name_max && !/\p{Cc}/u.test(name) && name.trim() !== '';
}

/** Why `text` cannot be sent as a say or whisper, as [i18n key, args], or null. */
function textProblem(text) {
  if (text.trim() === '') return ['text.empty'];
  const n = codePoints(text);
  if (n > state.limits.text_max) return ['text.tooLong', { n, max: state.limits.text_max }];
  return null;
}

// ---------------------------------------------------------------------------------------------
// errors and toasts

/**
 * What a player reads for an error: a sentence per code (PROTOCOL.md 6), never the code or the
 * server's English message (that one goes in the toast's tooltip, for whoever debugs).
 */
function errorTexts(err) {
  const code = err && err.code ? err.code : 'internal';
  const title = has(`err.${code}`) ? t(`err.${code}`) : t('err.other');
  return { title, detail: '', debug: err && err.reply ? `${code}: ${err.message}` : code };
}

/** The i18n key of the sentence for a close (PROTOCOL.md 8), from its code and reason. */
function closeKey(code, reason) {
  if (code === 1008 && reason === 'sign-in timeout') return 'close.signinTimeout';
  return has(`close.${code}`) ? `close.${code}` : 'close.other';
}

function toast(content, kind = 'info') {
  const box = el('div', { class: `toast toast--${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `toast-${kind}` });
  const body = el('div', { class: 'toast-body' });
  if (Array.isArray(content)) body.append(...content);
  else body.append(content);
  const close = el('button', { type: 'button', class: 'toast-close', onclick: () => box.remove() }, '×');
  bind(close, 'dismiss', undefined, 'aria');
  box.append(body, close);
  // The same message again (e.g. rate_limited while typing fast) replaces the older toast.
  for (const other of ui.toasts.querySelectorAll('.toast')) {
    if (other.firstElementChild.textContent === body.textContent) other.remove();
  }
  ui.toasts.append(box);
  while (ui.toasts.children.length > 4) ui.toasts.firstElementChild.remove();
  setTimeout(() => box.remove(), TOAST_MS);
  return box;
}

function toastError(err, heading) {
  // A request cut off by a dropped connection: the status line already says so.
  if (err && err.code === 'disconnected') return;
  const { title, detail, debug } = errorTexts(err);
  const parts = [];
  if (heading) parts.push(heading, ' ', el('span', { class: 'toast-detail', 'data-testid': 'error-detail' }, title));
  else parts.push(el('strong', {}, title));
  if (detail) parts.push(el('span', { class: 'toast-detail', 'data-testid': 'error-detail' }, detail));
  toast(parts, 'error').title = debug;
}

function toastKey(key, args, kind = 'info') {
  toast(tr('span', key, args), kind);
}

// ---------------------------------------------------------------------------------------------
// connection status

function setStatus(key, args, kind) {
  state.status = { key, args, kind };
  renderStatus();
}

function renderStatus() {
  const { key, args, kind } = state.status;
  ui.status.className = `status status--${kind}`;
  ui.status.dataset.state = kind;
  bind(ui.statusText, key, args);
  const c = state.lastClose;
  // while the server restarts, failed attempts are expected: no "connection lost"
  if (c && kind !== 'connected' && !state.restarting && !state.stopped) {
    bind(ui.statusDetail, closeKey(c.code, c.reason));
    ui.statusDetail.title = c.reason ? `${c.code}: ${c.reason}` : String(c.code);
    ui.statusDetail.hidden = false;
  } else {
    ui.statusDetail.hidden = true;
    ui.statusDetail.textContent = '';
  }
  ui.reconnectNow.hidden = kind !== 'reconnecting';
}

// ---------------------------------------------------------------------------------------------
// socket and requests

/** The page's handler of each event type (PROTOCOL.md 5); others are ignored (section 1). */
const EVENTS = {
  chat: (m) => onChat(m), joined: (m) => onJoined(m), left: (m) => onLeft(m),
  presence: (m) => onPresence(m), whisper: (m) => onWhisperEvent(m), host: (m) => onHost(m),
  game_started: (m) => onGameStarted(m), question: (m) => onQuestion(m), reveal: (m) => onReveal(m),
  game_over: (m) => onGameOver(m), game: (m) => onGameEvent(m), announce: (m) => onAnnounce(m),
  room_closed: (m) => onRoomClosed(m), chat_deleted: (m) => onChatDeleted(m),
  shutdown: (m) => onShutdown(m), muted: (m) => onMuted(m), unmuted: () => onUnmuted(),
  banned: (m) => { state.pendingBan = m; },
  welcome: (m) => onWelcome(m),
  // an error reply to no request (re null)
  error: (err) => toastError(err),
};

/**
 * Opens a connection through the client library, which matches replies to requests, keeps to
 * the announced rates, and after a drop reconnects with backoff and takes the session back
 * (resume, or a guest's hello by name, then its rooms again). The page follows its events:
 * `close` says whether and when it comes back, `signedin` (automatic) that it is back,
 * `sessionlost` that it cannot be; a close the server meant is never retried (see
 * stopsForGood), and the player comes back with reopen().
 */
function newClient() {
  clearCountdown();
  setStatus('status.connecting', undefined, 'connecting');
  const client = new ParlorClient({
    url: wsUrl('/ws'), requestTimeout: REQUEST_TIMEOUT_MS, shouldReconnect: (c) => !stopsForGood(c.code, c.reason),
  });
  state.client = client;
  const mine = (fn) => (ev) => { if (state.client === client) fn(ev); };
  for (const [type, fn] of Object.entries(EVENTS)) client.on(type, mine(fn));
  client.on('connecting', mine(() => {
    clearCountdown();
    setStatus('status.connecting', undefined, 'connecting');
  }));
  client.on('close', mine((ev) => onSocketClosed(client, ev)));
  client.on('signedin', mine((ev) => { if (ev.automatic) onSignedInAgain(ev.reply); }));
  client.on('sessionlost', mine((ev) => onSessionLost(ev.error)));
  client.on('rejoined', mine((ev) => onRejoined(ev.reply)));
  client.on('roomlost', mine((ev) => onRoomLost(ev.room, ev.error)));
  client.on('gap', mine((ev) => onGap(ev.room)));
  return client;
}

/** Connects for a first sign-in: the form's (welcome starts it, see onWelcome). */
function connect() {
  if (state.client) return;
  newClient().connect().catch(() => { /* told through the close event */ });
}

/** A request cut off by a close of ours reads like one cut off by the network. */
function offline(err) {
  if (err && err.code === 'closed') err.code = 'disconnected';
  throw err;
}

/** Sends a request; resolves with the ok reply, rejects with a ParlorError. */
function request(msg) {
  const c = state.client;
  if (!c || !c.connected) return Promise.reject(new ParlorError('disconnected'));
  const { type, ...fields } = msg;
  return c.request(type, fields).catch(offline);
}

/** Calls the library's `method` (join, leave, create: it keeps track of our rooms). */
function call(method, ...args) {
  const c = state.client;
  if (!c || !c.connected) return Promise.reject(new ParlorError('disconnected'));
  return c[method](...args).catch(offline);
}

function onWelcome(msg) {
  if (msg.limits && typeof msg.limits === 'object') {
    for (const [k, v] of Object.entries(msg.limits)) {
      if (Number.isFinite(v)) state.limits[k] = v;
    }
  }
  applyLimits();
  if (!state.active || state.signedIn) return;
  // after a drop or a reload the library signs back in by itself
  if (state.sessionStarted || state.restoring) setStatus('status.signingIn', undefined, 'connecting');
  else signIn();
}

/** A sign-in refused on a reload that another try may get through (the old connection still counts). */
const restoreMayRetry = (err) => err.request === 'resume' && ['name_taken', 'rate_limited', 'server_busy'].includes(err.code);

function onSocketClosed(client, ev) {
  clearCountdown();
  if (state.signedIn) saveSession(); // the moment the connection was last seen alive
  state.signedIn = false;
  stopRoomRefresh();
  const code = ev && ev.code ? ev.code : 1006;
  const reason = ev && typeof ev.reason === 'string' ? ev.reason : '';
  // a connection the library ended itself keeps the status line on the close before it
  if (!ev.error) state.lastClose = code === 1000 && !state.active ? null : { code, reason };
  updateComposer();

  if (!state.active) {
    setStatus('status.offline', undefined, 'offline');
    return;
  }
  if (ev.error) {
    // the automatic sign-in on that connection was refused; for good: sessionlost said so
    if (!ev.reconnecting) return;
    if (!state.sessionStarted && !restoreMayRetry(ev.error)) {
      signinFailed(ev.error); // after a reload: the form says why (a name still held, say)
      return;
    }
    // name_taken while resuming: the server has not yet noticed our previous connection is gone
    if (!(ev.error.code === 'name_taken' && ev.error.request === 'resume')) toastError(ev.error);
    showCountdown(client);
    return;
  }
  if (state.sessionStarted && opsOnClose(code, reason)) {
    if (ev.reconnecting) showCountdown(client);
    return;
  }
  if (code !== 1006 && code !== 1000 && code !== 1001) {
    // The server closed us for a reason worth showing (1008 policy, 1009 too big, ...).
    toastKey(closeKey(code, reason), undefined, 'error');
  }
  if (!state.sessionStarted) {
    // The first sign-in (or a reload's) never completed: back to the form instead of retrying forever.
    closeSocket();
    state.active = false;
    state.restoring = false;
    setStatus('status.offline', undefined, 'offline');
    showSigninError(tr('span', 'signin.noConnection'));
    setSigninBusy(false);
    return;
  }
  if (ev.reconnecting) showCountdown(client);
}

/** "Trying again in n s" until the library's next attempt (client.reconnectAt). */
function showCountdown(client) {
  clearCountdown();
  const tick = () => {
    if (state.client !== client || client.state !== 'reconnecting') return;
    const n = Math.max(1, Math.ceil((client.reconnectAt - Date.now()) / 1000));
    if (state.status.kind !== 'reconnecting' || state.status.args?.n !== n) {
      setStatus(state.restarting ? 'status.restartingIn' : 'status.reconnecting', { n }, 'reconnecting');
    }
  };
  tick();
  state.countdownTimer = setInterval(tick, 250);
}

function clearCountdown() {
  clearInterval(state.countdownTimer);
  state.countdownTimer = null;
}

/** Ends the connection and the library's reconnecting; this page hears nothing more from it. */
function closeSocket(code = 1000) {
  clearCountdown();
  const client = state.client;
  if (!client) return;
  state.client = null;
  state.signedIn = false;
  stopRoomRefresh();
  client.close(code); // requests still waiting reject (as disconnected, see offline())
}

/**
 * Estimates the server clock from one `ping` round trip: offset = serverTime - (sent+received)/2.
 * The protocol needs sign-in for `ping`, so it goes out right after the sign-in on every socket.
 */
async function syncClock() {
  const sent = Date.now();
  let reply;
  try {
    reply = await request({ type: 'ping' });
  } catch {
    return; // keep the previous estimate
  }
  const received = Date.now();
  if (!Number.isFinite(reply.time)) return;
  state.clockOffset = reply.time - (sent + received) / 2;
  updateCountdown();
}

const serverNow = () => Date.now() + state.clockOffset;

// ---------------------------------------------------------------------------------------------
// sign-in / sign-out

function showSigninError(node) {
  ui.signinError.replaceChildren();
  if (node) ui.signinError.append(node);
}

function setSigninBusy(busy) {
  ui.signinButton.disabled = busy;
  ui.nameInput.disabled = busy;
  ui.passwordInput.disabled = busy;
  ui.loginButton.disabled = busy;
  ui.registerButton.disabled = busy;
}

function onSigninSubmit(ev, mode = 'guest') {
  if (ev) ev.preventDefault();
  const name = ui.nameInput.value.trim().normalize('NFC');
  if (!validName(name)) {
    showSigninError(tr('span', 'signin.invalidName', { max: state.limits.name_max }));
    ui.nameInput.focus();
    return;
  }
  const password = ui.passwordInput.value;
  const bytes = new TextEncoder().encode(password).length;
  if (mode !== 'guest' && (bytes < PASSWORD_MIN || bytes > PASSWORD_MAX)) {
    showSigninError(tr('span', 'auth.passwordLength', { min: PASSWORD_MIN, max: PASSWORD_MAX }));
    ui.passwordInput.focus();
    return;
  }
  showSigninError(null);
  state.mode = mode;
  state.password = mode === 'guest' ? null : password;
  state.account = false;
  state.restoring = false;
  state.wantName = name;
  state.active = true;
  state.sessionStarted = false;
  state.token = null;
  state.lastClose = null;
  setSigninBusy(true);
  if (state.client) closeSocket();
  connect();
}

/** The first sign-in after "Sign in", "Log in" or "Sign up" (later ones are the library's). */
async function signIn() {
  setStatus('status.signingIn', undefined, 'connecting');
  let reply;
  const mode = state.mode;
  try {
    const c = state.client;
    if (!c || !c.connected) throw new ParlorError('disconnected');
    if (mode === 'guest' || !state.password) {
      reply = await c.hello(state.wantName).catch(offline);
    } else {
      reply = await c[mode](state.wantName, state.password).catch(offline);
      state.account = true;
    }
  } catch (err) {
    if (err.code === 'disconnected') return; // the close handler takes over
    signinFailed(err);
    return;
  }

  state.password = null; // kept no longer than the sign-in it was for
  signedIn(reply);
  await afterFreshSignIn();
}

/** The page's words for a refused sign-in, as [i18n key, args], or null for the generic text. */
function signinProblem(err, mode) {
  switch (err.code) {
    case 'bad_credentials': return ['auth.badCredentials'];
    case 'bad_request':
      return err.field === 'password' ? ['auth.passwordLength', { min: PASSWORD_MIN, max: PASSWORD_MAX }]
        : ['auth.badName', { max: state.limits.name_max }];
    case 'name_taken': {
      if (mode === 'login') return ['auth.onlineElsewhere'];
      const n = heldSeconds(state.wantName);
      return n > 0 ? ['auth.held', { n }] : ['auth.nameInUse'];
    }
    case 'not_allowed': return isRestriction(err) ? null : ['auth.banned']; // dated: bannedText
    case 'server_busy': return ['auth.busy'];
    default: return null;
  }
}

/** A first sign-in (or a sign-in after a reload) was refused: back to the form, saying why. */
function signinFailed(err, key) {
  const mode = state.restoring ? (state.account ? 'login' : 'guest') : state.mode;
  const problem = key ? [key] : signinProblem(err, mode); // before the stored session goes
  state.active = false;
  state.sessionStarted = false;
  state.restoring = false;
  state.account = false;
  state.password = null;
  state.token = null;
  forgetSession();
  closeSocket();
  state.lastClose = null;
  setStatus('status.offline', undefined, 'offline');
  if (problem) {
    showSigninError(tr('span', problem[0], problem[1], { 'data-testid': 'signin-problem' }));
  } else {
    const { title, detail } = errorTexts(err);
    const parts = el('span', {});
    if (isRestriction(err)) parts.append(bannedText(err)); // a banned name: until when, and why
    else {
      if (title) parts.append(el('strong', {}, title), ' ');
      parts.append(el('span', { class: 'muted', 'data-testid': 'error-detail' }, detail));
    }
    showSigninError(parts);
  }
  if (state.wantName) ui.nameInput.value = state.wantName;
  showView('signin');
  setSigninBusy(false);
  (mode === 'login' || mode === 'register' ? ui.passwordInput : ui.nameInput).focus();
}

// ---- staying signed in: the token in localStorage ------------------------------------------

function loadSession() {
  try {
    const v = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    return v && typeof v.name === 'string' && typeof v.token === 'string' ? v : null;
  } catch { return null; }
}

/** Stores what a reload needs to sign back in; `seenAt` is when the connection was last alive. */
function saveSession() {
  if (!state.signedIn || !state.token) return;
  const record = { name: state.name, token: state.token, account: state.account, rooms: [...state.order], seenAt: Date.now() };
  try { localStorage.setItem(SESSION_KEY, JSON.stringify(record)); } catch { /* private mode */ }
}

function forgetSession() {
  clearInterval(state.seenTimer);
  state.seenTimer = null;
  try { localStorage.removeItem(SESSION_KEY); } catch { /* private mode */ }
}

/** Seconds the server still keeps `name` for this page's dropped connection (0: not ours, or over). */
function heldSeconds(name) {
  const saved = loadSession();
  if (!saved || !sameName(saved.name, name) || !Number.isFinite(saved.seenAt)) return 0;
  const left = (state.limits.rejoin_seconds ?? 30) * 1000 - (Date.now() - saved.seenAt);
  return left > 0 ? Math.ceil(left / 1000) : 0;
}

/** After a reload: the library signs back in with the stored token (PROTOCOL.md 4.1b, 4.1a). */
function restoreSession() {
  const saved = loadSession();
  if (!saved) return false;
  state.wantName = saved.name;
  state.token = saved.token;
  state.account = saved.account === true;
  state.restoring = true;
  state.restoreRooms = Array.isArray(saved.rooms) ? saved.rooms.filter((r) => typeof r === 'string') : [];
  state.mode = state.account ? 'login' : 'guest';
  state.active = true;
  state.sessionStarted = false;
  ui.nameInput.value = saved.name;
  setSigninBusy(true);
  newClient().restore({ token: saved.token, name: saved.name, account: state.account });
  return true;
}

/**
 * The library took the session back by itself: after a drop (resume, or a guest's hello by
 * name), after "Come back", or after a reload. With `rejoined` the server kept us in our rooms:
 * their missed chat came as events (the library pages back through history when the replay
 * left some out); otherwise the library joined them again (`rejoined` / `roomlost` events).
 */
async function onSignedInAgain(reply) {
  signedIn(reply);
  if (reply.rejoined === true) {
    const infos = Array.isArray(reply.rooms) ? reply.rooms.filter((r) => r && typeof r.id === 'string') : [];
    const kept = new Set(infos.map((r) => r.id));
    for (const info of infos) {
      let room = state.rooms.get(info.id);
      if (!room) {
        // joined just before the drop and never saw the reply, or a reload
        room = newRoom(info);
        state.rooms.set(room.id, room);
        state.order.push(room.id);
      }
      applyRoomInfo(room, info);
    }
    renderAll();
    // Refresh member lists (joined/left events were missed while away): a join of a room we
    // are in replies with its current state and tells nobody.
    await Promise.all([...state.order].filter((id) => kept.has(id)).map((id) => joinRoom(id, { refresh: true })));
  } else if (state.order.length === 0) {
    // a reload: the page had no rooms yet; back into the ones it was in, or the lobby
    await afterFreshSignIn();
    return;
  }
  refreshRooms();
  startRoomRefresh();
}

/** The library could not take the session back (a token no longer good, a ban): say so. */
function onSessionLost(err) {
  if (state.sessionStarted && isRestriction(err)) {
    showBanned(err);
    return;
  }
  // an account's token is no good any more (expired, account gone): log in again
  if (state.account && (err.code === 'unauthorized' || err.code === 'bad_request')) signinFailed(null, 'auth.expired');
  else signinFailed(err);
}

/** The library joined a room again after the server had ended our session. */
function onRejoined(reply) {
  applyJoinReply(reply, false); // the missed chat came as events already
  if (!state.current) selectView(reply.room.id);
  else renderAll();
}

/** A room we were in could not be joined again: gone, full, or too many rooms. */
function onRoomLost(id, err) {
  const room = state.rooms.get(id);
  if (!room) return;
  toastError(err, tr('strong', 'roomGone', { room: roomLabel(room) }));
  dropRoom(id);
}

/** Missed chat the library could not fetch: mark where it is missing. */
function onGap(id) {
  const room = state.rooms.get(id);
  if (room) addItem(room, { kind: 'divider', key: 'historyGap' });
}

/** A new session on a page with no rooms: the lobby, then the rooms it was in before a reload
 * (quietly skipping those that are gone). */
async function afterFreshSignIn() {
  const others = (state.restoreRooms || []).filter((id) => id !== 'lobby');
  state.restoreRooms = null;
  await joinRoom('lobby', { select: true });
  await Promise.all(others.map((id) => joinRoom(id, { refresh: true })));
  refreshRooms();
  startRoomRefresh();
}

/** The state and view once the server accepted a hello or resume `reply`. */
function signedIn(reply) {
  clearCountdown();
  state.signedIn = true;
  state.sessionStarted = true;
  state.lastClose = null;
  if (typeof reply.token === 'string' && reply.token) state.token = reply.token; // always the newest
  state.name = typeof reply.name === 'string' ? reply.name : state.wantName;
  state.wantName = state.name;
  try { localStorage.setItem(NAME_KEY, state.name); } catch { /* private mode */ }
  state.restoring = false;
  ui.passwordInput.value = '';
  saveSession();
  clearInterval(state.seenTimer);
  state.seenTimer = setInterval(saveSession, SEEN_SAVE_MS);
  setStatus('status.connected', undefined, 'connected');
  opsSignedIn();
  ui.me.hidden = false;
  ui.me.textContent = state.name;
  ui.signout.hidden = false;
  ui.leaderboardButton.hidden = false;
  setSigninBusy(false);
  showView('chat');
  updateComposer();
  syncClock();
}

function signOut() {
  state.active = false;
  state.sessionStarted = false;
  state.token = null;     // a later sign-in starts a new session
  state.account = false;
  state.leaderboardMe = null;
  forgetSession();        // and a reload does not sign back in
  closeSocket(1000);      // a close frame: the server lets us leave our rooms at once
  state.lastClose = null;
  state.name = null;
  state.rooms.clear();
  state.order = [];
  state.current = null;
  state.roomList = null;
  state.whispers = [];
  state.whisperUnread = 0;
  state.whisperPeer = null;
  ui.me.hidden = true;
  ui.signout.hidden = true;
  ui.leaderboardButton.hidden = true;
  state.leaderboard = null;
  opsReset();
  outboxReset();
  if (ui.leaderboard.open) ui.leaderboard.close();
  setStatus('status.offline', undefined, 'offline');
  showView('signin');
  setSigninBusy(false);
  renderAll();
  ui.nameInput.focus();
}

function showView(which) {
  ui.signinView.hidden = which !== 'signin';
  ui.chatView.hidden = which !== 'chat';
}

// ---------------------------------------------------------------------------------------------
// rooms

function newRoom(info) {
  return {
    id: info.id, name: info.name ?? info.id, max: info.max, members: [],
    // big rooms (PROTOCOL.md "Presence in big rooms"): the member count when `members` is
    // only part of the list, else null
    total: null,
    items: [], lastSeq: 0, seqTs: new Map(), unread: 0,
    // quiz rooms (PROTOCOL.md 4.10); game is null for a chat room
    game: null, host: null, quizState: 'waiting', rounds: null, seconds: null, quiz: emptyQuiz(),
  };
}

/** Copies the fields of a room object (from create, join or rooms) into our room. */
function applyRoomInfo(room, info) {
  room.name = info.name ?? room.name;
  room.max = info.max ?? room.max;
  if ('game' in info) room.game = typeof info.game === 'string' ? info.game : null;
  if (typeof info.host === 'string') room.host = info.host;
  if (info.state === 'waiting' || info.state === 'playing') room.quizState = info.state;
  if (Number.isInteger(info.rounds)) room.rounds = info.rounds;
  if (Number.isInteger(info.seconds)) room.seconds = info.seconds;
}

async function refreshRooms() {
  if (!state.signedIn) return;
  try {
    const reply = await request({ type: 'rooms' });
    state.roomList = Array.isArray(reply.rooms) ? reply.rooms : [];
    renderRoomList();
  } catch (err) {
    if (err.code !== 'disconnected') toastError(err);
  }
}

function startRoomRefresh() {
  stopRoomRefresh();
  pumpOutbox(); // signed in and back in our rooms: what waited to be sent goes now
  state.refreshTimer = setInterval(() => {
    if (document.visibilityState !== 'hidden') refreshRooms();
  }, ROOMS_REFRESH_MS);
}

function stopRoomRefresh() {
  clearInterval(state.refreshTimer);
  state.refreshTimer = null;
}

/**
 * Joins room `id`. `refresh`: a room the server kept us in across a resume (or one a reload was
 * in); the join only fetches its current members, and a failure leaves the room as it is.
 */
async function joinRoom(id, { select = false, refresh = false } = {}) {
  let reply;
  try {
    reply = await call('join', id);
  } catch (err) {
    if (err.code === 'disconnected' || refresh) return;
    toastError(err);
    return;
  }
  applyJoinReply(reply, refresh);
  if (select || !state.current) selectView(reply.room.id);
  else renderAll();
}

function applyJoinReply(reply, rejoin) {
  const info = reply.room || {};
  let room = state.rooms.get(info.id);
  if (!room) {
    room = newRoom(info);
    state.rooms.set(room.id, room);
    state.order.push(room.id);
  }
  applyRoomInfo(room, info);
  room.members = Array.isArray(reply.members) ? reply.members.filter((m) => typeof m === 'string') : [];
  room.total = Number.isFinite(info.members) && info.members > room.members.length ? info.members : null;
  // a big room's list stops at its first members: we still list ourselves
  if (room.total !== null && state.name && !room.members.some(isMe)) room.members.push(state.name);
  const history = Array.isArray(reply.history) ? reply.history.filter((h) => h && h.type === 'chat') : [];

  if (rejoin && room.items.length > 0) {
    // Merge the history with what we already show. The server keeps seq per room; if the
    // history overlaps what we have (same seq, same ts) nothing was lost. Otherwise (server
    // restarted, or more than `history` messages while we were away) mark the gap.
    const overlap = history.filter((h) => h.seq <= room.lastSeq);
    const continuous = room.lastSeq === 0
      ? true
      : history.length > 0 && history[0].seq <= room.lastSeq + 1
        && history[history.length - 1].seq >= room.lastSeq
        && overlap.every((h) => !room.seqTs.has(h.seq) || room.seqTs.get(h.seq) === h.ts);
    if (!continuous) {
      room.lastSeq = 0;
      room.seqTs.clear();
      addItem(room, { kind: 'divider', key: 'historyGap' });
    }
  }
  for (const h of history) addChat(room, h, false);

  if (room.game === 'quiz') {
    if (reply.game && typeof reply.game === 'object') {
      applyGameSnapshot(room, reply.game);
    } else if (['starting', 'question', 'reveal'].includes(room.quiz.phase)) {
      // We were away (reconnect) while the game ended: nothing left to show of it.
      room.quiz = emptyQuiz();
    }
  }
}

function dropRoom(id) {
  state.rooms.delete(id);
  state.order = state.order.filter((x) => x !== id);
  if (state.current === id) {
    state.current = null;
    selectView(state.order[0] ?? null);
  } else {
    renderAll();
  }
}

async function leaveRoom(id) {
  const room = state.rooms.get(id);
  if (!room) return;
  try {
    await call('leave', id);
  } catch (err) {
    if (err.code !== 'no_such_room' && err.code !== 'not_in_room') {
      toastError(err);
      return;
    }
  }
  dropRoom(id);
  toastKey('leftRoom', { room: roomLabel(room) });
  refreshRooms();
}

async function createRoom(ev) {
  ev.preventDefault();
  const name = ui.createName.value;
  const maxText = ui.createMax.value.trim();
  if (!validRoomName(name)) {
    toastKey('create.invalidName', { max: state.limits.room_name_max }, 'error');
    ui.createName.focus();
    return;
  }
  const msg = { name };
  const quiz = selectedGame() === 'quiz';
  if (quiz) {
    msg.game = 'quiz';
    const checks = [
      ['rounds', ui.createRounds, state.limits.quiz_max_rounds, 'create.invalidRounds'],
      ['seconds', ui.createSeconds, state.limits.quiz_max_seconds, 'create.invalidSeconds'],
    ];
    for (const [field, input, max, key] of checks) {
      const text = input.value.trim();
      if (text === '') continue; // the server's default
      const n = Number(text);
      if (!Number.isInteger(n) || n < 1 || n > max) {
        toastKey(key, { max }, 'error');
        input.focus();
        return;
      }
      msg[field] = n;
    }
  }
  if (maxText !== '') {
    const max = Number(maxText);
    if (!Number.isInteger(max) || max < 2 || max > state.limits.room_max_limit) {
      toastKey('create.invalidMax', { max: state.limits.room_max_limit }, 'error');
      ui.createMax.focus();
      return;
    }
    msg.max = max;
  }
  ui.createButton.disabled = true;
  try {
    const reply = await call('create', msg);
    ui.createName.value = '';
    ui.createMax.value = '';
    ui.createRounds.value = '';
    ui.createSeconds.value = '';
    // The creator is a member: the create reply has no members/history, so fill them in.
    const info = { ...reply.room };
    if (quiz && !info.game) info.game = 'quiz';
    if (info.game === 'quiz' && typeof info.host !== 'string') info.host = state.name;
    applyJoinReply({ room: info, members: [state.name], history: [] }, false);
    selectView(reply.room.id);
    closeDrawers();
    refreshRooms();
    focusComposer();
  } catch (err) {
    toastError(err);
  } finally {
    ui.createButton.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// events

function addItem(room, item) {
  room.items.push(item);
  if (room.items.length > MAX_ITEMS) room.items.splice(0, room.items.length - MAX_ITEMS);
  if (state.current === room.id) appendItemNode(item);
}

function addChat(room, msg, live) {
  if (typeof msg.seq === 'number') {
    if (msg.seq <= room.lastSeq) return; // already shown
    room.lastSeq = msg.seq;
    room.seqTs.set(msg.seq, msg.ts);
    if (room.seqTs.size > MAX_ITEMS) room.seqTs.delete(room.seqTs.keys().next().value);
  }
  addItem(room, {
    kind: 'chat', from: String(msg.from ?? ''), text: String(msg.text ?? ''), ts: msg.ts, seq: msg.seq,
  });
  if (live && state.current !== room.id) {
    room.unread += 1;
    renderTabs();
  }
}

function onChat(msg) {
  const room = state.rooms.get(msg.room);
  if (!room) return;
  addChat(room, msg, true);
}

function onJoined(msg) {
  const room = state.rooms.get(msg.room);
  if (!room || typeof msg.name !== 'string') return;
  if (!room.members.includes(msg.name)) room.members.push(msg.name);
  addItem(room, { kind: 'notice', key: 'memberJoined', name: msg.name });
  if (state.current === room.id) renderMembers();
  if (room.game === 'quiz') quizChanged(room);
  updateRoomCount(room.id, room.members.length);
}

function onLeft(msg) {
  const room = state.rooms.get(msg.room);
  if (!room || typeof msg.name !== 'string') return;
  room.members = room.members.filter((m) => m !== msg.name);
  addItem(room, { kind: 'notice', key: 'memberLeft', name: msg.name });
  if (state.current === room.id) renderMembers();
  if (room.game === 'quiz') quizChanged(room);
  updateRoomCount(room.id, room.members.length);
}

/** `presence`: a big room's member count, with every name once it is small again. */
function onPresence(msg) {
  const room = state.rooms.get(msg.room);
  if (!room || !Number.isFinite(msg.members)) return;
  if (Array.isArray(msg.names)) {
    room.members = msg.names.filter((m) => typeof m === 'string');
    room.total = null;
  } else {
    room.total = msg.members;
  }
  if (state.current === room.id) renderMembers();
  updateRoomCount(room.id, memberTotal(room));
}

/** How many members a room has, even when we hold only part of the list. */
function memberTotal(room) {
  return room.total ?? room.members.length;
}

function updateRoomCount(id, n) {
  const r = state.roomList && state.roomList.find((x) => x.id === id);
  if (r) {
    r.members = n;
    renderRoomList();
  }
  if (state.current === id) renderRoomHead();
}

function addWhisper(item) {
  state.whispers.push(item);
  if (state.whispers.length > MAX_ITEMS) state.whispers.shift();
  if (state.current === WHISPERS) {
    appendItemNode(item);
  } else {
    // Also show it in the room being looked at, so it is not missed.
    const room = state.rooms.get(state.current);
    if (room) addItem(room, item);
    if (item.dir === 'in') {
      state.whisperUnread += 1;
      renderTabs();
    }
  }
}

function onWhisperEvent(msg) {
  const from = String(msg.from ?? '');
  if (!state.whisperPeer) state.whisperPeer = from;
  addWhisper({ kind: 'whisper', dir: 'in', peer: from, text: String(msg.text ?? ''), ts: msg.ts });
}

// ---------------------------------------------------------------------------------------------
// quiz (PROTOCOL.md 4.10)

/** The quiz view of a room: what the board shows. */
function emptyQuiz() {
  return {
    phase: 'idle',    // idle | starting | question | reveal | over
    players: [],      // names playing the current (or last) game
    scores: [],       // [{name, score, delta}], highest first
    round: 0, of: 0,
    text: '', choices: [], deadline: 0,
    lang: null,       // the question's language (BCP 47) when its pack says
    mine: null,       // the choice we sent this round
    sending: false,   // our answer is on its way
    correct: null,    // index revealed for this round
    ranking: null,    // [{name, score, rank}] after game_over
    watching: false,  // joined mid-game: not a player
    timeUp: false,    // the countdown reached zero on our clock
  };
}

const isInt = (v) => Number.isInteger(v);
const strList = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
const choiceList = (v) => (Array.isArray(v) ? v.slice(0, 4).map((c) => String(c ?? '')) : []);

function byScore(a, b) {
  return b.score - a.score || a.name.localeCompare(b.name);
}

/** Normalizes a scores list, adding players the list lacks with 0 points. */
function normScores(list, players) {
  const out = [];
  const seen = new Set();
  for (const s of Array.isArray(list) ? list : []) {
    if (!s || typeof s.name !== 'string' || seen.has(s.name)) continue;
    seen.add(s.name);
    out.push({ name: s.name, score: Number.isFinite(s.score) ? s.score : 0, delta: Number.isFinite(s.delta) ? s.delta : null });
  }
  for (const p of players) if (!seen.has(p)) out.push({ name: p, score: 0, delta: null });
  return out.sort(byScore);
}

/** Finds the room a game event is about; a game event makes it a quiz room. */
function gameRoom(msg) {
  const room = state.rooms.get(msg.room);
  if (!room) return null;
  room.game = 'quiz';
  return room;
}

function patchRoomList(id, patch) {
  const r = state.roomList && state.roomList.find((x) => x.id === id);
  if (!r) return;
  Object.assign(r, patch);
  renderRoomList();
}

function quizChanged(room) {
  if (state.current === room.id) renderQuiz();
}

function applyGameSnapshot(room, g) {
  const q = room.quiz;
  const round = isInt(g.round) ? g.round : 0;
  const sameRound = round === q.round && (q.phase === 'question' || q.phase === 'reveal');
  const players = strList(g.players);
  const question = g.question && typeof g.question === 'object' ? g.question : {};
  const reveal = g.phase === 'reveal';
  room.quizState = 'playing';
  room.quiz = {
    ...emptyQuiz(),
    phase: reveal ? 'reveal' : 'question',
    players,
    scores: normScores(g.scores, players),
    round,
    of: isInt(g.of) ? g.of : room.rounds ?? round,
    text: String(question.text ?? ''),
    choices: choiceList(question.choices),
    lang: questionLang(question.lang),
    deadline: Number.isFinite(g.deadline) ? g.deadline : 0,
    // PROTOCOL.md: "the snapshot carries its correct" -- accept it at either level
    correct: reveal ? (isInt(g.correct) ? g.correct : isInt(question.correct) ? question.correct : null) : null,
    mine: sameRound ? q.mine : null,
    watching: !players.some(isMe),
  };
}

/** `game`: a running game's state, sent after a resume that rejoined a quiz room. */
function onGameEvent(msg) {
  const room = gameRoom(msg);
  if (!room) return;
  applyGameSnapshot(room, msg);
  patchRoomList(room.id, { state: 'playing' });
  quizChanged(room);
}

function onHost(msg) {
  const room = gameRoom(msg);
  if (!room || typeof msg.name !== 'string') return;
  room.host = msg.name;
  addItem(room, { kind: 'notice', key: 'quiz.noticeHost', args: { name: msg.name } });
  patchRoomList(room.id, { host: msg.name });
  if (state.current === room.id) renderMembers();
  quizChanged(room);
}

function onGameStarted(msg) {
  const room = gameRoom(msg);
  if (!room) return;
  if (isInt(msg.rounds)) room.rounds = msg.rounds;
  if (isInt(msg.seconds)) room.seconds = msg.seconds;
  room.quizState = 'playing';
  const players = strList(msg.players);
  room.quiz = {
    ...emptyQuiz(), phase: 'starting', players, scores: normScores([], players),
    of: room.rounds ?? 0, watching: !players.some(isMe),
  };
  addItem(room, { kind: 'notice', key: 'quiz.noticeStarted', args: { rounds: room.rounds, seconds: room.seconds } });
  patchRoomList(room.id, { state: 'playing' });
  quizChanged(room);
}

function onQuestion(msg) {
  const room = gameRoom(msg);
  if (!room) return;
  const q = room.quiz;
  room.quizState = 'playing';
  Object.assign(q, {
    phase: 'question',
    round: isInt(msg.round) ? msg.round : q.round + 1,
    of: isInt(msg.of) ? msg.of : q.of,
    text: String(msg.text ?? ''),
    choices: choiceList(msg.choices),
    lang: questionLang(msg.lang),
    deadline: Number.isFinite(msg.deadline) ? msg.deadline : serverNow() + (room.seconds ?? 0) * 1000,
    mine: null, sending: false, correct: null, ranking: null, timeUp: false,
  });
  // we never saw this game start (no game_started, no snapshot): we are not playing it
  if (q.players.length === 0) q.watching = true;
  for (const s of q.scores) s.delta = null;
  quizChanged(room);
}

function onReveal(msg) {
  const room = gameRoom(msg);
  if (!room) return;
  const q = room.quiz;
  q.phase = 'reveal';
  if (isInt(msg.round)) q.round = msg.round;
  q.correct = isInt(msg.correct) ? msg.correct : null;
  q.scores = normScores(msg.scores, q.players);
  q.sending = false;
  quizChanged(room);
}

function onGameOver(msg) {
  const room = gameRoom(msg);
  if (!room) return;
  const q = room.quiz;
  const ranking = (Array.isArray(msg.ranking) ? msg.ranking : [])
    .filter((r) => r && typeof r.name === 'string')
    .map((r) => ({ name: r.name, score: Number.isFinite(r.score) ? r.score : 0, rank: isInt(r.rank) ? r.rank : 0 }))
    .sort((a, b) => a.rank - b.rank || byScore(a, b));
  Object.assign(q, { phase: 'over', ranking, sending: false });
  q.scores = normScores(ranking, q.players).map((s) => ({ ...s, delta: null }));
  room.quizState = 'waiting';
  const winners = quizWinners(ranking);
  if (winners.length) {
    addItem(room, {
      kind: 'notice', key: winners.length > 1 ? 'quiz.noticeOverMany' : 'quiz.noticeOver', args: { names: winners.join(', ') },
    });
  }
  patchRoomList(room.id, { state: 'waiting' });
  quizChanged(room);
}

async function startGame(room, button) {
  button.disabled = true;
  try {
    await request({ type: 'start', room: room.id });
  } catch (err) {
    toastError(err);
    button.disabled = false;
  }
}

function canAnswer(q) {
  return q.phase === 'question' && !q.watching && q.mine === null && !q.timeUp;
}

async function sendAnswer(room, choice) {
  const q = room.quiz;
  if (!canAnswer(q) || choice < 0 || choice >= q.choices.length) return;
  const round = q.round;
  q.mine = choice;
  q.sending = true;
  quizChanged(room);
  try {
    await request({ type: 'answer', room: room.id, round, choice });
  } catch (err) {
    if (room.quiz !== q || q.round !== round) return; // the game moved on meanwhile
    if (err.code === 'not_allowed') q.watching = true; // we are not a player of this game
    if (q.phase === 'question') q.mine = null;
    toastError(err);
  } finally {
    if (room.quiz === q && q.round === round) {
      q.sending = false;
      quizChanged(room);
    }
  }
}

function timeLeftMs(room) {
  return room.quiz.deadline - serverNow();
}

/** Moves the countdown bar and the seconds counter of the board being shown. */
function updateCountdown() {
  const room = state.rooms.get(state.current);
  if (!room || room.game !== 'quiz' || !ui.quizFill) return;
  const q = room.quiz;
  const total = Math.max(1, (room.seconds ?? 1) * 1000);
  let left = 0;
  if (q.phase === 'question') left = Math.max(0, timeLeftMs(room));
  else if (q.phase === 'starting') left = total;
  const frac = Math.min(1, left / total);
  ui.quizFill.style.setProperty('--left', frac.toFixed(4));
  ui.quizCountdown.dataset.urgent = String(q.phase === 'question' && frac <= 0.25);
  const secs = Math.ceil(left / 1000);
  if (ui.quizSecs.dataset.n !== String(secs)) {
    ui.quizSecs.dataset.n = String(secs);
    bind(ui.quizSecs, 'quiz.secondsLeft', { n: secs });
  }
  if (q.phase === 'question' && left <= 0 && !q.timeUp) {
    q.timeUp = true;
    renderQuiz();
  }
}

function syncQuizTimer() {
  const room = state.rooms.get(state.current);
  const ticking = !!room && room.game === 'quiz' && room.quiz.phase === 'question' && !room.quiz.timeUp;
  if (ticking && !state.quizTimer) state.quizTimer = setInterval(updateCountdown, QUIZ_TICK_MS);
  if (!ticking && state.quizTimer) {
    clearInterval(state.quizTimer);
    state.quizTimer = null;
  }
}

function quizStatusLine(room) {
  const q = room.quiz;
  const line = el('div', { class: 'quiz-line' });
  let key = 'quiz.label';
  let args;
  if (q.phase === 'starting') key = 'quiz.starting';
  else if (q.phase === 'question' || q.phase === 'reveal') [key, args] = ['quiz.round', { round: q.round, of: q.of }];
  else if (q.phase === 'over') key = 'quiz.gameOver';
  line.append(tr('strong', key, args, { class: 'quiz-status', 'data-testid': 'quiz-status' }));
  if (room.rounds && room.seconds) {
    line.append(tr('span', 'quiz.settings', { rounds: room.rounds, seconds: room.seconds }, { class: 'quiz-settings muted' }));
  }
  if (room.host) line.append(tr('span', 'quiz.host', { name: room.host }, { class: 'quiz-host muted', 'data-testid': 'quiz-host' }));
  line.append(el('span', { class: 'spacer' }));
  if (isMe(room.host) && room.quizState === 'waiting' && (q.phase === 'idle' || q.phase === 'over') &&
      !state.draining && !state.restarting) {
    const btn = el('button', { type: 'button', class: 'primary quiz-start', 'data-testid': 'quiz-start' });
    btn.addEventListener('click', () => startGame(room, btn));
    line.append(bind(btn, q.phase === 'over' ? 'quiz.playAgain' : 'quiz.start'));
  }
  return line;
}

function quizCountdown() {
  ui.quizFill = el('div', { class: 'countdown-fill' });
  ui.quizSecs = el('span', { class: 'countdown-secs', role: 'timer', 'data-testid': 'quiz-seconds' });
  bind(ui.quizSecs, 'quiz.timeLeft', undefined, 'aria');
  ui.quizCountdown = el('div', { class: 'countdown', 'data-testid': 'quiz-countdown' },
    el('div', { class: 'countdown-bar', 'aria-hidden': 'true' }, ui.quizFill), ui.quizSecs);
  return ui.quizCountdown;
}

/** A question's `lang` when it is a well-formed language tag (PROTOCOL.md 4.10), else null. */
function questionLang(v) {
  return typeof v === 'string' && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v) && v.length <= 35 ? v : null;
}

/** The language's name in the page's language ("English", "Английский"), or the tag itself. */
function langName(tag) {
  try {
    const name = new Intl.DisplayNames([getLang()], { type: 'language' }).of(tag);
    if (name && name !== tag) return name.charAt(0).toLocaleUpperCase(getLang()) + name.slice(1);
  } catch { /* an old browser, or a tag it cannot name */ }
  return tag.toUpperCase();
}

/** Fills a question-language label; again whenever the page's language changes. */
function fillQuestionLang(node) {
  const name = langName(node.dataset.questionLang);
  node.textContent = name;
  node.title = t('quiz.questionLang', { name });
}

/** The small label beside a question naming the language it is written in. */
function questionLangLabel(tag) {
  const node = el('p', { class: 'quiz-lang', 'data-testid': 'quiz-lang', dataset: { questionLang: tag } });
  fillQuestionLang(node);
  return node;
}

function quizChoices(room) {
  const q = room.quiz;
  const enabled = canAnswer(q);
  const buttons = q.choices.map((text, i) => {
    const chosen = q.mine === i;
    const revealed = q.phase === 'reveal' && q.correct !== null;
    const correct = revealed && q.correct === i;
    const wrong = revealed && chosen && !correct;
    const cls = ['choice', chosen && 'is-chosen', correct && 'is-correct', wrong && 'is-wrong', revealed && !correct && !wrong && 'is-dim']
      .filter(Boolean).join(' ');
    return el('button', {
      type: 'button', class: cls, 'data-testid': 'quiz-choice', 'data-index': i,
      'data-chosen': String(chosen), 'data-correct': String(correct), 'data-wrong': String(wrong),
      'aria-pressed': String(chosen), disabled: !enabled, onclick: () => sendAnswer(room, i),
    }, el('span', { class: 'choice-key', 'aria-hidden': 'true' }, CHOICE_KEYS[i]), el('span', { class: 'choice-text', lang: q.lang }, text));
  });
  const group = el('div', { class: 'choices', role: 'group', 'data-testid': 'quiz-choices' }, ...buttons);
  bind(group, 'quiz.choices', undefined, 'aria');
  return group;
}

function quizFeedback(room) {
  const q = room.quiz;
  const answer = q.correct !== null && q.choices[q.correct] !== undefined ? q.choices[q.correct] : '';
  let key;
  let args;
  let kind = '';
  if (q.phase === 'question') {
    if (q.watching) return null; // the watching note says it
    if (q.mine !== null) key = 'quiz.locked';
    else if (q.timeUp) key = 'quiz.timeUp';
    else key = 'quiz.pick';
  } else if (q.phase === 'reveal') {
    const me = q.scores.find((s) => isMe(s.name));
    if (q.watching || !me) key = 'quiz.answerWas';
    else if (q.mine !== null && q.mine === q.correct) [key, kind] = ['quiz.correct', 'good'];
    else if (q.mine !== null) [key, kind] = ['quiz.wrong', 'bad'];
    else [key, kind] = ['quiz.missed', 'bad'];
    args = { answer, n: me && me.delta !== null ? me.delta : 0 };
  }
  if (!key) return null;
  const p = el('p', { class: `quiz-feedback${kind ? ` quiz-feedback--${kind}` : ''}`, 'data-testid': 'quiz-feedback' });
  bind(p, key, args);
  if (q.phase === 'reveal') p.append(' ', tr('span', q.round >= q.of ? 'quiz.last' : 'quiz.next', undefined, { class: 'muted' }));
  return p;
}

function quizScores(room) {
  const q = room.quiz;
  const idle = q.phase === 'idle';
  const rows = idle ? room.members.map((name) => ({ name, score: null, delta: null })) : q.scores;
  const items = rows.map((s, i) => {
    const gone = !idle && !room.members.some((m) => sameName(m, s.name));
    const li = el('li', {
      class: `score${isMe(s.name) ? ' me' : ''}${gone ? ' gone' : ''}`, 'data-testid': 'quiz-player', 'data-name': s.name,
      css: { '--hue': String(nameHue(s.name)) },
    },
    idle ? null : el('span', { class: 'score-pos' }, String(i + 1)),
    el('span', { class: 'score-name' }, s.name),
    gone ? tr('span', 'quiz.playerLeft', undefined, { class: 'muted score-left' }) : null,
    s.score === null ? null : el('span', { class: 'score-pts', 'data-testid': 'quiz-score' }, String(s.score)),
    s.delta === null || q.phase !== 'reveal' ? null
      : el('span', { class: `score-delta${s.delta > 0 ? ' up' : ''}`, 'data-testid': 'quiz-delta' }, `+${s.delta}`));
    return li;
  });
  return el('aside', { class: 'quiz-scores' },
    tr('h3', idle ? 'quiz.players' : 'quiz.scores'),
    el('ol', { class: 'score-list', 'data-testid': 'quiz-scores' }, ...items));
}

function quizRanking(room) {
  const q = room.quiz;
  const winners = quizWinners(q.ranking);
  const items = q.ranking.map((r) => {
    const badge = el('span', { class: 'rank-badge', 'data-testid': 'quiz-rank' }, String(r.rank));
    bind(badge, 'quiz.rankTitle', { rank: r.rank }, 'title');
    return el('li', {
      class: `rank rank--${Math.min(r.rank, 4)}${isMe(r.name) ? ' me' : ''}`, 'data-testid': 'quiz-ranking-item',
      'data-name': r.name, 'data-rank': r.rank,
    }, badge, el('span', { class: 'rank-name' }, r.name),
    tr('span', 'quiz.points', { n: r.score }, { class: 'rank-pts', 'data-testid': 'quiz-ranking-score' }));
  });
  const parts = [];
  if (winners.length) {
    parts.push(tr('p', winners.length > 1 ? 'quiz.winners' : 'quiz.winner', { names: winners.join(', ') }, { class: 'quiz-winner', 'data-testid': 'quiz-winner' }));
  } else if (q.ranking.length) {
    parts.push(tr('p', 'quiz.noWinner', undefined, { class: 'quiz-winner', 'data-testid': 'quiz-winner' }));
  }
  parts.push(tr('h3', 'quiz.ranking'));
  parts.push(el('ol', { class: 'ranking', 'data-testid': 'quiz-ranking' }, ...items));
  if (!isMe(room.host) && room.host) parts.push(tr('p', 'quiz.waitingNext', { name: room.host }, { class: 'muted quiz-wait' }));
  return parts;
}

function renderQuiz() {
  const room = state.rooms.get(state.current);
  const show = !!room && room.game === 'quiz';
  ui.roomPane.classList.toggle('is-quiz', show);
  ui.quizFill = null;
  if (!show) {
    ui.quiz.hidden = true;
    ui.quiz.replaceChildren();
    syncQuizTimer();
    return;
  }
  const q = room.quiz;
  ui.quiz.hidden = false;
  ui.quiz.dataset.phase = q.phase;
  ui.quiz.dataset.round = String(q.round);
  ui.quiz.dataset.watching = String(q.watching);

  const top = el('div', { class: 'quiz-top' }, quizStatusLine(room));
  if (q.phase === 'starting' || q.phase === 'question') top.append(quizCountdown());

  const main = el('div', { class: 'quiz-main' });
  if (q.phase === 'idle') {
    main.append(isMe(room.host)
      ? tr('p', 'quiz.waitingYou', undefined, { class: 'quiz-wait' })
      : tr('p', 'quiz.waitingHost', { name: room.host ?? '' }, { class: 'quiz-wait' }));
  } else if (q.phase === 'starting') {
    main.append(tr('p', 'quiz.starting', undefined, { class: 'quiz-wait' }));
  } else if (q.phase === 'question' || q.phase === 'reveal') {
    if (q.lang) main.append(questionLangLabel(q.lang));
    main.append(el('p', { class: 'quiz-question', 'data-testid': 'quiz-question', lang: q.lang }, q.text), quizChoices(room));
  } else if (q.phase === 'over') {
    main.append(...quizRanking(room));
  }
  const feedback = quizFeedback(room);
  if (feedback) main.append(feedback);
  if (q.watching && (q.phase === 'starting' || q.phase === 'question' || q.phase === 'reveal')) {
    main.append(tr('p', 'quiz.watching', undefined, { class: 'quiz-watching', 'data-testid': 'quiz-watching' }));
  }

  const body = el('div', { class: 'quiz-body' }, main);
  if (q.phase !== 'over') body.append(quizScores(room));
  ui.quiz.replaceChildren(top, body);
  updateCountdown();
  syncQuizTimer();
}

function onQuizKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || !/^[1-4]$/.test(ev.key)) return;
  const target = ev.target;
  if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
  if (ui.leaderboard.open) return;
  const room = state.rooms.get(state.current);
  if (!room || room.game !== 'quiz' || !canAnswer(room.quiz)) return;
  ev.preventDefault();
  sendAnswer(room, Number(ev.key) - 1);
}

// leaderboard

async function openLeaderboard() {
  if (!ui.leaderboard.open) ui.leaderboard.showModal();
  renderLeaderboard();
  await loadLeaderboard();
}

async function loadLeaderboard() {
  ui.leaderboardRefresh.disabled = true;
  try {
    const reply = await request({ type: 'leaderboard', limit: 50 });
    state.leaderboard = Array.isArray(reply.entries) ? reply.entries.filter((e) => e && typeof e.name === 'string') : [];
    state.leaderboardMe = reply.me && typeof reply.me === 'object' ? reply.me : null;
    renderLeaderboard();
  } catch (err) {
    toastError(err);
  } finally {
    ui.leaderboardRefresh.disabled = false;
  }
}

/** The signed-in player's own place, under the note (PROTOCOL.md 4.10, `me`). */
function renderLeaderboardMine() {
  const me = state.leaderboardMe;
  const box = ui.leaderboardMine;
  if (!state.leaderboard) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  if (!state.account) bind(box, 'lb.guest');
  else if (me && Number.isFinite(me.rank)) bind(box, 'lb.mine', { rank: me.rank, points: Number.isFinite(me.points) ? me.points : 0 });
  else bind(box, 'lb.mineUnranked');
}

function renderLeaderboard() {
  renderLeaderboardMine();
  const entries = state.leaderboard;
  if (!entries) {
    ui.leaderboardBody.replaceChildren(tr('p', 'roomsLoading', undefined, { class: 'muted' }));
    return;
  }
  if (entries.length === 0) {
    ui.leaderboardBody.replaceChildren(tr('p', 'leaderboardEmpty', undefined, { class: 'muted lb-empty', 'data-testid': 'leaderboard-empty' }));
    return;
  }
  const num = (v) => (Number.isFinite(v) ? String(v) : '0');
  const head = el('tr', {}, ...['lb.rank', 'lb.name', 'lb.points', 'lb.games', 'lb.wins']
    .map((k, i) => tr('th', k, undefined, { scope: 'col', class: i === 1 ? 'lb-name' : 'lb-num' })));
  let rank = 0;
  const rows = entries.map((e, i) => {
    if (i === 0 || e.points !== entries[i - 1].points) rank = i + 1; // equal points share a rank
    return el('tr', { class: isMe(e.name) ? 'me' : null, 'data-testid': 'leaderboard-entry', 'data-name': e.name },
      el('td', { class: 'lb-num lb-rank' }, String(rank)),
      el('td', { class: 'lb-name' }, e.name),
      el('td', { class: 'lb-num lb-points' }, num(e.points)),
      el('td', { class: 'lb-num' }, num(e.games)),
      el('td', { class: 'lb-num' }, num(e.wins)));
  });
  ui.leaderboardBody.replaceChildren(el('table', { class: 'lb-table' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

// ---------------------------------------------------------------------------------------------
// sending

function parseWhisperCommand(text) {
  const m = /^\/(?:w|whisper|msg)(?:\s+(\S+)(?:\s([\s\S]*))?)?$/i.exec(text);
  if (!m) return null;
  return { to: m[1] || '', text: m[2] || '' };
}

// ---------------------------------------------------------------------------------------------
// what the player types (issue 16, words part): commands, and an outbox that keeps to the
// announced rates (PROTOCOL.md 7) so that nothing the player wrote is refused or lost

/** The commands the composer knows; a line that starts with any other "/word" is never sent. */
const COMMANDS = [
  { usage: '/w', key: 'cmd.whisper' },
  { usage: '/help', key: 'cmd.help' },
  { usage: '//', key: 'cmd.slash' },
];

/**
 * What a line typed in the composer means: {kind: 'text', text} (chat, or a whisper to the
 * current peer in the whispers pane), {kind: 'whisper', to, text}, {kind: 'help'} or
 * {kind: 'unknown', cmd}. "//" at the start sends the rest of the line starting with "/".
 */
function parseLine(raw) {
  const line = raw.replace(/^\s+/, '');
  if (line.startsWith('//')) return { kind: 'text', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'text', text: raw };
  const w = parseWhisperCommand(line);
  if (w) return { kind: 'whisper', ...w };
  const cmd = /^\/\S*/.exec(line)[0];
  if (/^\/(?:help|\?)$/i.test(cmd)) return { kind: 'help' };
  return { kind: 'unknown', cmd };
}

let outboxSerial = 0;

/** Queues a say (room) or whisper (to) and starts sending. */
function outboxAdd(item) {
  state.outbox.push({ n: ++outboxSerial, status: 'waiting', error: null, ...item });
  renderOutbox();
  pumpOutbox();
}

/**
 * Sends the oldest waiting line, one at a time so the order holds; the client library's send
 * queue holds it until the connection's rate buckets (welcome.limits) allow it.
 */
async function pumpOutbox() {
  clearTimeout(state.outboxTimer);
  state.outboxTimer = null;
  if (state.outboxBusy || !state.signedIn || state.mute) return;
  const item = state.outbox.find((x) => x.status === 'waiting');
  if (!item) return;
  if (item.room && !state.rooms.has(item.room)) {
    outboxFail(item, new ParlorError('not_in_room'));
    pumpOutbox();
    return;
  }
  state.outboxBusy = true;
  item.status = 'sending';
  renderOutbox();
  try {
    if (item.room) {
      await request({ type: 'say', room: item.room, text: item.text });
      if (state.current === item.room) scrollToBottom(true);
    } else {
      const reply = await request({ type: 'whisper', to: item.to, text: item.text });
      // the server spells the name as its owner does
      const to = reply && typeof reply.to === 'string' ? reply.to : item.to;
      state.whisperPeer = to;
      addWhisper({ kind: 'whisper', dir: 'out', peer: to, text: item.text, ts: Date.now() });
    }
    state.outbox = state.outbox.filter((x) => x !== item);
  } catch (err) {
    if (err.code === 'rate_limited') {
      // refused again after the library's own retries: the line waits a second and goes again
      item.status = 'waiting';
      state.outboxTimer = setTimeout(pumpOutbox, 1000);
      return;
    } else if (err.code === 'disconnected' || err.code === 'timeout') {
      item.status = 'waiting'; // sent again once signed in on the next connection
    } else if (isRestriction(err)) {
      item.status = 'waiting'; // waits for the mute to end
      onMuted(err);
    } else {
      outboxFail(item, err);
    }
  } finally {
    state.outboxBusy = false;
    renderOutbox();
  }
  pumpOutbox();
}

/** A line the server refused: back into an empty composer, else kept in the outbox to edit. */
function outboxFail(item, err) {
  toastError(err);
  if (ui.messageInput.value === '' && !ui.messageInput.disabled) {
    state.outbox = state.outbox.filter((x) => x !== item);
    ui.messageInput.value = item.raw ?? item.text;
    updateCounter();
  } else {
    item.status = 'failed';
    item.error = err;
  }
  renderOutbox();
}

function outboxReset() {
  clearTimeout(state.outboxTimer);
  state.outbox = [];
  state.outboxTimer = null;
  renderOutbox();
}

/** The lines on their way, under the messages of the view they belong to. */
function renderOutbox() {
  if (!ui.outbox) {
    ui.outbox = el('ol', { class: 'outbox', 'data-testid': 'outbox', hidden: true });
    ui.composer.before(ui.outbox);
  }
  const shown = state.outbox.filter((x) => (x.room ? x.room === state.current : true));
  ui.outbox.hidden = shown.length === 0;
  ui.outbox.replaceChildren(...shown.map((x) => {
    const failed = x.status === 'failed';
    const label = failed
      ? tr('span', 'outbox.failed', { why: errorTexts(x.error).title ?? '' }, { class: 'outbox-state' })
      : tr('span', 'outbox.waiting', undefined, { class: 'outbox-state' });
    const edit = failed ? tr('button', 'outbox.edit', undefined, {
      type: 'button', class: 'linkish', 'data-testid': 'outbox-edit',
      onclick: () => {
        state.outbox = state.outbox.filter((y) => y !== x);
        ui.messageInput.value = x.raw ?? x.text;
        updateCounter();
        renderOutbox();
        ui.messageInput.focus();
      },
    }) : null;
    const drop = el('button', {
      type: 'button', class: 'icon outbox-drop', 'data-testid': 'outbox-drop',
      onclick: () => {
        state.outbox = state.outbox.filter((y) => y !== x);
        renderOutbox();
      },
    }, '×');
    bind(drop, 'outbox.drop', undefined, 'aria');
    return el('li', { class: `outbox-item${failed ? ' failed' : ''}`, 'data-testid': 'outbox-item', 'data-status': x.status },
      x.to ? tr('span', 'whisperToLabel', { name: x.to }, { class: 'outbox-to' }) : null,
      el('span', { class: 'outbox-text', 'data-testid': 'outbox-text' }, x.text), label, edit, drop);
  }));
}

/** The commands, shown in the view being looked at after /help or an unknown command. */
function showHelp() {
  const item = { kind: 'help', ts: Date.now() };
  const room = state.rooms.get(state.current);
  if (room) addItem(room, item);
  else if (state.current === WHISPERS) {
    state.whispers.push(item);
    appendItemNode(item);
  }
}

function renderHelp() {
  const rows = COMMANDS.map((c) => el('li', {}, el('code', {}, tr('span', `${c.key}.usage`)), ' ', tr('span', c.key)));
  return el('li', { class: 'notice help', 'data-testid': 'help' },
    tr('strong', 'cmd.title'), el('ul', { class: 'help-list' }, ...rows));
}

/**
 * One line from the composer. Returns true when it was taken (queued, or a command run), false
 * when it stays in the composer (an unknown command, a whisper with no name, too long).
 */
function submitLine(raw) {
  if (raw.trim() === '') return true;
  let cmd = parseLine(raw);
  if (cmd.kind === 'unknown') {
    toastKey('cmd.unknown', { cmd: cmd.cmd }, 'error');
    return false;
  }
  if (cmd.kind === 'help') {
    showHelp();
    return true;
  }
  if (cmd.kind === 'text' && state.current === WHISPERS) {
    if (!state.whisperPeer) {
      toastKey('whisperUsage', undefined, 'error');
      return false;
    }
    cmd = { kind: 'whisper', to: state.whisperPeer, text: cmd.text };
  }
  if (cmd.kind === 'whisper') {
    if (!cmd.to || cmd.text.trim() === '') {
      toastKey('whisperUsage', undefined, 'error');
      return false;
    }
    if (isMe(cmd.to)) {
      toastKey('whisperSelf', undefined, 'error');
      return false;
    }
  }
  const problem = textProblem(cmd.text);
  if (problem) {
    toastKey(problem[0], problem[1], 'error');
    return false;
  }
  if (cmd.kind === 'whisper') outboxAdd({ to: cmd.to, text: cmd.text, raw });
  else {
    const room = state.rooms.get(state.current);
    if (!room) return false;
    outboxAdd({ room: room.id, text: cmd.text, raw });
  }
  return true;
}

function onComposerSubmit(ev) {
  ev.preventDefault();
  if (!state.signedIn) return;
  const raw = ui.messageInput.value;
  if (submitLine(raw)) {
    ui.messageInput.value = '';
    updateCounter();
  }
}

/**
 * Pasting several lines sends each as its own message, as if typed one after the other; the
 * last line stays in the composer. A line that cannot be sent stops there: it and the lines
 * after it stay in the composer, joined with spaces.
 */
function onComposerPaste(ev) {
  const pasted = ev.clipboardData ? ev.clipboardData.getData('text/plain') : '';
  if (!/[\r\n]/.test(pasted) || !state.signedIn) return;
  ev.preventDefault();
  const input = ui.messageInput;
  const full = input.value.slice(0, input.selectionStart) + pasted + input.value.slice(input.selectionEnd);
  const lines = full.split(/\r\n|\r|\n/);
  let last = lines.pop();
  for (let i = 0; i < lines.length; i++) {
    if (!submitLine(lines[i])) {
      last = [...lines.slice(i), last].filter((l) => l.trim() !== '').join(' ');
      break;
    }
  }
  input.value = last;
  updateCounter();
}

function restoreInput(text) {
  const v = ui.messageInput.value;
  if (v === '') {
    ui.messageInput.value = text;
    updateCounter();
  }
}

function prefillWhisper(name) {
  if (!name || isMe(name)) return;
  state.whisperPeer = name;
  const rest = parseWhisperCommand(ui.messageInput.value)?.text ?? (ui.messageInput.value.startsWith('/') ? '' : ui.messageInput.value);
  ui.messageInput.value = state.current === WHISPERS ? rest : `/w ${name} ${rest}`;
  closeDrawers();
  updateComposer();
  ui.messageInput.focus();
  const end = ui.messageInput.value.length;
  ui.messageInput.setSelectionRange(end, end);
}

function updateCounter() {
  const text = ui.messageInput.value;
  const cmd = parseWhisperCommand(text);
  const n = codePoints(cmd ? cmd.text : text);
  const max = state.limits.text_max;
  const left = max - n;
  if (left < Math.min(100, max / 5)) {
    bind(ui.counter, 'charsLeft', { n: left });
    ui.counter.classList.toggle('over', left < 0);
    ui.counter.hidden = false;
  } else {
    ui.counter.hidden = true;
  }
}

// ---------------------------------------------------------------------------------------------
// rendering

function selectView(key) {
  state.current = key;
  if (key === WHISPERS) {
    state.whisperUnread = 0;
  } else if (key) {
    const room = state.rooms.get(key);
    if (room) room.unread = 0;
  }
  renderAll();
  renderMessages();
}

function renderAll() {
  renderTabs();
  renderRoomList();
  renderRoomHead();
  renderMembers();
  renderQuiz();
  updateComposer();
  if (!state.current || (state.current !== WHISPERS && !state.rooms.has(state.current))) renderMessages();
}

function renderTabs() {
  const tabs = [];
  for (const id of state.order) {
    const room = state.rooms.get(id);
    if (!room) continue;
    const btn = el('button', {
      type: 'button', role: 'tab', class: 'tab', 'data-testid': 'room-tab', 'data-room-id': id,
      'aria-selected': String(state.current === id), onclick: () => { selectView(id); closeDrawers(); },
    }, el('span', { class: 'tab-name', title: roomLabel(room) }, roomLabel(room)));
    if (room.unread > 0) btn.append(el('span', { class: 'badge' }, String(room.unread)));
    tabs.push(btn);
  }
  const w = el('button', {
    type: 'button', role: 'tab', class: 'tab tab--whispers', 'data-testid': 'whispers-tab',
    'aria-selected': String(state.current === WHISPERS), onclick: () => { selectView(WHISPERS); closeDrawers(); },
  }, tr('span', 'whispers', undefined, { class: 'tab-name' }));
  if (state.whisperUnread > 0) w.append(el('span', { class: 'badge' }, String(state.whisperUnread)));
  tabs.push(w);
  ui.roomTabs.replaceChildren(...tabs);
}

function renderRoomList() {
  if (!state.roomList) {
    ui.roomList.replaceChildren(tr('li', 'roomsLoading', undefined, { class: 'muted' }));
    return;
  }
  if (state.roomList.length === 0) {
    ui.roomList.replaceChildren(tr('li', 'roomsEmpty', undefined, { class: 'muted' }));
    return;
  }
  const items = state.roomList.map((r) => {
    const joined = state.rooms.has(r.id);
    const full = !joined && Number.isFinite(r.members) && Number.isFinite(r.max) && r.members >= r.max;
    const count = tr('span', 'roomMembers', { n: r.members, max: r.max }, { class: 'count' });
    bind(count, 'roomMembersTitle', { n: r.members, max: r.max }, 'title');
    const btn = el('button', {
      type: 'button', class: joined ? 'ghost small' : 'small', 'data-testid': joined ? 'room-open' : 'room-join',
      disabled: full, onclick: () => {
        if (joined) selectView(r.id);
        else joinRoom(r.id, { select: true }).then(() => { refreshRooms(); focusComposer(); });
        closeDrawers();
      },
    });
    bind(btn, joined ? 'open' : 'join');
    const quiz = r.game === 'quiz';
    let sub = null;
    if (quiz) {
      const playing = r.state === 'playing';
      sub = el('div', { class: 'room-sub' },
        tr('span', 'room.quiz', undefined, { class: 'tag' }),
        r.state ? tr('span', playing ? 'room.playing' : 'room.waiting', undefined, {
          class: `room-state room-state--${playing ? 'playing' : 'waiting'}`, 'data-testid': 'room-state',
        }) : null,
        typeof r.host === 'string' ? tr('span', 'room.host', { name: r.host }, { class: 'room-host muted', 'data-testid': 'room-host' }) : null);
    } else if (r.game) {
      sub = el('div', { class: 'room-sub' }, el('span', { class: 'tag' }, String(r.game)));
    }
    return el('li', {
      class: `room-item${joined ? ' joined' : ''}${state.current === r.id ? ' current' : ''}`, 'data-testid': 'room-item', 'data-room-id': r.id,
      'data-game': r.game ?? null, 'data-state': quiz ? r.state : null,
    },
    el('span', { class: 'room-name', title: roomLabel(r) }, roomLabel(r)),
    count, btn, sub);
  });
  ui.roomList.replaceChildren(...items);
}

function renderRoomHead() {
  const room = state.rooms.get(state.current);
  if (state.current === WHISPERS) {
    bind(ui.roomTitle, 'whispers');
    ui.roomMeta.textContent = '';
    ui.leaveButton.hidden = true;
  } else if (room) {
    delete ui.roomTitle.dataset.i18n;
    ui.roomTitle.textContent = roomLabel(room);
    const n = memberTotal(room);
    ui.roomMeta.textContent = Number.isFinite(room.max) ? `${n}/${room.max}` : String(n);
    ui.leaveButton.hidden = false;
  } else {
    delete ui.roomTitle.dataset.i18n;
    ui.roomTitle.textContent = '';
    ui.roomMeta.textContent = '';
    ui.leaveButton.hidden = true;
  }
}

function currentMembers() {
  if (state.current === WHISPERS) {
    const seen = new Map();
    for (const id of state.order) {
      for (const m of state.rooms.get(id)?.members ?? []) if (!seen.has(m.toLowerCase())) seen.set(m.toLowerCase(), m);
    }
    return [...seen.values()];
  }
  return state.rooms.get(state.current)?.members ?? [];
}

function renderMembers() {
  const members = currentMembers();
  const items = members.map((m) => {
    const me = isMe(m);
    const nameBtn = el('button', {
      type: 'button', class: 'member-name', 'data-testid': 'member', 'data-name': m, disabled: me,
      css: { '--hue': String(nameHue(m)) }, onclick: () => prefillWhisper(m),
    }, m);
    if (!me) bind(nameBtn, 'memberTitle', { name: m }, 'title');
    const room = state.rooms.get(state.current);
    const host = room && room.game === 'quiz' && sameName(room.host, m);
    return el('li', { class: me ? 'member me' : 'member' }, nameBtn,
      me ? el('span', { class: 'muted you' }, '(', tr('span', 'you'), ')') : null,
      host ? tr('span', 'hostTag', undefined, { class: 'tag host-tag', 'data-testid': 'host-tag' }) : null);
  });
  const room = state.current !== WHISPERS && state.rooms.get(state.current);
  const total = room ? memberTotal(room) : members.length;
  if (total > members.length) {
    items.push(tr('li', 'membersMore', { n: total - members.length }, { class: 'member muted', 'data-testid': 'members-more' }));
  }
  ui.memberList.replaceChildren(...items);
  ui.memberCount.textContent = total ? String(total) : '';
  ui.memberCountNarrow.textContent = total ? `(${total})` : '';
  if (state.current && state.current !== WHISPERS) renderRoomHead();
}

function renderItem(item) {
  if (item.kind === 'chat') {
    const mine = isMe(item.from);
    const sender = el('button', {
      type: 'button', class: 'sender', 'data-testid': 'message-from', css: { '--hue': String(nameHue(item.from)) },
      disabled: mine, onclick: () => prefillWhisper(item.from),
    }, item.from);
    return el('li', { class: mine ? 'msg own' : 'msg', 'data-testid': 'message', 'data-seq': item.seq },
      el('time', { class: 'time', 'data-testid': 'message-time', title: fullTime(item.ts) }, hhmm(item.ts)),
      sender,
      el('span', { class: 'text', 'data-testid': 'message-text' }, item.text));
  }
  if (item.kind === 'whisper') {
    const label = el('button', {
      type: 'button', class: 'sender whisper-label', 'data-testid': 'whisper-label', onclick: () => prefillWhisper(item.peer),
    });
    bind(label, item.dir === 'in' ? 'whisperFromLabel' : 'whisperToLabel', { name: item.peer });
    return el('li', { class: `msg whisper whisper--${item.dir}`, 'data-testid': 'whisper' },
      el('time', { class: 'time', title: fullTime(item.ts) }, hhmm(item.ts)),
      label,
      el('span', { class: 'text', 'data-testid': 'whisper-text' }, item.text));
  }
  if (item.kind === 'notice') {
    return tr('li', item.key, item.args ?? { name: item.name }, { class: 'notice', 'data-testid': 'notice' });
  }
  if (item.kind === 'announce') {
    return el('li', { class: 'announce', 'data-testid': 'announce', role: 'note' },
      tr('strong', 'ops.announce', undefined, { class: 'announce-label' }),
      el('span', { class: 'announce-text', 'data-testid': 'announce-text' }, item.text),
      el('time', { class: 'time', title: fullTime(item.ts) }, hhmm(item.ts)));
  }
  if (item.kind === 'deleted') {
    return tr('li', 'ops.deleted', undefined, { class: 'notice deleted', 'data-testid': 'message-deleted', 'data-seq': item.seq });
  }
  if (item.kind === 'help') return renderHelp();
  if (item.kind === 'divider') {
    return el('li', { class: 'divider' }, tr('span', item.key));
  }
  return el('li');
}

function isNearBottom() {
  const m = ui.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 60;
}

function scrollToBottom(force) {
  if (force || isNearBottom()) ui.messages.scrollTop = ui.messages.scrollHeight;
}

function appendItemNode(item) {
  const stick = isNearBottom();
  const empty = ui.messages.querySelector('.empty');
  if (empty) empty.remove();
  ui.messages.append(renderItem(item));
  while (ui.messages.children.length > MAX_ITEMS) ui.messages.firstElementChild.remove();
  if (stick || (item.kind === 'chat' && isMe(item.from)) || item.dir === 'out') scrollToBottom(true);
}

function renderMessages() {
  let items;
  let emptyKey;
  if (state.current === WHISPERS) {
    items = state.whispers;
    emptyKey = 'noWhispers';
  } else if (state.rooms.has(state.current)) {
    items = state.rooms.get(state.current).items;
    emptyKey = 'noMessages';
  } else {
    items = [];
    emptyKey = 'noRoom';
  }
  const nodes = items.map(renderItem);
  if (nodes.length === 0) nodes.push(tr('li', emptyKey, undefined, { class: 'empty' }));
  ui.messages.replaceChildren(...nodes);
  scrollToBottom(true);
}

function updateComposer() {
  const room = state.rooms.get(state.current);
  const usable = state.signedIn && !state.mute && (state.current === WHISPERS || !!room);
  ui.messageInput.disabled = !usable;
  ui.sendButton.disabled = !usable;
  if (state.current === WHISPERS) {
    if (state.whisperPeer) bind(ui.messageInput, 'whisperTo', { name: state.whisperPeer }, 'placeholder');
    else bind(ui.messageInput, 'messagePlaceholderWhispers', undefined, 'placeholder');
  } else if (room) {
    bind(ui.messageInput, 'messagePlaceholder', { room: shortLabel(room) }, 'placeholder');
  } else {
    bind(ui.messageInput, 'noRoom', undefined, 'placeholder');
  }
  renderMuteNote();
  renderOutbox();
  updateCounter();
}

function selectedGame() {
  const checked = ui.createForm.querySelector('input[name="game"]:checked');
  return checked ? checked.value : 'chat';
}

function onGameChoice() {
  const quiz = selectedGame() === 'quiz';
  ui.createQuizOptions.hidden = !quiz;
  // the member limit a room gets when none is given (PROTOCOL.md 4.3 and 4.10)
  const def = quiz ? QUIZ_MAX_DEFAULT : state.limits.room_max_default;
  ui.createMax.dataset.i18nArgs = JSON.stringify({ max: state.limits.room_max_limit, def });
  applyI18n(ui.createMax);
  ui.createForm.dataset.game = quiz ? 'quiz' : 'chat';
}

function applyLimits() {
  const L = state.limits;
  ui.nameHint.dataset.i18nArgs = JSON.stringify({ max: L.name_max });
  ui.createMax.max = String(L.room_max_limit);
  ui.createMax.dataset.i18nArgs = JSON.stringify({ max: L.room_max_limit, def: L.room_max_default });
  ui.createRounds.max = String(L.quiz_max_rounds);
  ui.createRounds.dataset.i18nArgs = JSON.stringify({ max: L.quiz_max_rounds });
  ui.createSeconds.max = String(L.quiz_max_seconds);
  ui.createSeconds.dataset.i18nArgs = JSON.stringify({ max: L.quiz_max_seconds });
  applyI18n(ui.nameHint);
  applyI18n(ui.createMax);
  applyI18n(ui.createRounds);
  applyI18n(ui.createSeconds);
  if (ui.createForm) onGameChoice();
  updateCounter();
}

// narrow screens: the room list and the member list are drawers
function closeDrawers() {
  ui.chatView.classList.remove('show-sidebar', 'show-members');
  ui.toggleSidebar.setAttribute('aria-expanded', 'false');
  ui.toggleMembers.setAttribute('aria-expanded', 'false');
}

function toggleDrawer(cls, btn) {
  const open = !ui.chatView.classList.contains(cls);
  closeDrawers();
  if (open) {
    ui.chatView.classList.add(cls);
    btn.setAttribute('aria-expanded', 'true');
    if (cls === 'show-sidebar') refreshRooms();
  }
}

function renderLangButtons() {
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === getLang()));
  }
}

// ---------------------------------------------------------------------------------------------
// words a person reads (issue 16, words part): room names the server makes, layout helpers

/** A room's name as the player reads it: the lobby's is the server's, in the page's language. */
function roomLabel(r) {
  const name = String(r.name ?? r.id);
  return r.id === 'lobby' && name === 'Lobby' ? t('room.lobby') : name;
}

/** A room name short enough for the composer's placeholder on a phone. */
function shortLabel(r) {
  const name = [...roomLabel(r)];
  return name.length > 18 ? `${name.slice(0, 17).join('')}…` : name.join('');
}

/** The players ranked first, when they scored at all: a game nobody scored in has no winner. */
function quizWinners(ranking) {
  return ranking.filter((r) => r.rank === 1 && r.score > 0).map((r) => r.name);
}

/** After a join or a create, typing goes to the room (not on a phone: no keyboard popping up). */
function focusComposer() {
  if (window.matchMedia('(max-width: 600px)').matches) return;
  if (!ui.messageInput.disabled) ui.messageInput.focus();
}

function wordsInit() {
  onLangChange(() => {
    renderTabs();
    renderRoomList();
    renderRoomHead();
    updateComposer();
  });
  onLangChange(() => {
    for (const node of document.querySelectorAll('[data-question-lang]')) fillQuestionLang(node);
  });
  // the member drawer on a phone closes with its own button too
  const close = el('button', {
    type: 'button', class: 'icon narrow-only drawer-close', 'data-testid': 'members-close', onclick: closeDrawers,
  }, '✕');
  bind(close, 'close', undefined, 'aria');
  bind(close, 'close', undefined, 'title');
  $('members-pane').querySelector('h2').append(close);
}

// ---------------------------------------------------------------------------------------------
// start-up

// ---------------------------------------------------------------------------------------------
// what operators do (PROTOCOL.md 5 and 5.1): announcements, closed rooms, deleted messages,
// mutes, bans, kicks and other closes the server meant, and a server restart

/** A local date and time for `ms` (server clock): the time alone when it is today. */
function localUntil(ms) {
  const d = new Date(ms - state.clockOffset);
  if (!Number.isFinite(d.getTime())) return '';
  const today = new Date();
  const time = hhmm(d.getTime());
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.toLocaleDateString(getLang(), { day: 'numeric', month: 'short', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' })} ${time}`;
}

/** The notice under the top bar: a restart under way, or why the server closed us. */
function renderOpsNotice() {
  if (!ui.opsNotice) {
    ui.opsNotice = el('div', { class: 'ops-notice', 'data-testid': 'ops-notice', role: 'alert', hidden: true });
    document.querySelector('.topbar').after(ui.opsNotice);
  }
  const n = state.opsNotice;
  ui.opsNotice.hidden = !n;
  if (!n) {
    ui.opsNotice.replaceChildren();
    return;
  }
  ui.opsNotice.className = `ops-notice ops-notice--${n.kind}`;
  ui.opsNotice.dataset.kind = n.kind;
  const parts = [tr('span', n.key, n.args, { class: 'ops-text', 'data-testid': 'ops-text' })];
  if (n.reason) parts.push(tr('span', 'ops.reason', { reason: n.reason }, { class: 'ops-reason', 'data-testid': 'ops-reason' }));
  if (n.button) {
    const b = tr('button', n.button, undefined, { type: 'button', class: 'primary', 'data-testid': 'ops-come-back' });
    b.addEventListener('click', comeBack);
    parts.push(b);
  }
  ui.opsNotice.replaceChildren(...parts);
}

function setOpsNotice(n) {
  clearInterval(state.opsTimer);
  clearTimeout(state.opsTimer);
  state.opsTimer = null;
  state.opsNotice = n;
  renderOpsNotice();
}

/** `shutdown {seconds}`: games may finish within `seconds`, then the server restarts. */
function onShutdown(msg) {
  const seconds = Number.isFinite(msg.seconds) ? msg.seconds : 0;
  state.draining = { end: Date.now() + seconds * 1000 };
  const tick = () => {
    const n = Math.max(0, Math.ceil((state.draining.end - Date.now()) / 1000));
    if (state.opsNotice?.args?.n !== n) {
      state.opsNotice = { kind: 'drain', key: n > 0 ? 'ops.draining' : 'ops.drainingNow', args: { n } };
      renderOpsNotice();
    }
  };
  setOpsNotice(null);
  tick();
  state.opsTimer = setInterval(tick, 500);
  for (const id of state.order) quizChanged(state.rooms.get(id)); // no "Play again" now
}

function onAnnounce(msg) {
  const text = String(msg.text ?? '');
  const item = { kind: 'announce', text, ts: Date.now() };
  for (const id of state.order) {
    const room = state.rooms.get(id);
    if (room) addItem(room, { ...item });
  }
  if (!state.rooms.has(state.current)) toast([tr('strong', 'ops.announce'), ' ', el('span', {}, text)], 'info');
}

function onRoomClosed(msg) {
  const room = state.rooms.get(msg.room);
  if (!room) return;
  dropRoom(room.id);
  toastKey('ops.roomClosed', { room: roomLabel(room) }, 'error');
  refreshRooms();
}

function onChatDeleted(msg) {
  const room = state.rooms.get(msg.room);
  if (!room || !Number.isInteger(msg.seq)) return;
  const i = room.items.findIndex((x) => x.kind === 'chat' && x.seq === msg.seq);
  if (i < 0) return;
  room.items[i] = { kind: 'deleted', seq: msg.seq, ts: room.items[i].ts };
  if (state.current === room.id) {
    const node = ui.messages.querySelector(`li[data-seq="${msg.seq}"]`);
    if (node) node.replaceWith(renderItem(room.items[i]));
  }
}

/** `muted {until, reason}` (or a say refused for a mute): no composer until it ends. */
function onMuted(msg) {
  const until = Number.isFinite(msg.until) ? msg.until : null;
  clearTimeout(state.muteTimer);
  state.mute = { until, reason: typeof msg.reason === 'string' ? msg.reason : '' };
  if (until !== null) {
    // a mute that runs out sends nothing (5.1): lift it at its end; setTimeout caps at ~24.8 days
    const wait = until - serverNow();
    if (wait < 2 ** 31) state.muteTimer = setTimeout(onUnmuted, Math.max(0, wait) + 500);
  }
  updateComposer();
}

function onUnmuted() {
  clearTimeout(state.muteTimer);
  if (!state.mute) return;
  state.mute = null;
  updateComposer();
  toastKey('ops.unmuted');
  pumpOutbox();
}

/** The line above the composer that says why it is closed. */
function renderMuteNote() {
  if (!ui.muteNote) {
    ui.muteNote = el('div', { class: 'mute-note', 'data-testid': 'mute-note', hidden: true });
    ui.composer.before(ui.muteNote);
  }
  const m = state.mute;
  ui.muteNote.hidden = !m;
  if (!m) {
    ui.muteNote.replaceChildren();
    return;
  }
  const parts = [m.until === null ? tr('span', 'ops.mutedForever') : tr('span', 'ops.mutedUntil', { time: localUntil(m.until) })];
  if (m.reason) parts.push(' ', tr('span', 'ops.reason', { reason: m.reason }, { class: 'ops-reason' }));
  ui.muteNote.replaceChildren(...parts);
}

/** True when `err` refuses us for a mute or a ban (it carries `until`, 5.1). */
const isRestriction = (err) => err && err.code === 'not_allowed' && err.until !== undefined;

/** "This name is banned until 15:30. Reason: …" for the sign-in form. */
function bannedText(err) {
  const box = el('span', { 'data-testid': 'banned-text' });
  box.append(Number.isFinite(err.until)
    ? tr('strong', 'ops.nameBannedUntil', { time: localUntil(err.until) })
    : tr('strong', 'ops.nameBannedForever'));
  if (typeof err.reason === 'string' && err.reason) box.append(' ', tr('span', 'ops.reason', { reason: err.reason }));
  return box;
}

/** Stops for good (until the player says otherwise): no automatic reconnect. */
function stopWith(notice) {
  clearCountdown();
  state.stopped = true;
  document.body.dataset.opsStopped = 'true'; // the chat shown is stale now
  setStatus('status.stopped', undefined, 'offline');
  setOpsNotice(notice);
  updateComposer();
}

/** A ban, from a `banned` event or a refused sign-in: say until when and why. */
function showBanned(info) {
  const until = Number.isFinite(info.until) ? info.until : null;
  const reason = typeof info.reason === 'string' ? info.reason : '';
  stopWith(until === null
    ? { kind: 'stop', key: 'ops.bannedForever', reason }
    : { kind: 'stop', key: 'ops.bannedUntil', args: { time: localUntil(until) }, reason });
  if (until !== null) {
    const wait = until - serverNow();
    if (wait < 2 ** 31) {
      state.opsTimer = setTimeout(() => {
        state.opsNotice = { kind: 'stop', key: 'ops.banOver', button: 'ops.comeBack' };
        renderOpsNotice();
      }, Math.max(0, wait) + 1000);
    }
  }
}

/** The closes the server means as "stay away" (PROTOCOL.md 8): the library does not reconnect. */
function stopsForGood(code, reason) {
  return code === 1008 && (reason === 'banned' || /^kicked(?:: |$)/.test(reason) || reason === 'rate limit' || reason === 'too slow');
}

/**
 * A close the server meant (PROTOCOL.md 8) is never retried by itself; 1001 is a restart,
 * retried quietly. Returns true when it dealt with the close.
 */
function opsOnClose(code, reason) {
  if (code === 1001 || (state.draining && code === 1006)) {
    state.restarting = true;
    state.draining = null;
    setOpsNotice({ kind: 'drain', key: 'ops.restarting' });
    for (const id of state.order) quizChanged(state.rooms.get(id));
    return true; // the library reconnects (a restart is not one of stopsForGood)
  }
  if (code !== 1008) return false;
  if (reason === 'banned') {
    showBanned(state.pendingBan ?? {});
    state.pendingBan = null;
    return true;
  }
  const kicked = /^kicked(?:: (.*))?$/.exec(reason);
  if (kicked) {
    stopWith({ kind: 'stop', key: 'ops.kicked', reason: kicked[1] ?? '', button: 'ops.comeBack' });
    return true;
  }
  if (reason === 'rate limit') {
    stopWith({ kind: 'stop', key: 'ops.rateLimit', button: 'ops.comeBack' });
    return true;
  }
  if (reason === 'too slow') {
    stopWith({ kind: 'stop', key: 'ops.tooSlow', button: 'ops.reconnect' });
    return true;
  }
  return false;
}

/** "Come back" after a kick, a rate limit, a slow connection or the end of a ban. */
function comeBack() {
  state.stopped = false;
  delete document.body.dataset.opsStopped;
  state.lastClose = null;
  setOpsNotice(null);
  // the library takes the session back as after a drop: resume, or hello by name, then the rooms
  if (state.client) state.client.reopen();
  else if (state.token) newClient().restore({ token: state.token, name: state.name, account: state.account });
}

/** Signed in again: whatever stopped or restarted us is over. */
function opsSignedIn() {
  state.stopped = false;
  delete document.body.dataset.opsStopped;
  if (state.restarting || state.opsNotice?.kind === 'stop') setOpsNotice(null);
  state.restarting = false;
}

function opsReset() {
  clearTimeout(state.muteTimer);
  state.mute = null;
  state.draining = null;
  state.restarting = false;
  state.stopped = false;
  delete document.body.dataset.opsStopped;
  state.pendingBan = null;
  setOpsNotice(null);
}

function init() {
  Object.assign(ui, {
    status: $('status'), statusText: $('status-text'), reconnectNow: $('reconnect-now'),
    me: $('me'), signout: $('signout'),
    signinView: $('signin-view'), signinForm: $('signin-form'), nameInput: $('name-input'),
    nameHint: $('name-hint'), signinError: $('signin-error'), signinButton: $('signin-button'),
    chatView: $('chat-view'), roomTabs: $('room-tabs'), roomList: $('room-list'), roomsRefresh: $('rooms-refresh'),
    createForm: $('create-form'), createName: $('create-name'), createMax: $('create-max'), createButton: $('create-button'),
    roomTitle: $('room-title'), roomMeta: $('room-meta'), leaveButton: $('leave-button'),
    toggleSidebar: $('toggle-sidebar'), toggleMembers: $('toggle-members'),
    messages: $('messages'), composer: $('composer'), messageInput: $('message-input'),
    counter: $('counter'), sendButton: $('send-button'),
    memberList: $('member-list'), memberCount: $('member-count'), memberCountNarrow: $('member-count-narrow'),
    toasts: $('toasts'),
    roomPane: $('room-pane'), quiz: $('quiz'),
    createQuizOptions: $('create-quiz-options'), createRounds: $('create-rounds'), createSeconds: $('create-seconds'),
    leaderboardButton: $('leaderboard-button'), leaderboard: $('leaderboard'), leaderboardBody: $('leaderboard-body'),
    leaderboardRefresh: $('leaderboard-refresh'), leaderboardClose: $('leaderboard-close'),
    passwordInput: $('password-input'), loginButton: $('login-button'), registerButton: $('register-button'),
    leaderboardMine: $('leaderboard-mine'),
  });
  ui.statusDetail = el('span', { class: 'status-detail', 'data-testid': 'conn-detail', hidden: true });
  ui.statusText.after(ui.statusDetail);

  setLang(detectLang(), false);
  renderLangButtons();
  document.title = t('appTitle');
  onLangChange(() => {
    document.title = t('appTitle');
    renderLangButtons();
    renderStatus();
  });
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.addEventListener('click', () => setLang(b.dataset.lang));
  }

  try {
    const saved = localStorage.getItem(NAME_KEY);
    if (saved) ui.nameInput.value = saved;
  } catch { /* private mode */ }

  ui.signinForm.addEventListener('submit', (ev) => onSigninSubmit(ev, 'guest'));
  ui.loginButton.addEventListener('click', () => onSigninSubmit(null, 'login'));
  ui.registerButton.addEventListener('click', () => onSigninSubmit(null, 'register'));
  // Enter in the password field logs in (the form's own submit is the guest button)
  ui.passwordInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); onSigninSubmit(null, 'login'); }
  });
  ui.passwordInput.addEventListener('input', () => showSigninError(null));
  window.addEventListener('pagehide', () => { if (state.signedIn) saveSession(); });
  ui.nameInput.addEventListener('input', () => showSigninError(null));
  ui.signout.addEventListener('click', signOut);
  ui.reconnectNow.addEventListener('click', () => { if (state.active && state.client) state.client.reconnectNow(); });
  ui.roomsRefresh.addEventListener('click', refreshRooms);
  ui.createForm.addEventListener('submit', createRoom);
  for (const r of ui.createForm.querySelectorAll('input[name="game"]')) r.addEventListener('change', onGameChoice);
  ui.leaderboardButton.addEventListener('click', openLeaderboard);
  ui.leaderboardRefresh.addEventListener('click', loadLeaderboard);
  ui.leaderboardClose.addEventListener('click', () => ui.leaderboard.close());
  // a click on the backdrop (outside the sheet's box) closes it
  ui.leaderboard.addEventListener('click', (ev) => { if (ev.target === ui.leaderboard) ui.leaderboard.close(); });
  document.addEventListener('keydown', onQuizKey);
  ui.leaveButton.addEventListener('click', () => { if (state.current && state.current !== WHISPERS) leaveRoom(state.current); });
  ui.composer.addEventListener('submit', onComposerSubmit);
  ui.messageInput.addEventListener('paste', onComposerPaste);
  ui.messageInput.addEventListener('input', updateCounter);
  ui.toggleSidebar.addEventListener('click', () => toggleDrawer('show-sidebar', ui.toggleSidebar));
  ui.toggleMembers.addEventListener('click', () => toggleDrawer('show-members', ui.toggleMembers));
  wordsInit();
  $('backdrop').addEventListener('click', closeDrawers);
  document.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') closeDrawers(); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') refreshRooms();
  });
  window.addEventListener('online', () => { if (state.active && state.client && !state.stopped) state.client.reconnectNow(); });

  applyLimits();
  onGameChoice();
  renderStatus();
  renderAll();
  renderMessages();
  showView('signin');
  ui.nameInput.focus();
  restoreSession();
  document.body.dataset.ready = 'true';
}

init();
