// The players' page: what it tells the player about errors and the connection. Toasts (a
// sentence per error code, never the code itself) and the status line in the top bar.

import { t, has, bind } from '../i18n.js';
import { el } from '../common/dom.js';
import { TOAST_MS, state, ui } from './state.js';
import { tr } from './text.js';

// ---------------------------------------------------------------------------------------------
// errors and toasts

/**
 * What a player reads for an error: a sentence per code (PROTOCOL.md 6), never the code or the
 * server's English message (that one goes in the toast's tooltip, for whoever debugs).
 */
export function errorTexts(err) {
  const code = err && err.code ? err.code : 'internal';
  const title = has(`err.${code}`) ? t(`err.${code}`) : t('err.other');
  return { title, detail: '', debug: err && err.reply ? `${code}: ${err.message}` : code };
}

/** The i18n key of the sentence for a close (PROTOCOL.md 8), from its code and reason. */
export function closeKey(code, reason) {
  if (code === 1008 && reason === 'sign-in timeout') return 'close.signinTimeout';
  return has(`close.${code}`) ? `close.${code}` : 'close.other';
}

export function toast(content, kind = 'info') {
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

export function toastError(err, heading) {
  // A request cut off by a dropped connection: the status line already says so.
  if (err && err.code === 'disconnected') return;
  const { title, detail, debug } = errorTexts(err);
  const parts = [];
  if (heading) parts.push(heading, ' ', el('span', { class: 'toast-detail', 'data-testid': 'error-detail' }, title));
  else parts.push(el('strong', {}, title));
  if (detail) parts.push(el('span', { class: 'toast-detail', 'data-testid': 'error-detail' }, detail));
  toast(parts, 'error').title = debug;
}

export function toastKey(key, args, kind = 'info') {
  toast(tr('span', key, args), kind);
}

// ---------------------------------------------------------------------------------------------
// connection status

export function setStatus(key, args, kind) {
  state.status = { key, args, kind };
  renderStatus();
}

export function renderStatus() {
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
