// The players' page: the connection. One parlor-client ParlorClient per session does requests,
// the rate limits, reconnection with backoff and resume (clients/js); this module creates it,
// routes its events to the page, and turns its close events into the status line: whether
// and when it comes back, or why it does not.

import { ParlorClient, ParlorError } from '../lib/parlor-client/index.js';
import { wsUrl, sendRequest, reconnectCountdown } from '../common/dom.js';
import { onAnnounce, onChatDeleted, onMuted, onRoomClosed, onShutdown, onUnmuted, opsOnClose, stopsForGood } from './ops.js';
import { onGameEvent, onGameOver, onGameStarted, onHost, onQuestion, onReveal, updateCountdown } from './quiz.js';
import { applyLimits, updateComposer } from './render.js';
import { onChat, onJoined, onLeft, onPresence, onWhisperEvent, stopRoomRefresh } from './rooms.js';
import { onGap, onRejoined, onRoomLost, onSessionLost, onSignedInAgain, saveSession, setSigninBusy, showSigninError, signIn, signinFailed } from './session.js';
import { REQUEST_TIMEOUT_MS, state } from './state.js';
import { closeKey, setStatus, toastError, toastKey } from './status.js';
import { tr } from './text.js';

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
 * Creates the page's connection through the client library, which matches replies to requests, keeps to
 * the announced rates, and after a drop reconnects with backoff and takes the session back
 * (resume, or a guest's hello by name, then its rooms again). The page follows its events:
 * `close` says whether and when it comes back, `signedin` (automatic) that it is back,
 * `sessionlost` that it cannot be; a close the server meant is never retried (see
 * stopsForGood), and the player comes back with reopen().
 */
export function newClient() {
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
export function connect() {
  if (state.client) return;
  newClient().connect().catch(() => { /* told through the close event */ });
}

/** A request cut off by a close of ours reads like one cut off by the network. */
export function offline(err) {
  if (err && err.code === 'closed') err.code = 'disconnected';
  throw err;
}

/** Sends a request; resolves with the ok reply, rejects with a ParlorError. */
export function request(msg) {
  const c = state.client;
  const { type, ...fields } = msg;
  return sendRequest(c, !!c && c.connected, type, fields).catch(offline);
}

/** Calls the library's `method` (join, leave, create: it keeps track of our rooms). */
export function call(method, ...args) {
  const c = state.client;
  if (!c || !c.connected) return Promise.reject(new ParlorError('disconnected', 'not connected to the server'));
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
  state.stopCountdown = reconnectCountdown(client, (left) => {
    if (state.client !== client) return;
    const n = Math.max(1, left);
    if (state.status.kind !== 'reconnecting' || state.status.args?.n !== n) {
      setStatus(state.restarting ? 'status.restartingIn' : 'status.reconnecting', { n }, 'reconnecting');
    }
  }, 250);
}

export function clearCountdown() {
  if (state.stopCountdown) state.stopCountdown();
  state.stopCountdown = null;
}

/** Ends the connection and the library's reconnecting; this page hears nothing more from it. */
export function closeSocket(code = 1000) {
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
export async function syncClock() {
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

export const serverNow = () => Date.now() + state.clockOffset;
