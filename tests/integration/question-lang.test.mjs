// A question pack may say which language each question is in ("lang", a BCP 47 tag): the
// `question` event and a running game's snapshot (the `join` reply's `game`) carry it when the
// question has one and leave it out otherwise; a malformed tag fails the import, naming the
// line and the field, and stores nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAndCheck, signIn } from './lib/harness.mjs';

const TOKEN = 'lang-token';
const q = (text, lang) => JSON.stringify({ category: 'Язык', text, choices: ['а', 'б', 'в', 'г'], correct: 1,
  ...(lang === undefined ? {} : { lang }) });

describe('a question pack with languages', () => {
  let dir;
  let server;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-lang-'));
    const pack = path.join(dir, 'ru.jsonl');
    await writeFile(pack, `${q('Какой это язык?', 'ru')}\n${q('Which language is this?')}\n`);
    // a short pause after each reveal: the next question must come well within the 3 s wait
    server = await startServer(['--questions', pack, '--admin-token', TOKEN, '--scrypt-log2n', '12',
      '--quiz-reveal-ms', '300']);
  });
  after(async () => {
    await stopAndCheck(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('question events and the join snapshot carry lang when the question has one', async () => {
    const ann = await signIn(server.url, 'ann');
    const late = await signIn(server.url, 'late');
    const { room } = await ann.ok('create', { name: 'Языки', game: 'quiz', rounds: 2, seconds: 30 });
    await ann.ok('start', { room: room.id });
    const seen = {};
    for (let round = 1; round <= 2; round++) {
      const ev = await ann.nextEvent('question', { timeout: 3000 });
      seen[ev.text] = ev.lang;
      assert.equal('lang' in ev, ev.text === 'Какой это язык?', JSON.stringify(ev));
      const { game } = await late.ok('join', { room: room.id });
      assert.equal(game.question.text, ev.text);
      assert.equal(game.question.lang, ev.lang);
      assert.equal('lang' in game.question, 'lang' in ev);
      await late.ok('leave', { room: room.id });
      await ann.ok('answer', { room: room.id, round, choice: 1 }); // the only player: reveal at once
      await ann.nextEvent('reveal', { timeout: 3000 });
    }
    assert.deepEqual(seen, { 'Какой это язык?': 'ru', 'Which language is this?': undefined });
    await ann.close();
    await late.close();
  });

  it('POST /admin/import refuses a malformed lang, naming line and field, and stores nothing', async () => {
    const post = (body) => fetch(`${server.httpUrl}/admin/import?pack=langs`, {
      method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body,
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    for (const bad of ['r', 'russian', 'pt_BR', 'en-', 'en--US', 'en-x', 'en-abcdefghi', 'ру', 7, '',
      `en-${'abcdefgh-'.repeat(4)}ab`]) {
      const r = await post(`${q('Good one?', 'pt-BR')}\n${q('Bad one?', bad)}\n`);
      assert.equal(r.status, 400, `lang ${JSON.stringify(bad)}`);
      assert.match(r.body.error, /upload line 2: field 'lang'/);
    }
    const r = await post(`${q('Good one?', 'pt-BR')}\n${q('Good two?', 'sr-Latn-RS')}\n${q('Good three?', 'zh-Hant')}\n`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.added, 3, 'the refused uploads stored nothing');
  });
});
