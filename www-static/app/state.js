// The players' page: its state. The constants, the one `state` object every module reads and
// changes (the session, the rooms and what they show, timers, what operators did, the outbox),
// `ui` (the page's elements, filled in by app.js at start-up) and who "me" is.

export const WHISPERS = '@whispers';           // view key of the whispers pane (not a room id)
export const NAME_KEY = 'parlor.name';
export const SESSION_KEY = 'parlor.session';   // {name, token, account, rooms, seenAt}: staying signed in
export const SEEN_SAVE_MS = 5000;              // how often seenAt is refreshed while connected
export const PASSWORD_MIN = 8; // bytes of UTF-8 (PROTOCOL.md 4.1a)
export const PASSWORD_MAX = 128;
export const REQUEST_TIMEOUT_MS = 15000;
export const ROOMS_REFRESH_MS = 10000;
export const MAX_ITEMS = 1000;                 // kept per room view
export const TOAST_MS = 6000;
export const QUIZ_TICK_MS = 100;               // countdown refresh while a question is open
export const CHOICE_KEYS = ['A', 'B', 'C', 'D'];
export const QUIZ_MAX_DEFAULT = 12;           // a quiz room's member limit when create gives none (4.10)

// Used until the server's welcome arrives (the protocol's defaults).
export const DEFAULT_LIMITS = {
  max_message: 8192, name_max: 24, text_max: 1000, room_name_max: 48, room_max_default: 50,
  room_max_limit: 500, rooms_per_session: 16, history: 50,
  quiz_max_rounds: 50, quiz_max_seconds: 120, quiz_reveal_ms: 3000,
};

// ---------------------------------------------------------------------------------------------
// state

export const state = {
  client: null,           // the ParlorClient, from "Sign in" until signing out or giving up
  limits: { ...DEFAULT_LIMITS },
  active: false,          // the user wants to be signed in (from "Sign in" until "Sign out")
  sessionStarted: false,  // a sign-in succeeded since the user pressed "Sign in"
  signedIn: false,        // signed in on the current connection
  name: null,             // our name as the server confirmed it
  wantName: null,         // the name to sign in with
  token: null,            // newest sign-in token from the server; `resume` sends it after a drop
  rooms: new Map(),       // joined room id -> room
  order: [],              // joined room ids, in the order they were joined
  current: null,          // room id or WHISPERS
  roomList: null,         // last `rooms` reply
  whispers: [],           // whisper items
  whisperUnread: 0,
  whisperPeer: null,      // default target for plain text typed in the whispers pane
  stopCountdown: null,    // stops the "trying again in n s" line while the library waits to reconnect
  refreshTimer: null,
  lastClose: null,        // {code, reason} of the last close, shown in the status line
  clockOffset: 0,         // server clock minus ours, in ms (from a ping, see syncClock)
  quizTimer: null,        // interval that moves the countdown of the room being looked at
  leaderboard: null,      // last `leaderboard` entries
  leaderboardMe: null,    // the account's own place from the last `leaderboard` reply
  mode: 'guest',          // how the next first sign-in goes: 'guest' (hello), 'login', 'register'
  password: null,         // held from the form until that sign-in is answered, then dropped
  account: false,         // signed in with an account (its token resumes it for days)
  restoring: false,       // signing back in with the stored token after a reload
  restoreRooms: null,     // the rooms a reload was in, joined again after a fresh sign-in
  seenTimer: null,
  status: { key: 'status.offline', args: undefined, kind: 'offline' },
  // what operators did (see "what operators do")
  mute: null,             // {until (ms or null), reason} while muted
  muteTimer: null,
  draining: null,         // {end} after `shutdown`, until the server closes
  restarting: false,      // closed with 1001: reconnecting to the restarted server
  stopped: false,         // the server closed us on purpose: no automatic reconnect
  pendingBan: null,       // the `banned` event, until its close arrives
  opsNotice: null,        // {kind, key, args, reason, button} under the top bar
  opsTimer: null,
  // what the player types (see "what the player types")
  outbox: [],             // lines on their way: {n, room | to, text, raw, status, error}
  outboxTimer: null,
  outboxBusy: false,
};

export const ui = {};
export const codePoints = (s) => [...s].length;
export const sameName = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
export const isMe = (name) => sameName(name, state.name);
