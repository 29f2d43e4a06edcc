// Smoke load test (run by ctest, see tests/CMakeLists.txt): starts the real server binary
// (PARLOR_BIN, the ASan debug build under ctest) on a free port and drives it with
// parlor-loadtest (PARLOR_LOADTEST): 300 connections of chat, then 300 of churn, then 40 quiz
// bots at tables of 8. It asserts correctness only — every delivery and every game event
// arrives, no error of any kind, games complete, and after each run the server is back to the
// file descriptors and connections it had before — never timings; and that a quiz run that
// completes no game exits non-zero.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../tests/integration/lib/harness.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.PARLOR_BIN || path.join(REPO, 'build/debug/parlor-server');
const WWW = process.env.PARLOR_WWW || path.join(REPO, 'www-static');
const LOADTEST = process.env.PARLOR_LOADTEST || path.join(REPO, 'build/debug/parlor-loadtest');
const CONNECTIONS = 300;
const SECONDS = 5;
const QUIZ_BOTS = 40; // 5 tables of 8

// The debug server runs under ASan: lift the per-connection rate limits (the load tester
// sends faster than a person) and give sign-in plenty of time; allow a room per churner. The
// quiz pauses 300 ms after each reveal instead of 3 s, so 5 s hold a few games per table.
const SERVER_FLAGS = [
  '--rate-per-sec', '100000', '--rate-burst', '100000',
  '--say-per-sec', '100000', '--say-burst', '100000',
  '--signin-timeout', '120', '--max-rooms', '5000', '--log-level', 'warn',
  '--quiz-reveal-ms', '300', '--questions', path.join(REPO, 'questions/parlor-core.jsonl'),
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.once('error', reject);
    p.once('close', (code, signal) => resolve({ code, signal, out }));
  });
}

describe('smoke load test', () => {
  let server;
  let serverErr = '';
  let exited;
  let tmp;
  let port;

  before(async () => {
    for (const f of [BIN, LOADTEST]) {
      await stat(f).catch(() => { throw new Error(`not found: ${f} (set PARLOR_BIN / PARLOR_LOADTEST)`); });
    }
    tmp = await mkdtemp(path.join(os.tmpdir(), 'parlor-smoke-'));
    port = await freePort();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLOR_')));
    server = spawn(BIN, ['--port', String(port), '--www', WWW, '--db', path.join(tmp, 'parlor.db'),
      ...SERVER_FLAGS], { stdio: ['ignore', 'ignore', 'pipe'], env });
    server.stderr.setEncoding('utf8');
    server.stderr.on('data', (d) => { serverErr += d; });
    exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 15000;
    while (!(await canConnect(port))) {
      if (server.exitCode !== null) throw new Error(`server died at startup:\n${serverErr}`);
      if (Date.now() > deadline) throw new Error(`server did not listen within 15 s:\n${serverErr}`);
      await sleep(50);
    }
  });

  after(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function loadtest(scenario, extra = [], connections = CONNECTIONS) {
    const json = path.join(tmp, `${scenario}.json`);
    const args = ['--url', `ws://127.0.0.1:${port}/ws`, '--scenario', scenario,
      '--connections', String(connections), '--duration', String(SECONDS), '--warmup', '0',
      '--drain', '30', '--setup-timeout', '60', '--connect-timeout', '60', '--settle', '30',
      '--server-pid', String(server.pid), '--expect-baseline', '--max-errors', '0',
      '--json', json, '--quiet', ...extra];
    const res = await run(LOADTEST, args);
    const report = JSON.parse(await readFile(json, 'utf8').catch(() => 'null'));
    assert.ok(report, `no JSON report; parlor-loadtest said:\n${res.out}`);
    const context = `\nparlor-loadtest ${args.join(' ')}\n${res.out}\n--- server stderr ---\n${serverErr}`;
    return { res, report, context };
  }

  function assertClean({ res, report, context }, connections = CONNECTIONS) {
    assert.equal(report.errors.total, 0, `errors: ${JSON.stringify(report.errors)}${context}`);
    assert.equal(report.deliveries.lost, 0, `lost deliveries${context}`);
    assert.equal(report.deliveries.received, report.deliveries.expected, context);
    assert.equal(report.messages.unanswered, 0, context);
    assert.equal(report.connections.failed, 0, context);
    assert.equal(report.connections.signed_in >= connections, true, context);
    for (const code of Object.keys(report.close_codes)) {
      assert.equal(code, '1000', `close codes ${JSON.stringify(report.close_codes)}${context}`);
    }
    const srv = report.server;
    assert.equal(srv.fds.end, srv.fds.baseline, `server fds ${JSON.stringify(srv.fds)}${context}`);
    assert.equal(srv.conns.end, srv.conns.baseline, `server connections ${JSON.stringify(srv.conns)}${context}`);
    assert.equal(srv.returned_to_baseline, true, context);
    assert.equal(res.code, 0, `exit code ${res.code}${context}`);
  }

  it(`chat: ${CONNECTIONS} clients in rooms of 50, 2 messages/s each, every delivery arrives`, async () => {
    const r = await loadtest('chat', ['--room-size', '50', '--rate', '2']);
    assertClean(r);
    assert.ok(r.report.messages.sent >= CONNECTIONS, `too few messages sent${r.context}`);
    assert.equal(r.report.deliveries.expected, r.report.messages.sent * 50, r.context);
    assert.equal(r.report.connections.ready, CONNECTIONS, r.context);
    assert.equal(r.report.server.fds.loaded >= r.report.server.fds.baseline + CONNECTIONS, true,
      `the server should have held a descriptor per client${r.context}`);
  });

  it(`churn: ${CONNECTIONS} clients connect, sign in, chat once and leave, over and over`, async () => {
    const r = await loadtest('churn');
    assertClean(r);
    assert.ok(r.report.churn.cycles > 0, `no churn cycle completed${r.context}`);
    assert.equal(r.report.deliveries.expected, r.report.messages.sent, r.context);
  });

  it(`quiz: ${QUIZ_BOTS} bots at tables of 8 play 2-round games back to back, every event arrives`, async () => {
    const r = await loadtest('quiz', ['--room-size', '8', '--quiz-rounds', '2', '--quiz-seconds', '1'],
      QUIZ_BOTS);
    assertClean(r, QUIZ_BOTS);
    const q = r.report.quiz;
    assert.ok(q, `no quiz figures in the report${r.context}`);
    assert.equal(q.tables, QUIZ_BOTS / 8, r.context);
    assert.equal(r.report.connections.ready, QUIZ_BOTS, r.context);
    assert.ok(q.games_completed >= q.tables, `every table should finish a game${r.context}`);
    // every game started was played to its end, by all 8 at its table
    assert.equal(q.starts.ok, q.games_completed, r.context);
    assert.equal(q.starts.rejected, 0, r.context);
    assert.equal(q.events.game_started, q.games_completed * 8, r.context);
    assert.equal(q.events.game_over, q.games_completed * 8, r.context);
    assert.equal(q.events.question, q.games_completed * 8 * 2, r.context);
    assert.equal(q.events.reveal, q.events.question, r.context);
    assert.equal(q.events.lost, 0, r.context);
    assert.equal(q.events.out_of_order, 0, r.context);
    assert.equal(q.events.unfinished_bots, 0, r.context);
    // each question was answered once, or revealed before the bot's turn (a deadline missed)
    assert.ok(q.answers.sent > 0, r.context);
    assert.equal(q.answers.sent + q.answers.not_sent, q.events.question, r.context);
    assert.equal(q.answers.ok, q.answers.sent, r.context);
    assert.equal(q.answers.unanswered, 0, r.context);
    assert.ok(r.report.latency_ms.answer.count > 0, r.context);
    assert.equal(r.report.result.no_games, false, r.context);
  });

  it('quiz: a run that completes no game exits non-zero', async () => {
    // the window closes 0.1 s after the first games start, and nothing waits for them
    const json = path.join(tmp, 'quiz-none.json');
    const args = ['--url', `ws://127.0.0.1:${port}/ws`, '--scenario', 'quiz',
      '--connections', String(QUIZ_BOTS), '--duration', '0.1', '--drain', '0',
      '--setup-timeout', '60', '--connect-timeout', '60', '--json', json, '--quiet'];
    const res = await run(LOADTEST, args);
    const report = JSON.parse(await readFile(json, 'utf8').catch(() => 'null'));
    const context = `\nparlor-loadtest ${args.join(' ')}\n${res.out}`;
    assert.ok(report, `no JSON report${context}`);
    assert.equal(report.quiz.games_completed, 0, context);
    assert.equal(report.result.no_games, true, context);
    assert.equal(report.result.errors_breached, false, context); // no --max-errors: not why
    assert.equal(res.code, 1, `exit code ${res.code}${context}`);
    assert.match(res.out, /no quiz game completed/, context);
  });

  it('the server exits cleanly afterwards (no leak, no sanitizer report)', async () => {
    server.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.doesNotMatch(serverErr, /AddressSanitizer|LeakSanitizer|runtime error:/, serverErr);
    assert.equal(code, 0, `exit code ${code} signal ${signal}\n${serverErr}`);
  });
});
