// parlor-client (clients/js) against the real server: the README's example as pasted, a
// dropped connection whose missed chat the application still sees once and in order, and a
// burst of says that the send queue spreads out so that the server refuses none.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, stopAndCheck, connect, signIn, REPO, NO_RATE_LIMITS } from './lib/harness.mjs';
import { ParlorClient } from '../../clients/js/src/index.js';

/** A `ws` WebSocket that also records every frame it receives, as the server sent it. */
function recordingSocket(frames) {
  return class extends WebSocket {
    constructor(url, protocol) {
      super(url, protocol);
      this.addEventListener('message', (ev) => frames.push(JSON.parse(ev.data)));
    }
  };
}

const waitFor = async (pred, what, ms = 15000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the README example', () => {
  let server;
  let tmp;
  before(async () => {
    server = await startServer();
    // a directory where `parlor-client` resolves to clients/js, as after `npm install`
    tmp = await mkdtemp(path.join(os.tmpdir(), 'parlor-readme-'));
    await mkdir(path.join(tmp, 'node_modules'));
    await symlink(path.join(REPO, 'clients/js'), path.join(tmp, 'node_modules/parlor-client'), 'dir');
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(tmp, { recursive: true, force: true });
  });

  it('runs as pasted and says hello in the lobby', async () => {
    const readme = await readFile(path.join(REPO, 'clients/js/README.md'), 'utf8');
    const block = /```js\n([\s\S]*?)```/.exec(readme);
    assert.ok(block, 'the README has a ```js block');
    const code = block[1];
    assert.ok(code.split('\n').filter((l) => l.trim()).length <= 10, 'ten lines at most');
    assert.ok(code.includes("'ws://127.0.0.1:8080/ws'"), 'the example talks to make run\'s port');
    const file = path.join(tmp, 'bot.mjs');
    await writeFile(file, code.replace('ws://127.0.0.1:8080/ws', server.url));

    const watcher = await signIn(server.url, 'watcher');
    await watcher.ok('join', { room: 'lobby' });
    const out = await new Promise((resolve, reject) => {
      execFile(process.execPath, [file], { cwd: tmp, timeout: 20000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    assert.match(out, /the lobby's last 0 messages are in the join reply/);
    assert.match(out, /#1 readme-bot: hello from parlor-client/);
    const chat = await watcher.nextEvent('chat');
    assert.deepEqual([chat.from, chat.text, chat.seq], ['readme-bot', 'hello from parlor-client', 1]);
    // close() sent a close frame: the bot left at once instead of being kept for a rejoin
    const left = await watcher.nextEvent('left');
    assert.equal(left.name, 'readme-bot');
    watcher.close();
  });
});

describe('a drop and a resume with missed messages', () => {
  let server;
  // a replay of 5 at most: 30 missed messages leave a gap that only `history` fills
  before(async () => { server = await startServer([...NO_RATE_LIMITS, '--resume-replay', '5']); });
  after(async () => { await stopAndCheck(server); });

  for (const missed of [3, 30]) {
    it(`the application sees every message once and in order (${missed} missed)`, async () => {
      const frames = [];
      const client = new ParlorClient({
        url: server.url, WebSocket: recordingSocket(frames),
        // the test reconnects with reconnectNow(), once the messages were said
        reconnect: { base: 60000, max: 60000, jitter: 0 },
      });
      const seen = [];
      client.on('chat', (m) => seen.push(m));
      await client.connect();
      await client.hello(`dropper${missed}`);
      const room = (await client.create({ name: `drop ${missed}` })).room.id;

      const other = await signIn(server.url, `talker${missed}`);
      await other.ok('join', { room });
      for (let i = 1; i <= 4; i++) await other.ok('say', { room, text: `before ${i}` });
      await waitFor(() => seen.length === 4, 'the first four messages');

      // the TCP connection ends without a close frame: the server keeps the session
      const closed = new Promise((r) => client.once('close', r));
      client.socket.terminate();
      const close = await closed;
      assert.equal(close.code, 1006);
      assert.equal(close.reconnecting, true);
      for (let i = 1; i <= missed; i++) await other.ok('say', { room, text: `missed ${i}` });

      const back = new Promise((r) => client.once('signedin', r));
      client.reconnectNow();
      const { reply } = await back;
      assert.equal(reply.rejoined, true);
      const report = reply.replay[room];
      assert.equal(report.recovered, missed <= 5, JSON.stringify(report));
      await other.ok('say', { room, text: 'after' });
      await waitFor(() => seen.length === 4 + missed + 1, 'every message');
      await new Promise((r) => setTimeout(r, 100)); // a duplicate would arrive by now

      const expected = [
        ...[1, 2, 3, 4].map((i) => `before ${i}`),
        ...Array.from({ length: missed }, (_, i) => `missed ${i + 1}`),
        'after',
      ];
      assert.deepEqual(seen.map((m) => m.text), expected);
      assert.deepEqual(seen.map((m) => m.seq), expected.map((_, i) => i + 1));
      if (missed > 5) {
        // the gap was filled from history, not replayed
        assert.ok(frames.some((f) => f.type === 'ok' && Array.isArray(f.messages)), 'a history page arrived');
      }
      other.close();
      await client.close();
    });
  }
});

describe('a burst of says', () => {
  let server;
  before(async () => { server = await startServer(); }); // the default rates: 5 says a second, 10 at once
  after(async () => { await stopAndCheck(server); });

  it('goes out within the rate limits: every say is saved, none is refused', async () => {
    const frames = [];
    const client = new ParlorClient({ url: server.url, WebSocket: recordingSocket(frames) });
    const seen = [];
    client.on('chat', (m) => seen.push(m.text));
    await client.connect();
    assert.equal(client.limits.say_burst, 10);
    await client.hello('burster');
    await client.join('lobby');
    const n = 20; // twice the burst
    const texts = Array.from({ length: n }, (_, i) => `burst ${i}`);
    const replies = await Promise.all(texts.map((t) => client.say('lobby', t)));
    assert.deepEqual(replies.map((r) => r.seq), texts.map((_, i) => i + 1));
    assert.deepEqual(seen, texts);
    assert.deepEqual(frames.filter((f) => f.type === 'error'), [], 'no error reached the wire');
    await client.close();
  });
});
