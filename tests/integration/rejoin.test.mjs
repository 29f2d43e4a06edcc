// Rejoining (issue 4): a player whose socket drops keeps their name, rooms and seat for the
// grace period; resume {token, seen} puts them back, replays the chat they missed and sends the
// running game's snapshot, so one path recovers both. After the grace period they leave.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, fresh, signIn } from './lib/harness.mjs';

describe('rejoin after a dropped connection', () => {
  let server;
  before(async () => {
    server = await startServer(['--rejoin-seconds', '5', '--quiz-reveal-ms', '300',
      '--scrypt-log2n', '12']);
  });
  after(async () => { await stopAndCheck(server); });

  it('a player dropped mid-round resumes, gets missed chat and the snapshot, and finishes the game', async () => {
    const ann = await signIn(server.url, 'ann');
    const bob = await fresh(server.url);
    const hello = await bob.ok('hello', { name: 'bob' });
    assert.match(hello.token, /^v1\.-\d+\./);
    const { room } = await ann.ok('create', { name: 'Rejoin table', game: 'quiz', rounds: 2, seconds: 3 });
    await bob.ok('join', { room: room.id });
    await ann.ok('say', { room: room.id, text: 'before the drop' });
    const seenSeq = (await bob.nextEvent('chat')).seq;
    await ann.ok('start', { room: room.id });
    const q1 = await bob.nextEvent('question');
    assert.equal(q1.round, 1);

    await bob.terminate(); // the network drops: no close frame
    await ann.ok('say', { room: room.id, text: 'while you were away' });
    await ann.ok('say', { room: room.id, text: 'still away' });
    // nobody was told bob left
    assert.equal(ann.log.filter((m) => m.type === 'left').length, 0);

    const back = await fresh(server.url);
    const r = await back.ok('resume', { token: hello.token, seen: { [room.id]: seenSeq } });
    assert.equal(r.name, 'bob');
    assert.equal(r.rejoined, true);
    assert.deepEqual(r.rooms.map((x) => x.id), [room.id]);
    assert.notEqual(r.token, hello.token);
    const replay = [await back.nextEvent('chat'), await back.nextEvent('chat')];
    assert.deepEqual(replay.map((m) => [m.seq, m.text]),
      [[seenSeq + 1, 'while you were away'], [seenSeq + 2, 'still away']]);
    const snap = await back.nextEvent('game');
    assert.equal(snap.room, room.id);
    assert.equal(snap.round, 1);
    assert.deepEqual(snap.players, ['ann', 'bob']);
    assert.equal(snap.question.text, q1.text);

    // the seat is kept: bob answers the open round and plays to the end
    if (snap.phase === 'question') await back.ok('answer', { room: room.id, round: 1, choice: 0 });
    const q2 = await back.nextEvent('question', { timeout: 8000 });
    assert.equal(q2.round, 2);
    await back.ok('answer', { room: room.id, round: 2, choice: 1 });
    await ann.ok('answer', { room: room.id, round: 2, choice: 2 });
    const over = await back.nextEvent('game_over', { timeout: 8000 });
    assert.deepEqual(over.ranking.map((x) => x.name).sort(), ['ann', 'bob']);
    assert.equal(ann.log.filter((m) => m.type === 'left').length, 0, 'bob never left');
    await Promise.all([ann.close(), back.close()]);
  });

  it('an account comes back with login too, keeping host and seat', async () => {
    const a = await fresh(server.url);
    const { token } = await a.ok('register', { name: 'Hosty', password: 'hosty-pass' });
    const { room } = await a.ok('create', { name: 'Hosted', game: 'quiz' });
    const other = await signIn(server.url, 'sitter', { join: [room.id] });
    await a.terminate();
    const b = await fresh(server.url);
    const r = await b.ok('login', { name: 'hosty', password: 'hosty-pass' });
    assert.equal(r.rejoined, true);
    assert.equal(r.rooms[0].host, 'Hosty', 'still the host');
    await b.ok('start', { room: room.id }); // host rights kept
    assert.equal((await other.nextEvent('game_started')).players[0], 'Hosty');
    assert.ok(token);
    await Promise.all([b.close(), other.close()]);
  });

  it('after the grace period the player is gone: left is sent and the guest token is dead', async () => {
    const s2 = await startServer(['--rejoin-seconds', '1']);
    const watcher = await signIn(s2.url, 'watch', { join: ['lobby'] });
    const gone = await fresh(s2.url);
    const { token } = await gone.ok('hello', { name: 'gone' });
    await gone.ok('join', { room: 'lobby' });
    await watcher.nextEvent('joined');
    await gone.terminate();
    assert.deepEqual(await watcher.nextEvent('left', { timeout: 4000 }),
      { type: 'left', room: 'lobby', name: 'gone' });
    const late = await fresh(s2.url);
    assert.equal((await late.request('resume', { token })).code, 'unauthorized');
    assert.equal((await late.request('resume', { token, seen: { lobby: 'x' } })).field, 'seen');
    await Promise.all([late.close(), watcher.close()]);
    await stopAndCheck(s2);
  });

  it('a connection the server closes for a protocol violation leaves at once', async () => {
    const a = await signIn(server.url, 'oversize');
    a.sendRaw('x'.repeat(9000));
    assert.equal((await a.closed).code, 1009);
    const b = await fresh(server.url);
    await b.ok('hello', { name: 'oversize' }); // not held for a rejoin
    await b.close();
  });

  it('resume while the old connection is still there is refused', async () => {
    const a = await fresh(server.url);
    const { token } = await a.ok('hello', { name: 'twice' });
    const b = await fresh(server.url);
    assert.equal((await b.request('resume', { token })).code, 'name_taken');
    await Promise.all([a.close(), b.close()]);
  });
});
