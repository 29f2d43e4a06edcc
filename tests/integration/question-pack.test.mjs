// The question pack the server ships: questions/parlor-core.jsonl.
// Checks every rule of the pack's format that a program can check. Each failure names
// the line (1-based) and the field, and every failing line is reported, not just the first.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACK = fileURLToPath(new URL('../../questions/parlor-core.jsonl', import.meta.url));

const CATEGORIES = [
  'Science',
  'History',
  'Geography',
  'Literature',
  'Arts & Music',
  'Mathematics & Logic',
  'Nature',
  'Sports & Games',
];
const KEYS = ['category', 'text', 'choices', 'correct', 'lang'];
const MIN_TOTAL = 320;
const PER_CATEGORY = { min: 38, max: 45 };
const TEXT_LENGTH = { min: 10, max: 200 };
const CHOICE_MAX = 60;
const INDEX_SHARE = { min: 0.22, max: 0.28 };

/** Fails with every problem found, one per line of the message. */
function assertNoProblems(problems, what) {
  assert.equal(problems.length, 0, `${what}: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
}

/** Length in characters (code points), not UTF-16 units. */
const chars = (s) => [...s].length;

/** The key two question texts are compared by: case, punctuation and spaces ignored. */
const textKey = (s) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

describe('question pack questions/parlor-core.jsonl', () => {
  let raw; // the file as text
  let lines; // [{ n, src }] for every line
  let questions; // [{ n, q }] for the lines that parsed as objects with the right keys and types

  before(() => {
    const bytes = readFileSync(PACK);
    raw = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // throws on invalid UTF-8
    const body = raw.endsWith('\n') ? raw.slice(0, -1) : raw;
    lines = body.split('\n').map((src, i) => ({ n: i + 1, src }));
    questions = [];
    for (const { n, src } of lines) {
      let q;
      try {
        q = JSON.parse(src);
      } catch {
        continue;
      }
      if (
        q !== null && typeof q === 'object' && !Array.isArray(q) &&
        typeof q.category === 'string' && typeof q.text === 'string' &&
        Array.isArray(q.choices) && q.choices.length === 4 && q.choices.every((c) => typeof c === 'string') &&
        Number.isInteger(q.correct)
      ) questions.push({ n, q });
    }
  });

  it('is plain UTF-8 text: no BOM, no carriage returns, no blank lines', () => {
    const problems = [];
    if (raw.startsWith('\uFEFF')) problems.push('line 1: starts with a byte order mark');
    for (const { n, src } of lines) {
      if (src.includes('\r')) problems.push(`line ${n}: contains a carriage return`);
      if (src.trim() === '') problems.push(`line ${n}: blank line`);
      else if (src !== src.trim()) problems.push(`line ${n}: leading or trailing whitespace`);
    }
    assertNoProblems(problems, 'file format');
  });

  it('every line is a JSON object with exactly the keys category, text, choices, correct, lang', () => {
    const problems = [];
    for (const { n, src } of lines) {
      let q;
      try {
        q = JSON.parse(src);
      } catch (err) {
        problems.push(`line ${n}: not valid JSON (${err.message})`);
        continue;
      }
      if (q === null || typeof q !== 'object' || Array.isArray(q)) {
        problems.push(`line ${n}: not a JSON object`);
        continue;
      }
      const keys = Object.keys(q);
      for (const k of KEYS) if (!keys.includes(k)) problems.push(`line ${n}: ${k}: missing`);
      for (const k of keys) if (!KEYS.includes(k)) problems.push(`line ${n}: ${k}: unexpected key`);
    }
    assertNoProblems(problems, 'line structure');
  });

  it('every field has the right type, length and form', () => {
    const problems = [];
    for (const { n, src } of lines) {
      let q;
      try {
        q = JSON.parse(src);
      } catch {
        continue; // reported above
      }
      if (q === null || typeof q !== 'object' || Array.isArray(q)) continue;
      const bad = (field, why) => problems.push(`line ${n}: ${field}: ${why}`);

      if (q.lang !== 'en') bad('lang', `not "en" (${JSON.stringify(q.lang)})`);
      if (typeof q.category !== 'string') bad('category', `not a string (${JSON.stringify(q.category)})`);
      else {
        if (q.category !== q.category.trim()) bad('category', 'leading or trailing whitespace');
        if (!CATEGORIES.includes(q.category)) bad('category', `unknown category ${JSON.stringify(q.category)}`);
      }

      if (typeof q.text !== 'string') bad('text', `not a string (${JSON.stringify(q.text)})`);
      else {
        if (q.text !== q.text.trim()) bad('text', 'leading or trailing whitespace');
        const len = chars(q.text);
        if (len < TEXT_LENGTH.min || len > TEXT_LENGTH.max)
          bad('text', `${len} characters, want ${TEXT_LENGTH.min}–${TEXT_LENGTH.max}`);
        if (!q.text.endsWith('?')) bad('text', 'does not end with "?"');
        if (/\s{2,}/.test(q.text)) bad('text', 'contains repeated whitespace');
      }

      if (!Array.isArray(q.choices)) bad('choices', `not an array (${JSON.stringify(q.choices)})`);
      else {
        if (q.choices.length !== 4) bad('choices', `${q.choices.length} choices, want exactly 4`);
        const seen = new Map();
        q.choices.forEach((c, i) => {
          const field = `choices[${i}]`;
          if (typeof c !== 'string') {
            bad(field, `not a string (${JSON.stringify(c)})`);
            return;
          }
          if (c.trim() === '') bad(field, 'empty');
          else if (c !== c.trim()) bad(field, 'leading or trailing whitespace');
          if (chars(c) > CHOICE_MAX) bad(field, `${chars(c)} characters, want at most ${CHOICE_MAX}`);
          if (/\b(all|none) of the above\b/i.test(c)) bad(field, `"${c}" is not allowed`);
          const key = c.trim().toLowerCase();
          if (seen.has(key)) bad(field, `same as choices[${seen.get(key)}] (${JSON.stringify(c)})`);
          else seen.set(key, i);
        });
      }

      if (!Number.isInteger(q.correct)) bad('correct', `not an integer (${JSON.stringify(q.correct)})`);
      else if (q.correct < 0 || q.correct > 3) bad('correct', `${q.correct} is outside 0..3`);
    }
    assertNoProblems(problems, 'fields');
  });

  it(`has at least ${MIN_TOTAL} questions`, () => {
    assert.ok(lines.length >= MIN_TOTAL, `${lines.length} lines, want at least ${MIN_TOTAL}`);
  });

  it(`has ${PER_CATEGORY.min}–${PER_CATEGORY.max} questions in each of the ${CATEGORIES.length} categories`, () => {
    const counts = Object.fromEntries(CATEGORIES.map((c) => [c, 0]));
    for (const { q } of questions) if (q.category in counts) counts[q.category]++;
    const problems = [];
    for (const [c, k] of Object.entries(counts))
      if (k < PER_CATEGORY.min || k > PER_CATEGORY.max)
        problems.push(`category ${JSON.stringify(c)}: ${k} questions, want ${PER_CATEGORY.min}–${PER_CATEGORY.max}`);
    assertNoProblems(problems, 'category sizes');
  });

  it(`uses each answer index for ${INDEX_SHARE.min * 100}–${INDEX_SHARE.max * 100}% of the questions`, () => {
    const counts = [0, 0, 0, 0];
    for (const { q } of questions) if (q.correct >= 0 && q.correct <= 3) counts[q.correct]++;
    const total = counts.reduce((a, b) => a + b, 0);
    assert.ok(total > 0, 'no questions with a valid correct index');
    const problems = [];
    counts.forEach((k, i) => {
      const share = k / total;
      if (share < INDEX_SHARE.min || share > INDEX_SHARE.max)
        problems.push(`correct = ${i}: ${k} of ${total} questions (${(share * 100).toFixed(1)}%)`);
    });
    assertNoProblems(problems, `answer index spread ${JSON.stringify(counts)}`);
  });

  it('has no two questions with the same text (ignoring case, punctuation and spaces)', () => {
    const first = new Map();
    const problems = [];
    for (const { n, q } of questions) {
      const key = textKey(q.text);
      if (first.has(key)) problems.push(`line ${n}: text: same question as line ${first.get(key)}`);
      else first.set(key, n);
    }
    assertNoProblems(problems, 'duplicate texts');
  });
});
