// Names in any script (issue 16): a Cyrillic guest and account, NFC and case folding,
// mixed-script spoofs refused, and names confusable with an online or registered name taken.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, fresh, signIn } from './lib/harness.mjs';

const FAST = ['--scrypt-log2n', '12'];


describe('names in any script', () => {
  let dir;
  let db;
  let server;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-names-'));
    db = path.join(dir, 'parlor.db');
    server = await startServer(FAST, { db });
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('a guest with a Cyrillic name signs in, is found case-insensitively, and holds the name', async () => {
    const n = await signIn(server.url, 'Наташа', { join: ['lobby'] });
    const b = await signIn(server.url, 'Борис_2', { join: ['lobby'] });
    await b.ok('whisper', { to: 'НАТАША', text: 'привет' });
    const w = await n.nextEvent('whisper');
    assert.equal(w.from, 'Борис_2');
    const c = await fresh(server.url);
    assert.equal((await c.request('hello', { name: 'наташа' })).code, 'name_taken');
    await Promise.all([n.close(), b.close(), c.close()]);
  });

  it('a decomposed name is signed in as its composed (NFC) form, and they are one name', async () => {
    const a = await fresh(server.url);
    const r = await a.ok('hello', { name: 'Ё'.normalize('NFD') + 'ж' });
    assert.equal(r.name, 'Ёж');
    assert.notEqual('Ё'.normalize('NFD') + 'ж', 'Ёж');
    const b = await fresh(server.url);
    assert.equal((await b.request('hello', { name: 'Ёж' })).code, 'name_taken');
    await Promise.all([a.close(), b.close()]);
  });

  it('a name mixing scripts is a bad_request; a name confusable with an online one is taken', async () => {
    const a = await signIn(server.url, 'ace');
    const i = await signIn(server.url, 'Iris');
    const c = await fresh(server.url);
    const mixed = await c.request('hello', { name: 'аce' }); // Cyrillic а, Latin ce
    assert.equal(mixed.code, 'bad_request');
    assert.equal(mixed.field, 'name');
    assert.match(mixed.message, /scripts/);
    // all Cyrillic, and looks like the Latin 'ace' that is online
    assert.equal((await c.request('hello', { name: 'асе' })).code, 'name_taken');
    assert.equal((await c.request('hello', { name: 'АСЕ' })).code, 'name_taken');
    assert.equal((await c.request('hello', { name: 'lris' })).code, 'name_taken'); // l for I
    assert.equal((await c.request('register', { name: 'асе', password: 'long enough' })).code,
      'name_taken');
    // once 'ace' has left, its look-alike is free
    await a.close();
    assert.equal((await c.ok('hello', { name: 'асе' })).name, 'асе');
    await Promise.all([i.close(), c.close()]);
  });

  it('register and log in with a Cyrillic name, in any case, also after a restart', async () => {
    const a = await fresh(server.url);
    assert.equal((await a.ok('register', { name: 'Фёдор', password: 'пароль-длинный' })).name,
      'Фёдор');
    await a.close();
    const g = await fresh(server.url);
    assert.equal((await g.request('hello', { name: 'ФЁДОР' })).code, 'name_taken');
    assert.equal((await g.request('register', { name: 'фёдор', password: 'other-pass' })).code,
      'name_taken');
    await g.close();

    await stopAndCheck(server);
    server = await startServer(FAST, { db });
    const b = await fresh(server.url);
    assert.equal((await b.ok('login', { name: 'ФЁДОР', password: 'пароль-длинный' })).name, 'Фёдор');
    await b.close();
    const c = await fresh(server.url);
    assert.equal((await c.request('login', { name: 'Фёдор', password: 'wrong-password' })).code,
      'bad_credentials');
    await c.close();
  });

  it('a guest may not take a look-alike of a registered name', async () => {
    const a = await fresh(server.url);
    await a.ok('register', { name: 'paypal', password: 'long enough' });
    await a.close();
    const c = await fresh(server.url);
    assert.equal((await c.request('hello', { name: 'paypa1' })).code, 'name_taken');
    assert.equal((await c.request('hello', { name: 'PAYPAL' })).code, 'name_taken');
    await c.close();
  });
});
