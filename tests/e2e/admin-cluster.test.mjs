// Browser test of the console on a node of a cluster (protocol/ADMIN.md "In a cluster"): with
// two nodes joined through one Redis, the console shows a nodes table listing both with their
// figures, and shows a node that stopped as silent.
//   node --test tests/e2e/admin-cluster.test.mjs
// Env as tests/e2e/admin.test.mjs (run scripts/copy-frontend-libs first).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage } from './harness.mjs';
import { startRedis, startNode } from '../integration/lib/cluster.mjs';
import { stopAndCheck } from '../integration/lib/harness.mjs';

const TOKEN = 'e2e-cluster-token';
const WAIT = 15_000;

let redis;
let a;
let b;
let dir;
let browser;

before(async () => {
  redis = await startRedis();
  dir = await mkdtemp(path.join(os.tmpdir(), 'parlor-e2e-cluster-'));
  const db = path.join(dir, 'parlor.db');
  a = await startNode(redis, 'node-a', ['--admin-token', TOKEN], { db });
  b = await startNode(redis, 'node-b', ['--admin-token', TOKEN], { db });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  await stopAndCheck(b);
  await stopAndCheck(a);
  await rm(dir, { recursive: true, force: true });
});

test('the console lists both nodes, and shows a stopped one as silent', async () => {
  const page = await newPage(browser);
  await page.goto(new URL('admin/', a.httpUrl).href);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT });
  await page.getByTestId('token-input').fill(TOKEN);
  await page.getByTestId('connect-button').click();

  await page.getByTestId('nodes-panel').waitFor({ state: 'visible', timeout: WAIT });
  const rows = page.getByTestId('node-row');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="node-row"]').length === 2,
    null, { timeout: WAIT });
  const names = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.node));
  assert.deepEqual(names, ['node-a', 'node-b']);
  const cells = await rows.first().locator('td').allTextContents();
  assert.equal(cells[0], 'node-a');
  assert.match(cells[4], /^\d+ ms$/, `loop lag cell: ${cells[4]}`);
  assert.equal(cells[6], 'up');

  await stopAndCheck(b);
  b = null;
  await page.locator('[data-testid="node-row"][data-node="node-b"][data-silent="true"]')
    .waitFor({ timeout: WAIT });
  assert.deepEqual(page.errors, []);
  await page.close();
});
