// The players' page: rooms. Joining, leaving and creating them, the rooms list, and the room
// events (chat, joined, left, presence, whispers) that fill the state the views show.

import { pumpOutbox } from './composer.js';
import { call, request } from './net.js';
import { applyGameSnapshot, emptyQuiz, quizChanged } from './quiz.js';
import { appendItemNode, closeDrawers, focusComposer, renderAll, renderMembers, renderRoomHead, renderRoomList, renderTabs, selectView, selectedGame } from './render.js';
import { MAX_ITEMS, ROOMS_REFRESH_MS, WHISPERS, isMe, state, ui } from './state.js';
import { toastError, toastKey } from './status.js';
import { roomLabel, validRoomName } from './text.js';

// ---------------------------------------------------------------------------------------------
// rooms

export function newRoom(info) {
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
export function applyRoomInfo(room, info) {
  room.name = info.name ?? room.name;
  room.max = info.max ?? room.max;
  if ('game' in info) room.game = typeof info.game === 'string' ? info.game : null;
  if (typeof info.host === 'string') room.host = info.host;
  if (info.state === 'waiting' || info.state === 'playing') room.quizState = info.state;
  if (Number.isInteger(info.rounds)) room.rounds = info.rounds;
  if (Number.isInteger(info.seconds)) room.seconds = info.seconds;
}

export async function refreshRooms() {
  if (!state.signedIn) return;
  try {
    const reply = await request({ type: 'rooms' });
    state.roomList = Array.isArray(reply.rooms) ? reply.rooms : [];
    renderRoomList();
  } catch (err) {
    if (err.code !== 'disconnected') toastError(err);
  }
}

export function startRoomRefresh() {
  stopRoomRefresh();
  pumpOutbox(); // signed in and back in our rooms: what waited to be sent goes now
  state.refreshTimer = setInterval(() => {
    if (document.visibilityState !== 'hidden') refreshRooms();
  }, ROOMS_REFRESH_MS);
}

export function stopRoomRefresh() {
  clearInterval(state.refreshTimer);
  state.refreshTimer = null;
}

/**
 * Joins room `id`. `refresh`: a room the server kept us in across a resume (or one a reload was
 * in); the join only fetches its current members, and a failure leaves the room as it is.
 */
export async function joinRoom(id, { select = false, refresh = false } = {}) {
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

export function applyJoinReply(reply, rejoin) {
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

export function dropRoom(id) {
  state.rooms.delete(id);
  state.order = state.order.filter((x) => x !== id);
  if (state.current === id) {
    state.current = null;
    selectView(state.order[0] ?? null);
  } else {
    renderAll();
  }
}

export async function leaveRoom(id) {
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

export async function createRoom(ev) {
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

export function addItem(room, item) {
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

export function onChat(msg) {
  const room = state.rooms.get(msg.room);
  if (!room) return;
  addChat(room, msg, true);
}

export function onJoined(msg) {
  const room = state.rooms.get(msg.room);
  if (!room || typeof msg.name !== 'string') return;
  if (!room.members.includes(msg.name)) room.members.push(msg.name);
  addItem(room, { kind: 'notice', key: 'memberJoined', name: msg.name });
  if (state.current === room.id) renderMembers();
  if (room.game === 'quiz') quizChanged(room);
  updateRoomCount(room.id, room.members.length);
}

export function onLeft(msg) {
  const room = state.rooms.get(msg.room);
  if (!room || typeof msg.name !== 'string') return;
  room.members = room.members.filter((m) => m !== msg.name);
  addItem(room, { kind: 'notice', key: 'memberLeft', name: msg.name });
  if (state.current === room.id) renderMembers();
  if (room.game === 'quiz') quizChanged(room);
  updateRoomCount(room.id, room.members.length);
}

/** `presence`: a big room's member count, with every name once it is small again. */
export function onPresence(msg) {
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
export function memberTotal(room) {
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

export function addWhisper(item) {
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

export function onWhisperEvent(msg) {
  const from = String(msg.from ?? '');
  if (!state.whisperPeer) state.whisperPeer = from;
  addWhisper({ kind: 'whisper', dir: 'in', peer: from, text: String(msg.text ?? ''), ts: msg.ts });
}
