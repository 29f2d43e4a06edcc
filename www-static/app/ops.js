// The players' page: what operators do (PROTOCOL.md 5 and 5.1). Announcements, closed rooms,
// deleted messages, mutes, bans, kicks and the other closes the server means, a drain and a
// server restart: the notice under the top bar, and "Come back".

import { getLang } from '../i18n.js';
import { el } from '../common/dom.js';
import { pumpOutbox } from './composer.js';
import { clearCountdown, newClient, serverNow } from './net.js';
import { quizChanged } from './quiz.js';
import { renderItem, updateComposer } from './render.js';
import { addItem, dropRoom, refreshRooms } from './rooms.js';
import { state, ui } from './state.js';
import { setStatus, toast, toastKey } from './status.js';
import { hhmm, roomLabel, tr } from './text.js';

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
export function onShutdown(msg) {
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

export function onAnnounce(msg) {
  const text = String(msg.text ?? '');
  const item = { kind: 'announce', text, ts: Date.now() };
  for (const id of state.order) {
    const room = state.rooms.get(id);
    if (room) addItem(room, { ...item });
  }
  if (!state.rooms.has(state.current)) toast([tr('strong', 'ops.announce'), ' ', el('span', {}, text)], 'info');
}

export function onRoomClosed(msg) {
  const room = state.rooms.get(msg.room);
  if (!room) return;
  dropRoom(room.id);
  toastKey('ops.roomClosed', { room: roomLabel(room) }, 'error');
  refreshRooms();
}

export function onChatDeleted(msg) {
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
export function onMuted(msg) {
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

export function onUnmuted() {
  clearTimeout(state.muteTimer);
  if (!state.mute) return;
  state.mute = null;
  updateComposer();
  toastKey('ops.unmuted');
  pumpOutbox();
}

/** The line above the composer that says why it is closed. */
export function renderMuteNote() {
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
export const isRestriction = (err) => err && err.code === 'not_allowed' && err.until !== undefined;

/** "This name is banned until 15:30. Reason: …" for the sign-in form. */
export function bannedText(err) {
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
export function showBanned(info) {
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
export function stopsForGood(code, reason) {
  return code === 1008 && (reason === 'banned' || /^kicked(?:: |$)/.test(reason) || reason === 'rate limit' || reason === 'too slow');
}

/**
 * A close the server meant (PROTOCOL.md 8) is never retried by itself; 1001 is a restart,
 * retried quietly. Returns true when it dealt with the close.
 */
export function opsOnClose(code, reason) {
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
export function opsSignedIn() {
  state.stopped = false;
  delete document.body.dataset.opsStopped;
  if (state.restarting || state.opsNotice?.kind === 'stop') setOpsNotice(null);
  state.restarting = false;
}

export function opsReset() {
  clearTimeout(state.muteTimer);
  state.mute = null;
  state.draining = null;
  state.restarting = false;
  state.stopped = false;
  delete document.body.dataset.opsStopped;
  state.pendingBan = null;
  setOpsNotice(null);
}
