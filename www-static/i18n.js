// UI strings for the parlor web client. Every string the user sees that does not come from the
// server or from another user is looked up here. Placeholders look like {name}.

export const LANGS = ['en', 'ru'];

const dict = {
  en: {
    appTitle: 'parlor',
    langLabel: 'Language',

    // connection status
    'status.offline': 'offline',
    'status.connecting': 'connecting…',
    'status.signingIn': 'signing in…',
    'status.connected': 'connected',
    'status.reconnecting': 'reconnecting in {n} s',
    'status.closedReason': 'connection closed ({code}: {reason})',
    'status.closedCode': 'connection closed ({code})',
    reconnectNow: 'Reconnect now',

    // sign-in
    signInTitle: 'Sign in',
    signInIntro: 'Pick a name to chat as a guest.',
    nameLabel: 'Name',
    namePlaceholder: 'your name',
    nameHint: '1–{max} letters, digits, _ or -',
    signIn: 'Sign in',
    signOut: 'Sign out',
    'signin.invalidName': 'Use 1–{max} characters: letters, digits, _ or -.',
    'signin.noConnection': 'Could not connect to the server.',

    // rooms
    myRooms: 'My rooms',
    allRooms: 'All rooms',
    refreshRooms: 'Refresh room list',
    roomsEmpty: 'No rooms.',
    roomsLoading: 'Loading…',
    roomMembers: '{n}/{max}',
    roomMembersTitle: '{n} of {max} members',
    join: 'Join',
    open: 'Open',
    leave: 'Leave',
    createTitle: 'New room',
    createName: 'Room name',
    createMax: 'Max',
    createMaxTitle: 'Member limit (2–{max}), optional',
    create: 'Create',
    'create.invalidName': 'A room name has 1–{max} characters, no control characters, not only spaces.',
    'create.invalidMax': 'The member limit must be a whole number from 2 to {max}.',
    showRooms: 'Rooms',
    showMembers: 'Members',
    joinedRoom: 'You joined {room}.',
    leftRoom: 'You left {room}.',
    roomGone: 'Room {room} no longer exists.',

    // chat
    members: 'Members',
    you: 'you',
    messagePlaceholder: 'Message {room}  (/w name text to whisper)',
    messagePlaceholderWhispers: '/w name text',
    send: 'Send',
    noRoom: 'Join a room to start chatting.',
    noMessages: 'No messages yet.',
    memberJoined: '{name} joined',
    memberLeft: '{name} left',
    reconnectedDivider: 'reconnected',
    historyGap: 'reconnected — earlier messages may be missing',
    'text.empty': 'The message is empty.',
    'text.tooLong': 'The message is too long ({n}/{max} characters).',
    charsLeft: '{n} left',
    whisperTo: 'Whisper to {name}',
    memberTitle: 'Click to whisper to {name}',

    // whispers
    whispers: 'Whispers',
    whisperFromLabel: '{name} → you',
    whisperToLabel: 'you → {name}',
    whisperUsage: 'Usage: /w name text',
    whisperSelf: 'You cannot whisper to yourself.',
    whisperReceived: 'Whisper from {name}',
    noWhispers: 'No whispers yet. Click a member name to whisper.',
    unknownCommand: 'Unknown command {cmd}. Try /w name text.',

    // errors
    errorLine: '{code}: {message}',
    'error.disconnected': 'not connected',
    'error.timeout': 'the server did not answer',
    'err.bad_json': 'The server could not read the message.',
    'err.bad_request': 'Invalid request.',
    'err.unknown_type': 'The server does not know this request.',
    'err.unauthorized': 'Not signed in.',
    'err.name_taken': 'That name is already in use.',
    'err.no_such_room': 'No such room.',
    'err.no_such_user': 'Nobody of that name is online.',
    'err.room_full': 'The room is full.',
    'err.not_in_room': 'You are not in that room.',
    'err.not_allowed': 'Not allowed.',
    'err.rate_limited': 'Too fast — wait a moment.',
    'err.server_busy': 'The server is busy; try again later.',
    'err.internal': 'Server error.',
    'close.1000': 'closed',
    'close.1001': 'the server is shutting down',
    'close.1003': 'unsupported data',
    'close.1006': 'connection lost',
    'close.1007': 'invalid text',
    'close.1008': 'policy violation',
    'close.1009': 'message too big',
    'close.1011': 'server error',
    dismiss: 'Dismiss',
  },

  ru: {
    appTitle: 'parlor',
    langLabel: 'Язык',

    'status.offline': 'нет соединения',
    'status.connecting': 'подключение…',
    'status.signingIn': 'вход…',
    'status.connected': 'подключено',
    'status.reconnecting': 'переподключение через {n} с',
    'status.closedReason': 'соединение закрыто ({code}: {reason})',
    'status.closedCode': 'соединение закрыто ({code})',
    reconnectNow: 'Подключиться сейчас',

    signInTitle: 'Вход',
    signInIntro: 'Выберите имя, чтобы общаться как гость.',
    nameLabel: 'Имя',
    namePlaceholder: 'ваше имя',
    nameHint: '1–{max} латинских букв, цифр, _ или -',
    signIn: 'Войти',
    signOut: 'Выйти',
    'signin.invalidName': 'Допустимо 1–{max} символов: латинские буквы, цифры, _ или -.',
    'signin.noConnection': 'Не удалось подключиться к серверу.',

    myRooms: 'Мои комнаты',
    allRooms: 'Все комнаты',
    refreshRooms: 'Обновить список комнат',
    roomsEmpty: 'Комнат нет.',
    roomsLoading: 'Загрузка…',
    roomMembers: '{n}/{max}',
    roomMembersTitle: 'участников: {n} из {max}',
    join: 'Войти',
    open: 'Открыть',
    leave: 'Покинуть',
    createTitle: 'Новая комната',
    createName: 'Название комнаты',
    createMax: 'Макс.',
    createMaxTitle: 'Лимит участников (2–{max}), необязательно',
    create: 'Создать',
    'create.invalidName': 'Название комнаты: 1–{max} символов, без управляющих символов, не только пробелы.',
    'create.invalidMax': 'Лимит участников — целое число от 2 до {max}.',
    showRooms: 'Комнаты',
    showMembers: 'Участники',
    joinedRoom: 'Вы вошли в комнату {room}.',
    leftRoom: 'Вы покинули комнату {room}.',
    roomGone: 'Комнаты {room} больше нет.',

    members: 'Участники',
    you: 'вы',
    messagePlaceholder: 'Сообщение в {room}  (/w имя текст — шёпотом)',
    messagePlaceholderWhispers: '/w имя текст',
    send: 'Отправить',
    noRoom: 'Войдите в комнату, чтобы общаться.',
    noMessages: 'Сообщений пока нет.',
    memberJoined: '{name} вошёл(а)',
    memberLeft: '{name} вышел(а)',
    reconnectedDivider: 'переподключено',
    historyGap: 'переподключено — часть сообщений могла пропасть',
    'text.empty': 'Сообщение пустое.',
    'text.tooLong': 'Сообщение слишком длинное ({n}/{max} символов).',
    charsLeft: 'осталось {n}',
    whisperTo: 'Шепнуть {name}',
    memberTitle: 'Нажмите, чтобы шепнуть {name}',

    whispers: 'Шёпот',
    whisperFromLabel: '{name} → вам',
    whisperToLabel: 'вы → {name}',
    whisperUsage: 'Формат: /w имя текст',
    whisperSelf: 'Нельзя шептать самому себе.',
    whisperReceived: 'Шёпот от {name}',
    noWhispers: 'Шёпота пока нет. Нажмите на имя участника, чтобы шепнуть.',
    unknownCommand: 'Неизвестная команда {cmd}. Попробуйте /w имя текст.',

    errorLine: '{code}: {message}',
    'error.disconnected': 'нет соединения',
    'error.timeout': 'сервер не ответил',
    'err.bad_json': 'Сервер не смог прочитать сообщение.',
    'err.bad_request': 'Неверный запрос.',
    'err.unknown_type': 'Сервер не знает такого запроса.',
    'err.unauthorized': 'Вход не выполнен.',
    'err.name_taken': 'Это имя уже занято.',
    'err.no_such_room': 'Такой комнаты нет.',
    'err.no_such_user': 'Пользователя с таким именем нет в сети.',
    'err.room_full': 'Комната заполнена.',
    'err.not_in_room': 'Вы не в этой комнате.',
    'err.not_allowed': 'Не разрешено.',
    'err.rate_limited': 'Слишком часто — подождите немного.',
    'err.server_busy': 'Сервер перегружен, попробуйте позже.',
    'err.internal': 'Ошибка сервера.',
    'close.1000': 'закрыто',
    'close.1001': 'сервер останавливается',
    'close.1003': 'неподдерживаемые данные',
    'close.1006': 'соединение потеряно',
    'close.1007': 'неверный текст',
    'close.1008': 'нарушение правил',
    'close.1009': 'слишком большое сообщение',
    'close.1011': 'ошибка сервера',
    dismiss: 'Закрыть',
  },
};

const STORAGE_KEY = 'parlor.lang';
let current = 'en';
const listeners = new Set();

function storedLang() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; }
}

export function detectLang() {
  const saved = storedLang();
  if (saved && LANGS.includes(saved)) return saved;
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  for (const p of prefs) {
    const base = String(p).toLowerCase().split('-')[0];
    if (LANGS.includes(base)) return base;
  }
  return 'en';
}

export function getLang() { return current; }

export function has(key) { return Object.prototype.hasOwnProperty.call(dict[current], key) || Object.prototype.hasOwnProperty.call(dict.en, key); }

/** Looks up `key` in the current language (falling back to English) and fills {placeholders}. */
export function t(key, params) {
  let s = dict[current][key];
  if (s === undefined) s = dict.en[key];
  if (s === undefined) s = key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/**
 * Fills the elements under `root` that carry data-i18n* attributes:
 * data-i18n (textContent), data-i18n-placeholder, data-i18n-title, data-i18n-aria (aria-label),
 * with optional JSON parameters in data-i18n-args.
 */
export function applyI18n(root = document) {
  const els = root.querySelectorAll('[data-i18n],[data-i18n-placeholder],[data-i18n-title],[data-i18n-aria]');
  const all = root.nodeType === 1 && root.matches('[data-i18n],[data-i18n-placeholder],[data-i18n-title],[data-i18n-aria]') ? [root, ...els] : els;
  for (const el of all) {
    let args;
    if (el.dataset.i18nArgs) {
      try { args = JSON.parse(el.dataset.i18nArgs); } catch { args = undefined; }
    }
    if (el.dataset.i18n) el.textContent = t(el.dataset.i18n, args);
    if (el.dataset.i18nPlaceholder) el.placeholder = t(el.dataset.i18nPlaceholder, args);
    if (el.dataset.i18nTitle) el.title = t(el.dataset.i18nTitle, args);
    if (el.dataset.i18nAria) el.setAttribute('aria-label', t(el.dataset.i18nAria, args));
  }
}

/** Tags `el` so that applyI18n keeps it translated, and translates it now. */
export function bind(el, key, args, attr = 'text') {
  const name = { text: 'i18n', placeholder: 'i18nPlaceholder', title: 'i18nTitle', aria: 'i18nAria' }[attr];
  el.dataset[name] = key;
  if (args !== undefined) el.dataset.i18nArgs = JSON.stringify(args);
  else delete el.dataset.i18nArgs;
  applyI18n(el);
  return el;
}

export function setLang(lang, remember = true) {
  if (!LANGS.includes(lang)) return;
  current = lang;
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* private mode */ }
  }
  document.documentElement.lang = lang;
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) { listeners.add(fn); }
