// systemd's notification protocol (README "Installing"; the unit is Type=notify with a
// watchdog): with NOTIFY_SOCKET set, the server sends READY=1 once it listens, WATCHDOG=1 from
// a loop timer at half of WATCHDOG_USEC, and STOPPING=1 when SIGTERM starts the drain. The
// socket is a unix datagram socket read by a small python helper (node has none).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startServer, signIn, tcpProbe, withTimeout, sleep } from './lib/harness.mjs';

const HELPER = fileURLToPath(new URL('./lib/notify-socket.py', import.meta.url));

/** A notification socket: { path, messages: [{text, at}], next(pred, what), close() }. */
async function notifySocket() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-notify-'));
  const sockPath = path.join(dir, 'notify.sock');
  const proc = spawn('python3', [HELPER, sockPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages = [];
  const waiters = [];
  let bound;
  const isBound = new Promise((resolve) => { bound = resolve; });
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    if (line === 'bound') { bound(); return; }
    const m = { text: JSON.parse(line), at: performance.now() };
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  await withTimeout(isBound, 5000, 'the notify socket helper did not start');
  return {
    path: sockPath,
    messages,
    /** The index of the first message from `from` on whose fields include `field`. */
    async next(field, from = 0, timeout = 5000) {
      const find = () => messages.findIndex((m, i) => i >= from && m.text.split('\n').includes(field));
      const deadline = Date.now() + timeout;
      for (let i = find(); ; i = find()) {
        if (i >= 0) return i;
        if (Date.now() > deadline) {
          throw new Error(`no ${field} within ${timeout} ms; got ${JSON.stringify(messages.map((m) => m.text))}`);
        }
        await Promise.race([new Promise((r) => waiters.push(r)), sleep(100)]);
      }
    },
    count(field) { return messages.filter((m) => m.text.split('\n').includes(field)).length; },
    async close() {
      proc.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// 1 s keeps the test clear of scheduling noise on a loaded machine: pings come every 500 ms,
// and systemd would only act on a gap of a whole second.
const WATCHDOG_USEC = 1000000;

describe('sd_notify', () => {
  it('READY=1 once listening, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM', async () => {
    const sock = await notifySocket();
    try {
      const server = await startServer([], {
        env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: String(WATCHDOG_USEC) },
      });
      const ready = await sock.next('READY=1');
      assert.equal(ready, 0, 'READY=1 comes first');
      assert.ok(await tcpProbe(server.port), 'listening when READY=1 arrives');

      // the first ping comes with READY=1; then five more, each within the watchdog's
      // interval of the last (what systemd checks) and none much sooner than half of it (the
      // timer follows WATCHDOG_USEC)
      let i = await sock.next('WATCHDOG=1', ready + 1);
      const at = [sock.messages[i].at];
      for (let n = 0; n < 5; n++) {
        i = await sock.next('WATCHDOG=1', i + 1);
        at.push(sock.messages[i].at);
      }
      const gaps = at.slice(1).map((t, k) => t - at[k]);
      for (const g of gaps) {
        assert.ok(g < WATCHDOG_USEC / 1000, `a watchdog gap of ${g} ms: ${gaps}`);
        assert.ok(g > WATCHDOG_USEC / 4000, `a watchdog gap of ${g} ms: ${gaps}`);
      }
      assert.equal(sock.count('STOPPING=1'), 0);

      const code = await server.stop();
      assert.equal(code, 0, server.stderr());
      await sock.next('STOPPING=1', i + 1);
      assert.equal(sock.count('READY=1'), 1);
      assert.deepEqual(server.sanitizerLines(), []);
    } finally {
      await sock.close();
    }
  });

  it('STOPPING=1 when the drain begins, while games finish; the watchdog keeps pinging', async () => {
    const sock = await notifySocket();
    try {
      const server = await startServer(['--drain-seconds', '20', '--quiz-reveal-ms', '200'], {
        env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: String(WATCHDOG_USEC) },
      });
      const host = await signIn(server.url, 'host');
      const { room } = await host.ok('create', { name: 'Last game', game: 'quiz', rounds: 2, seconds: 2 });
      await host.ok('start', { room: room.id });
      await host.nextEvent('question');

      server.proc.kill('SIGTERM');
      await host.nextEvent('shutdown', { timeout: 3000 });
      const stopping = await sock.next('STOPPING=1');
      // the server is still up, finishing the game, and still pinging the watchdog
      await sock.next('WATCHDOG=1', stopping + 1);
      assert.ok(await tcpProbe(server.port), 'still running during the drain');
      assert.equal(server.proc.exitCode, null);

      await host.nextEvent('game_over', { timeout: 15000 });
      assert.equal((await server.exited).code, 0);
      assert.equal(sock.count('STOPPING=1'), 1);
      assert.deepEqual(server.sanitizerLines(), []);
      await server.stop();
    } finally {
      await sock.close();
    }
  });

  it('no watchdog pings without WATCHDOG_USEC, nor when WATCHDOG_PID names another process', async () => {
    for (const env of [{}, { WATCHDOG_USEC: String(WATCHDOG_USEC), WATCHDOG_PID: '1' }]) {
      const sock = await notifySocket();
      try {
        const server = await startServer([], { env: { NOTIFY_SOCKET: sock.path, ...env } });
        await sock.next('READY=1');
        // a ping would have come twice over by now
        await sleep(WATCHDOG_USEC / 1000 * 1.5);
        assert.equal(await server.stop(), 0, server.stderr());
        await sock.next('STOPPING=1');
        assert.equal(sock.count('WATCHDOG=1'), 0, JSON.stringify(env));
      } finally {
        await sock.close();
      }
    }
  });
});
