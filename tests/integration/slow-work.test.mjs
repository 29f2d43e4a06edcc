// The promise of the design (issue "storage"): slow work never blocks the loop. While a hot
// backup of a database of over 100 MB runs and a burst of sign-ups hashes passwords with the
// real scrypt cost (128 MiB each), no ping of a second client waits behind a job. The measured
// figures are printed; how fast pings are is for `make bench`, not for a test on a shared
// machine, so the test asserts only what a blocked loop would show.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, connect, signIn, NO_RATE_LIMITS, sleep } from './lib/harness.mjs';

const ROWS = 200000; // x ~530 bytes each: over 100 MB
const TOKEN = 'slow-work-admin-token';

function sqlite(db, sql) {
  return execFileSync('sqlite3', [db, sql], { encoding: 'utf8' }).trim();
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function admin(server, method) {
  const r = await fetch(`${server.httpUrl}/admin/backup`, {
    method, headers: { authorization: `Bearer ${TOKEN}` },
  });
  return { status: r.status, body: await r.json() };
}

describe('slow work never blocks the loop', () => {
  it('pings stay fast during a 100 MB hot backup and a burst of password hashes',
    { skip: process.env.PARLOR_UNDER_VALGRIND ? 'too slow under valgrind' : false },
    async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-slow-'));
    const db = path.join(dir, 'parlor.db');
    const backups = path.join(dir, 'backups');
    execFileSync('mkdir', ['-p', backups]);
    try {
      // the server creates the schema; then the file is filled behind its back
      await stopAndCheck(await startServer([], { db }));
      sqlite(db, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${ROWS})
                  INSERT INTO messages SELECT 'archive', x, 'filler', hex(randomblob(250)), x FROM c;`);
      const size = (await stat(db)).size + (await stat(`${db}-wal`).catch(() => ({ size: 0 }))).size;
      assert.ok(size >= 100e6, `database is only ${size} bytes`);

      const server = await startServer(['--admin-token', TOKEN, '--backup-dir', backups,
        ...NO_RATE_LIMITS], { db });
      const pinger = await signIn(server.url, 'pinger');
      const chatter = await signIn(server.url, 'chatter', { join: ['lobby'] });

      // the slow work: one hot backup, eight sign-ups at the default scrypt cost
      const started = await admin(server, 'POST');
      assert.equal(started.status, 202, JSON.stringify(started.body));
      const signups = Promise.all(Array.from({ length: 8 }, async (_, i) => {
        const c = await connect(server.url);
        await c.nextEvent('welcome');
        const r = await c.request('register', { name: `slow${i}`, password: 'a-real-password' },
          { timeout: 60000 });
        await c.close();
        return r;
      }));
      let signupsDone = false;
      signups.then(() => { signupsDone = true; });

      // chat keeps committing while the backup copies: the snapshot must not restart
      let chatting = true;
      const chat = (async () => {
        let n = 0;
        while (chatting) {
          await chatter.ok('say', { room: 'lobby', text: `during backup ${n++}` });
          await sleep(20);
        }
        return n;
      })();

      const rtts = [];
      let backup = started.body;
      const t0 = Date.now();
      while ((backup.state === 'running' || !signupsDone) && Date.now() - t0 < 120000) {
        const sent = process.hrtime.bigint();
        await pinger.ok('ping');
        rtts.push(Number(process.hrtime.bigint() - sent) / 1e6);
        if (rtts.length % 10 === 0) backup = (await admin(server, 'GET')).body;
        await sleep(10);
      }
      chatting = false;
      const said = await chat;
      const replies = await signups;
      backup = (await admin(server, 'GET')).body;

      rtts.sort((a, b) => a - b);
      const p50 = percentile(rtts, 50);
      const p99 = percentile(rtts, 99);
      const max = rtts[rtts.length - 1];
      const figures = `${rtts.length} pings over ${Date.now() - t0} ms of slow work: ` +
        `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms; ` +
        `backup of ${backup.pages_total} pages (${(size / 1e6).toFixed(0)} MB) in ` +
        `${backup.finished - backup.started} ms; 8 scrypt sign-ups; ${said} chat messages committed meanwhile`;
      t.diagnostic(figures);
      console.log(`# slow-work figures: ${figures}`);

      assert.equal(backup.state, 'done', JSON.stringify(backup));
      for (const r of replies) assert.equal(r.type, 'ok', JSON.stringify(r));
      assert.ok(rtts.length >= 20, `only ${rtts.length} pings: the slow work was too quick to measure`);
      // a ping that waited behind a job would take as long as one: a scrypt hash (~300 ms,
      // more under ASan) or a backup step. 250 ms leaves room for a busy two-core machine
      // (111 ms seen with four builds running beside it) and not for a blocked loop.
      assert.ok(max < 250, `a ping took ${max.toFixed(2)} ms: something blocked the loop`);

      // the backup is whole, consistent, and has everything that was there when it started
      const files = (await readdir(backups)).filter((f) => f.endsWith('.db'));
      assert.deepEqual(files, [path.basename(backup.file)]);
      assert.equal(sqlite(backup.file, 'PRAGMA integrity_check'), 'ok');
      assert.equal(sqlite(backup.file, "SELECT count(*) FROM messages WHERE room = 'archive'"), String(ROWS));

      await Promise.all([pinger.close(), chatter.close()]);
      await stopAndCheck(server);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
