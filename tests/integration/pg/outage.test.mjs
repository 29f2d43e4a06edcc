// PostgreSQL restarts while parlor runs (issue 13): live chat goes on, a message whose save
// failed gets an error (never an `ok` that was not saved), workers reconnect by themselves, and
// saving resumes without restarting parlor. PostgreSQL only: ctest runs it as
// integration_pg_outage, alone (it restarts the cluster every PostgreSQL suite shares).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startServer, stopAndCheck, signIn, dbQuery, sleep, DB_ENGINE, PG_URI, REPO, NO_RATE_LIMITS } from '../lib/harness.mjs';
import path from 'node:path';

describe('PostgreSQL restarts during chat', () => {
  it('saves resume after a restart; nothing acknowledged is lost', async () => {
    assert.equal(DB_ENGINE, 'pg', 'PARLOR_TEST_PG must name the test cluster (tests/CMakeLists.txt)');
    const clusterDir = new URL(PG_URI.replace(/^postgres(ql)?:/, 'http:')).searchParams.get('host');
    const server = await startServer(NO_RATE_LIMITS);
    const a = await signIn(server.url, 'talker', { join: ['lobby'] });
    const b = await signIn(server.url, 'listener', { join: ['lobby'] });
    const acked = [];
    const before = await a.ok('say', { room: 'lobby', text: 'before' });
    acked.push(before.seq);
    assert.equal((await b.nextEvent('chat')).text, 'before');

    execFileSync(path.join(REPO, 'scripts/pg-test-cluster'), ['restart', clusterDir]);

    // Until every worker has reconnected, a save may fail: its sender gets `internal`, and the
    // message was still delivered live. Keep talking until saves succeed again.
    let failures = 0;
    let resumed = 0;
    for (let i = 0; i < 200 && resumed < 10; i++) {
      const r = await a.request('say', { room: 'lobby', text: `after ${i}` });
      const live = await b.nextEvent('chat');
      assert.equal(live.text, `after ${i}`, 'live chat keeps working');
      if (r.type === 'ok') {
        acked.push(r.seq);
        resumed++;
      } else {
        assert.equal(r.type, 'error', JSON.stringify(r));
        assert.ok(['internal', 'server_busy'].includes(r.code), JSON.stringify(r));
        failures++;
        resumed = 0;
        await sleep(100);
      }
    }
    assert.equal(resumed, 10, `saving did not resume (failures: ${failures})`);
    assert.ok(failures >= 1, 'the restart cut the workers\' connections: some save must fail');

    const db = server.args[server.args.indexOf('--db') + 1];
    const stored = new Set(dbQuery(db, "SELECT seq FROM messages WHERE room = 'lobby'")
      .split('\n').map(Number));
    assert.deepEqual(acked.filter((s) => !stored.has(s)), [], 'acknowledged messages missing');
    assert.match(server.stderr(), /reconnected to PostgreSQL/);
    await Promise.all([a.close(), b.close()]);
    await stopAndCheck(server);
  });
});
