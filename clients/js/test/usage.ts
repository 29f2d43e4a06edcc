// Checked by `tsc --noEmit` (ctest: clients_js_types), never run: the README's calls, typed as a
// TypeScript application would write them. A declaration that drifts from them fails the check.
import { ParlorClient, ParlorError, AdminClient, type ChatEvent, type ErrorCode } from 'parlor-client';

declare const console: { log(...args: unknown[]): void };

async function main(): Promise<void> {
  const client = new ParlorClient({ url: 'ws://127.0.0.1:8080/ws', reconnect: { base: 250 } });
  client.on('chat', (m: ChatEvent) => console.log(`${m.room} #${m.seq} ${m.from}: ${m.text}`));
  client.on('question', (q) => console.log(q.round, q.of, q.choices[0], q.deadline - Date.now()));
  client.on('reveal', (r) => console.log(r.correct, r.scores.map((s) => s.score)));
  client.on('game_over', (g) => console.log(g.ranking[0]?.rank));
  client.on('close', (c) => console.log(c.code, c.reconnecting, c.delay, c.error?.request));
  const welcome = await client.connect();
  const n: number = welcome.limits.text_max;
  const me = await client.hello('ann');
  const token: string = me.token;
  const joined = await client.join('lobby');
  for (const h of joined.history) console.log(h.seq);
  if (joined.game) console.log(joined.game.phase, joined.game.correct);
  const { seq } = await client.say('lobby', 'hello');
  const older: ChatEvent[] = await client.history('lobby', { before: seq, limit: 10 });
  const quiz = await client.create({ name: 'Friday', game: 'quiz', rounds: 3, seconds: 10 });
  await client.start(quiz.room.id);
  await client.answer(quiz.room.id, 1, 2);
  const board = await client.leaderboard(5);
  console.log(board.entries[0]?.points, board.me?.rank, n, token, older.length);
  try {
    await client.whisper('nobody', 'hi');
  } catch (e) {
    if (e instanceof ParlorError) {
      const code: ErrorCode = e.code;
      console.log(code, e.field, e.until);
    }
  }
  const resumed = await client.resume(token, { lobby: seq });
  console.log(resumed.replay?.lobby?.recovered);
  await client.close();
  const again = new ParlorClient({ url: 'ws://127.0.0.1:8080/ws' });
  again.restore({ token, name: 'ann' });
  again.on('sessionlost', ({ error }) => console.log(error.code));
  again.reopen();

  const admin = new AdminClient({ url: 'ws://127.0.0.1:8080/admin/ws' });
  admin.on('stats', (s) => console.log(s.connections));
  const auth = await admin.start('secret');
  console.log(auth.version, (await admin.users('a'))[0]?.away);
  await admin.ban({ kind: 'address', target: '203.0.113.0/24' });
}

void main;
