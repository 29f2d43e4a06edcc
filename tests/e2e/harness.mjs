// Helpers for the browser tests: the real parlor server through the integration harness
// (tests/integration/lib/harness.mjs), Debian's Chromium through playwright-core, the page
// steps every test repeats, and a TCP proxy that can fail like a network.

import net from 'node:net';
import { chromium } from 'playwright-core';
import { startServer as startParlor, stopAndCheck } from '../integration/lib/harness.mjs';

export { REPO } from '../integration/lib/harness.mjs';
export const WAIT_MS = 10_000;

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * The integration harness's server (PARLOR_BIN, a fresh database in a temporary directory that
 * is removed when the server exits, the caller's PARLOR_* variables kept out of its way), as the
 * browser tests use it: `url` is the page's address (http://127.0.0.1:port/), `stderr` the
 * server's log so far, `tmpdir` a directory for screenshots that goes with the server.
 * `stop()` sends SIGTERM and fails (throws) unless the server exits with code 0 and no
 * sanitizer report, as the integration tests' stopAndCheck does; calling it again is harmless.
 * opts: the integration harness's startServer options (e.g. { port } for a restart).
 */
export async function startServer(extraArgs = [], opts = {}) {
  const s = await startParlor(extraArgs, opts);
  return {
    port: s.port,
    url: `${s.httpUrl}/`,
    wsUrl: s.url,
    tmpdir: s.tmp,
    proc: s.proc,
    get stderr() { return s.stderr(); },
    stop: () => stopAndCheck(s),
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
}

/** A new context + page; uncaught page errors are collected in page.errors. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 700 }, ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(String(err && err.stack || err)));
  page.on('console', (msg) => { if (msg.type() === 'error') page.errors.push(`console: ${msg.text()}`); });
  return page;
}

/** Fills the sign-in form and waits until the lobby tab is shown and the status is connected. */
export async function signIn(page, url, name) {
  await page.goto(url);
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('signin-button').click();
  await page.locator('[data-testid="conn-status"][data-state="connected"]').waitFor({ timeout: WAIT_MS });
  await page.locator('[data-testid="room-tab"][data-room-id="lobby"][aria-selected="true"]').waitFor({ state: 'attached', timeout: WAIT_MS });
  await page.locator(`[data-testid="member-list"] [data-testid="member"][data-name="${name}"]`).waitFor({ state: 'attached', timeout: WAIT_MS });
}

/** Locator for a chat message in the visible room with the given sender and exact text. */
export function message(page, from, text) {
  return page.getByTestId('message-list').getByTestId('message')
    .filter({ has: page.getByTestId('message-from').getByText(from, { exact: true }) })
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort`, standing in for a network that can fail.
 * A page loaded from `proxy.url` talks to the server through it. `setOffline(true)` resets
 * every connection through it at once (TCP RST both ways: no WebSocket close frame reaches
 * either side, as when a network or a laptop goes away) and resets new connections until
 * `setOffline(false)`. `setOffline(true, { silent: true })` resets only the browser's side and
 * leaves the server's side open and silent, as when packets just stop arriving: the server
 * notices only when its idle timeout runs out.
 */
export async function startProxy(targetPort) {
  const pairs = new Set();
  const hanging = new Set();
  let offline = false;
  const reset = (sock) => {
    if (sock.destroyed) return;
    if (typeof sock.resetAndDestroy === 'function' && sock.readyState !== 'opening') sock.resetAndDestroy();
    else sock.destroy();
  };
  const srv = net.createServer((client) => {
    client.on('error', () => {});
    if (offline) {
      reset(client);
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    upstream.on('error', () => {});
    const pair = { client, upstream };
    pair.end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    pairs.add(pair);
    client.on('close', pair.end);
    upstream.on('close', pair.end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    setOffline(on, { silent = false } = {}) {
      offline = on;
      if (!on) return;
      for (const pair of pairs) {
        const { client, upstream } = pair;
        if (silent) {
          client.removeListener('close', pair.end);
          upstream.removeListener('close', pair.end);
          client.unpipe(upstream);
          upstream.unpipe(client);
          upstream.resume(); // whatever the server sends goes nowhere
          upstream.once('close', () => hanging.delete(upstream));
          hanging.add(upstream);
          reset(client);
        } else {
          reset(client);
          reset(upstream);
        }
      }
      pairs.clear();
    },
    close() {
      this.setOffline(true);
      for (const sock of hanging) sock.destroy();
      hanging.clear();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}
