// PROTOCOL.md §1, §2, §6, §8: malformed requests, frame-level violations, size limit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAndCheck, signIn, connect, describeMsg } from './lib/harness.mjs';

/** Wait for the next reply with re === null (requests without a readable id). */
function nullReply(c) {
  return c.waitFor((m) => (m.type === 'ok' || m.type === 'error') && m.re === null,
    { what: 'reply with re null' });
}


describe('bad input', () => {
  let server;
  let bystander;   // connected all along; must keep being served
  let n = 0;
  before(async () => {
    server = await startServer();
    bystander = await signIn(server.url, 'bystander', { join: ['lobby'] });
  });
  after(async () => {
    if (bystander) await bystander.close();
    await stopAndCheck(server);
  });

  const user = async () => signIn(server.url, `bad${++n}`);

  it('malformed JSON → bad_json with re null; connection stays usable', async () => {
    const c = await user();
    for (const raw of ['{', '{"type":"ping",', 'not json', '{"type":"ping" "id":1}', "{'type':'ping'}",
      '{"type":"ping","id":1}}', '', ' ']) {
      c.sendRaw(raw);
      const r = await nullReply(c);
      assert.equal(r.type, 'error', `${JSON.stringify(raw)} → ${describeMsg(r)}`);
      assert.equal(r.code, 'bad_json', `${JSON.stringify(raw)} → ${describeMsg(r)}`);
      assert.equal(typeof r.message, 'string');
      await c.ok('ping');
    }
    await c.close();
  });

  it('valid JSON that is not an object → bad_request with re null', async () => {
    const c = await user();
    for (const raw of ['[]', '[{"type":"ping","id":1}]', '42', '"ping"', 'null', 'true']) {
      c.sendRaw(raw);
      const r = await nullReply(c);
      assert.equal(r.type, 'error', `${raw} → ${describeMsg(r)}`);
      assert.equal(r.code, 'bad_request', `${raw} → ${describeMsg(r)}`);
      await c.ok('ping');
    }
    await c.close();
  });

  it('missing type or type not a string → bad_request field type', async () => {
    const c = await user();
    c.send({ id: 5 });
    let r = await c.reply(5);
    assert.deepEqual([r.type, r.code, r.field], ['error', 'bad_request', 'type'], describeMsg(r));
    for (const [i, type] of [[6, 5], [7, null], [8, ['ping']], [9, { t: 'ping' }], [10, true]]) {
      c.send({ type, id: i });
      r = await c.reply(i);
      assert.deepEqual([r.type, r.code, r.field], ['error', 'bad_request', 'type'], `type ${JSON.stringify(type)} → ${describeMsg(r)}`);
    }
    c.sendRaw('{}');
    r = await nullReply(c);
    assert.deepEqual([r.type, r.code, r.field], ['error', 'bad_request', 'type'], describeMsg(r));
    await c.ok('ping');
    await c.close();
  });

  it('id not an integer → bad_request field id (re null)', async () => {
    const c = await user();
    for (const id of ['1', 1.5, true, [1], { n: 1 }]) {
      c.send({ type: 'ping', id });
      const r = await nullReply(c);
      assert.deepEqual([r.type, r.code, r.field], ['error', 'bad_request', 'id'], `id ${JSON.stringify(id)} → ${describeMsg(r)}`);
      await c.ok('ping');
    }
    await c.close();
  });

  it('valid JSON is never bad_json: \\u0000 inside a string', async () => {
    const c = await user();
    await c.ok('join', { room: 'lobby' });
    c.sendRaw('{"type":"say","id":31,"room":"lobby","text":"a\\u0000b"}');
    const r = await c.waitFor((m) => (m.type === 'ok' || m.type === 'error') && (m.re === 31 || m.re === null),
      { what: 'reply to the say' });
    assert.notEqual(r.code, 'bad_json', `valid JSON answered with ${describeMsg(r)}`);
    await c.ok('leave', { room: 'lobby' });
    await c.close();
  });

  it('valid JSON is never bad_json: an id beyond 64 bits', async () => {
    const c = await user();
    c.sendRaw('{"type":"ping","id":99999999999999999999}');
    const r = await nullReply(c);
    assert.notEqual(r.code, 'bad_json', `valid JSON answered with ${describeMsg(r)}`);
    await c.ok('ping');
    await c.close();
  });

  it('a 64-bit id is echoed exactly', async () => {
    const c = await user();
    for (const id of ['9223372036854775807', '-9223372036854775808', '4611686018427387905']) {
      c.sendRaw(`{"type":"ping","id":${id}}`);
      await c.waitFor((m) => m.type === 'ok' && typeof m.re === 'number' && Math.abs(m.re) > 2 ** 53);
      assert.match(c.rawLog.at(-1), new RegExp(`"re":\\s*${id}[,}]`), c.rawLog.at(-1));
    }
    await c.close();
  });

  it('unknown type → unknown_type with re echoed', async () => {
    const c = await user();
    for (const [id, type] of [[11, 'dance'], [12, 'PING'], [13, ''], [14, 'ok'], [15, 'welcome']]) {
      c.send({ type, id });
      const r = await c.reply(id);
      assert.deepEqual([r.type, r.code], ['error', 'unknown_type'], `type ${JSON.stringify(type)} → ${describeMsg(r)}`);
    }
    await c.ok('ping');
    await c.close();
  });

  it('wrong field types for every request → bad_request naming the field', async () => {
    const c = await user();
    const cases = [
      ['create', { name: 5 }, 'name'],
      ['create', { name: 'ok', max: '12' }, 'max'],
      ['create', { name: 'ok', max: 12.5 }, 'max'],
      ['join', { room: 1 }, 'room'],
      ['leave', { room: [] }, 'room'],
      ['say', { room: 1, text: 'x' }, 'room'],
      ['say', { room: 'lobby', text: { a: 1 } }, 'text'],
      ['whisper', { to: 3, text: 'x' }, 'to'],
      ['whisper', { to: 'bystander', text: ['x'] }, 'text'],
    ];
    for (const [type, fields, field] of cases) await c.err(type, fields, 'bad_request', field);
    // hello has its own checks before sign-in; after sign-in a second hello is not_allowed
    const d = await connect(server.url, { label: 'fresh' });
    await d.nextEvent('welcome');
    await d.err('hello', { name: 5 }, 'bad_request', 'name');
    await d.close();
    await c.ok('ping');
    await c.close();
  });

  it('a message of exactly max_message bytes is answered', async () => {
    const c = await user();
    const base = JSON.stringify({ type: 'ping', id: 77, pad: '' });
    const msg = JSON.stringify({ type: 'ping', id: 77, pad: 'p'.repeat(8192 - Buffer.byteLength(base)) });
    assert.equal(Buffer.byteLength(msg), 8192);
    c.sendRaw(msg);
    assert.equal((await c.reply(77)).type, 'ok');
    await c.close();
  });

  async function expectClose(c, code) {
    const info = await c.closedWithin(5000);
    assert.equal(info.code, code, `expected close ${code}, got ${JSON.stringify(info)}`);
    // the bystander, connected all along, is still served
    await bystander.ok('ping');
    return info;
  }

  it('a message over max_message bytes → close 1009', async () => {
    const c = await user();
    const base = JSON.stringify({ type: 'ping', id: 78, pad: '' });
    c.sendRaw(JSON.stringify({ type: 'ping', id: 78, pad: 'p'.repeat(8193 - Buffer.byteLength(base)) }));
    await expectClose(c, 1009);
    assert.equal(c.log.filter((m) => m.re === 78).length, 0, 'the oversized request must not be answered');
  });

  it('the limit is in bytes, not characters: 4100 × "я" (8200 bytes) → close 1009', async () => {
    const c = await user();
    c.sendRaw(JSON.stringify({ type: 'ping', pad: 'я'.repeat(4100) }));
    await expectClose(c, 1009);
  });

  it('an oversized message before sign-in → close 1009', async () => {
    const c = await connect(server.url, { label: 'presignin' });
    await c.nextEvent('welcome');
    c.sendRaw('x'.repeat(20000));
    await expectClose(c, 1009);
  });

  it('a binary frame → close 1003', async () => {
    const c = await user();
    c.sendRaw(Buffer.from(JSON.stringify({ type: 'ping', id: 1 })), { binary: true });
    await expectClose(c, 1003);
  });

  it('invalid UTF-8 in a text frame → close 1007', async () => {
    const c = await user();
    c.sendRaw(Buffer.from([0xff, 0xfe]), { binary: false });
    await expectClose(c, 1007);
  });

  it('a client closed for invalid UTF-8 leaves at once: its name is free again', async () => {
    const c = await signIn(server.url, 'utf8bad');
    c.sendRaw(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false });
    await expectClose(c, 1007);
    // not a dropped connection kept for a rejoin (which would hold the name for 30 s)
    const again = await signIn(server.url, 'utf8bad');
    await again.close();
  });

  it('invalid UTF-8 inside a JSON string → close 1007', async () => {
    const c = await user();
    const head = Buffer.from('{"type":"say","room":"lobby","text":"');
    c.sendRaw(Buffer.concat([head, Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), { binary: false });
    await expectClose(c, 1007);
  });

  it('a fragmented message under the limit is reassembled and answered', async () => {
    const c = await user();
    const msg = JSON.stringify({ type: 'ping', id: 900, pad: 'z'.repeat(3000) });
    const parts = [msg.slice(0, 10), msg.slice(10, 1500), msg.slice(1500, 1501), msg.slice(1501)];
    parts.forEach((p, i) => c.sendRaw(p, { fin: i === parts.length - 1 }));
    assert.equal((await c.reply(900)).type, 'ok');
    // a multi-byte character split across fragments
    const text = 'ёж'.repeat(10);
    await c.ok('join', { room: 'lobby' });
    const say = Buffer.from(JSON.stringify({ type: 'say', id: 901, room: 'lobby', text }));
    const cut = say.indexOf(Buffer.from('ё')) + 1;   // in the middle of 'ё'
    c.sendRaw(say.subarray(0, cut), { fin: false });
    c.sendRaw(say.subarray(cut), { fin: true });
    assert.equal((await c.reply(901)).type, 'ok');
    assert.equal((await c.nextEvent('chat')).text, text);
    await c.ok('leave', { room: 'lobby' });
    await c.close();
  });

  it('fragments adding up to over max_message → close 1009', async () => {
    const c = await user();
    const msg = JSON.stringify({ type: 'ping', id: 902, pad: 'z'.repeat(9000) });
    c.sendRaw(msg.slice(0, 3000), { fin: false });
    c.sendRaw(msg.slice(3000, 6000), { fin: false });
    c.sendRaw(msg.slice(6000, 8000), { fin: false });
    c.sendRaw(msg.slice(8000), { fin: true });
    await expectClose(c, 1009);
    assert.equal(c.log.filter((m) => m.re === 902).length, 0);
  });

  it('the bystander saw nothing but joined/left/chat events and its own replies', async () => {
    await bystander.ok('ping');
    const odd = bystander.log.filter((m) => !['welcome', 'ok', 'joined', 'left', 'chat'].includes(m.type));
    assert.deepEqual(odd, []);
  });
});
