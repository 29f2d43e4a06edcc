// PROTOCOL.md §4.2–4.5: rooms, create, join, leave, and the room limits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, signIn, assertKeys } from './lib/harness.mjs';

const ROOM_KEYS = ['id', 'name', 'game', 'members', 'max'];

async function listRooms(c) {
  const r = await c.ok('rooms');
  assertKeys(r, ['type', 're', 'rooms'], 'rooms reply');
  assert.ok(Array.isArray(r.rooms));
  for (const room of r.rooms) assertKeys(room, ROOM_KEYS, 'room object');
  return r.rooms;
}

describe('rooms', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await stopAndCheck(server); });

  it('lobby exists first with the documented fields, even when empty', async () => {
    const c = await signIn(server.url, 'lister');
    const rooms = await listRooms(c);
    assert.deepEqual(rooms[0], { id: 'lobby', name: 'Lobby', game: null, members: 0, max: 20000 });
    await c.close();
  });

  it('create with and without max; the creator is a member; list order is lobby then creation order', async () => {
    const c = await signIn(server.url, 'creator');
    const r1 = await c.ok('create', { name: 'Quiz night', max: 12 });
    assertKeys(r1, ['type', 're', 'room'], 'create reply');
    assertKeys(r1.room, ROOM_KEYS, 'created room');
    assert.equal(typeof r1.room.id, 'string');
    assert.notEqual(r1.room.id, 'lobby');
    assert.deepEqual({ ...r1.room, id: 'X' }, { id: 'X', name: 'Quiz night', game: null, members: 1, max: 12 });

    const r2 = await c.ok('create', { name: 'Default size' });
    assert.deepEqual({ ...r2.room, id: 'X' }, { id: 'X', name: 'Default size', game: null, members: 1, max: 50 });
    assert.notEqual(r2.room.id, r1.room.id);

    const r3 = await c.ok('create', { name: 'Бесіда 💬', max: 2 });
    assert.equal(r3.room.name, 'Бесіда 💬');
    assert.equal(r3.room.max, 2);
    const r4 = await c.ok('create', { name: 'Big', max: 500 });
    assert.equal(r4.room.max, 500);

    const rooms = await listRooms(c);
    assert.deepEqual(rooms.map((r) => r.id), ['lobby', r1.room.id, r2.room.id, r3.room.id, r4.room.id]);
    assert.deepEqual(rooms[1], r1.room);
    assert.deepEqual(rooms[2], r2.room);

    // creator is a member: can say there, and a joiner sees them in members
    const s = await c.ok('say', { room: r1.room.id, text: 'first' });
    assert.equal(s.seq, 1);
    const d = await signIn(server.url, 'joiner');
    const j = await d.ok('join', { room: r1.room.id });
    assert.deepEqual(j.members, ['creator', 'joiner']);
    assert.equal(j.room.members, 2);
    await Promise.all([c.close(), d.close()]);
  });

  it('create: bad name or max → bad_request naming the field', async () => {
    const c = await signIn(server.url, 'badcreate');
    const badNames = ['', 'x'.repeat(49), ' ', '     ', 'a\u0001b', 'line\nbreak', 'tab\there', 'del\u007f', 'c1\u0085',
      42, null, true, ['room'], { n: 'room' }];
    for (const name of badNames) await c.err('create', { name }, 'bad_request', 'name');
    await c.err('create', {}, 'bad_request', 'name');
    for (const max of [1, 0, -1, 501, 100000, 2.5, '12', true, [12], { m: 12 }]) {
      await c.err('create', { name: 'ok name', max }, 'bad_request', 'max');
    }
    // none of the refused creates made a room
    const rooms = await listRooms(c);
    assert.equal(rooms.filter((r) => r.name === 'ok name').length, 0);
    // boundaries that are valid
    const ok48 = await c.ok('create', { name: 'y'.repeat(48), max: 2 });
    assert.equal(ok48.room.name, 'y'.repeat(48));
    const okCp = await c.ok('create', { name: 'я'.repeat(48) }); // 48 code points, 96 bytes
    assert.equal(okCp.room.name, 'я'.repeat(48));
    await c.ok('create', { name: ' padded ' });
    await c.close();
  });

  it('join: ok has room, members in joining order, history; others get joined', async () => {
    const a = await signIn(server.url, 'ja');
    const { room } = await a.ok('create', { name: 'join test', max: 5 });
    const b = await signIn(server.url, 'jb');
    const jb = await b.ok('join', { room: room.id });
    assertKeys(jb, ['type', 're', 'room', 'members', 'history'], 'join reply');
    assert.deepEqual(jb.room, { ...room, members: 2 });
    assert.deepEqual(jb.members, ['ja', 'jb']);
    assert.deepEqual(jb.history, []);
    const ev = await a.nextEvent('joined');
    assert.deepEqual(ev, { type: 'joined', room: room.id, name: 'jb' });
    // the joiner does not get a joined event about itself
    await b.sync();
    assert.deepEqual(b.pending((m) => m.type === 'joined'), []);

    const c = await signIn(server.url, 'jc');
    const jc = await c.ok('join', { room: room.id });
    assert.deepEqual(jc.members, ['ja', 'jb', 'jc']);
    assert.equal(jc.room.members, 3);
    assert.deepEqual(await a.nextEvent('joined'), { type: 'joined', room: room.id, name: 'jc' });
    assert.deepEqual(await b.nextEvent('joined'), { type: 'joined', room: room.id, name: 'jc' });
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it('joining a room twice succeeds with the current state and sends no event', async () => {
    const a = await signIn(server.url, 'twiceA', { join: ['lobby'] });
    const b = await signIn(server.url, 'twiceB', { join: ['lobby'] });
    await a.nextEvent('joined');
    const again = await b.ok('join', { room: 'lobby' });
    assert.equal(again.members.filter((n) => n === 'twiceB').length, 1, JSON.stringify(again.members));
    assert.ok(again.members.includes('twiceA'));
    assert.equal(again.room.members, again.members.length);
    await b.sync();
    await a.sync();
    assert.deepEqual(a.pending((m) => m.type === 'joined' || m.type === 'left'), []);
    assert.deepEqual(b.pending((m) => m.type === 'joined' || m.type === 'left'), []);
    await Promise.all([a.close(), b.close()]);
  });

  it('lobby member count follows joins and leaves', async () => {
    const a = await signIn(server.url, 'countA');
    const before0 = (await listRooms(a))[0].members;
    await a.ok('join', { room: 'lobby' });
    const b = await signIn(server.url, 'countB', { join: ['lobby'] });
    assert.equal((await listRooms(a))[0].members, before0 + 2);
    await b.ok('leave', { room: 'lobby' });
    assert.equal((await listRooms(a))[0].members, before0 + 1);
    await Promise.all([a.close(), b.close()]);
  });

  it('leave → ok; remaining members get left, the leaver does not', async () => {
    const a = await signIn(server.url, 'la');
    const { room } = await a.ok('create', { name: 'leave test' });
    const b = await signIn(server.url, 'lb', { join: [room.id] });
    await a.nextEvent('joined');
    const r = await b.ok('leave', { room: room.id });
    assertKeys(r, ['type', 're'], 'leave reply');
    assert.deepEqual(await a.nextEvent('left'), { type: 'left', room: room.id, name: 'lb' });
    await b.sync();
    assert.deepEqual(b.pending((m) => m.type === 'left'), []);
    // after leaving, say and leave are refused
    await b.err('say', { room: room.id, text: 'hi' }, 'not_in_room');
    await b.err('leave', { room: room.id }, 'not_in_room');
    // and b no longer receives the room's chat
    await a.ok('say', { room: room.id, text: 'only me' });
    await b.sync();
    assert.deepEqual(b.pending((m) => m.type === 'chat'), []);
    await Promise.all([a.close(), b.close()]);
  });

  it('closing the socket sends left to every room the user was in', async () => {
    const a = await signIn(server.url, 'stayer', { join: ['lobby'] });
    const { room: r1 } = await a.ok('create', { name: 'close test 1' });
    const { room: r2 } = await a.ok('create', { name: 'close test 2' });
    const b = await signIn(server.url, 'goer', { join: ['lobby', r1.id, r2.id] });
    const joined = [await a.nextEvent('joined'), await a.nextEvent('joined'), await a.nextEvent('joined')];
    assert.deepEqual(joined.map((e) => e.room).sort(), ['lobby', r1.id, r2.id].sort());
    await b.close();
    const lefts = [await a.nextEvent('left'), await a.nextEvent('left'), await a.nextEvent('left')];
    for (const e of lefts) assert.equal(e.name, 'goer');
    assert.deepEqual(lefts.map((e) => e.room).sort(), ['lobby', r1.id, r2.id].sort());
    await a.sync();
    assert.deepEqual(a.pending((m) => m.type === 'left'), []);
    await a.close();
  });

  it('an emptied room disappears and its id is not reused; the lobby stays', async () => {
    const a = await signIn(server.url, 'emptier', { join: ['lobby'] });
    const { room } = await a.ok('create', { name: 'ephemeral' });
    assert.ok((await listRooms(a)).some((r) => r.id === room.id));
    await a.ok('leave', { room: room.id });
    await a.ok('leave', { room: 'lobby' });
    const rooms = await listRooms(a);
    assert.ok(!rooms.some((r) => r.id === room.id), JSON.stringify(rooms));
    assert.equal(rooms[0].id, 'lobby');
    await a.err('join', { room: room.id }, 'no_such_room');
    const { room: again } = await a.ok('create', { name: 'ephemeral' });
    assert.notEqual(again.id, room.id);

    // a room emptied by a disconnect disappears too
    await a.ok('join', { room: 'lobby' });
    const b = await signIn(server.url, 'vanisher', { join: ['lobby'] });
    await a.nextEvent('joined');
    const { room: br } = await b.ok('create', { name: 'vanishing' });
    await b.close();
    await a.nextEvent('left'); // the server has processed the disconnect
    const after = await listRooms(a);
    assert.ok(!after.some((r) => r.id === br.id), JSON.stringify(after));
    const { room: third } = await a.ok('create', { name: 'later' });
    assert.ok(![room.id, again.id, br.id].includes(third.id));
    await a.close();
  });

  it('no_such_room and not_in_room', async () => {
    const a = await signIn(server.url, 'errs');
    await a.err('join', { room: 'nowhere' }, 'no_such_room');
    await a.err('leave', { room: 'nowhere' }, 'no_such_room');
    await a.err('say', { room: 'nowhere', text: 'x' }, 'no_such_room');
    await a.err('join', { room: 'LOBBY' }, 'no_such_room');
    await a.err('say', { room: 'lobby', text: 'x' }, 'not_in_room');
    await a.err('leave', { room: 'lobby' }, 'not_in_room');
    await a.close();
  });

  it('join/leave: room not a string → bad_request field room', async () => {
    const a = await signIn(server.url, 'badroom');
    for (const room of [1, null, true, ['lobby'], { id: 'lobby' }]) {
      await a.err('join', { room }, 'bad_request', 'room');
      await a.err('leave', { room }, 'bad_request', 'room');
    }
    await a.err('join', {}, 'bad_request', 'room');
    await a.err('leave', {}, 'bad_request', 'room');
    await a.close();
  });

  it('room_full: max 2, the third joiner is refused and nobody is notified', async () => {
    const a = await signIn(server.url, 'fullA');
    const { room } = await a.ok('create', { name: 'pair', max: 2 });
    const b = await signIn(server.url, 'fullB', { join: [room.id] });
    await a.nextEvent('joined');
    const c = await signIn(server.url, 'fullC');
    await c.err('join', { room: room.id }, 'room_full');
    await a.sync();
    await b.sync();
    assert.deepEqual(a.pending((m) => m.type === 'joined'), []);
    assert.deepEqual(b.pending((m) => m.type === 'joined'), []);
    // re-joining as a member of a full room still works
    const again = await b.ok('join', { room: room.id });
    assert.deepEqual(again.members, ['fullA', 'fullB']);
    // after someone leaves, there is room again
    await b.ok('leave', { room: room.id });
    const jc = await c.ok('join', { room: room.id });
    assert.deepEqual(jc.members, ['fullA', 'fullC']);
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});

describe('--lobby-max 2', () => {
  let server;
  before(async () => { server = await startServer(['--lobby-max', '2']); });
  after(async () => { await stopAndCheck(server); });

  it('the lobby shows max 2 and the third joiner gets room_full', async () => {
    const a = await signIn(server.url, 'lm1', { join: ['lobby'] });
    const b = await signIn(server.url, 'lm2', { join: ['lobby'] });
    const c = await signIn(server.url, 'lm3');
    assert.deepEqual((await listRooms(c))[0], { id: 'lobby', name: 'Lobby', game: null, members: 2, max: 2 });
    await c.err('join', { room: 'lobby' }, 'room_full');
    await a.close();
    await b.nextEvent('left');
    await c.ok('join', { room: 'lobby' });
    await Promise.all([b.close(), c.close()]);
  });
});

describe('--rooms-per-session 2', () => {
  let server;
  before(async () => { server = await startServer(['--rooms-per-session', '2']); });
  after(async () => { await stopAndCheck(server); });

  it('a third join or create gets not_allowed; re-joining a room one is in is still ok', async () => {
    const other = await signIn(server.url, 'other');
    const { room: elsewhere } = await other.ok('create', { name: 'elsewhere' });
    const a = await signIn(server.url, 'busy', { join: ['lobby'] });
    const { room: mine } = await a.ok('create', { name: 'mine' });
    await a.err('create', { name: 'one too many' }, 'not_allowed');
    await a.err('join', { room: elsewhere.id }, 'not_allowed');
    await a.ok('join', { room: 'lobby' });
    await a.ok('join', { room: mine.id });
    // the refused create made no room, the refused join notified nobody
    const rooms = (await a.ok('rooms')).rooms;
    assert.deepEqual(rooms.map((r) => r.name), ['Lobby', 'elsewhere', 'mine']);
    await other.sync();
    assert.deepEqual(other.pending((m) => m.type === 'joined'), []);
    // after leaving one, joining works again
    await a.ok('leave', { room: 'lobby' });
    await a.ok('join', { room: elsewhere.id });
    await Promise.all([a.close(), other.close()]);
  });
});

describe('--max-rooms 2 (the lobby counts)', () => {
  let server;
  before(async () => { server = await startServer(['--max-rooms', '2']); });
  after(async () => { await stopAndCheck(server); });

  it('the second create gets server_busy; after the room goes, create works again', async () => {
    const a = await signIn(server.url, 'mr');
    const { room } = await a.ok('create', { name: 'only one' });
    await a.err('create', { name: 'second' }, 'server_busy');
    const b = await signIn(server.url, 'mr2');
    await b.err('create', { name: 'third' }, 'server_busy');
    await a.ok('leave', { room: room.id });
    await b.ok('create', { name: 'now ok' });
    await Promise.all([a.close(), b.close()]);
  });
});

describe('--presence-max 3: big rooms count members instead of announcing each', () => {
  let server;
  before(async () => { server = await startServer(['--presence-max', '3']); });
  after(async () => { await stopAndCheck(server); });

  it('joined/left up to 3 members, then one presence count, then the full list again', async () => {
    const [a, b, c] = await Promise.all(['pa', 'pb', 'pc'].map((n) => signIn(server.url, n)));
    await a.ok('join', { room: 'lobby' });
    await b.ok('join', { room: 'lobby' });
    await c.ok('join', { room: 'lobby' });
    assert.deepEqual((await a.nextEvent('joined')).name, 'pb');
    assert.deepEqual((await a.nextEvent('joined')).name, 'pc');

    // the 4th and 5th join: their replies list the first three; the others get one count
    const d = await signIn(server.url, 'pd');
    const e = await signIn(server.url, 'pe');
    const jd = await d.ok('join', { room: 'lobby' });
    const je = await e.ok('join', { room: 'lobby' });
    assert.deepEqual(jd.members, ['pa', 'pb', 'pc']);
    assert.equal(jd.room.members, 4);
    assert.deepEqual(je.members, ['pa', 'pb', 'pc']);
    assert.equal(je.room.members, 5);
    const p = await a.nextEvent('presence', { timeout: 3000 });
    assert.deepEqual(p, { type: 'presence', room: 'lobby', members: 5 });
    assert.deepEqual(await d.nextEvent('presence', { timeout: 3000 }), p);
    await a.sync();
    assert.deepEqual(a.pending((m) => m.type === 'joined' || m.type === 'presence'), []);

    // two leave: back to 3, and the count comes with every name
    await d.close();
    await e.close();
    const back = await a.nextEvent('presence', { timeout: 3000 });
    assert.deepEqual(back, { type: 'presence', room: 'lobby', members: 3, names: ['pa', 'pb', 'pc'] });
    // at the threshold again: a departure is announced by name
    await c.close();
    assert.equal((await a.nextEvent('left')).name, 'pc');
    assert.equal((await b.nextEvent('left')).name, 'pc');
    await Promise.all([a.close(), b.close()]);
  });
});
