// The players' page: signing in and out. The form (guest, log in, sign up), the token kept in
// localStorage so that a reload signs back in, and what the page does when the library takes
// the session back by itself after a drop (or cannot).

import { ParlorError } from '../lib/parlor-client/index.js';
import { el } from '../common/dom.js';
import { outboxReset } from './composer.js';
import { clearCountdown, closeSocket, connect, newClient, offline, syncClock } from './net.js';
import { bannedText, isRestriction, opsReset, opsSignedIn, showBanned } from './ops.js';
import { renderAll, selectView, updateComposer } from './render.js';
import { addItem, applyJoinReply, applyRoomInfo, dropRoom, joinRoom, newRoom, refreshRooms, startRoomRefresh } from './rooms.js';
import { NAME_KEY, PASSWORD_MAX, PASSWORD_MIN, SEEN_SAVE_MS, SESSION_KEY, sameName, state, ui } from './state.js';
import { errorTexts, setStatus, toastError } from './status.js';
import { roomLabel, tr, validName } from './text.js';

// ---------------------------------------------------------------------------------------------
// sign-in / sign-out

export function showSigninError(node) {
  ui.signinError.replaceChildren();
  if (node) ui.signinError.append(node);
}

export function setSigninBusy(busy) {
  ui.signinButton.disabled = busy;
  ui.nameInput.disabled = busy;
  ui.passwordInput.disabled = busy;
  ui.loginButton.disabled = busy;
  ui.registerButton.disabled = busy;
}

export function onSigninSubmit(ev, mode = 'guest') {
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
export async function signIn() {
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
export function signinFailed(err, key) {
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
export function saveSession() {
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
export function restoreSession() {
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
export async function onSignedInAgain(reply) {
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
export function onSessionLost(err) {
  if (state.sessionStarted && isRestriction(err)) {
    showBanned(err);
    return;
  }
  // an account's token is no good any more (expired, account gone): log in again
  if (state.account && (err.code === 'unauthorized' || err.code === 'bad_request')) signinFailed(null, 'auth.expired');
  else signinFailed(err);
}

/** The library joined a room again after the server had ended our session. */
export function onRejoined(reply) {
  applyJoinReply(reply, false); // the missed chat came as events already
  if (!state.current) selectView(reply.room.id);
  else renderAll();
}

/** A room we were in could not be joined again: gone, full, or too many rooms. */
export function onRoomLost(id, err) {
  const room = state.rooms.get(id);
  if (!room) return;
  toastError(err, tr('strong', 'roomGone', { room: roomLabel(room) }));
  dropRoom(id);
}

/** Missed chat the library could not fetch: mark where it is missing. */
export function onGap(id) {
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

export function signOut() {
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

export function showView(which) {
  ui.signinView.hidden = which !== 'signin';
  ui.chatView.hidden = which !== 'chat';
}
