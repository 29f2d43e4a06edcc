// parlor web client: speaks protocol/PROTOCOL.md (version 1) over a WebSocket at /ws through
// the client library (clients/js, copied to lib/parlor-client/ by scripts/copy-frontend-libs).
// This module starts the page: it finds the elements, binds the controls and signs back in
// with a stored token. The rest is in app/ (one module per concern, each says what it is for).
// Every piece of text from the server or a user goes into the page through textContent or
// text nodes, never through innerHTML.

import { t, setLang, detectLang, onLangChange } from './i18n.js';
import { $, el } from './common/dom.js';
import { onComposerPaste, onComposerSubmit, updateCounter } from './app/composer.js';
import { loadLeaderboard, openLeaderboard } from './app/leaderboard.js';
import { onQuizKey } from './app/quiz.js';
import { applyLimits, closeDrawers, onGameChoice, renderAll, renderLangButtons, renderMessages, toggleDrawer, wordsInit } from './app/render.js';
import { createRoom, leaveRoom, refreshRooms } from './app/rooms.js';
import { onSigninSubmit, restoreSession, saveSession, showSigninError, showView, signOut } from './app/session.js';
import { NAME_KEY, WHISPERS, state, ui } from './app/state.js';
import { renderStatus } from './app/status.js';

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
