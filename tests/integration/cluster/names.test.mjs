// Names across nodes: two nodes (own ports, one SQLite file) joined through Redis. A name, or
// one confusable with it, is held once in the whole club; a race for one name has exactly one
// winner; whisper reaches a player on the other node; a node killed without a word lets its
// players' names go within the liveness TTL (5 s).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stopAndCheck, fresh, signIn, uniqueName, sleep } from '../lib/harness.mjs';
import { startCluster } from '../lib/cluster.mjs';

let a;
let b;

before(async () => {
  // a closed connection lets its name go at once
  ({ nodes: [a, b] } = await startCluster(['a', 'b'], ['--rejoin-seconds', '0', '--scrypt-log2n', '10']));
});

after(async () => {
  await stopAndCheck(b);
  if (a) await stopAndCheck(a);
});

async function hello(url, name) {
  const c = await fresh(url, { label: name });
  const r = await c.request('hello', { name });
  return { c, r };
}

test('a name held on one node, or one that looks like it, is refused on the other', async () => {
  const name = uniqueName('alice');
  const alice = await signIn(a.url, name);
  // the same name in capitals, and one that only looks like it (capital I for l)
  for (const other of [name, name.toUpperCase(), name.replace('l', 'I')]) {
    const { c, r } = await hello(b.url, other);
    assert.equal(r.type, 'error', `${other} on b → ${JSON.stringify(r)}`);
    assert.equal(r.code, 'name_taken');
    c.close();
  }
  alice.close();
  // let go on a: free on b as soon as a has told Redis
  let r;
  for (let t = 0; t < 100; t++) {
    const h = await hello(b.url, name);
    r = h.r;
    h.c.close();
    if (r.type === 'ok') break;
    await sleep(50);
  }
  assert.equal(r.type, 'ok', 'the name is free on b once alice has left a');
});

test('two nodes racing for one name: exactly one wins', async () => {
  for (let round = 0; round < 10; round++) {
    const name = uniqueName('race');
    const [x, y] = await Promise.all([hello(a.url, name), hello(b.url, name)]);
    const oks = [x.r, y.r].filter((r) => r.type === 'ok').length;
    assert.equal(oks, 1, `round ${round}: ${JSON.stringify([x.r, y.r])}`);
    for (const r of [x.r, y.r]) if (r.type === 'error') assert.equal(r.code, 'name_taken');
    x.c.close();
    y.c.close();
  }
});

test('whisper reaches a player on the other node; an unknown name is no_such_user', async () => {
  const alice = await signIn(a.url, uniqueName('wa'));
  const bob = await signIn(b.url, uniqueName('wb'));
  const ok = await bob.request('whisper', { to: alice.label.toUpperCase(), text: 'psst' });
  assert.equal(ok.type, 'ok', JSON.stringify(ok));
  assert.equal(ok.to, alice.label, 'the name as its owner spells it');
  const w = await alice.nextEvent('whisper');
  assert.equal(w.from, bob.label);
  assert.equal(w.text, 'psst');
  const back = await alice.request('whisper', { to: bob.label, text: 'hi' });
  assert.equal(back.type, 'ok');
  assert.equal((await bob.nextEvent('whisper')).from, alice.label);
  const none = await bob.request('whisper', { to: uniqueName('nobody'), text: 'x' });
  assert.equal(none.type, 'error');
  assert.equal(none.code, 'no_such_user');
  alice.close();
  bob.close();
});

test('a node killed without a word lets its names go within the liveness TTL', async () => {
  const name = uniqueName('carol');
  await signIn(a.url, name);
  const { c, r } = await hello(b.url, name);
  assert.equal(r.code, 'name_taken');
  c.close();
  await a.kill();
  a = null;
  let got;
  for (let t = 0; t < 200 && !got; t++) {
    const h = await hello(b.url, name);
    if (h.r.type === 'ok') got = h;
    else {
      h.c.close();
      await sleep(100);
    }
  }
  assert.ok(got, 'the dead node\'s name is free within 20 s (TTL 5 s)');
  got.c.close();
});
