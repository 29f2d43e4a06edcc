// Browser test of the quiz table view against the real server (PROTOCOL.md 4.10):
//   node --test tests/e2e/
// Two guests play a quiz room with 2 rounds of 3 seconds; a third joins mid-game and watches.
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, launchBrowser, newPage, signIn, message, REPO } from './harness.mjs';

const QUIZ_WAIT = 15_000; // the longest any single wait may take
const ROUNDS = 2;
const SECONDS = 3;

let server;
let browser;

before(async () => {
  // The pack path is given absolutely: the server's default is relative to its working directory.
  server = await startServer(['--questions', path.join(REPO, 'questions', 'parlor-core.jsonl')]);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    await server.stop(); // fails unless it exits 0 with no sanitizer report
  }
});

/** The quiz board of `page` once it shows `phase` (and `round`, if given). */
function board(page, phase, round) {
  const sel = `[data-testid="quiz"][data-phase="${phase}"]${round ? `[data-round="${round}"]` : ''}`;
  return page.locator(sel);
}

async function waitBoard(page, phase, round) {
  const b = board(page, phase, round);
  await b.waitFor({ timeout: QUIZ_WAIT });
  return b;
}

const choice = (page, i) => page.locator(`[data-testid="quiz-choice"][data-index="${i}"]`);

/** Clicks choice `i` and checks that it is marked and the other choices are disabled. */
async function answer(page, i) {
  await choice(page, i).click({ timeout: QUIZ_WAIT });
  await page.locator(`[data-testid="quiz-choice"][data-index="${i}"][data-chosen="true"]`).waitFor({ timeout: QUIZ_WAIT });
  for (let j = 0; j < 4; j++) {
    assert.equal(await choice(page, j).isDisabled(), true, `choice ${j} is still enabled after answering ${i}`);
  }
}

/** Index of the choice marked correct on `page`; exactly one must be. */
async function correctIndex(page) {
  const marked = page.locator('[data-testid="quiz-choice"][data-correct="true"]');
  await marked.first().waitFor({ timeout: QUIZ_WAIT });
  assert.equal(await marked.count(), 1, 'exactly one choice is highlighted as correct');
  return Number(await marked.getAttribute('data-index'));
}

async function questionShown(page, round) {
  const b = await waitBoard(page, 'question', round);
  const text = await b.getByTestId('quiz-question').textContent();
  assert.ok(text && text.trim().length > 0, 'the question has text');
  assert.equal(await b.getByTestId('quiz-choice').count(), 4);
  for (const c of await b.getByTestId('quiz-choice').all()) {
    assert.ok((await c.locator('.choice-text').textContent()).trim().length > 0, 'a choice has text');
  }
  // the countdown: a bar and a seconds counter between 0 and the room's seconds
  await b.getByTestId('quiz-countdown').waitFor({ timeout: QUIZ_WAIT });
  const secs = await b.getByTestId('quiz-seconds').textContent();
  const m = /^(\d+) s$/.exec(secs);
  assert.ok(m, `seconds counter reads "${secs}"`);
  assert.ok(Number(m[1]) >= 0 && Number(m[1]) <= SECONDS, `seconds counter ${m[1]} is within 0..${SECONDS}`);
  return text;
}

test('two players play a two-round quiz to the final ranking', async () => {
  const a = await newPage(browser);
  const b = await newPage(browser);
  const c = await newPage(browser, { viewport: { width: 390, height: 844 } }); // a phone-sized watcher

  await signIn(a, server.url, 'alice');
  await signIn(b, server.url, 'bob');
  await signIn(c, server.url, 'carol');

  // A creates a quiz room with 2 rounds of 3 s.
  await a.getByTestId('create-game-quiz').check();
  await a.getByTestId('create-name').fill('Quiz night');
  await a.getByTestId('create-rounds').fill(String(ROUNDS));
  await a.getByTestId('create-seconds').fill(String(SECONDS));
  await a.getByTestId('create-button').click();
  const idleA = await waitBoard(a, 'idle');
  await idleA.getByTestId('quiz-start').waitFor();
  await idleA.getByTestId('quiz-host').getByText('alice').waitFor();

  // B sees it in the room list as a waiting quiz room hosted by alice, and joins.
  await b.getByTestId('rooms-refresh').click();
  const item = b.locator('[data-testid="room-item"][data-game="quiz"]').filter({ hasText: 'Quiz night' });
  await item.waitFor();
  assert.equal(await item.getAttribute('data-state'), 'waiting');
  await item.getByTestId('room-host').filter({ hasText: 'alice' }).waitFor();
  await item.getByTestId('room-join').click();
  const idleB = await waitBoard(b, 'idle');
  await idleB.getByTestId('quiz-host').getByText('alice').waitFor();
  assert.equal(await b.getByTestId('quiz-start').count(), 0, 'only the host has a Start button');
  await a.locator('[data-testid="quiz-player"][data-name="bob"]').waitFor();

  // A starts; both see question 1 with its countdown.
  await a.getByTestId('quiz-start').click();
  const q1a = await questionShown(a, 1);
  const q1b = await questionShown(b, 1);
  assert.equal(q1a, q1b, 'both players see the same question');

  // A answers the first choice, B the second.
  await answer(a, 0);
  await answer(b, 1);

  // Both see the reveal (every player answered), with the same correct choice highlighted
  // and each one's own pick marked wrong if it was.
  await waitBoard(a, 'reveal', 1);
  await waitBoard(b, 'reveal', 1);
  const correct = await correctIndex(a);
  assert.equal(await correctIndex(b), correct);
  for (const [page, picked] of [[a, 0], [b, 1]]) {
    const pick = choice(page, picked);
    assert.equal(await pick.getAttribute('data-chosen'), 'true');
    assert.equal(await pick.getAttribute('data-wrong'), String(picked !== correct));
    assert.equal(await page.locator('[data-testid="quiz-choice"][data-wrong="true"]').count(), picked === correct ? 0 : 1);
    // every player's points for the round
    await page.locator('[data-testid="quiz-player"][data-name="alice"] [data-testid="quiz-delta"]').waitFor();
    await page.locator('[data-testid="quiz-player"][data-name="bob"] [data-testid="quiz-delta"]').waitFor();
  }
  const deltaA = await a.locator('[data-testid="quiz-player"][data-name="alice"] [data-testid="quiz-delta"]').textContent();
  const deltaB = await a.locator('[data-testid="quiz-player"][data-name="bob"] [data-testid="quiz-delta"]').textContent();
  assert.equal(deltaA === '+0', correct !== 0, `alice's delta ${deltaA} with correct choice ${correct}`);
  assert.equal(deltaB === '+0', correct !== 1, `bob's delta ${deltaB} with correct choice ${correct}`);

  // Round 2 follows the reveal pause.
  await questionShown(a, 2);
  await questionShown(b, 2);

  // C joins mid-game: the join reply's snapshot shows the game, and C only watches.
  await c.getByTestId('toggle-sidebar').click();
  await c.getByTestId('rooms-refresh').click();
  const itemC = c.locator('[data-testid="room-item"][data-game="quiz"][data-state="playing"]').filter({ hasText: 'Quiz night' });
  await itemC.getByTestId('room-join').click();
  await c.getByTestId('quiz-watching').waitFor({ timeout: QUIZ_WAIT });
  await c.getByTestId('quiz-question').waitFor({ timeout: QUIZ_WAIT });
  assert.equal(await c.locator('[data-testid="quiz-choice"]:not([disabled])').count(), 0, 'a watcher cannot answer');

  // Chat keeps working beside the game.
  await a.getByTestId('message-input').fill('good luck!');
  await a.getByTestId('message-input').press('Enter');
  await message(b, 'alice', 'good luck!').waitFor();

  // In round 2 only A answers; B lets the time run out.
  await answer(a, 2);
  await waitBoard(a, 'reveal', 2);
  await waitBoard(b, 'reveal', 2);
  assert.equal(await correctIndex(a), await correctIndex(b));
  await b.getByTestId('quiz-feedback').filter({ hasText: 'No answer.' }).waitFor();
  assert.equal(await b.locator('[data-testid="quiz-choice"][data-chosen="true"]').count(), 0);

  // Game over: the final ranking lists both players with ranks, on both pages (and the watcher's).
  const shots = [];
  for (const page of [a, b, c]) {
    const over = await waitBoard(page, 'over');
    const rows = over.getByTestId('quiz-ranking-item');
    await rows.nth(1).waitFor();
    const ranking = [];
    for (const row of await rows.all()) {
      ranking.push({ name: await row.getAttribute('data-name'), rank: Number(await row.getAttribute('data-rank')) });
    }
    assert.deepEqual(ranking.map((r) => r.name).sort(), ['alice', 'bob']);
    assert.equal(ranking[0].rank, 1, 'the first row has rank 1');
    assert.ok(ranking[1].rank === 1 || ranking[1].rank === 2, `the second rank is ${ranking[1].rank}`);
    assert.equal(await over.getByTestId('quiz-rank').first().textContent(), '1');
  }
  // the host can start another game
  await board(a, 'over').getByTestId('quiz-start').waitFor();

  // The leaderboard opens from the header (guests are not on it).
  await a.getByTestId('leaderboard-button').click();
  await a.locator('[data-testid="leaderboard"][open]').waitFor();
  await a.locator('[data-testid="leaderboard-entry"], [data-testid="leaderboard-empty"]').first().waitFor();
  await a.getByTestId('leaderboard-close').click();

  for (const [page, name] of [[a, 'quiz-alice.png'], [c, 'quiz-carol-phone.png']]) {
    const shot = path.join(server.tmpdir, name);
    await page.screenshot({ path: shot, fullPage: true });
    shots.push(shot);
  }
  console.log(`screenshots: ${shots.join(' ')}`);

  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  assert.deepEqual(c.errors, []);
  await a.context().close();
  await b.context().close();
  await c.context().close();
});
