// parlor operator console: speaks protocol/ADMIN.md (version 1) over a WebSocket at /admin/ws.
// Every piece of text from the server goes into the page through textContent or text nodes,
// never through innerHTML. No inline styles (the CSP forbids them): dynamic values are CSS
// custom properties set through the CSSOM.

import { AdminClient } from '/lib/parlor-client/index.js';
import { $, el, pad2, clockText, wsUrl, isOffline, sendRequest, reconnectCountdown } from '/common/dom.js';

const TOKEN_KEY = 'parlor.admin.token';     // sessionStorage only: gone when the tab closes
const REFRESH_MS = 5000;                     // rooms and users tables
const COUNT_REFRESH_MIN_MS = 1000;           // a change in the pushed counts refreshes at most this often
const BACKUP_POLL_MS = 1000;
const WINDOW_S = 600;                        // charts: the last ten minutes
const LOG_MAX = 200;
const SEARCH_DEBOUNCE_MS = 250;
const STATS_STALE_MS = 5000;                 // no `stats` for this long: say so

// ---------------------------------------------------------------------------------------------
// state

const state = {
  client: null,           // the AdminClient, from Connect until Sign out or giving up
  token: null,
  authed: false,          // authenticated on the current socket
  everAuthed: false,      // authenticated at least once since Connect
  stopCountdown: null,    // stops the "retrying in n s" line
  refreshTimer: null,
  staleTimer: null,
  backupTimer: null,
  searchTimer: null,
  version: null,
  last: null,             // newest stats sample
  lastCounts: { users: null, rooms: null, connections: null },
  lastUsersRefresh: 0,
  lastRoomsRefresh: 0,
  usersInFlight: false,
  roomsInFlight: false,
  usersAgain: false,
  roomsAgain: false,
  series: { t: [], connections: [], inps: [], outps: [], dbq: [], sendq: [], rl: [] },
  charts: [],
  statsCount: 0,          // `stats` pushes received on this page
};

// ---------------------------------------------------------------------------------------------
// helpers

const str = (v) => (v === null || v === undefined ? '' : String(v));
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// ---------------------------------------------------------------------------------------------
// formatting

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

function fmtInt(v) { return num(v) === null ? '–' : intFmt.format(v); }
function fmtRate(v) { return num(v) === null ? '–' : (v >= 100 ? intFmt.format(v) : dec1.format(v)); }

function fmtBytes(v) {
  if (num(v) === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = v;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i += 1; }
  return `${i === 0 ? intFmt.format(x) : dec1.format(x)} ${units[i]}`;
}

function fmtMicros(v) {
  if (num(v) === null) return '–';
  if (v < 1000) return `${intFmt.format(v)} µs`;
  if (v < 1e6) return `${dec1.format(v / 1000)} ms`;
  return `${dec1.format(v / 1e6)} s`;
}

function fmtDuration(s) {
  if (num(s) === null) return '–';
  s = Math.max(0, Math.floor(s));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d) return `${d}d ${h}h ${m}m`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

function fmtClock(ms) {
  if (num(ms) === null) return '';
  const d = new Date(ms);
  return clockText(d, true);
}
/** An x-axis label (seconds since the epoch): HH:MM, with seconds when the ticks are closer than a minute. */
function fmtAxisTime(v, incr) {
  const d = new Date(v * 1000);
  return clockText(d, incr < 60);
}
function fmtDateTime(ms) {
  if (num(ms) === null) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${fmtClock(ms)}`;
}

/** An `until` of a ban or mute: null is for ever. */
function fmtUntil(until) {
  if (until === null) return 'for ever';
  if (num(until) !== null) return `until ${fmtDateTime(until)}`;
  return '';
}

// ---------------------------------------------------------------------------------------------
// status lines

function setConn(stateName, text, { showReconnect = false } = {}) {
  const box = $('conn-status');
  box.dataset.state = stateName;
  $('conn-text').textContent = text;
  $('reconnect-now').hidden = !showReconnect;
}

let statusSeq = 0;
/** The status line under the banners: every action's reply lands here. */
function showStatus(text, kind = 'info') {
  const line = $('action-status');
  line.textContent = text;
  line.dataset.kind = kind;
  statusSeq += 1;
  line.dataset.seq = String(statusSeq);
}

function errorText(err) {
  if (!err) return 'unknown error';
  if (err.code) {
    let s = err.code;
    if (err.message) s += ` — ${err.message}`;
    if (err.field) s += ` (field: ${err.field})`;
    return s;
  }
  return String(err.message || err);
}

function setSigninError(text) {
  $('signin-error').textContent = text || '';
}

// ---------------------------------------------------------------------------------------------
// connection: the client library's AdminClient (clients/js) keeps the socket, matches replies
// to requests, and reconnects and authenticates again after a drop

function request(type, fields = {}) {
  return sendRequest(state.client, state.authed, type, fields);
}

function connect() {
  stopClient();
  const client = new AdminClient({ url: wsUrl('/admin/ws') });
  state.client = client;
  client.on('connecting', () => {
    if (state.client === client) setConn('connecting', state.everAuthed ? 'Reconnecting…' : 'Connecting…');
  });
  client.on('signedin', ({ reply }) => { if (state.client === client) onAuthed(reply); });
  client.on('sessionlost', ({ error }) => {
    // ADMIN.md closes the socket on a wrong token; an error reply is handled the same way
    if (state.client === client) stopWithError(`The server refused the token: ${errorText(error)}`, true);
  });
  client.on('close', (ev) => { if (state.client === client) onClosed(client, ev); });
  client.on('stats', onStats);
  client.on('log', addLog);
  // not in ADMIN.md, but the server sends the players' `shutdown` to consoles too
  client.on('shutdown', () => setDraining(true));
  client.start(state.token).catch(() => { /* told through the close event */ });
}

function onClosed(client, ev) {
  state.authed = false;
  stopTimers();
  const reason = ev.reason || '';
  if (ev.code === 1008 && /^bad token/i.test(reason)) {
    stopWithError('Wrong admin token.', true);
    return;
  }
  if (ev.code === 1008 && /too many attempts/i.test(reason)) {
    stopWithError('Too many attempts from this address: wait a while (up to 5 minutes) and try again.', false);
    return;
  }
  if (!ev.reconnecting) {
    stopWithError(`The connection closed (${ev.code}${reason ? `: ${reason}` : ''}).`, false);
    return;
  }
  showRetry(client, ev);
  if (!ev.opened) {
    // The browser hides a refused handshake's status: ask the HTTP side whether the
    // admin interface is enabled at all (403 without --admin-token, 401 otherwise).
    probeDisabled().then((disabled) => {
      if (disabled && state.client === client && !state.authed) {
        stopWithError('The admin console is disabled on this server (403): start it with --admin-token or PARLOR_ADMIN_TOKEN.', false);
      }
    });
  }
}

async function probeDisabled() {
  try {
    const res = await fetch('/admin/backup', { cache: 'no-store', credentials: 'omit' });
    return res.status === 403;
  } catch {
    return false;
  }
}

/** Closes the connection, if any, without telling this page about it. */
function stopClient() {
  clearCountdown();
  const client = state.client;
  state.client = null;
  state.authed = false;
  if (client) client.close(1000);
}

/** Gives up on connecting (until the operator presses Connect again). */
function stopWithError(text, forgetToken) {
  stopClient();
  if (forgetToken) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
  }
  state.everAuthed = false;
  setConn('error', 'Not connected');
  showSignin();
  setSigninError(text);
  $('connect-button').disabled = false;
  $('token-input').focus();
}

/** The countdown to the library's next attempt. */
function showRetry(client, close) {
  clearCountdown();
  const why = close.code && close.code !== 1006 ? ` (closed ${close.code}${close.reason ? `: ${close.reason}` : ''})` : '';
  if (state.everAuthed) $('stale-banner').hidden = false;
  state.stopCountdown = reconnectCountdown(client, (left) => {
    if (state.client !== client) return;
    setConn('offline', `Offline${why}: retrying in ${left} s`, { showReconnect: true });
    if (!state.everAuthed) setSigninError(`Cannot reach the admin interface${why}: retrying in ${left} s.`);
  }, 1000);
}

function clearCountdown() {
  if (state.stopCountdown) state.stopCountdown();
  state.stopCountdown = null;
}

function stopTimers() {
  clearInterval(state.refreshTimer);
  clearTimeout(state.staleTimer);
  clearTimeout(state.backupTimer);
  state.refreshTimer = null;
  state.staleTimer = null;
  state.backupTimer = null;
}

function onAuthed(msg) {
  clearCountdown();
  state.authed = true;
  state.everAuthed = true;
  sessionStorage.setItem(TOKEN_KEY, state.token);
  state.version = str(msg.version) || null;
  setSigninError('');
  setConn('connected', 'Connected');
  $('stale-banner').hidden = true;
  showConsole();
  setDraining(false);

  seedHistory(Array.isArray(msg.history) ? msg.history : []);
  const hist = state.series.t.length ? lastHistorySample(msg.history) : null;
  if (hist) renderTiles(hist);
  renderMeta();

  clearLog();
  if (Array.isArray(msg.log)) for (const entry of msg.log) addLog(entry);

  refreshRooms();
  refreshUsers();
  refreshBackup({ quiet: true });
  state.refreshTimer = setInterval(() => { refreshRooms(); refreshUsers(); }, REFRESH_MS);
  armStale();
}

function lastHistorySample(history) {
  return Array.isArray(history) && history.length ? history[history.length - 1] : null;
}

function setDraining(on) {
  $('draining-banner').hidden = !on;
  document.body.classList.toggle('draining', on);
}

function armStale() {
  clearTimeout(state.staleTimer);
  state.staleTimer = setTimeout(() => {
    if (state.authed) setConn('stale', `Connected, but no figures for ${STATS_STALE_MS / 1000} s`);
  }, STATS_STALE_MS);
}

// ---------------------------------------------------------------------------------------------
// views

function showSignin() {
  $('signin-view').hidden = false;
  $('console-view').hidden = true;
  $('signout').hidden = true;
  $('server-meta').textContent = '';
}

function showConsole() {
  $('signin-view').hidden = true;
  $('console-view').hidden = false;
  $('signout').hidden = false;
  ensureCharts();
}

function renderMeta() {
  const parts = [];
  if (state.version) parts.push(`v${state.version}`);
  if (state.last && num(state.last.uptime_s) !== null) parts.push(`up ${fmtDuration(state.last.uptime_s)}`);
  $('server-meta').textContent = parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------
// tiles

const TILES = [
  { key: 'connections', label: 'Connections', value: (s) => fmtInt(s.connections), raw: (s) => s.connections,
    sub: (s) => (num(s.peak_connections) !== null ? `peak ${fmtInt(s.peak_connections)}` : '') },
  { key: 'users', label: 'Users', value: (s) => fmtInt(s.users), raw: (s) => s.users },
  { key: 'rooms', label: 'Rooms', value: (s) => fmtInt(s.rooms), raw: (s) => s.rooms },
  { key: 'games', label: 'Games', value: (s) => fmtInt(s.games), raw: (s) => s.games },
  { key: 'messages-in', label: 'Messages in /s', value: (s) => fmtRate(s.messages_in_per_s), raw: (s) => s.messages_in_per_s },
  { key: 'messages-out', label: 'Messages out /s', value: (s) => fmtRate(s.messages_out_per_s), raw: (s) => s.messages_out_per_s },
  { key: 'bytes-out', label: 'Bytes out /s', value: (s) => fmtBytes(s.bytes_out_per_s), raw: (s) => s.bytes_out_per_s },
  { key: 'sendq-overflows', label: 'Send-queue overflows', value: (s) => fmtInt(s.sendq_overflows), raw: (s) => s.sendq_overflows,
    sub: () => deltaText('sendq'), warn: () => seriesDelta('sendq') > 0 },
  { key: 'rate-limited', label: 'Rate-limit hits', value: (s) => fmtInt(s.rate_limited), raw: (s) => s.rate_limited,
    sub: () => deltaText('rl') },
  { key: 'db-queue', label: 'DB queue', value: (s) => fmtInt(s.db_queue), raw: (s) => s.db_queue },
  { key: 'db-latency', label: 'DB job p50 / p99', value: (s) => `${fmtMicros(s.db_p50_us)} / ${fmtMicros(s.db_p99_us)}`,
    raw: (s) => s.db_p99_us, wide: true },
  { key: 'rss', label: 'Memory (RSS)', value: (s) => fmtBytes(s.rss_bytes), raw: (s) => s.rss_bytes },
  { key: 'cpu', label: 'CPU', value: (s) => (num(s.cpu_percent) === null ? '–' : `${dec1.format(s.cpu_percent)} %`), raw: (s) => s.cpu_percent,
    meter: (s) => s.cpu_percent },
  { key: 'uptime', label: 'Uptime', value: (s) => fmtDuration(s.uptime_s), raw: (s) => s.uptime_s },
  { key: 'version', label: 'Version', value: () => state.version || '–', raw: () => state.version },
];

const tileNodes = new Map();

function buildTiles() {
  const box = $('tiles');
  for (const def of TILES) {
    const value = el('div', { class: 'tile-value', 'data-testid': `tile-${def.key}-value` }, '–');
    const sub = el('div', { class: 'tile-sub muted' });
    const tile = el('div', { class: def.wide ? 'tile tile--wide' : 'tile', 'data-testid': `tile-${def.key}`, dataset: { key: def.key } },
      el('div', { class: 'tile-label' }, def.label), value, sub);
    box.append(tile);
    tileNodes.set(def.key, { tile, value, sub });
  }
}

function renderTiles(s) {
  for (const def of TILES) {
    const n = tileNodes.get(def.key);
    n.value.textContent = def.value(s);
    const raw = def.raw(s);
    if (raw === undefined || raw === null) delete n.tile.dataset.value;
    else n.tile.dataset.value = String(raw);
    n.sub.textContent = def.sub ? def.sub(s) : '';
    n.tile.classList.toggle('tile--warn', !!(def.warn && def.warn(s)));
    if (def.meter) {
      const m = num(def.meter(s));
      n.tile.classList.toggle('tile--meter', m !== null);
      if (m !== null) n.tile.style.setProperty('--meter', `${Math.max(0, Math.min(100, m))}%`);
    }
  }
}

/** Growth of a counter series over the last minute of samples (0 when unknown). */
function seriesDelta(key) {
  const ts = state.series.t;
  const vs = state.series[key];
  if (ts.length < 2) return 0;
  const now = ts[ts.length - 1];
  let i = ts.length - 1;
  while (i > 0 && ts[i - 1] >= now - 60) i -= 1;
  const a = vs[i];
  const b = vs[vs.length - 1];
  return num(a) !== null && num(b) !== null ? Math.max(0, b - a) : 0;
}

function deltaText(key) {
  if (state.series.t.length < 2) return 'total';
  return `total · +${fmtInt(seriesDelta(key))} in the last minute`;
}

// ---------------------------------------------------------------------------------------------
// stats and charts

function pushSample(s) {
  const t = num(s.t);
  if (t === null) return;
  const x = t / 1000;
  const S = state.series;
  if (S.t.length && x <= S.t[S.t.length - 1]) return; // duplicate or out of order
  S.t.push(x);
  S.connections.push(num(s.connections));
  S.inps.push(num(s.messages_in_per_s));
  S.outps.push(num(s.messages_out_per_s));
  S.dbq.push(num(s.db_queue));
  S.sendq.push(num(s.sendq_overflows));
  S.rl.push(num(s.rate_limited));
  let cut = 0;
  while (cut < S.t.length && S.t[cut] < x - WINDOW_S) cut += 1;
  if (cut) for (const k of Object.keys(S)) S[k].splice(0, cut);
}

function seedHistory(history) {
  for (const k of Object.keys(state.series)) state.series[k] = [];
  for (const s of history) if (s && typeof s === 'object') pushSample(s);
  redrawCharts();
}

function onStats(s) {
  state.last = s;
  state.statsCount += 1;
  $('console-view').dataset.statsCount = String(state.statsCount); // for tests: pushes seen
  pushSample(s);
  renderTiles(s);
  renderNodes(s.nodes);
  renderMeta();
  if (typeof s.draining === 'boolean') setDraining(s.draining);
  if ($('conn-status').dataset.state !== 'connected') setConn('connected', 'Connected');
  armStale();
  redrawCharts();

  // a change in who is online refreshes the tables now rather than at the next tick
  const now = Date.now();
  const c = state.lastCounts;
  if (c.users !== s.users || c.connections !== s.connections) {
    if (now - state.lastUsersRefresh >= COUNT_REFRESH_MIN_MS) refreshUsers();
  }
  if (c.rooms !== s.rooms || c.games !== s.games) {
    if (now - state.lastRoomsRefresh >= COUNT_REFRESH_MIN_MS) refreshRooms();
  }
  state.lastCounts = { users: s.users, rooms: s.rooms, connections: s.connections, games: s.games };
}

// A cluster's nodes (ADMIN.md "nodes"): shown only when there is more than one.
function renderNodes(nodes) {
  const list = Array.isArray(nodes) ? nodes.filter((n) => n && typeof n === 'object') : [];
  $('nodes-panel').hidden = list.length < 2;
  if (list.length < 2) return;
  $('nodes-count').textContent = String(list.length);
  const body = $('nodes-body');
  body.replaceChildren();
  for (const n of list) {
    const silent = n.silent === true;
    const link = n.link_up === true ? 'up' : 'down';
    body.append(el('tr', { 'data-testid': 'node-row', dataset: { node: str(n.node), silent: String(silent) } },
      el('td', { class: 'mono' }, str(n.node)),
      el('td', { class: 'num' }, fmtInt(n.connections)),
      el('td', { class: 'num' }, fmtInt(n.users)),
      el('td', { class: 'num' }, fmtInt(n.rooms)),
      el('td', { class: 'num' }, num(n.loop_lag_ms) === null ? '–' : `${fmtInt(n.loop_lag_ms)} ms`),
      el('td', { class: 'num' }, fmtInt(n.db_queue)),
      el('td', {}, el('span', { class: link === 'up' ? 'badge' : 'badge badge--away' }, link)),
      el('td', { class: silent ? 'strong' : 'muted' },
        silent ? `silent ${fmtDuration(Math.round(num(n.age_ms) / 1000))}` : 'now')));
  }
}

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const CHART_DEFS = [
  { id: 'chart-connections', integer: true, series: [{ label: 'connections', key: 'connections', color: '--accent' }] },
  { id: 'chart-messages', series: [
    { label: 'in /s', key: 'inps', color: '--accent' },
    { label: 'out /s', key: 'outps', color: '--ok' },
  ] },
  { id: 'chart-dbqueue', integer: true, series: [{ label: 'queued jobs', key: 'dbq', color: '--warn' }] },
];

// y-axis steps of the charts that count things (no 2.5 connections)
const INT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1e6];

function ensureCharts() {
  if (state.charts.length) return;
  const uPlot = window.uPlot;
  if (typeof uPlot !== 'function') {
    $('charts-missing').hidden = false;
    return;
  }
  const axisColor = cssVar('--muted', '#6b7385');
  const gridColor = cssVar('--line', '#e2e5ec');
  for (const def of CHART_DEFS) {
    const host = $(def.id);
    const width = Math.max(200, host.clientWidth || 300);
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } };
    const opts = {
      width,
      height: 160,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true, live: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { ...axis, values: (u, splits, ax, space, incr) => splits.map((v) => fmtAxisTime(v, incr)) },
        def.integer ? { ...axis, size: 48, incrs: INT_INCRS } : { ...axis, size: 48 },
      ],
      series: [
        { value: (u, v, si, idx) => legendValue(u, v, si, idx, (x) => fmtClock(x * 1000)) },
        ...def.series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.color, '#4f5bd5'),
          width: 1.5,
          points: { show: false },
          value: (u, v, si, idx) => legendValue(u, v, si, idx, fmtRate),
        })),
      ],
    };
    const chart = new uPlot(opts, chartData(def), host);
    state.charts.push({ def, chart, host });
  }
  const ro = new ResizeObserver(() => {
    for (const c of state.charts) {
      const w = Math.max(200, c.host.clientWidth);
      if (w !== c.chart.width) c.chart.setSize({ width: w, height: 160 });
    }
  });
  for (const c of state.charts) ro.observe(c.host);
}

/**
 * A legend value: the sample under the cursor, or the newest sample when the cursor is off the
 * chart (uPlot passes no value then, and a legend of dashes tells the operator nothing).
 */
function legendValue(u, v, si, idx, fmt) {
  if ((v === null || v === undefined) && (idx === null || idx === undefined)) {
    const data = u.data[si] || [];
    for (let i = data.length - 1; i >= 0; i--) {
      if (data[i] !== null && data[i] !== undefined) { v = data[i]; break; }
    }
  }
  return v === null || v === undefined ? '–' : fmt(v);
}

function chartData(def) {
  return [state.series.t, ...def.series.map((s) => state.series[s.key])];
}

function redrawCharts() {
  if ($('console-view').hidden) return;
  for (const c of state.charts) c.chart.setData(chartData(c.def));
}

// ---------------------------------------------------------------------------------------------
// rooms

async function refreshRooms({ announce = false } = {}) {
  if (!state.authed) return;
  if (state.roomsInFlight) { state.roomsAgain = true; return; }
  state.roomsInFlight = true;
  state.lastRoomsRefresh = Date.now();
  try {
    const reply = await request('rooms');
    renderRooms(Array.isArray(reply.rooms) ? reply.rooms : []);
    if (announce) showStatus(`Rooms refreshed: ${reply.rooms ? reply.rooms.length : 0}.`, 'ok');
  } catch (err) {
    if (announce || !isOffline(err)) showStatus(`Listing rooms failed: ${errorText(err)}`, 'error');
  } finally {
    state.roomsInFlight = false;
    if (state.roomsAgain) { state.roomsAgain = false; refreshRooms(); }
  }
}

function renderRooms(rooms) {
  const body = $('rooms-body');
  body.replaceChildren();
  $('rooms-count').textContent = String(rooms.length);
  $('rooms-empty').hidden = rooms.length > 0;
  for (const r of rooms) {
    if (!r || typeof r !== 'object') continue;
    const id = str(r.id);
    const name = str(r.name);
    const closeBtn = el('button', {
      type: 'button', class: 'small danger-ghost', 'data-testid': 'room-close',
      disabled: id === 'lobby', title: id === 'lobby' ? 'The lobby cannot be closed' : `Close ${name || id}`,
      onclick: () => confirmCloseRoom(id, name),
    }, 'Close');
    const members = num(r.max) !== null ? `${fmtInt(r.members)} / ${fmtInt(r.max)}` : fmtInt(r.members);
    body.append(el('tr', { 'data-testid': 'room-row', dataset: { roomId: id } },
      el('td', {}, el('div', { class: 'strong', 'data-testid': 'room-name' }, name || id),
        el('div', { class: 'muted small mono' }, id)),
      el('td', {}, typeof r.game === 'string' && r.game
        ? el('span', { class: `badge badge--${r.game === 'quiz' ? 'quiz' : 'chat'}` }, r.game)
        : el('span', { class: 'muted' }, 'chat')),
      el('td', { class: 'num', 'data-testid': 'room-members' }, members),
      el('td', {}, str(r.state)),
      el('td', {}, str(r.host)),
      el('td', { class: 'actions-col' }, el('button', {
        type: 'button', class: 'small', 'data-testid': 'room-chat-open', title: `Show the chat of ${name || id}`,
        onclick: () => { $('room-chat-room').value = id; $('room-chat-q').value = ''; loadRoomChat(); },
      }, 'Chat'), ' ', closeBtn)));
  }
}

async function confirmCloseRoom(id, name) {
  const ok = await ask({
    title: 'Close room',
    text: `Close “${name || id}” (${id})? Its members are taken out of it and told the room was closed.`,
    confirm: 'Close room',
    danger: true,
  });
  if (!ok) return;
  await act(`Close room ${id}`, 'close_room', { room: id });
  refreshRooms();
}

// ---------------------------------------------------------------------------------------------
// users

function usersQuery() {
  const q = $('users-search').value.trim();
  return q ? { q } : {};
}

async function refreshUsers({ announce = false } = {}) {
  if (!state.authed) return;
  if (state.usersInFlight) { state.usersAgain = true; return; }
  state.usersInFlight = true;
  state.lastUsersRefresh = Date.now();
  const query = usersQuery();
  try {
    const reply = await request('users', query);
    // a search typed meanwhile asks again below; do not show a stale answer over it
    if ((usersQuery().q || '') === (query.q || '')) renderUsers(Array.isArray(reply.users) ? reply.users : [], query.q);
    if (announce) showStatus(`Users refreshed: ${reply.users ? reply.users.length : 0}.`, 'ok');
  } catch (err) {
    if (announce || !isOffline(err)) showStatus(`Listing users failed: ${errorText(err)}`, 'error');
  } finally {
    state.usersInFlight = false;
    if (state.usersAgain) { state.usersAgain = false; refreshUsers(); }
  }
}

function renderUsers(users, q) {
  const body = $('users-body');
  body.replaceChildren();
  $('users-count').textContent = q ? `${users.length} matching` : String(users.length);
  const empty = $('users-empty');
  empty.hidden = users.length > 0;
  empty.textContent = q ? 'Nobody online matches.' : 'Nobody online.';
  const now = Date.now();
  for (const u of users) {
    if (!u || typeof u !== 'object') continue;
    const name = str(u.name);
    const address = str(u.address);
    const rooms = Array.isArray(u.rooms) ? u.rooms.map(str) : [];
    const since = num(u.since);
    const nameCell = el('td', { class: 'name-cell' },
      el('span', { class: 'strong', 'data-testid': 'user-name' }, name),
      u.account === true ? el('span', { class: 'badge badge--account', title: 'registered account' }, 'account') : null,
      u.account === false ? el('span', { class: 'badge', title: 'guest' }, 'guest') : null,
      u.away === true ? el('span', { class: 'badge badge--away', title: 'dropped, kept for rejoin' }, 'away') : null);
    const btn = (label, testid, handler, cls = 'small') =>
      el('button', { type: 'button', class: cls, 'data-testid': testid, onclick: handler }, label);
    body.append(el('tr', { 'data-testid': 'user-row', dataset: { name, address } },
      nameCell,
      el('td', { class: 'mono small', 'data-testid': 'user-address' }, address),
      el('td', { title: since !== null ? fmtDateTime(since) : '' }, since !== null ? fmtDuration((now - since) / 1000) : ''),
      el('td', { class: 'small rooms-cell', title: rooms.join(', ') }, rooms.join(', ')),
      el('td', { class: 'num' }, fmtInt(u.messages)),
      el('td', { class: 'actions-col' }, el('div', { class: 'btns' },
        btn('Kick', 'user-kick', () => kickUser(name)),
        btn('Mute', 'user-mute', () => muteUser(name)),
        btn('Ban name', 'user-ban-name', () => banUser('name', name, name), 'small danger-ghost'),
        btn('Ban address', 'user-ban-address', () => banUser('address', address, name), 'small danger-ghost')))));
  }
}

async function kickUser(name) {
  const v = await ask({
    title: 'Kick',
    text: `Disconnect ${name}? They can sign in again.`,
    fields: [{ name: 'reason', label: 'Reason (optional, shown to them)', maxlength: 100 }],
    confirm: 'Kick',
    danger: true,
  });
  if (!v) return;
  const fields = { name };
  if (v.reason) fields.reason = v.reason;
  await act(`Kick ${name}`, 'kick', fields);
  refreshUsers();
}

async function muteUser(name) {
  const v = await ask({
    title: 'Mute',
    text: `${name} will be able to read but not say or whisper.`,
    fields: [
      { name: 'minutes', label: 'Minutes', type: 'number', min: 1, max: 525600, value: '60', required: true },
      { name: 'reason', label: 'Reason (optional, shown to the player)', maxlength: 100 },
    ],
    confirm: 'Mute',
  });
  if (!v) return;
  const fields = { name, minutes: Number(v.minutes) };
  if (v.reason) fields.reason = v.reason;
  await act(`Mute ${name}`, 'mute', fields,
    (r) => (r.until !== undefined ? fmtUntil(r.until) : ''));
}

async function banUser(kind, target, name) {
  const what = kind === 'name' ? `the name “${target}”` : `the address ${target} (used by ${name})`;
  const v = await ask({
    title: kind === 'name' ? 'Ban name' : 'Ban address',
    text: `Ban ${what}? Online matches are disconnected.`,
    fields: [
      { name: 'minutes', label: 'Minutes (empty: for ever)', type: 'number', min: 1, max: 525600 },
      { name: 'reason', label: 'Reason (optional)', maxlength: 100 },
    ],
    confirm: 'Ban',
    danger: true,
  });
  if (!v) return;
  const fields = { kind, target };
  if (v.minutes) fields.minutes = Number(v.minutes);
  if (v.reason) fields.reason = v.reason;
  await act(`Ban ${kind} ${target}`, 'ban', fields, (r) => (r.until !== undefined ? fmtUntil(r.until) : ''));
  refreshUsers();
}

// ---------------------------------------------------------------------------------------------
// actions

/** Sends one operator action and reports its reply in the status line. Resolves to the reply or null. */
async function act(label, type, fields, detail) {
  showStatus(`${label}…`, 'pending');
  try {
    const reply = await request(type, fields);
    const extra = detail ? detail(reply) : '';
    showStatus(`${label}: ok${extra ? ` — ${extra}` : ''}`, 'ok');
    return reply;
  } catch (err) {
    showStatus(`${label} failed: ${errorText(err)}`, 'error');
    return null;
  }
}

function bindForms() {
  const text = $('announce-text');
  const counter = $('announce-counter');
  text.addEventListener('input', () => { counter.textContent = `${[...text.value].length} / 1000`; });
  $('announce-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = text.value.trim();
    if (!value) { showStatus('Announce: write something first.', 'error'); text.focus(); return; }
    const r = await act('Announce', 'announce', { text: value },
      (reply) => (num(reply.recipients) !== null ? `${fmtInt(reply.recipients)} recipients` : ''));
    if (r) { text.value = ''; counter.textContent = '0 / 1000'; }
  });

  $('unban-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const kind = $('unban-kind').value;
    const target = $('unban-target').value.trim();
    if (!target) { showStatus('Unban: enter a name or an address.', 'error'); $('unban-target').focus(); return; }
    const r = await act(kind === 'mute' ? `Unmute ${target}` : `Unban ${kind} ${target}`, 'unban', { kind, target });
    if (r) $('unban-target').value = '';
  });

  $('delete-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const room = $('delete-room').value.trim();
    const seq = Number($('delete-seq').value);
    if (!room) { showStatus('Delete message: enter the room id.', 'error'); $('delete-room').focus(); return; }
    if (!Number.isInteger(seq) || seq < 1) { showStatus('Delete message: enter the message’s seq (a positive integer).', 'error'); $('delete-seq').focus(); return; }
    const ok = await ask({ title: 'Delete message', text: `Delete message ${seq} of room ${room} from history and the database?`, confirm: 'Delete', danger: true });
    if (!ok) return;
    const r = await act(`Delete message ${room}#${seq}`, 'delete_message', { room, seq });
    if (r) $('delete-seq').value = '';
  });

  $('drain-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const raw = $('drain-seconds').value.trim();
    const fields = {};
    if (raw !== '') {
      const s = Number(raw);
      if (!Number.isInteger(s) || s < 0 || s > 3600) { showStatus('Drain: seconds must be an integer from 0 to 3600.', 'error'); return; }
      fields.seconds = s;
    }
    const when = fields.seconds === undefined ? 'after the server’s default drain time' : `within ${fields.seconds} s`;
    const ok = await ask({
      title: 'Drain and shut down',
      text: `Players are told the server is shutting down, running games finish, and the server exits ${when}. This cannot be undone from here.`,
      confirm: 'Drain the server',
      danger: true,
    });
    if (!ok) return;
    // with no game running the server exits at once, before a `stats` could say so
    if (await act('Drain', 'drain', fields)) setDraining(true);
  });

  $('backup-button').addEventListener('click', async () => {
    const r = await act('Backup', 'backup', {}, (reply) => backupSummary(reply.backup));
    if (r) renderBackup(r.backup);
  });
  $('backup-refresh').addEventListener('click', () => refreshBackup({ quiet: false }));

  $('rooms-refresh').addEventListener('click', () => refreshRooms({ announce: true }));
  $('users-refresh').addEventListener('click', () => refreshUsers({ announce: true }));
  $('users-search').addEventListener('input', () => {
    clearTimeout(state.searchTimer);
    state.searchTimer = setTimeout(() => refreshUsers(), SEARCH_DEBOUNCE_MS);
  });
  $('log-clear').addEventListener('click', clearLog);
}

// ---------------------------------------------------------------------------------------------
// backup

function backupSummary(b) {
  if (!b || typeof b !== 'object') return '';
  const st = str(b.state);
  if (b.enabled === false) return 'backups are disabled (no --backup-dir)';
  if (st === 'running') {
    const pct = num(b.pages_total) ? Math.floor((100 * (b.pages_done || 0)) / b.pages_total) : 0;
    return `running, ${pct} %`;
  }
  if (st === 'done') return `done: ${str(b.file)}`;
  if (st === 'failed') return `failed: ${str(b.error)}`;
  return st;
}

function renderBackup(b) {
  const line = $('backup-status');
  const bar = $('backup-progress');
  clearTimeout(state.backupTimer);
  state.backupTimer = null;
  if (!b || typeof b !== 'object') {
    line.textContent = '';
    line.dataset.state = 'unknown';
    bar.hidden = true;
    return;
  }
  const st = str(b.state) || 'unknown';
  line.dataset.state = st;
  const parts = [];
  if (b.enabled === false) parts.push('Backups are disabled on this server (start it with --backup-dir).');
  else if (st === 'idle') parts.push('No backup since the server started.');
  else if (st === 'running') parts.push(`Running: ${fmtInt(b.pages_done)} of ${fmtInt(b.pages_total)} pages.`);
  else if (st === 'done') parts.push(`Done ${num(b.finished) !== null ? fmtDateTime(b.finished) : ''}.`);
  else if (st === 'failed') parts.push(`Failed: ${str(b.error) || 'unknown error'}.`);
  else parts.push(st);
  if (b.file && st !== 'idle') parts.push(str(b.file));
  line.textContent = parts.join(' ');
  $('backup-button').disabled = st === 'running' || b.enabled === false;
  if (st === 'running') {
    const pct = num(b.pages_total) ? Math.min(100, (100 * (b.pages_done || 0)) / b.pages_total) : 0;
    bar.hidden = false;
    bar.style.setProperty('--progress', `${pct}%`);
    state.backupTimer = setTimeout(() => refreshBackup({ quiet: true, polling: true }), BACKUP_POLL_MS);
  } else {
    bar.hidden = true;
    if (st === 'done' || st === 'failed') {
      // the end of a backup this page started or watched
      if (line.dataset.was === 'running') showStatus(`Backup ${st === 'done' ? 'finished' : 'failed'}: ${backupSummary(b)}`, st === 'done' ? 'ok' : 'error');
    }
  }
  line.dataset.was = st;
}

async function refreshBackup({ quiet }) {
  if (!state.authed) return;
  try {
    const reply = await request('backup_status');
    renderBackup(reply.backup);
    if (!quiet) showStatus(`Backup status: ${backupSummary(reply.backup)}`, 'ok');
  } catch (err) {
    if (!quiet) showStatus(`Backup status failed: ${errorText(err)}`, 'error');
    else if (!isOffline(err)) $('backup-status').textContent = `Status unavailable: ${errorText(err)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// log

function clearLog() {
  $('log-list').replaceChildren();
}

function addLog(entry) {
  if (!entry || typeof entry !== 'object') return;
  const level = ['info', 'warn', 'error'].includes(entry.level) ? entry.level : 'info';
  const list = $('log-list');
  const li = el('li', { class: `log-line log--${level}`, 'data-testid': 'log-line', dataset: { level } },
    el('time', { class: 'mono', datetime: num(entry.ts) !== null ? new Date(entry.ts).toISOString() : null,
      title: fmtDateTime(entry.ts) }, fmtClock(entry.ts)),
    el('span', { class: 'log-level' }, level),
    el('span', { class: 'log-text', 'data-testid': 'log-text' }, str(entry.text)));
  list.prepend(li);
  while (list.childElementCount > LOG_MAX) list.lastElementChild.remove();
}

// ---------------------------------------------------------------------------------------------
// dialog: a small modal in the page instead of window.confirm / prompt

let dialogResolve = null;

/**
 * Opens the dialog. `fields`: [{name, label, type?, min?, max?, maxlength?, value?, required?}].
 * Resolves to the field values (an object, {} without fields) or null when cancelled.
 */
function ask({ title, text, fields = [], confirm = 'OK', danger = false }) {
  const dlg = $('dialog');
  if (dialogResolve) { dialogResolve(null); dialogResolve = null; }
  $('dialog-title').textContent = title;
  $('dialog-text').textContent = text || '';
  $('dialog-error').textContent = '';
  const box = $('dialog-fields');
  box.replaceChildren();
  const inputs = [];
  for (const f of fields) {
    const id = `dialog-field-${f.name}`;
    const input = el('input', {
      id, name: f.name, type: f.type || 'text', 'data-testid': `dialog-input-${f.name}`,
      min: f.min, max: f.max, maxlength: f.maxlength, step: f.type === 'number' ? 1 : null,
      inputmode: f.type === 'number' ? 'numeric' : null, autocomplete: 'off', spellcheck: 'false',
    });
    if (f.value !== undefined) input.value = f.value;
    box.append(el('label', { for: id }, f.label), input);
    inputs.push({ f, input });
  }
  const ok = $('dialog-confirm');
  ok.textContent = confirm;
  ok.className = danger ? 'danger' : 'primary';
  dlg.returnValue = '';
  if (!dlg.open) dlg.showModal();
  (inputs.length ? inputs[0].input : ok).focus();
  return new Promise((resolve) => {
    dialogResolve = (v) => { resolve(v); };
    dlg.validate = () => {
      const values = {};
      for (const { f, input } of inputs) {
        const v = input.value.trim();
        if (f.required && !v) return { error: `${f.label}: required.` };
        if (v && f.type === 'number') {
          const n = Number(v);
          if (!Number.isInteger(n) || (f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) {
            return { error: `${f.label}: a whole number from ${f.min} to ${f.max}.` };
          }
        }
        values[f.name] = v;
      }
      return { values };
    };
  });
}

function bindDialog() {
  const dlg = $('dialog');
  const finish = (value) => {
    const r = dialogResolve;
    dialogResolve = null;
    if (dlg.open) dlg.close();
    if (r) r(value);
  };
  $('dialog-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const check = dlg.validate ? dlg.validate() : { values: {} };
    if (check.error) { $('dialog-error').textContent = check.error; return; }
    finish(check.values);
  });
  $('dialog-cancel').addEventListener('click', () => finish(null));
  dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(null); });
  dlg.addEventListener('close', () => { if (dialogResolve) finish(null); });
}

// ---------------------------------------------------------------------------------------------
// start

// ---------------------------------------------------------------------------------------------
// room chat (ADMIN.md `room_chat`): find a message by its text or sender, delete it

const roomChat = { room: null, q: '', messages: [] };

async function loadRoomChat({ older = false } = {}) {
  const room = $('room-chat-room').value.trim();
  const q = $('room-chat-q').value.trim();
  if (!room) { showStatus('Room chat: enter the room id.', 'error'); $('room-chat-room').focus(); return; }
  const fields = { room, limit: 50 };
  if (q) fields.q = q;
  if (older && roomChat.messages.length) fields.before = roomChat.messages[0].seq;
  let reply;
  try {
    reply = await request('room_chat', fields);
  } catch (err) {
    showStatus(`Room chat failed: ${errorText(err)}`, 'error');
    return;
  }
  const got = Array.isArray(reply.messages) ? reply.messages.filter((m) => m && Number.isInteger(m.seq)) : [];
  roomChat.room = room;
  roomChat.q = q;
  roomChat.messages = older ? [...got, ...roomChat.messages] : got;
  $('room-chat-older').hidden = got.length < 50;
  renderRoomChat();
}

function renderRoomChat() {
  const list = $('room-chat-list');
  const rows = roomChat.messages.map((m) => el('li', { class: 'room-chat-msg', 'data-testid': 'room-chat-message', dataset: { seq: String(m.seq) } },
    el('span', { class: 'muted small mono' }, `#${m.seq}`),
    el('time', { class: 'muted small', title: fmtDateTime(m.ts) }, fmtClock(m.ts)),
    el('strong', {}, str(m.from)),
    el('span', { class: 'room-chat-text' }, str(m.text)),
    el('button', { type: 'button', class: 'small danger-ghost', 'data-testid': 'room-chat-delete', onclick: () => deleteFromRoomChat(m) }, 'Delete')));
  if (!rows.length) rows.push(el('li', { class: 'muted small' }, roomChat.q ? 'No message matches.' : 'No messages kept for this room.'));
  list.replaceChildren(...rows);
}

async function deleteFromRoomChat(m) {
  const room = roomChat.room;
  const ok = await ask({ title: 'Delete message', text: `Delete “${str(m.text).slice(0, 120)}” by ${str(m.from)} (${room}#${m.seq})? It leaves every player's page, history and the database.`, confirm: 'Delete', danger: true });
  if (!ok) return;
  const r = await act(`Delete message ${room}#${m.seq}`, 'delete_message', { room, seq: m.seq });
  if (r) {
    roomChat.messages = roomChat.messages.filter((x) => x.seq !== m.seq);
    renderRoomChat();
  }
}

function bindRoomChat() {
  $('room-chat-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadRoomChat(); });
  $('room-chat-older').addEventListener('click', () => loadRoomChat({ older: true }));
}

function start() {
  buildTiles();
  bindForms();
  bindRoomChat();
  bindDialog();
  $('signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('token-input').value;
    if (!token) { setSigninError('Enter the admin token.'); $('token-input').focus(); return; }
    state.token = token;
    state.everAuthed = false;
    setSigninError('');
    connect();
  });
  $('reconnect-now').addEventListener('click', () => {
    if (state.client) state.client.reconnectNow();
  });
  $('signout').addEventListener('click', () => {
    stopClient();
    stopTimers();
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    state.everAuthed = false;
    setConn('offline', 'Not connected');
    $('token-input').value = '';
    showSignin();
    setSigninError('');
  });

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    state.token = saved;
    connect();
  } else {
    $('token-input').focus();
  }
  document.body.dataset.ready = 'true';
}

start();
