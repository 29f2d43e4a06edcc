// Type declarations for parlor-client (src/index.js). The wire format is protocol/PROTOCOL.md
// (players) and protocol/ADMIN.md (operators); section numbers below refer to PROTOCOL.md.

export const PLAYER_PROTOCOL: 'parlor.v1';
export const ADMIN_PROTOCOL: 'parlor-admin.v1';

/** Section 6's codes, then the client's own: no reply in time, connection lost, client closed. */
export type ServerErrorCode =
  | 'bad_json' | 'bad_request' | 'unknown_type' | 'unauthorized' | 'bad_credentials'
  | 'name_taken' | 'no_such_room' | 'no_such_user' | 'room_full' | 'not_in_room'
  | 'not_allowed' | 'rate_limited' | 'server_busy' | 'game_state' | 'internal';
export type LocalErrorCode = 'timeout' | 'disconnected' | 'closed';
export type ErrorCode = ServerErrorCode | LocalErrorCode;
export const ERROR_CODES: readonly ErrorCode[];

export interface ErrorReply {
  type: 'error';
  re: number | null;
  code: ServerErrorCode;
  message: string;
  field?: string;
  until?: number | null;
  reason?: string;
}

export class ParlorError extends Error {
  constructor(code: ErrorCode, message?: string, reply?: ErrorReply);
  readonly name: 'ParlorError';
  readonly code: ErrorCode;
  /** bad_request: the offending field. */
  readonly field?: string;
  /** not_allowed for a mute or ban (5.1): its end in ms since the epoch, null for ever. */
  readonly until?: number | null;
  readonly reason?: string;
  /** The error reply, null for a local error. */
  readonly reply: ErrorReply | null;
  /** The type of the request this error answers (`resume`, `say`, …), when it answers one. */
  readonly request?: string;
  /** connect() failures: how the socket closed, and whether it had opened. */
  closeCode?: number;
  closeReason?: string;
  opened?: boolean;
}

export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  /** Calls `fn` on every `type` event; returns a function that removes it. */
  on<K extends keyof Events>(type: K, fn: (ev: Events[K]) => void): () => void;
  off<K extends keyof Events>(type: K, fn: (ev: Events[K]) => void): void;
  once<K extends keyof Events>(type: K, fn: (ev: Events[K]) => void): () => void;
  emit<K extends keyof Events>(type: K, ev: Events[K]): void;
}

export interface Backoff {
  /** First delay in ms (500). */
  base: number;
  /** Longest delay in ms (15000). */
  max: number;
  /** ± fraction of each delay (0.3). */
  jitter: number;
}
export const DEFAULT_BACKOFF: Readonly<Backoff>;
export function backoffDelay(attempt: number, opts?: Partial<Backoff>, random?: () => number): number;

export class TokenBucket {
  constructor(perSec: number, burst: number, now?: number);
  tokens: number;
  level(now?: number): number;
  wait(now?: number): number;
  take(now?: number): void;
  empty(now?: number): void;
}

/** The limits of section 7, as `welcome` announces them. */
export interface Limits {
  max_message: number; name_max: number; text_max: number; room_name_max: number;
  room_max_default: number; room_max_limit: number; lobby_max: number; rooms_per_session: number;
  max_rooms: number; history: number; signin_timeout: number; sendq_max_messages: number;
  sendq_max_bytes: number; rate_per_sec: number; rate_burst: number; say_per_sec: number;
  say_burst: number; rate_close_after: number; ping_interval: number; idle_timeout: number;
  max_connections: number; max_per_address: number; quiz_max_rounds: number;
  quiz_max_seconds: number; quiz_reveal_ms: number; rejoin_seconds: number; presence_max: number;
  sendq_soft_messages: number; sendq_soft_bytes: number; sendq_soft_seconds: number;
  resume_replay: number;
  [key: string]: number;
}
export const DEFAULT_LIMITS: Readonly<Limits>;

/** A WebSocket constructor: the browser's, or the `ws` package's in node. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', fn: (ev: any) => void): void;
}
export type WebSocketConstructor = new (url: string, protocol: string) => WebSocketLike;

export interface ClientOptions {
  /** ws://host:port/ws (a player), ws://host:port/admin/ws (the console). */
  url: string;
  /** Default: globalThis.WebSocket, or the `ws` package when there is none (node 20). */
  WebSocket?: WebSocketConstructor;
  /** ms a request may wait for its reply once sent (15000). */
  requestTimeout?: number;
  /** Backoff between reconnects, or false for none. */
  reconnect?: Partial<Backoff> | false;
  /** Whether a close the client did not ask for is worth a reconnect (default: all but kicks, bans and the client's own faults). */
  shouldReconnect?: (close: { code: number; reason: string }) => boolean;
  /** Source of randomness for the jitter (Math.random). */
  random?: () => number;
}

export interface PlayerClientOptions extends ClientOptions {
  /** Messages fetched per room to fill a gap after a resume before giving up with a `gap` event (1000). */
  gapLimit?: number;
}

export type State = 'idle' | 'connecting' | 'open' | 'ready' | 'reconnecting' | 'closed';

export interface CloseEvent {
  code: number;
  reason: string;
  /** The socket had opened (false: the handshake was refused or the server was unreachable). */
  opened: boolean;
  /** A reconnect follows, after `delay` ms (attempt `attempt`). */
  reconnecting: boolean;
  delay?: number;
  attempt: number;
  /**
   * The client ended this connection itself because its automatic sign-in was refused: the
   * refusal (`request` says whether `resume` or the guest's `hello`). A reconnect follows when it
   * is worth another try (name_taken, rate_limited, server_busy, …); else `sessionlost` came first.
   */
  error?: ParlorError;
}

export interface Ok {
  type: 'ok';
  re: number;
  [field: string]: unknown;
}

// ---- messages (sections 4 and 5) ---------------------------------------------------------------

export interface RoomInfo {
  id: string;
  name: string;
  game: string | null;
  members: number;
  max: number;
  /** quiz rooms (4.10) */
  host?: string;
  state?: 'waiting' | 'playing';
  rounds?: number;
  seconds?: number;
}

export interface ChatEvent { type: 'chat'; room: string; from: string; text: string; ts: number; seq: number }
export interface WelcomeEvent { type: 'welcome'; server: string; protocol: number; limits: Limits }
export interface JoinedEvent { type: 'joined'; room: string; name: string }
export interface LeftEvent { type: 'left'; room: string; name: string }
export interface PresenceEvent { type: 'presence'; room: string; members: number; names?: string[] }
export interface WhisperEvent { type: 'whisper'; from: string; text: string; ts: number }
export interface HostEvent { type: 'host'; room: string; name: string }
export interface AnnounceEvent { type: 'announce'; text: string }
export interface RoomClosedEvent { type: 'room_closed'; room: string }
export interface ChatDeletedEvent { type: 'chat_deleted'; room: string; seq: number }
export interface ShutdownEvent { type: 'shutdown'; seconds: number }
export interface MutedEvent { type: 'muted'; until: number | null; reason?: string }
export interface UnmutedEvent { type: 'unmuted' }
export interface BannedEvent { type: 'banned'; until: number | null; reason?: string }

export interface Question { text: string; choices: string[]; lang?: string }
export interface Score { name: string; score: number; delta?: number }
export interface Rank { name: string; score: number; rank: number }

export interface GameStartedEvent { type: 'game_started'; room: string; rounds: number; seconds: number; players: string[] }
export interface QuestionEvent extends Question { type: 'question'; room: string; round: number; of: number; deadline: number }
export interface RevealEvent { type: 'reveal'; room: string; round: number; correct: number; scores: Score[] }
export interface GameOverEvent { type: 'game_over'; room: string; ranking: Rank[] }

/** A running game's state: a `join` reply's `game` (the late joiner's snapshot), and the `game` event after a resume. */
export interface GameSnapshot {
  round: number;
  of: number;
  phase: 'question' | 'reveal';
  question: Question;
  deadline: number;
  scores: Score[];
  players: string[];
  /** Only during a reveal. */
  correct?: number;
}
export interface GameEvent extends GameSnapshot { type: 'game'; room: string }

export interface SignInReply extends Ok { name: string; token: string }
export interface ReplayReport { count: number; from?: number; to?: number; recovered: boolean }
export interface ResumeReply extends SignInReply {
  rejoined?: true;
  rooms?: RoomInfo[];
  replay?: { [room: string]: ReplayReport };
}
export interface CreateReply extends Ok { room: RoomInfo }
export interface JoinReply extends Ok { room: RoomInfo; members: string[]; history: ChatEvent[]; game?: GameSnapshot }
export interface SayReply extends Ok { seq: number }
export interface WhisperReply extends Ok { to: string }
export interface LeaderboardEntry { name: string; points: number; games: number; wins: number }
export interface LeaderboardReply extends Ok {
  entries: LeaderboardEntry[];
  me?: { rank: number | null; points: number; games: number; wins: number };
}

export interface CreateOptions {
  name: string;
  max?: number;
  /** 'quiz' for a quiz room (4.10). */
  game?: 'quiz';
  rounds?: number;
  seconds?: number;
}

interface ChannelEvents {
  connecting: { attempt: number };
  close: CloseEvent;
  /** An `error` reply to no request of ours (re null: a frame the server could not read). */
  error: ParlorError;
  /** A sign-in succeeded: one the application asked for, or the automatic one after a reconnect. */
  signedin: { reply: any; automatic: boolean };
  /** The automatic sign-in after a reconnect was refused for good (an account's token expired, a ban). */
  sessionlost: { error: ParlorError };
}

export interface PlayerEvents extends ChannelEvents {
  signedin: { reply: SignInReply | ResumeReply; automatic: boolean };
  welcome: WelcomeEvent;
  /** Each room's chat once, in seq order, across reconnects. */
  chat: ChatEvent;
  joined: JoinedEvent;
  left: LeftEvent;
  presence: PresenceEvent;
  whisper: WhisperEvent;
  host: HostEvent;
  game: GameEvent;
  announce: AnnounceEvent;
  room_closed: RoomClosedEvent;
  chat_deleted: ChatDeletedEvent;
  shutdown: ShutdownEvent;
  muted: MutedEvent;
  unmuted: UnmutedEvent;
  banned: BannedEvent;
  game_started: GameStartedEvent;
  question: QuestionEvent;
  reveal: RevealEvent;
  game_over: GameOverEvent;
  /** After a reconnect, the client joined a room the server no longer had it in. */
  rejoined: { room: string; reply: JoinReply };
  /** ...and that room could not be joined again (gone, full). */
  roomlost: { room: string; error: ParlorError };
  /** Messages of `room` between seqs `after` and `before` could not all be fetched. */
  gap: { room: string; after: number; before?: number; error?: ParlorError };
}

declare class Channel<Events extends ChannelEvents> extends Emitter<Events> {
  readonly url: string;
  readonly protocol: string;
  readonly state: State;
  /** True in the states open and ready. */
  readonly connected: boolean;
  /** The current socket (null between connections). */
  readonly socket: WebSocketLike | null;
  /** Requests waiting for their turn in the send queue. */
  readonly queued: number;
  /** While reconnecting: when the next attempt starts (ms since the epoch). */
  readonly reconnectAt?: number;
  /** Sends a request through the send queue; resolves with `ok`, rejects with a ParlorError. */
  request<R extends Ok = Ok>(type: string, fields?: Record<string, unknown>, opts?: { timeout?: number }): Promise<R>;
  /** While waiting to reconnect: try now. */
  reconnectNow(): void;
  /**
   * After a close that did not reconnect by itself (a kick, a ban that is over): connect again
   * and take the session back as a reconnect does. Nothing without a session.
   */
  reopen(): void;
  /** Closes with a close frame (1000) and stops reconnecting. */
  close(code?: number, reason?: string): Promise<void>;
}

export class ParlorClient extends Channel<PlayerEvents> {
  constructor(opts: PlayerClientOptions);
  readonly limits: Limits;
  readonly server: string | null;
  readonly name: string | null;
  readonly token: string | null;
  readonly account: boolean;
  /** The rooms we are in, with the last seq passed on as a `chat` event. */
  readonly rooms: ReadonlyMap<string, { id: string; info: RoomInfo | null; lastSeq: number }>;

  /** Opens the connection; resolves with `welcome`. */
  connect(): Promise<WelcomeEvent>;
  hello(name: string): Promise<SignInReply>;
  register(name: string, password: string): Promise<SignInReply>;
  login(name: string, password: string): Promise<SignInReply>;
  resume(token: string, seen?: { [room: string]: number }, opts?: { account?: boolean }): Promise<ResumeReply>;
  /**
   * Takes back a stored session (a token kept across a page reload) the way a reconnect does:
   * `resume`, a guest's `hello` as `name` when its session ended, retries with backoff; then
   * `signedin` (automatic) or `sessionlost`. `account` defaults to what the token's shape says.
   */
  restore(session: { token: string; name?: string; account?: boolean }): void;

  listRooms(): Promise<RoomInfo[]>;
  create(opts: CreateOptions): Promise<CreateReply>;
  join(room: string): Promise<JoinReply>;
  leave(room: string): Promise<Ok>;
  say(room: string, text: string): Promise<SayReply>;
  whisper(to: string, text: string): Promise<WhisperReply>;
  history(room: string, opts?: { before?: number; limit?: number }): Promise<ChatEvent[]>;
  /** The server's clock, ms since the epoch. */
  ping(): Promise<number>;
  start(room: string): Promise<Ok>;
  answer(room: string, round: number, choice: number): Promise<Ok>;
  leaderboard(limit?: number): Promise<LeaderboardReply>;
}

// ---- the operators' console (ADMIN.md) -------------------------------------------------------------

export interface StatsEvent {
  type: 'stats'; t: number; connections: number; users: number; rooms: number; games: number;
  messages_in_per_s: number; messages_out_per_s: number; bytes_out_per_s: number;
  sendq_overflows: number; rate_limited: number; db_queue: number; db_p50_us: number;
  db_p99_us: number; rss_bytes: number; cpu_percent: number; peak_connections?: number;
  uptime_s?: number; draining?: boolean;
}
export interface LogEvent { type: 'log'; ts: number; level: 'info' | 'warn' | 'error'; text: string }
export interface AuthReply extends Ok { version: string; history: Omit<StatsEvent, 'type'>[]; log: Omit<LogEvent, 'type'>[] }
export interface AdminUser {
  name: string; address: string; since: number; rooms: string[]; messages: number;
  account: boolean; away: boolean;
}

export interface AdminEvents extends ChannelEvents {
  signedin: { reply: AuthReply; automatic: boolean };
  stats: StatsEvent;
  log: LogEvent;
  shutdown: ShutdownEvent;
}

export class AdminClient extends Channel<AdminEvents> {
  constructor(opts: ClientOptions);
  /** Opens the connection; resolves once open (the console gets no welcome). */
  connect(): Promise<null>;
  auth(token: string): Promise<AuthReply>;
  /** Connects and authenticates, retrying with backoff; later drops reconnect by themselves. */
  start(token: string): Promise<AuthReply>;
  rooms(): Promise<RoomInfo[]>;
  users(q?: string): Promise<AdminUser[]>;
  announce(text: string): Promise<Ok & { recipients: number }>;
  kick(name: string, reason?: string): Promise<Ok>;
  mute(name: string, minutes: number, reason?: string): Promise<Ok & { until: number }>;
  ban(opts: { kind: 'name' | 'address'; target: string; minutes?: number; reason?: string }): Promise<Ok & { until: number | null; target: string }>;
  unban(kind: 'name' | 'address' | 'mute', target: string): Promise<Ok & { lifted: boolean }>;
  closeRoom(room: string): Promise<Ok>;
  deleteMessage(room: string, seq: number): Promise<Ok & { deleted: boolean }>;
  roomChat(room: string, opts?: { before?: number; limit?: number; q?: string }): Promise<Ok & { room: string; messages: { seq: number; from: string; text: string; ts: number }[] }>;
  backup(): Promise<Ok & { backup: Record<string, unknown> }>;
  backupStatus(): Promise<Ok & { backup: Record<string, unknown> }>;
  drain(seconds?: number): Promise<Ok>;
}
