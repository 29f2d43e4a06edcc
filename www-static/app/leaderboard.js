// The players' page: the leaderboard sheet (PROTOCOL.md 4.10, `leaderboard`), with the
// signed-in player's own place.

import { bind } from '../i18n.js';
import { el } from '../common/dom.js';
import { request } from './net.js';
import { isMe, state, ui } from './state.js';
import { toastError } from './status.js';
import { tr } from './text.js';

// leaderboard

export async function openLeaderboard() {
  if (!ui.leaderboard.open) ui.leaderboard.showModal();
  renderLeaderboard();
  await loadLeaderboard();
}

export async function loadLeaderboard() {
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
