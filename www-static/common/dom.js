// DOM and connection helpers shared by the players' page (app.js and app/) and the operators'
// console (admin/admin.js). Text always goes in as text nodes, never as markup; no inline
// styles (the pages' Content-Security-Policy forbids them): dynamic values go through the CSSOM.

import { ParlorError } from '../lib/parlor-client/index.js';

export const $ = (id) => document.getElementById(id);

/** Creates an element. Children that are strings become text nodes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else if (k === 'css') for (const [prop, val] of Object.entries(v)) node.style.setProperty(prop, val);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

export const pad2 = (n) => String(n).padStart(2, '0');

/** "14:05" (or "14:05:09" with `seconds`) in local time for a Date. */
export function clockText(d, seconds = false) {
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  return seconds ? `${hm}:${pad2(d.getSeconds())}` : hm;
}

/** The page's WebSocket URL for `path` on the same origin (wss: under https:). */
export function wsUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}

/** A request that failed because there was no connection (not the server's refusal). */
export const isOffline = (err) => !!err && (err.code === 'disconnected' || err.code === 'closed');

/**
 * Sends a request through a parlor-client connection when `ready` says the page may (connected,
 * or signed in); otherwise rejects at once with `disconnected` instead of queueing it for a
 * connection that may never come.
 */
export function sendRequest(client, ready, type, fields = {}) {
  if (!client || !ready) return Promise.reject(new ParlorError('disconnected', 'not connected to the server'));
  return client.request(type, fields);
}

/**
 * While `client` waits to reconnect, calls `fn(n)` every `everyMs` with the whole seconds until
 * its next attempt (client.reconnectAt); stops by itself once it no longer waits. Returns a
 * function that stops it.
 */
export function reconnectCountdown(client, fn, everyMs) {
  let timer = null;
  const stop = () => {
    clearInterval(timer);
    timer = null;
  };
  const tick = () => {
    if (client.state !== 'reconnecting') {
      stop();
      return;
    }
    fn(Math.max(0, Math.ceil((client.reconnectAt - Date.now()) / 1000)));
  };
  tick();
  if (client.state === 'reconnecting') timer = setInterval(tick, everyMs);
  return stop;
}
