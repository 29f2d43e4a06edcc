// Browser test of a question's language label (PROTOCOL.md 4.10, `lang`):
//   PARLOR_BIN=build/debug/parlor-server node --test tests/e2e/question-lang.test.mjs
// A pack in Russian ("lang": "ru") played on an English page: the question shows a small label
// naming its language in the page's language, which follows a switch of the page's language,
// and the question and its choices carry lang="ru" for screen readers and hyphenation.
// Env: PARLOR_BIN (default build/debug/parlor-server), PARLOR_WWW (default www-static).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, newPage, signIn } from './harness.mjs';

let dir;
let server;
let browser;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-e2e-lang-'));
  const pack = path.join(dir, 'ru.jsonl');
  await writeFile(pack, `${JSON.stringify({ category: 'Наука', text: 'Какой газ составляет около 78% атмосферы Земли?',
    choices: ['Углекислый газ', 'Кислород', 'Аргон', 'Азот'], correct: 3, lang: 'ru' })}\n`);
  server = await startServer(['--questions', pack]);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  test(`a question with a language shows its label (${viewport.width}x${viewport.height})`, async () => {
    const page = await newPage(browser, { viewport });
    await signIn(page, server.url, `p${viewport.width}`);
    if (viewport.width < 600) await page.getByTestId('toggle-sidebar').click(); // the room drawer
    await page.getByTestId('create-game-quiz').check();
    await page.getByTestId('create-name').fill(`Языки ${viewport.width}`);
    await page.getByTestId('create-rounds').fill('1');
    await page.getByTestId('create-seconds').fill('60');
    await page.getByTestId('create-button').click();
    await page.getByTestId('quiz-start').click();
    const board = page.locator('[data-testid="quiz"][data-phase="question"]');
    await board.waitFor();

    const label = board.getByTestId('quiz-lang');
    assert.equal(await label.textContent(), 'Russian');
    assert.equal(await label.getAttribute('title'), 'This question is in Russian');
    assert.equal(await board.getByTestId('quiz-question').getAttribute('lang'), 'ru');
    for (const c of await board.locator('[data-testid="quiz-choice"] .choice-text').all()) {
      assert.equal(await c.getAttribute('lang'), 'ru');
    }
    await page.screenshot({ path: path.join(os.tmpdir(), `parlor-lang-en-${viewport.width}.png`) });

    // the label is in the page's language, and follows a switch of it
    await page.locator('[data-lang="ru"]').first().click();
    await board.locator('[data-testid="quiz-lang"]', { hasText: 'Русский' }).waitFor();
    assert.equal(await label.getAttribute('title'), 'Язык вопроса: Русский');
    await page.screenshot({ path: path.join(os.tmpdir(), `parlor-lang-ru-${viewport.width}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
