// Helpers for the browser tests: start the real parlor server on a free port, launch Debian's
// Chromium through playwright-core, and clean both up.

import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, tcpProbe, trackServer } from '../integration/lib/harness.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WAIT_MS = 10_000;

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts PARLOR_BIN (default build/debug/parlor-server) with a fresh database in a temporary
 * directory, plus `extraArgs`. Resolves once 127.0.0.1:port accepts TCP connections.
 */
export async function startServer(extraArgs = []) {
  const bin = path.resolve(REPO, process.env.PARLOR_BIN || 'build/debug/parlor-server');
  const www = path.resolve(REPO, process.env.PARLOR_WWW || 'www-static');
  if (!existsSync(bin)) {
    throw new Error(`server binary not found: ${bin} (build it first, or set PARLOR_BIN)`);
  }
  const tmpdir = await mkdtemp(path.join(os.tmpdir(), 'parlor-e2e-'));
  const port = await freePort();
  const args = ['--port', String(port), '--www', www, '--db', path.join(tmpdir, 'parlor.db'), '--log-level', 'warn', ...extraArgs];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackServer(child); // a test that fails before stopping it must not leave node --test waiting
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => { exited = { code, signal }; resolve(exited); });
    child.once('error', (err) => { exited = { code: null, signal: null, err }; resolve(exited); });
  });

  const server = {
    port, tmpdir, child, url: `http://127.0.0.1:${port}/`,
    get stderr() { return stderr; },
    get stdout() { return stdout; },
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const killer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      const result = await exitPromise;
      clearTimeout(killer);
      return result;
    },
  };

  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (exited) {
      const how = exited.err ? exited.err.message : `code ${exited.code}, signal ${exited.signal}`;
      throw new Error(`parlor server exited before listening (${how}): ${bin} ${args.join(' ')}\n--- stderr ---\n${stderr}`);
    }
    if (await tcpProbe(port)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`parlor server did not listen on 127.0.0.1:${port} within ${WAIT_MS} ms: ${bin} ${args.join(' ')}\n--- stderr ---\n${stderr}`);
    }
    await sleep(50);
  }
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
