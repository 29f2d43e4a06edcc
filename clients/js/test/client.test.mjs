// Unit tests of parlor-client against a fake socket (test/fake-socket.mjs): the test plays the
// server, message by message, as PROTOCOL.md says it behaves.

import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  ParlorClient, AdminClient, ParlorError, backoffDelay, TokenBucket, DEFAULT_LIMITS,
} from '../src/index.js';
import { FakeSocket, tick, until } from './fake-socket.mjs';

beforeEach(() => {
  FakeSocket.all.length = 0;
});

const FAST = { base: 5, max: 20, jitter: 0 };

function newClient(opts = {}) {
  return new ParlorClient({ url: 'ws://test/ws', WebSocket: FakeSocket, reconnect: FAST, ...opts });
}

/** A client connected to a fake socket that has sent welcome. */
async function connected(opts = {}, limits = {}) {
  const c = newClient(opts);
  const p = c.connect();
  await until(() => FakeSocket.all.length === 1, 'a socket');
  const s = FakeSocket.last();
  s.open();
  s.welcome(limits);
  await p;
  return { c, s };
}

/** The request of `type` the client sent last on `s`. */
function lastSent(s, type) {
  const m = s.sent.filter((x) => x.type === type).pop();
  assert.ok(m, `no ${type} sent; sent: ${JSON.stringify(s.sent)}`);
  return m;
}

async function signedIn(opts, limits) {
  const { c, s } = await connected(opts, limits);
  const p = c.hello('ann');
  await until(() => s.sent.length === 1, 'hello');
  s.ok(lastSent(s, 'hello').id, { name: 'ann', token: 'v1.-1.abc' });
  await p;
  return { c, s };
}

test('connects with the parlor.v1 subprotocol and reads the limits from welcome', async () => {
  const { c, s } = await connected({}, { text_max: 77, say_burst: 3 });
  assert.equal(s.requested, 'parlor.v1');
  assert.equal(s.url, 'ws://test/ws');
  assert.equal(c.limits.text_max, 77);
  assert.equal(c.limits.name_max, DEFAULT_LIMITS.name_max);
  assert.equal(c.state, 'open');
});

test('a server that does not accept the subprotocol fails connect()', async () => {
  const c = newClient();
  const p = c.connect();
  await until(() => FakeSocket.all.length === 1, 'a socket');
  FakeSocket.last().open('');
  await assert.rejects(p, (e) => e instanceof ParlorError && e.code === 'disconnected' && e.opened === true);
  assert.equal(c.state, 'closed');
});

test('replies are matched by re, whatever their order; errors are ParlorErrors with code and field', async () => {
  const { c, s } = await signedIn();
  const say = c.say('lobby', 'hi');
  const ping = c.ping();
  const bad = c.join('');
  await until(() => s.sent.length === 4, 'three requests');
  const [sayId, pingId, joinId] = s.sent.slice(1).map((m) => m.id);
  assert.deepEqual(s.sent.slice(1).map((m) => m.type), ['say', 'ping', 'join']);
  s.ok(pingId, { time: 123 });
  s.error(joinId, 'bad_request', { field: 'room' });
  s.ok(sayId, { seq: 9 });
  assert.equal(await ping, 123);
  assert.equal((await say).seq, 9);
  await assert.rejects(bad, (e) => e instanceof ParlorError && e.code === 'bad_request' && e.field === 'room');
});

test('a mute refusal carries until and reason', async () => {
  const { c, s } = await signedIn();
  const p = c.say('lobby', 'HEY');
  await until(() => s.sent.length === 2, 'say');
  s.error(s.sent[1].id, 'not_allowed', { until: 1795400300000, reason: 'shouting' });
  await assert.rejects(p, (e) => e.code === 'not_allowed' && e.until === 1795400300000 && e.reason === 'shouting');
});

test('a request without a reply in time rejects with timeout, and the queue goes on', async () => {
  const { c, s } = await signedIn({ requestTimeout: 20 });
  const p = c.ping();
  await assert.rejects(p, (e) => e.code === 'timeout');
  const q = c.ping();
  await until(() => s.sent.length === 3, 'the second ping');
  s.ok(s.sent[2].id, { time: 5 });
  assert.equal(await q, 5);
});

test('nothing is sent after a sign-in until its reply (PROTOCOL.md 2)', async () => {
  const { c, s } = await connected();
  const login = c.login('ann', 'correct horse');
  const ping = c.ping();
  await tick(5);
  assert.deepEqual(s.sent.map((m) => m.type), ['login']);
  s.ok(s.sent[0].id, { name: 'Ann', token: 'v1.17.x' });
  await login;
  await until(() => s.sent.length === 2, 'the ping');
  assert.equal(s.sent[1].type, 'ping');
  s.ok(s.sent[1].id, { time: 1 });
  await ping;
  assert.equal(c.name, 'Ann');
  assert.equal(c.account, true);
});

test('the send queue keeps to say_burst and say_per_sec: no burst beyond the bucket', async () => {
  const { c, s } = await signedIn({}, { say_burst: 2, say_per_sec: 50, rate_burst: 40, rate_per_sec: 20 });
  s.onSend = (m, sock) => { if (m.type === 'say') sock.ok(m.id, { seq: m.id }); };
  const says = [1, 2, 3, 4].map((i) => c.say('lobby', `m${i}`));
  await tick(0);
  // two tokens: two says at once, the others wait for the bucket to refill
  assert.equal(s.sent.filter((m) => m.type === 'say').length, 2);
  assert.equal(c.queued, 2);
  await Promise.all(says);
  assert.deepEqual(s.sent.filter((m) => m.type === 'say').map((m) => m.text), ['m1', 'm2', 'm3', 'm4']);
});

test('a rate_limited reply sends the request again instead of failing it', async () => {
  const { c, s } = await signedIn({}, { say_per_sec: 100, rate_per_sec: 100 });
  const p = c.say('lobby', 'again');
  await until(() => s.sent.length === 2, 'say');
  s.error(s.sent[1].id, 'rate_limited');
  await until(() => s.sent.length === 3, 'the say sent again');
  assert.equal(s.sent[2].text, 'again');
  s.ok(s.sent[2].id, { seq: 1 });
  assert.equal((await p).seq, 1);
});

test('a room\'s chat reaches the application once and in order', async () => {
  const { c, s } = await signedIn();
  const j = c.join('lobby');
  await until(() => s.sent.length === 2, 'join');
  s.ok(s.sent[1].id, { room: { id: 'lobby' }, members: ['ann'], history: [{ type: 'chat', room: 'lobby', seq: 4, from: 'x', text: '4', ts: 1 }] });
  await j;
  const seen = [];
  c.on('chat', (m) => seen.push(m.seq));
  for (const seq of [4, 5, 5, 6]) s.serverSend({ type: 'chat', room: 'lobby', from: 'bob', text: String(seq), ts: 1, seq });
  assert.deepEqual(seen, [5, 6]);
  assert.equal(c.rooms.get('lobby').lastSeq, 6);
});

test('a drop reconnects with backoff and resumes; a replay that left messages out is completed from history', async () => {
  const { c, s } = await signedIn();
  const j = c.join('lobby');
  await until(() => s.sent.length === 2, 'join');
  s.ok(s.sent[1].id, { room: { id: 'lobby' }, members: ['ann'], history: [] });
  await j;
  s.serverSend({ type: 'chat', room: 'lobby', from: 'bob', text: 'one', ts: 1, seq: 1 });
  const seen = [];
  c.on('chat', (m) => seen.push(m.seq));
  const closes = [];
  c.on('close', (e) => closes.push(e));
  const signed = new Promise((r) => c.once('signedin', r));

  s.drop();
  assert.equal(closes[0].code, 1006);
  assert.equal(closes[0].reconnecting, true);
  assert.equal(c.state, 'reconnecting');
  await until(() => FakeSocket.all.length === 2, 'a second socket');
  const s2 = FakeSocket.last();
  s2.open();
  s2.welcome();
  await until(() => s2.sent.length === 1, 'resume');
  const resume = s2.sent[0];
  assert.equal(resume.type, 'resume');
  assert.equal(resume.token, 'v1.-1.abc');
  assert.deepEqual(resume.seen, { lobby: 1 });
  // seqs 2..9 were missed; the replay holds 7..9 only, and a live 10 follows it at once
  s2.ok(resume.id, {
    name: 'ann', token: 'v1.-1.def', rejoined: true, rooms: [{ id: 'lobby', name: 'Lobby' }],
    replay: { lobby: { count: 3, from: 7, to: 9, recovered: false } },
  });
  for (const seq of [7, 8, 9, 10]) s2.serverSend({ type: 'chat', room: 'lobby', from: 'bob', text: String(seq), ts: 1, seq });
  assert.deepEqual(seen, [], 'nothing passes before the gap is filled');
  await until(() => s2.sent.length === 2, 'history');
  const h = s2.sent[1];
  assert.equal(h.type, 'history');
  assert.equal(h.before, 7);
  s2.ok(h.id, { messages: [1, 2, 3, 4, 5, 6].map((seq) => ({ type: 'chat', room: 'lobby', from: 'bob', text: String(seq), ts: 1, seq })) });
  const ev = await signed;
  assert.equal(ev.automatic, true);
  assert.deepEqual(seen, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(c.token, 'v1.-1.def');
  assert.equal(c.state, 'ready');
});

test('a guest whose session ended signs in again by name and rejoins its rooms', async () => {
  const { c, s } = await signedIn();
  const j = c.join('r1');
  await until(() => s.sent.length === 2, 'join');
  s.ok(s.sent[1].id, { room: { id: 'r1' }, members: ['ann'], history: [] });
  await j;
  const rejoined = new Promise((r) => c.once('rejoined', r));
  s.drop();
  await until(() => FakeSocket.all.length === 2, 'a second socket');
  const s2 = FakeSocket.last();
  s2.open();
  s2.welcome();
  await until(() => s2.sent.length === 1, 'resume');
  s2.error(s2.sent[0].id, 'unauthorized');
  await until(() => s2.sent.length === 2, 'hello');
  assert.deepEqual({ type: s2.sent[1].type, name: s2.sent[1].name }, { type: 'hello', name: 'ann' });
  s2.ok(s2.sent[1].id, { name: 'ann', token: 'v1.-2.x' });
  await until(() => s2.sent.length === 3, 'join');
  assert.deepEqual({ type: s2.sent[2].type, room: s2.sent[2].room }, { type: 'join', room: 'r1' });
  s2.ok(s2.sent[2].id, { room: { id: 'r1' }, members: ['ann'], history: [] });
  assert.equal((await rejoined).room, 'r1');
});

test('an account whose token is refused after a drop is told, and the client stops', async () => {
  const { c, s } = await connected();
  const p = c.login('Ann', 'correct horse');
  await until(() => s.sent.length === 1, 'login');
  s.ok(s.sent[0].id, { name: 'Ann', token: 'v1.17.x' });
  await p;
  const lost = new Promise((r) => c.once('sessionlost', r));
  s.drop();
  await until(() => FakeSocket.all.length === 2, 'a second socket');
  const s2 = FakeSocket.last();
  s2.open();
  s2.welcome();
  await until(() => s2.sent.length === 1, 'resume');
  s2.error(s2.sent[0].id, 'unauthorized');
  assert.equal((await lost).error.code, 'unauthorized');
  await until(() => c.state === 'closed', 'closed');
  await tick(40);
  assert.equal(FakeSocket.all.length, 2, 'no third connection');
});

test('requests in flight when the connection drops reject with disconnected', async () => {
  const { c, s } = await signedIn();
  const p = c.ping();
  await until(() => s.sent.length === 2, 'ping');
  s.drop();
  await assert.rejects(p, (e) => e.code === 'disconnected');
  await c.close();
});

test('close() sends a close frame and never reconnects; nor does a kick', async () => {
  const { c, s } = await signedIn();
  await c.close();
  assert.equal(s.closedWith.code, 1000);
  assert.equal(c.state, 'closed');
  await assert.rejects(c.ping(), (e) => e.code === 'closed');

  const k = await signedIn();
  const closes = [];
  k.c.on('close', (e) => closes.push(e));
  k.s.serverClose(1008, 'kicked: spam');
  await tick(40);
  assert.equal(closes[0].reconnecting, false);
  assert.equal(FakeSocket.all.length, 2);
});

test('a server restart (1001) reconnects; reconnectNow() skips the wait', async () => {
  const { c, s } = await signedIn({ reconnect: { base: 60000, max: 60000, jitter: 0 } });
  s.serverClose(1001, 'shutting down');
  assert.equal(c.state, 'reconnecting');
  assert.ok(c.reconnectAt > Date.now() + 50000);
  c.reconnectNow();
  await until(() => FakeSocket.all.length === 2, 'a second socket');
  await c.close();
});

test('backoff doubles from base to max, within ±jitter', () => {
  const opts = { base: 500, max: 15000, jitter: 0.3 };
  assert.equal(backoffDelay(0, opts, () => 0.5), 500);
  assert.equal(backoffDelay(3, opts, () => 0.5), 4000);
  assert.equal(backoffDelay(10, opts, () => 0.5), 15000);
  assert.equal(backoffDelay(0, opts, () => 0), 350);
  assert.equal(backoffDelay(0, opts, () => 1), 650);
});

test('a token bucket refills at 90 % of the announced rate', () => {
  const b = new TokenBucket(10, 2, 0);
  b.take(0);
  b.take(0);
  assert.equal(b.wait(0), 112); // one token at 9 per second
  assert.equal(b.wait(112), 0);
});

test('the admin client uses parlor-admin.v1, authenticates, and authenticates again after a drop', async () => {
  const a = new AdminClient({ url: 'ws://test/admin/ws', WebSocket: FakeSocket, reconnect: FAST });
  const started = a.start('s3cret');
  await until(() => FakeSocket.all.length === 1, 'a socket');
  const s = FakeSocket.last();
  assert.equal(s.requested, 'parlor-admin.v1');
  s.open();
  await until(() => s.sent.length === 1, 'auth');
  assert.deepEqual({ type: s.sent[0].type, token: s.sent[0].token }, { type: 'auth', token: 's3cret' });
  s.ok(s.sent[0].id, { version: '0.1.0', history: [], log: [] });
  assert.equal((await started).version, '0.1.0');
  const stats = [];
  a.on('stats', (m) => stats.push(m.connections));
  s.serverSend({ type: 'stats', connections: 3 });
  assert.deepEqual(stats, [3]);
  const again = new Promise((r) => a.once('signedin', r));
  s.drop();
  await until(() => FakeSocket.all.length === 2, 'a second socket');
  const s2 = FakeSocket.last();
  s2.open();
  await until(() => s2.sent.length === 1, 'auth again');
  s2.ok(s2.sent[0].id, { version: '0.1.0', history: [], log: [] });
  assert.equal((await again).automatic, true);
  const users = a.users('x');
  await until(() => s2.sent.length === 2, 'users');
  s2.ok(s2.sent[1].id, { users: [{ name: 'x' }] });
  assert.equal((await users)[0].name, 'x');
  await a.close();
});

test('a welcome listener may send a request at once', async () => {
  const c = newClient();
  const hello = new Promise((resolve) => c.once('welcome', () => resolve(c.hello('ann'))));
  c.connect();
  await until(() => FakeSocket.all.length === 1, 'a socket');
  const s = FakeSocket.last();
  s.open();
  s.welcome();
  await until(() => s.sent.length === 1, 'hello');
  s.ok(s.sent[0].id, { name: 'ann', token: 'v1.-1.x' });
  assert.equal((await hello).name, 'ann');
});

test('a refused automatic sign-in that is worth another try is in the close event, with the request it answered', async () => {
  const { c, s } = await signedIn();
  const closes = [];
  c.on('close', (e) => closes.push(e));
  s.drop();
  await until(() => FakeSocket.all.length === 2, 'a second socket');
  const s2 = FakeSocket.last();
  s2.open();
  s2.welcome();
  await until(() => s2.sent.length === 1, 'resume');
  s2.error(s2.sent[0].id, 'name_taken');
  await until(() => closes.length === 2, 'the second close');
  assert.equal(closes[0].error, undefined, 'a drop carries no error');
  assert.equal(closes[1].code, 1000);
  assert.equal(closes[1].reconnecting, true);
  assert.ok(closes[1].error instanceof ParlorError);
  assert.equal(closes[1].error.code, 'name_taken');
  assert.equal(closes[1].error.request, 'resume');
  await until(() => FakeSocket.all.length === 3, 'a third socket');
  await c.close();
});

test('after a kick, reopen() connects again and takes the session back', async () => {
  const { c, s } = await signedIn();
  const j = c.join('lobby');
  await until(() => s.sent.length === 2, 'join');
  s.ok(s.sent[1].id, { room: { id: 'lobby' }, members: ['ann'], history: [{ type: 'chat', room: 'lobby', seq: 3, from: 'x', text: '3', ts: 1 }] });
  await j;
  s.serverClose(1008, 'kicked: spam');
  await tick(20);
  assert.equal(c.state, 'closed');
  assert.equal(FakeSocket.all.length, 1, 'a kick does not reconnect by itself');
  const back = new Promise((r) => c.once('signedin', r));
  c.reopen();
  await until(() => FakeSocket.all.length === 2, 'a second socket');
  const s2 = FakeSocket.last();
  s2.open();
  s2.welcome();
  await until(() => s2.sent.length === 1, 'resume');
  assert.deepEqual({ type: s2.sent[0].type, token: s2.sent[0].token, seen: s2.sent[0].seen }, { type: 'resume', token: 'v1.-1.abc', seen: { lobby: 3 } });
  s2.ok(s2.sent[0].id, { name: 'ann', token: 'v1.-1.new', rejoined: true, rooms: [{ id: 'lobby' }], replay: { lobby: { count: 0, recovered: true } } });
  assert.equal((await back).automatic, true);
  assert.equal(c.state, 'ready');
  await c.close();
  c.reopen(); // closed by the application: no session to take back
  await tick(20);
  assert.equal(FakeSocket.all.length, 2);
  assert.equal(c.state, 'closed');
});

test('restore() takes back a stored session: resume, then hello by name when the guest session ended', async () => {
  const c = newClient();
  const signed = new Promise((r) => c.once('signedin', r));
  c.reopen(); // nothing to take back yet
  await tick(10);
  assert.equal(FakeSocket.all.length, 0);
  c.restore({ token: 'v1.-5.old', name: 'Ann' });
  assert.equal(c.account, false, 'a guest token');
  await until(() => FakeSocket.all.length === 1, 'a socket');
  const s = FakeSocket.last();
  s.open();
  s.welcome();
  await until(() => s.sent.length === 1, 'resume');
  assert.deepEqual({ type: s.sent[0].type, token: s.sent[0].token }, { type: 'resume', token: 'v1.-5.old' });
  s.error(s.sent[0].id, 'unauthorized');
  await until(() => s.sent.length === 2, 'hello');
  assert.deepEqual({ type: s.sent[1].type, name: s.sent[1].name }, { type: 'hello', name: 'Ann' });
  s.ok(s.sent[1].id, { name: 'Ann', token: 'v1.-6.new' });
  const ev = await signed;
  assert.equal(ev.automatic, true);
  assert.equal(ev.reply.token, 'v1.-6.new');
  assert.equal(c.token, 'v1.-6.new');
  assert.equal(c.state, 'ready');
  await c.close();
});
