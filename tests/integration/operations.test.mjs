// Operating the server (issue "admin console"): /healthz, /metrics with and without the admin
// token, and the drain: SIGTERM tells players, refuses new sign-ins and games, lets a running
// game finish, answers 503 on /healthz meanwhile, then exits 0; Ctrl-C (SIGINT) exits at once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, connect, signIn } from './lib/harness.mjs';
import { rawUpgrade, assertRefused } from './lib/raw-http.mjs';

const TOKEN = 'ops-token';

async function get(server, path, headers = {}) {
  const r = await fetch(`${server.httpUrl}${path}`, { headers });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
}

function metricValue(text, name) {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

describe('health and metrics', () => {
  it('/healthz answers ok; /metrics needs the token and counts what happened', async () => {
    const server = await startServer(['--admin-token', TOKEN]);
    const h = await get(server, '/healthz');
    assert.equal(h.status, 200);
    assert.equal(JSON.parse(h.text).status, 'ok');

    assert.equal((await get(server, '/metrics')).status, 401);
    const c = await signIn(server.url, 'counted', { join: ['lobby'] });
    await c.ok('say', { room: 'lobby', text: 'one' });
    await new Promise((r) => setTimeout(r, 1200)); // one sample of the once-a-second figures
    const m = await get(server, '/metrics', { authorization: `Bearer ${TOKEN}` });
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain; version=0\.0\.4/);
    assert.equal(metricValue(m.text, 'parlor_connections'), 1);
    assert.equal(metricValue(m.text, 'parlor_users'), 1);
    assert.ok(metricValue(m.text, 'parlor_messages_in_total') >= 3); // hello, join, say
    assert.ok(metricValue(m.text, 'parlor_db_jobs_total') >= 1);     // the say's commit
    assert.ok(metricValue(m.text, 'process_resident_memory_bytes') > 1e6);
    assert.match(m.text, /^parlor_db_job_seconds_bucket\{le="\+Inf"\} \d+$/m);
    // the say's ok came after its batch committed: one message saved, in one timed commit
    assert.equal(metricValue(m.text, 'parlor_chat_messages_saved_total'), 1);
    assert.equal(metricValue(m.text, 'parlor_chat_commit_seconds_count'), 1);
    assert.equal(metricValue(m.text, 'parlor_chat_commit_wait_seconds_count'), 1);
    const p99 = m.text.match(/^parlor_chat_commit_seconds\{quantile="0\.99"\} (\S+)$/m);
    assert.ok(p99 && Number(p99[1]) > 0 && Number(p99[1]) === metricValue(m.text, 'parlor_chat_commit_seconds_sum'),
      'the one commit is every quantile and the sum');
    await c.close();
    await stopAndCheck(server);

    const open = await startServer(['--metrics-public']);
    assert.equal((await get(open, '/metrics')).status, 200);
    await stopAndCheck(open);
  });
});

describe('/healthz counts', () => {
  it('connections and users are counted when asked, not at the last one-second sample', async () => {
    // the figures are sampled once a second; these steps take a few milliseconds each, so a
    // count read from the samples would lag behind them
    const server = await startServer([]);
    const counts = async () => {
      const h = JSON.parse((await get(server, '/healthz')).text);
      return [h.connections, h.users];
    };
    assert.deepEqual(await counts(), [0, 0]);
    const a = await signIn(server.url, 'first');
    assert.deepEqual(await counts(), [1, 1]);
    const b = await connect(server.url);
    await b.nextEvent('welcome');
    assert.deepEqual(await counts(), [2, 1], 'a connection not signed in yet is no user');
    await b.ok('hello', { name: 'second' });
    assert.deepEqual(await counts(), [2, 2]);
    await Promise.all([a.close(), b.close()]);
    await stopAndCheck(server);
  });
});

describe('drain', () => {
  it('SIGTERM tells players, refuses sign-ins, lets the running game finish, then exits 0', async () => {
    const server = await startServer(['--drain-seconds', '20', '--quiz-reveal-ms', '200',
      '--admin-token', TOKEN]);
    const host = await signIn(server.url, 'host');
    const { room } = await host.ok('create', { name: 'Last game', game: 'quiz', rounds: 2, seconds: 1 });
    await host.ok('start', { room: room.id });
    await host.nextEvent('question');
    const late = await connect(server.url); // open before the drain, signs in during it
    await late.nextEvent('welcome');

    server.proc.kill('SIGTERM');
    const shutdown = await host.nextEvent('shutdown', { timeout: 3000 });
    assert.equal(shutdown.seconds, 20);
    const health = await get(server, '/healthz');
    assert.equal(health.status, 503);
    assert.equal(JSON.parse(health.text).status, 'draining');
    // a new handshake gets 503, as a load balancer expects; the console may still watch
    await assertRefused(assert, { port: server.port }, 503, 'the server is shutting down');
    const op = await rawUpgrade({ port: server.port, path: '/admin/ws', protocol: 'parlor-admin.v1' });
    assert.equal(op.statusLine, 'HTTP/1.1 101 Switching Protocols');
    // a connection open before the drain may not sign in
    assert.equal((await late.request('hello', { name: 'latecomer' })).code, 'server_busy');
    await late.close();

    const over = await host.nextEvent('game_over', { timeout: 8000 }); // the game finishes
    assert.equal(over.ranking[0].name, 'host');
    const closed = await host.closed;
    assert.equal(closed.code, 1001);
    const { code } = await server.exited;
    assert.equal(code, 0);
    assert.deepEqual(server.sanitizerLines(), []);
    await server.stop(); // already gone: this only tidies its files
  });

  it('SIGINT does not wait for games', async () => {
    const server = await startServer(['--drain-seconds', '20']);
    const host = await signIn(server.url, 'host2');
    const { room } = await host.ok('create', { name: 'Cut short', game: 'quiz', rounds: 5, seconds: 10 });
    await host.ok('start', { room: room.id });
    const t0 = Date.now();
    server.proc.kill('SIGINT');
    assert.equal((await host.closed).code, 1001);
    assert.equal((await server.exited).code, 0);
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(server.sanitizerLines(), []);
    await server.stop();
  });
});
