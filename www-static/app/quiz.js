// The players' page: the quiz (PROTOCOL.md 4.10). The game's state from its events and the
// late joiner's snapshot, answering, the countdown on the server's clock, and the board.

import { t, bind, getLang } from '../i18n.js';
import { el } from '../common/dom.js';
import { request, serverNow } from './net.js';
import { renderMembers, renderRoomList } from './render.js';
import { addItem } from './rooms.js';
import { CHOICE_KEYS, QUIZ_TICK_MS, isMe, sameName, state, ui } from './state.js';
import { toastError } from './status.js';
import { nameHue, tr } from './text.js';

/** The players ranked first, when they scored at all: a game nobody scored in has no winner. */
function quizWinners(ranking) {
  return ranking.filter((r) => r.rank === 1 && r.score > 0).map((r) => r.name);
}

// ---------------------------------------------------------------------------------------------
// quiz (PROTOCOL.md 4.10)

/** The quiz view of a room: what the board shows. */
export function emptyQuiz() {
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

export function quizChanged(room) {
  if (state.current === room.id) renderQuiz();
}

export function applyGameSnapshot(room, g) {
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
export function onGameEvent(msg) {
  const room = gameRoom(msg);
  if (!room) return;
  applyGameSnapshot(room, msg);
  patchRoomList(room.id, { state: 'playing' });
  quizChanged(room);
}

export function onHost(msg) {
  const room = gameRoom(msg);
  if (!room || typeof msg.name !== 'string') return;
  room.host = msg.name;
  addItem(room, { kind: 'notice', key: 'quiz.noticeHost', args: { name: msg.name } });
  patchRoomList(room.id, { host: msg.name });
  if (state.current === room.id) renderMembers();
  quizChanged(room);
}

export function onGameStarted(msg) {
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

export function onQuestion(msg) {
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

export function onReveal(msg) {
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

export function onGameOver(msg) {
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
export function updateCountdown() {
  const room = state.rooms.get(state.current);
  if (!room || room.game !== 'quiz' || !ui.quizFill) return;
  const q = room.quiz;
  const total = Math.max(1, (room.seconds ?? 1) * 1000);
  let left = 0;
  // never more than the question's time: our estimate of the server's clock can run behind it
  if (q.phase === 'question') left = Math.min(total, Math.max(0, timeLeftMs(room)));
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
export function fillQuestionLang(node) {
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

export function renderQuiz() {
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

export function onQuizKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || !/^[1-4]$/.test(ev.key)) return;
  const target = ev.target;
  if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
  if (ui.leaderboard.open) return;
  const room = state.rooms.get(state.current);
  if (!room || room.game !== 'quiz' || !canAnswer(room.quiz)) return;
  ev.preventDefault();
  sendAnswer(room, Number(ev.key) - 1);
}
