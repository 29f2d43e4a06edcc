// Screenshots of the player's page for review (issue 16): English and Russian, desktop
// (1280x800) and phone (390x844), in the lobby, in a quiz room during a question and a reveal,
// and with the phone's member drawer open. Written to build/screenshots/ (not committed; see
// README, "The browser client"). The test also checks what a screenshot would show wrong:
// nothing on the page is wider than the screen, and the own name is shown on both sizes.
//   PARLOR_BIN=build/debug/parlor-server node --test tests/e2e/screenshots.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startServer, launchBrowser, newPage, signIn, REPO } from './harness.mjs';

const OUT = path.join(REPO, 'build', 'screenshots');
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const QUIZ_WAIT = 20_000;

let server;
let browser;

before(async () => {
  await mkdir(OUT, { recursive: true });
  server = await startServer(['--questions', path.join(REPO, 'questions', 'parlor-core.jsonl'), '--quiz-reveal-ms', '60000']);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function shoot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
}

/** Nothing sticks out sideways (a clipped or scrolling page on a phone). */
async function fitsWidth(page, what) {
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(over <= 0, `${what}: the page is ${over}px wider than the screen`);
}

async function everyView(page, label, extra) {
  for (const lang of ['en', 'ru']) {
    await page.getByTestId(`lang-${lang}`).click();
    for (const [size, vp] of Object.entries(SIZES)) {
      await page.setViewportSize(vp);
      await page.waitForTimeout(150); // the drawers' transition
      await fitsWidth(page, `${label} ${lang} ${size}`);
      assert.ok(await page.getByTestId('me').isVisible(), `${label} ${lang} ${size}: own name not shown`);
      await shoot(page, `player-${label}-${lang}-${size}`);
      if (extra && size === 'phone') await extra(page, lang);
    }
  }
  await page.getByTestId('lang-en').click();
  await page.setViewportSize(SIZES.desktop);
}

test('screenshots of the player page, English and Russian, desktop and phone', async () => {
  const ann = await newPage(browser, { viewport: SIZES.desktop });
  const bob = await newPage(browser, { viewport: SIZES.desktop });
  await signIn(ann, server.url, 'anastasia_k');
  await signIn(bob, server.url, 'bob');
  for (const line of ['Привет всем!', 'hello, who is up for a quiz?']) {
    await ann.getByTestId('message-input').fill(line);
    await ann.getByTestId('message-input').press('Enter');
  }
  await bob.getByTestId('message-list').getByText('hello, who is up for a quiz?').waitFor();
  await everyView(bob, 'lobby', async (page, lang) => {
    await page.getByTestId('toggle-members').click();
    await page.waitForTimeout(250);
    await shoot(page, `player-lobby-${lang}-phone-members`);
    await page.keyboard.press('Escape');
  });

  // a quiz room with a Russian name, two players, a question on the board
  await ann.getByTestId('create-game-quiz').check();
  await ann.getByTestId('create-name').fill('Викторина');
  await ann.getByTestId('create-rounds').fill('3');
  await ann.getByTestId('create-seconds').fill('90');
  await ann.getByTestId('create-button').click();
  await ann.locator('[data-testid="quiz-start"]').waitFor();
  await bob.getByTestId('rooms-refresh').click();
  await bob.locator('[data-testid="room-item"]', { hasText: 'Викторина' }).getByTestId('room-join').click();
  await ann.locator('[data-testid="member"][data-name="bob"]').waitFor();
  await ann.getByTestId('quiz-start').click();
  await bob.locator('[data-testid="quiz"][data-phase="question"]').waitFor({ timeout: QUIZ_WAIT });
  await everyView(bob, 'quiz-question');

  // the reveal (the server holds it for a minute here)
  await bob.locator('[data-testid="quiz-choice"]').first().click();
  await ann.locator('[data-testid="quiz-choice"]').nth(1).click();
  await bob.locator('[data-testid="quiz"][data-phase="reveal"]').waitFor({ timeout: QUIZ_WAIT });
  await everyView(bob, 'quiz-reveal');
  assert.deepEqual(ann.errors, []);
  assert.deepEqual(bob.errors, []);
});
