// The players' page: drawing the state. Tabs, the rooms list, the room head, members,
// messages, the composer's state, the create form's limits and the drawers on a phone.

import { bind, applyI18n, getLang, onLangChange } from '../i18n.js';
import { $, el } from '../common/dom.js';
import { prefillWhisper, renderHelp, renderOutbox, updateCounter } from './composer.js';
import { renderMuteNote } from './ops.js';
import { fillQuestionLang, renderQuiz } from './quiz.js';
import { joinRoom, memberTotal, refreshRooms } from './rooms.js';
import { MAX_ITEMS, QUIZ_MAX_DEFAULT, WHISPERS, isMe, sameName, state, ui } from './state.js';
import { fullTime, hhmm, nameHue, roomLabel, shortLabel, tr } from './text.js';

// ---------------------------------------------------------------------------------------------
// rendering

export function selectView(key) {
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

export function renderAll() {
  renderTabs();
  renderRoomList();
  renderRoomHead();
  renderMembers();
  renderQuiz();
  updateComposer();
  if (!state.current || (state.current !== WHISPERS && !state.rooms.has(state.current))) renderMessages();
}

export function renderTabs() {
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

export function renderRoomList() {
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

export function renderRoomHead() {
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

export function renderMembers() {
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

export function renderItem(item) {
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

export function scrollToBottom(force) {
  if (force || isNearBottom()) ui.messages.scrollTop = ui.messages.scrollHeight;
}

export function appendItemNode(item) {
  const stick = isNearBottom();
  const empty = ui.messages.querySelector('.empty');
  if (empty) empty.remove();
  ui.messages.append(renderItem(item));
  while (ui.messages.children.length > MAX_ITEMS) ui.messages.firstElementChild.remove();
  if (stick || (item.kind === 'chat' && isMe(item.from)) || item.dir === 'out') scrollToBottom(true);
}

export function renderMessages() {
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

export function updateComposer() {
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

export function selectedGame() {
  const checked = ui.createForm.querySelector('input[name="game"]:checked');
  return checked ? checked.value : 'chat';
}

export function onGameChoice() {
  const quiz = selectedGame() === 'quiz';
  ui.createQuizOptions.hidden = !quiz;
  // the member limit a room gets when none is given (PROTOCOL.md 4.3 and 4.10)
  const def = quiz ? QUIZ_MAX_DEFAULT : state.limits.room_max_default;
  ui.createMax.dataset.i18nArgs = JSON.stringify({ max: state.limits.room_max_limit, def });
  applyI18n(ui.createMax);
  ui.createForm.dataset.game = quiz ? 'quiz' : 'chat';
}

export function applyLimits() {
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
export function closeDrawers() {
  ui.chatView.classList.remove('show-sidebar', 'show-members');
  ui.toggleSidebar.setAttribute('aria-expanded', 'false');
  ui.toggleMembers.setAttribute('aria-expanded', 'false');
}

export function toggleDrawer(cls, btn) {
  const open = !ui.chatView.classList.contains(cls);
  closeDrawers();
  if (open) {
    ui.chatView.classList.add(cls);
    btn.setAttribute('aria-expanded', 'true');
    if (cls === 'show-sidebar') refreshRooms();
  }
}

export function renderLangButtons() {
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === getLang()));
  }
}

/** After a join or a create, typing goes to the room (not on a phone: no keyboard popping up). */
export function focusComposer() {
  if (window.matchMedia('(max-width: 600px)').matches) return;
  if (!ui.messageInput.disabled) ui.messageInput.focus();
}

export function wordsInit() {
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
