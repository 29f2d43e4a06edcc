// The quiz (issue 4) over the real server: three clients play a whole 3-round game with
// 1-second questions; every event's order and fields are checked, then the stored result and
// the leaderboard, across a restart. Also the offline `import` command: a good pack loads, and a
// bad record fails the whole import with its line and field.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, connect, signIn, BIN, REPO, dbQuery, freshDb } from './lib/harness.mjs';

const FLAGS = ['--scrypt-log2n', '12', '--quiz-reveal-ms', '200'];

const sqlite = dbQuery; // SQLite or PostgreSQL, whichever the suite runs on

async function account(url, name) {
  const c = await connect(url);
  await c.nextEvent('welcome');
  await c.ok('register', { name, password: 'quiz-password' });
  return c;
}

describe('a whole quiz game', () => {
  let dir;
  let db;
  let server;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-quiz-'));
    db = freshDb(dir);
    server = await startServer(FLAGS, { db });
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('three players, three rounds: events in order, scores, results and leaderboard stored', async () => {
    const ann = await account(server.url, 'Ann');
    const bob = await account(server.url, 'Bob');
    const guest = await signIn(server.url, 'guest');
    const { room } = await ann.ok('create', { name: 'Table', game: 'quiz', rounds: 3, seconds: 1 });
    assert.deepEqual({ ...room, id: undefined }, { id: undefined, name: 'Table', game: 'quiz', members: 1,
      max: 12, host: 'Ann', state: 'waiting', rounds: 3, seconds: 1 });
    await bob.ok('join', { room: room.id });
    await guest.ok('join', { room: room.id });
    assert.equal((await bob.request('start', { room: room.id })).code, 'not_allowed');
    await ann.ok('start', { room: room.id });

    const players = [ann, bob, guest];
    const started = await guest.nextEvent('game_started', { timeout: 3000 });
    assert.deepEqual(started, { type: 'game_started', room: room.id, rounds: 3, seconds: 1,
      players: ['Ann', 'Bob', 'guest'] });
    const texts = new Set();
    for (let round = 1; round <= 3; round++) {
      const q = await ann.nextEvent('question', { timeout: 3000 });
      assert.deepEqual(Object.keys(q), ['type', 'room', 'round', 'of', 'text', 'choices', 'lang', 'deadline']);
      assert.equal(q.lang, 'en', 'the shipped pack is in English');
      assert.equal(q.round, round);
      assert.equal(q.of, 3);
      assert.equal(q.choices.length, 4);
      assert.ok(q.deadline > Date.now() - 100 && q.deadline <= Date.now() + 1100, `deadline ${q.deadline}`);
      texts.add(q.text);
      for (const p of [bob, guest]) assert.equal((await p.nextEvent('question')).text, q.text);
      // Ann answers 0, Bob 1, the guest stays silent: the deadline decides
      await ann.ok('answer', { room: room.id, round, choice: 0 });
      await bob.ok('answer', { room: room.id, round, choice: 1 });
      assert.equal((await ann.request('answer', { room: room.id, round, choice: 2 })).code, 'game_state');
      const rv = await guest.nextEvent('reveal', { timeout: 3000 });
      assert.equal(rv.round, round);
      assert.ok(rv.correct >= 0 && rv.correct <= 3);
      assert.deepEqual(rv.scores.map((s) => s.name).sort(), ['Ann', 'Bob', 'guest']);
      const byName = Object.fromEntries(rv.scores.map((s) => [s.name, s]));
      assert.equal(byName.guest.delta, 0);
      assert.equal(byName.Ann.delta > 0, rv.correct === 0);
      assert.equal(byName.Bob.delta > 0, rv.correct === 1);
      for (const s of rv.scores) assert.ok(s.delta === 0 || (s.delta >= 100 && s.delta <= 200));
      for (let i = 1; i < rv.scores.length; i++) assert.ok(rv.scores[i - 1].score >= rv.scores[i].score);
      for (const p of [ann, bob]) await p.nextEvent('reveal');
    }
    assert.equal(texts.size, 3, 'no question repeats within a game');
    const over = await ann.nextEvent('game_over', { timeout: 3000 });
    assert.equal(over.ranking.length, 3);
    assert.equal(over.ranking[0].rank, 1);
    for (const p of [bob, guest]) assert.deepEqual(await p.nextEvent('game_over'), over);
    const rooms = await ann.ok('rooms');
    assert.equal(rooms.rooms.find((r) => r.id === room.id).state, 'waiting');

    // results reach the database and the leaderboard (registered players only)
    const scoreOf = Object.fromEntries(over.ranking.map((r) => [r.name, r.score]));
    let board;
    for (let i = 0; i < 50; i++) {
      board = await ann.ok('leaderboard', { limit: 10 });
      if (board.entries.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(board.entries.map((e) => e.name).sort(), ['Ann', 'Bob']);
    for (const e of board.entries) {
      assert.equal(e.points, scoreOf[e.name]);
      assert.equal(e.games, 1);
      assert.equal(e.wins, over.ranking.find((r) => r.name === e.name).rank === 1 ? 1 : 0);
    }
    // each account is told its own place, even outside the entries asked for; a guest is not
    for (const [who, name] of [[ann, 'Ann'], [bob, 'Bob']]) {
      const mine = await who.ok('leaderboard', { limit: 1 });
      const at = board.entries.findIndex((e) => e.name === name);
      const { name: _, ...fields } = board.entries[at];
      assert.deepEqual(mine.me, { rank: at + 1, ...fields });
    }
    assert.equal((await guest.ok('leaderboard')).me, undefined);
    const idle = await account(server.url, 'Idle');
    assert.deepEqual((await idle.ok('leaderboard')).me, { rank: null, points: 0, games: 0, wins: 0 });
    await idle.close();
    assert.equal(sqlite(db, 'SELECT count(*) FROM games'), '1');
    assert.equal(sqlite(db, "SELECT score || '/' || rank FROM results WHERE name = 'guest'"),
      `${scoreOf.guest}/${over.ranking.find((r) => r.name === 'guest').rank}`);
    assert.equal(sqlite(db, "SELECT CASE WHEN user_id IS NULL THEN 1 ELSE 0 END FROM results WHERE name = 'guest'"), '1');
    await Promise.all(players.map((p) => p.close()));

    // the leaderboard survives a restart
    await stopAndCheck(server);
    server = await startServer(FLAGS, { db });
    const c = await signIn(server.url, 'reader');
    const again = await c.ok('leaderboard');
    assert.deepEqual(again.entries, board.entries);
    assert.equal((await c.request('leaderboard', { limit: 101 })).field, 'limit');
    await c.close();
  });
});

describe('parlor-server import', () => {
  it('loads a pack offline; a bad record fails the whole import, naming line and field', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-import-'));
    try {
      const db = freshDb(dir, 'p.db');
      const good = path.join(dir, 'extra.jsonl');
      const q = (text, correct = 1) => JSON.stringify({ category: 'Test', text, choices: ['a', 'b', 'c', 'd'], correct });
      await writeFile(good, `${q('First?')}\n${q('Second?', 3)}\n`);
      let r = spawnSync(BIN, ['import', good, '--db', db], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /imported 2 new questions/);
      assert.equal(sqlite(db, "SELECT count(*) FROM questions WHERE pack = 'extra'"), '2');
      r = spawnSync(BIN, ['import', good, '--db', db], { encoding: 'utf8' });
      assert.match(r.stdout, /imported 0 new questions/, 'importing again adds nothing');

      const bad = path.join(dir, 'bad.jsonl');
      await writeFile(bad, `${q('Fine?')}\n${JSON.stringify({ category: 'Test', text: 'Broken?', choices: ['a', 'b', 'c'], correct: 0 })}\n`);
      r = spawnSync(BIN, ['import', bad, '--db', db], { encoding: 'utf8' });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /bad\.jsonl line 2: field 'choices'/);
      assert.equal(sqlite(db, "SELECT count(*) FROM questions WHERE pack = 'bad'"), '0', 'all or nothing');

      await writeFile(bad, `${q('Fine?')}\n${JSON.stringify({ category: 'Test', text: 'Broken?', choices: ['a', 'b', 'c', 'd'], correct: 4 })}\n`);
      r = spawnSync(BIN, ['import', bad, '--db', db], { encoding: 'utf8' });
      assert.match(r.stderr, /line 2: field 'correct'/);

      // the shipped pack imports clean
      r = spawnSync(BIN, ['import', path.join(REPO, 'questions/parlor-core.jsonl'), '--db', db], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /imported (\d+) new questions/);
      assert.ok(Number(r.stdout.match(/imported (\d+)/)[1]) >= 300);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('POST /admin/import', () => {
  it('loads a pack into the running server, all or nothing, for the admin only', async () => {
    const token = 'import-token';
    const server = await startServer(['--admin-token', token, '--import-max-bytes', '2048']);
    try {
      const url = `${server.httpUrl}/admin/import?pack=live`;
      const q = (text, correct = 2) => JSON.stringify({ category: 'Live', text, choices: ['w', 'x', 'y', 'z'], correct });
      const post = (body, headers = { authorization: `Bearer ${token}` }, u = url) =>
        fetch(u, { method: 'POST', headers, body }).then(async (r) => ({ status: r.status, body: await r.json() }));

      assert.equal((await post(q('Nope?'), {})).status, 401);
      assert.equal((await post(q('Nope?'), { authorization: 'Bearer wrong' })).status, 401);
      let r = await post(`${q('Live one?')}\n${q('Live two?', 0)}\n`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.added, 2);
      assert.equal(r.body.pack, 'live');
      const total = r.body.questions;
      assert.ok(total >= 302, `bank holds ${total}`);

      r = await post(`${q('Live three?')}\n{"category":"Live","text":"Bad?","choices":["a","b","c","d"],"correct":"1"}\n`);
      assert.equal(r.status, 400);
      assert.match(r.body.error, /upload line 2: field 'correct'/);
      r = await post(q('Live one?')); // already there: nothing new
      assert.equal(r.body.added, 0);
      assert.equal(r.body.questions, total, 'the failed import added nothing');

      r = await post(q('x?'), undefined, `${server.httpUrl}/admin/import?pack=bad%20name`);
      assert.equal(r.status, 400);
      r = await post(Array.from({ length: 40 }, (_, i) => q(`Big ${i}?`)).join('\n'));
      assert.equal(r.status, 413, 'over --import-max-bytes');
    } finally {
      await stopAndCheck(server);
    }
  });
});
