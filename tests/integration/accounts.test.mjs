// Accounts (issue "storage"): register, login and resume over the real server; registered
// names are protected from guests; the same error for an unknown name and a wrong password;
// accounts and tokens survive a restart; tampered tokens are refused; a burst of logins is
// answered in full while hashes are limited, and an overflowing wait line gets server_busy.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, connect, fresh, signIn, freshDb } from './lib/harness.mjs';

// a cheap hash keeps the suite quick under ASan; one test below uses the real default cost
const FAST = ['--scrypt-log2n', '12'];


describe('accounts', () => {
  let dir;
  let db;
  let server;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-acct-'));
    db = freshDb(dir);
    server = await startServer(FAST, { db });
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('register signs in and returns a token; the name is then protected', async () => {
    const a = await fresh(server.url);
    const r = await a.ok('register', { name: 'Reg1', password: 'secret-pass' });
    assert.equal(r.name, 'Reg1');
    assert.match(r.token, /^v1\.\d+\.[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}$/);
    await a.ok('join', { room: 'lobby' }); // signed in: rooms work

    const b = await fresh(server.url);
    assert.equal((await b.request('hello', { name: 'reg1' })).code, 'name_taken');
    assert.equal((await b.request('register', { name: 'REG1', password: 'other-pass' })).code,
      'name_taken');
    assert.equal((await a.request('register', { name: 'Reg2', password: 'secret-pass' })).code,
      'not_allowed');
    await Promise.all([a.close(), b.close()]);
  });

  it('password rules and field errors', async () => {
    const c = await fresh(server.url);
    for (const password of ['short', 'x'.repeat(129), 7, null]) {
      const r = await c.request('register', { name: 'pwrules', password });
      assert.equal(r.code, 'bad_request');
      assert.equal(r.field, 'password');
    }
    assert.equal((await c.request('register', { name: 'bad name', password: 'long enough' })).field,
      'name');
    // 8 and 128 bytes are fine; bytes, not characters: 64 x 'я' is 128 bytes
    await c.ok('register', { name: 'pwrules', password: 'я'.repeat(64) });
    const d = await fresh(server.url);
    assert.equal((await d.request('login', { name: 'pwrules', password: 'я'.repeat(65) })).field,
      'password');
    // pwrules is online in c: a right password is refused as taken (a wrong one would be
    // bad_credentials), which proves the 128-byte password verified
    assert.equal((await d.request('login', { name: 'pwrules', password: 'я'.repeat(64) })).code,
      'name_taken');
    assert.equal((await d.request('login', { name: 'pwrules', password: 'я'.repeat(63) + 'ю' })).code,
      'bad_credentials');
    await Promise.all([c.close(), d.close()]);
  });

  it('login: wrong password and unknown name get the same answer', async () => {
    const a = await fresh(server.url);
    await a.ok('register', { name: 'Loginer', password: 'the-right-one' });
    await a.close();
    await (await signIn(server.url, 'observer')).close(); // the name above is free again

    const b = await fresh(server.url);
    const wrong = await b.request('login', { name: 'loginer', password: 'the-wrong-one' });
    const unknown = await b.request('login', { name: 'nobody-here', password: 'the-wrong-one' });
    assert.equal(wrong.code, 'bad_credentials');
    assert.equal(unknown.code, 'bad_credentials');
    assert.equal(wrong.message, unknown.message);
    const ok = await b.ok('login', { name: 'LOGINER', password: 'the-right-one' });
    assert.equal(ok.name, 'Loginer', 'the name as registered');
    // signed in elsewhere: a second login is refused until the first goes
    const c = await fresh(server.url);
    assert.equal((await c.request('login', { name: 'loginer', password: 'the-right-one' })).code,
      'name_taken');
    await Promise.all([b.close(), c.close()]);
  });

  it('resume takes a token, never a password; tampered tokens are refused', async () => {
    const a = await fresh(server.url);
    const { token } = await a.ok('register', { name: 'Resumer', password: 'resume-pass' });
    await a.close();
    await (await signIn(server.url, 'sync1')).close();

    const b = await fresh(server.url);
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    assert.equal((await b.request('resume', { token: flipped })).code, 'unauthorized');
    assert.equal((await b.request('resume', { token: 'v1.1.abc.99999999999999.' + 'x'.repeat(43) })).code,
      'unauthorized');
    assert.equal((await b.request('resume', { token: '' })).field, 'token');
    const r = await b.ok('resume', { token });
    assert.equal(r.name, 'Resumer');
    assert.notEqual(r.token, token, 'a fresh token comes back');
    await b.close();
  });

  it('accounts and tokens survive a restart', async () => {
    const a = await fresh(server.url);
    const { token } = await a.ok('register', { name: 'Keeper', password: 'keeper-pass' });
    await a.close();
    await stopAndCheck(server);
    server = await startServer(FAST, { db });

    const b = await fresh(server.url);
    assert.equal((await b.ok('resume', { token })).name, 'Keeper');
    await b.close();
    await (await signIn(server.url, 'sync2')).close();
    const c = await fresh(server.url);
    assert.equal((await c.ok('login', { name: 'keeper', password: 'keeper-pass' })).name, 'Keeper');
    const g = await fresh(server.url);
    assert.equal((await g.request('hello', { name: 'KEEPER' })).code, 'name_taken');
    await Promise.all([c.close(), g.close()]);
  });
});

describe('accounts under load', () => {
  it('a burst of logins is answered in full with one hash at a time',
    { skip: process.env.PARLOR_UNDER_VALGRIND ? 'too slow under valgrind' : false },
    async () => {
    const server = await startServer([...FAST, '--auth-concurrency', '1', '--rate-per-sec', '1000',
      '--rate-burst', '1000']);
    const a = await fresh(server.url);
    await a.ok('register', { name: 'Burst', password: 'burst-pass' });
    await a.close();
    await (await signIn(server.url, 'sync3')).close();
    const clients = await Promise.all(Array.from({ length: 12 }, () => fresh(server.url)));
    const replies = await Promise.all(clients.map((c, i) =>
      c.request('login', { name: i % 2 ? 'burst' : `ghost${i}`, password: i < 6 ? 'burst-pass' : 'nope-nope' },
        { timeout: 30000 })));
    const codes = replies.map((r) => (r.type === 'ok' ? 'ok' : r.code));
    // exactly one of the right-password logins for 'burst' wins; the others find it online
    assert.equal(codes.filter((c) => c === 'ok').length, 1, JSON.stringify(codes));
    assert.equal(codes.filter((c) => c === 'bad_credentials').length, 9, JSON.stringify(codes));
    assert.equal(codes.filter((c) => c === 'name_taken').length, 2, JSON.stringify(codes));
    await Promise.all(clients.map((c) => c.close()));
    await stopAndCheck(server);
  });

  it('a full wait line gets server_busy, and every request is still answered', async () => {
    const server = await startServer([...FAST, '--auth-concurrency', '1', '--db-queue', '2']);
    const clients = await Promise.all(Array.from({ length: 6 }, () => fresh(server.url)));
    const replies = await Promise.all(clients.map((c, i) =>
      c.request('login', { name: `nobody${i}`, password: 'whatever1' }, { timeout: 30000 })));
    const codes = replies.map((r) => r.code);
    assert.ok(codes.includes('server_busy'), JSON.stringify(codes));
    assert.ok(codes.includes('bad_credentials'), JSON.stringify(codes));
    assert.equal(codes.length, 6);
    await Promise.all(clients.map((c) => c.close()));
    await stopAndCheck(server);
  });

  it('a sign-in waiting its turn for the hash is not closed by the sign-in timeout',
    { skip: process.env.PARLOR_UNDER_VALGRIND ? 'too slow under valgrind' : false },
    async () => {
    // five registrations at full cost, one hash at a time: the last waits well over 1 s
    const server = await startServer(['--auth-concurrency', '1', '--signin-timeout', '1']);
    const clients = await Promise.all(Array.from({ length: 5 }, () => fresh(server.url)));
    const t0 = Date.now();
    const replies = await Promise.all(clients.map((c, i) =>
      c.request('register', { name: `patient${i}`, password: 'patient-pass' }, { timeout: 30000 })));
    assert.ok(Date.now() - t0 > 1000, `the hashes took only ${Date.now() - t0} ms: nothing waited`);
    assert.deepEqual(replies.map((r) => r.type), ['ok', 'ok', 'ok', 'ok', 'ok'], JSON.stringify(replies));
    await Promise.all(clients.map((c) => c.close()));
    await stopAndCheck(server);
  });

  it('the default cost (N = 2^17) works end to end',
    { skip: process.env.PARLOR_UNDER_VALGRIND ? 'too slow under valgrind' : false },
    async () => {
    const server = await startServer([]);
    const a = await fresh(server.url);
    const r = await a.request('register', { name: 'Costly', password: 'expensive-one' }, { timeout: 30000 });
    assert.equal(r.type, 'ok', JSON.stringify(r));
    await a.close();
    await stopAndCheck(server);
  });
});
