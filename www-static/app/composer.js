// The players' page: what the player types. Commands (/w, /help, //), pasted lines sent one
// by one, and the outbox: lines on their way, sent in order through the library's rate-limited
// queue and kept (to edit or drop) when the server refuses them.

import { bind } from '../i18n.js';
import { ParlorError } from '../lib/parlor-client/index.js';
import { el } from '../common/dom.js';
import { request } from './net.js';
import { isRestriction, onMuted } from './ops.js';
import { appendItemNode, closeDrawers, scrollToBottom, updateComposer } from './render.js';
import { addItem, addWhisper } from './rooms.js';
import { WHISPERS, codePoints, isMe, state, ui } from './state.js';
import { errorTexts, toastError, toastKey } from './status.js';
import { textProblem, tr } from './text.js';

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
export async function pumpOutbox() {
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

export function outboxReset() {
  clearTimeout(state.outboxTimer);
  state.outbox = [];
  state.outboxTimer = null;
  renderOutbox();
}

/** The lines on their way, under the messages of the view they belong to. */
export function renderOutbox() {
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

export function renderHelp() {
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

export function onComposerSubmit(ev) {
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
export function onComposerPaste(ev) {
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

export function prefillWhisper(name) {
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

export function updateCounter() {
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
