// A peer for parlor's benchmarks: the subset of parlor.v1 that the chat and broadcast
// scenarios use (welcome, hello, create, join, say -> chat, ok/error), on node with the `ws`
// package, written the way a node developer would: one process, each event serialized once
// (to a Buffer) and sent to every member. Same JSON shapes as parlor (protocol/PROTOCOL.md).
//
// What it leaves out, on purpose: persistence (parlor saves every chat line before its `ok`),
// rate limits, send-queue limits, accounts, and the `joined`/`left` events (not in the subset;
// they only cost time while a benchmark fills a room, which is not measured).
//
//     node bench/peers/ws_server.mjs --port 8082

import { WebSocketServer } from 'ws';

const SUBPROTOCOL = 'parlor.v1';
const NAME_RE = /^[A-Za-z0-9_-]{1,24}$/;
const TEXT_MAX = 1000;
const HISTORY = 50;
const ROOM_MAX_LIMIT = 500;
const LIMITS = {
  max_message: 8192, name_max: 24, text_max: TEXT_MAX, room_name_max: 48,
  room_max_default: 50, room_max_limit: ROOM_MAX_LIMIT, lobby_max: 20000,
  rooms_per_session: 16, max_rooms: 1000000, history: HISTORY,
};

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 8082;

const rooms = new Map([['lobby', newRoom('lobby', 'Lobby', 20000)]]);
const names = new Map(); // folded name -> client
let nextRoom = 0;
const WELCOME = Buffer.from(JSON.stringify({
  type: 'welcome', server: 'ws-peer/1', protocol: 1, limits: LIMITS,
}));

function newRoom(id, name, max) {
  return { id, name, max, members: [], seq: 0, history: [] };
}

function roomObj(r) {
  return { id: r.id, name: r.name, game: null, members: r.members.length, max: r.max };
}

function send(client, data) {
  if (client.ws.readyState === 1) client.ws.send(data, { binary: false });
}

function reply(client, obj) {
  send(client, JSON.stringify(obj));
}

function error(client, re, code, message) {
  reply(client, { type: 'error', re, code, message });
}

function hello(c, re, req) {
  const { name } = req;
  if (c.name !== null) return error(c, re, 'not_allowed', 'already signed in');
  if (typeof name !== 'string' || !NAME_RE.test(name)) return error(c, re, 'bad_request', 'bad name');
  if (names.has(name.toLowerCase())) return error(c, re, 'name_taken', 'the name is in use');
  c.name = name;
  names.set(name.toLowerCase(), c);
  return reply(c, { type: 'ok', re, name });
}

function create(c, re, req) {
  const { name } = req;
  const max = req.max === undefined ? 50 : req.max;
  if (typeof name !== 'string' || name.length < 1 || name.length > 48) return error(c, re, 'bad_request', 'bad name');
  if (!Number.isInteger(max) || max < 2 || max > ROOM_MAX_LIMIT) return error(c, re, 'bad_request', 'bad max');
  nextRoom += 1;
  const r = newRoom(`r${nextRoom}`, name, max);
  rooms.set(r.id, r);
  r.members.push(c);
  c.rooms.push(r);
  return reply(c, { type: 'ok', re, room: roomObj(r) });
}

function join(c, re, req) {
  const r = rooms.get(req.room);
  if (!r) return error(c, re, 'no_such_room', 'no such room');
  if (!c.rooms.includes(r)) {
    if (r.members.length >= r.max) return error(c, re, 'room_full', 'room is full');
    r.members.push(c);
    c.rooms.push(r);
  }
  return reply(c, { type: 'ok', re, room: roomObj(r), members: r.members.map((m) => m.name), history: r.history });
}

function say(c, re, req) {
  const r = rooms.get(req.room);
  const { text } = req;
  if (typeof text !== 'string' || text.length < 1 || [...text].length > TEXT_MAX || !text.trim()) {
    return error(c, re, 'bad_request', 'bad text');
  }
  if (!r) return error(c, re, 'no_such_room', 'no such room');
  if (!c.rooms.includes(r)) return error(c, re, 'not_in_room', 'you are not in that room');
  r.seq += 1;
  const ev = { type: 'chat', room: r.id, from: c.name, text, ts: Date.now(), seq: r.seq };
  r.history.push(ev);
  if (r.history.length > HISTORY) r.history.shift();
  const data = Buffer.from(JSON.stringify(ev)); // serialized once for every member
  for (const m of r.members) send(m, data);
  return reply(c, { type: 'ok', re, seq: r.seq });
}

function onMessage(c, data) {
  let req;
  try { req = JSON.parse(data); } catch { return error(c, null, 'bad_json', 'not JSON'); }
  if (req === null || typeof req !== 'object' || typeof req.type !== 'string') {
    return error(c, null, 'bad_request', 'not a request');
  }
  const re = req.id === undefined ? null : req.id;
  if (req.type === 'hello') return hello(c, re, req);
  if (c.name === null) return error(c, re, 'unauthorized', 'sign in with hello first');
  switch (req.type) {
    case 'say': return say(c, re, req);
    case 'join': return join(c, re, req);
    case 'create': return create(c, re, req);
    case 'ping': return reply(c, { type: 'ok', re, time: Date.now() });
    default: return error(c, re, 'unknown_type', 'unknown request type');
  }
}

function onClose(c) {
  for (const r of c.rooms) {
    const i = r.members.indexOf(c);
    if (i >= 0) r.members.splice(i, 1);
    if (r.members.length === 0 && r.id !== 'lobby') rooms.delete(r.id);
  }
  c.rooms = [];
  if (c.name !== null && names.get(c.name.toLowerCase()) === c) names.delete(c.name.toLowerCase());
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  path: '/ws',
  backlog: 4096,
  maxPayload: 8192,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

wss.on('connection', (ws) => {
  const c = { ws, name: null, rooms: [] };
  ws.on('message', (data, isBinary) => {
    if (!isBinary) onMessage(c, data.toString());
  });
  ws.on('close', () => onClose(c));
  ws.on('error', () => {});
  send(c, WELCOME);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
