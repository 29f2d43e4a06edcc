// Moving a running club (issue 13): a club that lived in SQLite (accounts, paged chat history in
// two rooms, a ban and a mute, a game on the leaderboard, two question packs) is copied to a
// fresh PostgreSQL database with `parlor-server migrate`, and a server on PostgreSQL carries on
// where the SQLite one stopped: old passwords and tokens, the same seqs, the ban, the points.
// A second copy into the now non-empty database is refused until --replace. PostgreSQL only:
// ctest runs it as integration_pg_migrate.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, fresh, dbQuery, freshDb, BIN, DB_ENGINE, NO_RATE_LIMITS } from '../lib/harness.mjs';

const FAST = ['--scrypt-log2n', '12', ...NO_RATE_LIMITS];
const SECRET = 's3cret-pw'; // in the target's URI: it must never be printed

function parlor(...args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8' });
  assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, r.stderr);
  return r;
}

describe('migrate: a SQLite club moves to PostgreSQL', () => {
  let dir;
  let src;
  let target;
  let token;
  let questions;
  before(async () => {
    assert.equal(DB_ENGINE, 'pg', 'PARLOR_TEST_PG must name the test cluster (tests/CMakeLists.txt)');
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-migrate-'));
    src = path.join(dir, 'club.db');
    const server = await startServer(FAST, { db: src });
    const a = await fresh(server.url);
    ({ token } = await a.ok('register', { name: 'Keeper', password: 'keeper-pass' }));
    await a.ok('join', { room: 'lobby' });
    for (let i = 1; i <= 120; i++) assert.equal((await a.ok('say', { room: 'lobby', text: `m${i}` })).seq, i);
    const { room } = await a.ok('create', { name: 'side' });
    assert.equal(room.id, 'r1');
    for (let i = 1; i <= 3; i++) await a.ok('say', { room: 'r1', text: `side ${i}` });
    await a.close();
    const o = await fresh(server.url);
    await o.ok('register', { name: 'Outlaw', password: 'outlaw-pass' });
    await o.close();
    await stopAndCheck(server);

    // a ban and a mute with reasons, and a finished game on the leaderboard, as the server
    // stores them
    dbQuery(src, `INSERT INTO bans (kind, target, until, reason, created) VALUES
      ('name', 'outlaw', NULL, 'cheating', 1), ('mute', 'loud', NULL, 'shouting', 2);
      INSERT INTO games (room, started, ended, rounds) VALUES ('r1', 1000, 2000, 5);
      INSERT INTO results (game_id, name, user_id, score, rank) VALUES
        (1, 'Keeper', (SELECT id FROM users WHERE name = 'Keeper'), 42, 1), (1, 'guest', NULL, 7, 2);
      UPDATE users SET points = 42, games = 1, wins = 1 WHERE name = 'Keeper'`);
    const pack = path.join(dir, 'club-pack.jsonl');
    await writeFile(pack, [
      { category: 'Club', text: 'Tab\there, a back\\slash?', choices: ['a', 'b', 'c', 'd'], correct: 2, lang: 'pt-BR' },
      { category: 'Club', text: 'Two?', choices: ['1', '2', '3', '4'], correct: 1 },
    ].map((q) => JSON.stringify(q)).join('\n') + '\n');
    assert.equal(parlor('import', pack, '--db', src).status, 0);
    questions = Number(dbQuery(src, 'SELECT count(*) FROM questions'));

    target = `${freshDb(dir)}&password=${SECRET}`; // trusted socket: the password goes unused
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  it('copies everything, says what, and never prints the password', () => {
    const r = parlor('migrate', '--from', src, '--to', target);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes(SECRET) && !r.stderr.includes(SECRET), r.stdout + r.stderr);
    assert.match(r.stdout, /password=\*\*\*/);
    assert.match(r.stdout, /accounts +2\n/);
    assert.match(r.stdout, /bans and mutes +2\n/);
    assert.match(r.stdout, /messages +123 in 2 rooms\n/);
    assert.match(r.stdout, /games +1 \(2 results\)\n/);
    assert.match(r.stdout, new RegExp(`questions +${questions} in 2 packs\\n`));
    assert.match(r.stdout, /settings +1 /);
    assert.equal(dbQuery(target, "SELECT lang FROM questions WHERE text LIKE 'Tab%'"), 'pt-BR');
    assert.equal(dbQuery(target, "SELECT reason FROM bans WHERE kind = 'mute'"), 'shouting');
  });

  it('a server on PostgreSQL carries on: password, token, seqs, ban, leaderboard', async () => {
    const server = await startServer(FAST, { db: target });
    const b = await fresh(server.url);
    assert.equal((await b.ok('resume', { token })).name, 'Keeper', 'a token issued on SQLite');
    await b.close(); // one connection per account
    const a = await fresh(server.url);
    assert.equal((await a.ok('login', { name: 'keeper', password: 'keeper-pass' })).name, 'Keeper');

    const j = await a.ok('join', { room: 'lobby' });
    assert.deepEqual(j.history.map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 71));
    const page = await a.ok('history', { room: 'lobby', before: 21, limit: 20 });
    assert.deepEqual(page.messages.map((m) => [m.seq, m.text, m.from]),
      Array.from({ length: 20 }, (_, i) => [i + 1, `m${i + 1}`, 'Keeper']));
    assert.equal((await a.ok('say', { room: 'lobby', text: 'on postgres' })).seq, 121);
    // rooms are numbered past the copied ones
    assert.equal((await a.ok('create', { name: 'new side' })).room.id, 'r2');

    const o = await fresh(server.url);
    const banned = await o.request('login', { name: 'Outlaw', password: 'outlaw-pass' });
    assert.equal(banned.code, 'not_allowed');
    assert.match(banned.message, /banned/);

    const board = await a.ok('leaderboard', { limit: 10 });
    assert.deepEqual(board.entries, [{ name: 'Keeper', points: 42, games: 1, wins: 1 }]);
    assert.deepEqual(board.me, { rank: 1, points: 42, games: 1, wins: 1 });
    // a new account gets an id past the copied ones
    const n = await fresh(server.url);
    await n.ok('register', { name: 'Newcomer', password: 'newcomer-pass' });
    assert.equal(dbQuery(target, "SELECT count(DISTINCT id) FROM users"), '3');
    await Promise.all([a.close(), o.close(), n.close()]);
    await stopAndCheck(server);
  });

  it('a target that holds data is refused, untouched, until --replace', () => {
    const refused = parlor('migrate', '--from', src, '--to', target);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /already holds data \(.*accounts: 3.*\): nothing was copied; --replace empties it first/);
    assert.ok(!refused.stderr.includes(SECRET), refused.stderr);
    assert.equal(dbQuery(target, "SELECT count(*) FROM users WHERE name = 'Newcomer'"), '1');

    const replaced = parlor('migrate', '--from', src, '--to', target, '--replace');
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.match(replaced.stdout, /\(emptied first\)/);
    assert.equal(dbQuery(target, 'SELECT name FROM users ORDER BY id'), 'Keeper\nOutlaw');
    assert.equal(dbQuery(target, "SELECT max(seq) FROM messages WHERE room = 'lobby'"), '120');
  });

  it('usage and bad arguments', () => {
    assert.match(parlor('--help').stdout, /\n  parlor-server migrate --from SOURCE --to TARGET \[--replace\]\n/);
    const help = parlor('migrate', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^usage: parlor-server migrate --from SOURCE --to TARGET \[--replace\]/);
    assert.equal(parlor('migrate', '--from', src).status, 2);
    assert.equal(parlor('migrate', '--from', src, '--to', target, '--force').status, 2);
    const missing = parlor('migrate', '--from', path.join(dir, 'nope.db'), '--to', target);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /--from .*nope\.db: No such file or directory/);
  });
});
