// The documents' example sessions, read from the documents themselves and played against the
// real server: PROTOCOL.md section 9 (alice, with bob beside her), the examples of section 2
// (numbers, the rate limit first) and 4.1a (a request while a sign-in is pending), and the
// README's node one-liner, run as written. Each `←` line must match the message the server
// sends at that point: the same keys, the same values, except timestamps (any integer near
// now), strings shortened with `…` (any string) and `{...}` (anything).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, stopAndCheck, connect, signIn, REPO, assertTimestamp, withTimeout } from './lib/harness.mjs';

const PROTOCOL = readFileSync(path.join(REPO, 'protocol/PROTOCOL.md'), 'utf8');
const README = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const TIME_KEYS = new Set(['ts', 'time']);

/** The lines of the first ``` block after `marker` in `doc`. */
function blockAfter(doc, marker) {
  const at = doc.indexOf(marker);
  assert.ok(at >= 0, `marker not found: ${marker}`);
  const open = doc.indexOf('```', at);
  const body = doc.indexOf('\n', open) + 1;
  const close = doc.indexOf('```', body);
  return doc.slice(body, close).split('\n').map((l) => l.trim()).filter(Boolean);
}

/** A documented message: JSON where `{...}` stands for any value. */
function parseDoc(text) {
  return JSON.parse(text.replace(/\{\.\.\.\}/g, '"__ANY__"'));
}

function match(expected, actual, where) {
  if (expected === '__ANY__') return;
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    expected.forEach((e, i) => match(e, actual[i], `${where}[${i}]`));
  } else if (expected && typeof expected === 'object') {
    assert.ok(actual && typeof actual === 'object' && !Array.isArray(actual), `${where}: expected an object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: keys`);
    for (const k of Object.keys(expected)) match(expected[k], actual[k], `${where}.${k}`);
  } else if (typeof expected === 'string' && /…|\.\.\./.test(expected)) {
    assert.equal(typeof actual, 'string', `${where}: expected a string`);
  } else if (TIME_KEYS.has(where.split('.').at(-1))) {
    assertTimestamp(actual, where);
  } else {
    assert.deepEqual(actual, expected, where);
  }
}

/** The next message `c` receives, whatever it is. */
const next = (c, what) => c.waitFor(() => true, { what });

/**
 * Plays documented lines on client `c`: `→` is sent as written, `←` must be the next message
 * received; a line in parentheses is handed to `note` (which may act or check).
 */
async function play(c, lines, note = async () => {}) {
  for (const line of lines) {
    if (line.startsWith('→')) {
      c.sendRaw(line.slice(1).trim());
    } else if (line.startsWith('←')) {
      const text = line.slice(1).trim();
      const got = await next(c, text);
      match(parseDoc(text), got, `${text}\n  got ${JSON.stringify(got)}\n `);
    } else {
      await note(line);
    }
  }
}

describe('PROTOCOL.md section 9, a complete session', () => {
  let server;
  before(async () => { server = await startServer([]); });
  after(async () => { await stopAndCheck(server); });

  it('alice\'s session and what bob receives are exactly as documented', async () => {
    const lines = blockAfter(PROTOCOL, '## 9. A complete session');
    assert.ok(lines.length > 10);
    const bob = await signIn(server.url, 'bob', { join: ['lobby'] });
    bob.drain();
    let alice;
    const bobReceives = async (text) => {
      const exp = parseDoc(text);
      const got = await bob.waitFor((m) => m.type === exp.type, { what: `bob: ${text}` });
      match(exp, got, `bob: ${text}`);
    };
    const note = async (line) => {
      if (line.startsWith('(connect')) {
        alice = await connect(server.url, { label: 'alice' });
      } else if (line.startsWith('(alice closes')) {
        await alice.close(1000);
      } else {
        const m = line.match(/^\(bob receives (\{.*\})\)$/);
        assert.ok(m, `a note the test does not know: ${line}`);
        await bobReceives(m[1]);
      }
    };
    // bob speaks when alice's next line is his chat
    const withBob = [];
    for (const line of lines) {
      const exp = line.startsWith('←') ? parseDoc(line.slice(1).trim()) : null;
      if (exp && exp.type === 'chat' && exp.from === 'bob') withBob.push(`(bob says ${JSON.stringify(exp)})`);
      withBob.push(line);
    }
    await play({ sendRaw: (t) => alice.sendRaw(t), waitFor: (...a) => alice.waitFor(...a) }, withBob, async (line) => {
      const says = line.match(/^\(bob says (\{.*\})\)$/);
      if (says) {
        const exp = JSON.parse(says[1]);
        await bob.ok('say', { room: exp.room, text: exp.text });
        return;
      }
      await note(line);
    });
    assert.deepEqual(alice.pending(), [], 'alice got nothing more');
    await bob.close();
  });
});

describe('the examples of section 2 and 4.1a', () => {
  it('numbers: 1e400 refused, 1.5e300 accepted', async () => {
    const server = await startServer([]);
    const c = await signIn(server.url, 'numbers');
    await play(c, blockAfter(PROTOCOL, '**Numbers.**'));
    await c.close();
    await stopAndCheck(server);
  });

  it('the rate limit comes first: rate_limited with re when the id could be read', async () => {
    const server = await startServer(['--rate-per-sec', '1', '--rate-burst', '3', '--rate-close-after', '60']);
    const c = await signIn(server.url, 'limited');
    await play(c, blockAfter(PROTOCOL, '**Order of checks.**'), async (line) => {
      assert.equal(line, '(the request bucket is empty)');
      const rs = await Promise.all([1, 2, 3].map(() => c.request('ping')));
      assert.equal(rs.at(-1).code, 'rate_limited');
    });
    await c.close();
    await stopAndCheck(server);
  });

  it('a ping while a login is pending', async () => {
    const server = await startServer(['--scrypt-log2n', '15']);
    const owner = await connect(server.url);
    await owner.nextEvent('welcome');
    await owner.ok('register', { name: 'Ann', password: 'correct horse' });
    await owner.close();
    const c = await connect(server.url);
    await c.nextEvent('welcome');
    await play(c, blockAfter(PROTOCOL, 'While a `register` or `login` waits for its reply'));
    await c.close();
    await stopAndCheck(server);
  });
});

describe('README, "Talking to the server"', () => {
  let server;
  before(async () => { server = await startServer([]); });
  after(async () => { await stopAndCheck(server); });

  it('the node one-liner, run as written, prints the documented lines', async () => {
    const lines = blockAfter(README, '## Talking to the server');
    const cmd = [];
    while (!lines[0].startsWith('{')) cmd.push(lines.shift());
    const script = cmd.join('\n').replace(/^\$ node -e "/, '').replace(/"$/, '').replace(/\\"/g, '"')
      .replace('ws://127.0.0.1:8080/ws', server.url);
    const proc = spawn(process.execPath, ['-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8');
    const printed = new Promise((resolve) => proc.stdout.on('data', (d) => {
      out += d;
      if (out.split('\n').filter(Boolean).length >= lines.length) resolve();
    }));
    try {
      await withTimeout(printed, 5000, () => `the one-liner printed only:\n${out}`);
    } finally {
      proc.kill();
    }
    const got = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(got.length, lines.length, out);
    lines.forEach((l, i) => match(parseDoc(l), got[i], `README line ${l}\n  got ${JSON.stringify(got[i])}\n `));
  });
});
