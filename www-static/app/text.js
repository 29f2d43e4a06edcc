// The players' page: words and formats a person reads. Translated elements (tr), times, a
// name's colour, room names as the player reads them, and the checks of names and text that
// PROTOCOL.md section 4 makes, so the form can say what is wrong before the server does.

import { t, bind, getLang } from '../i18n.js';
import { el, clockText } from '../common/dom.js';
import { DEFAULT_LIMITS, codePoints, state } from './state.js';

// ---------------------------------------------------------------------------------------------
// translated elements, times, a name's colour

/** An element whose text is the translated `key`, kept translated on language change. */
export function tr(tag, key, args, props = {}) {
  return bind(el(tag, props), key, args);
}

export function hhmm(ts) {
  const d = new Date(ts);
  if (!Number.isFinite(d.getTime())) return '--:--';
  return clockText(d);
}

export function fullTime(ts) {
  const d = new Date(ts);
  return Number.isFinite(d.getTime()) ? d.toLocaleString(getLang()) : '';
}

export function nameHue(name) {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return h % 360;
}

// ---------------------------------------------------------------------------------------------
// validation (same rules as PROTOCOL.md section 4)

export function validName(name) {
  const max = state.limits.name_max || DEFAULT_LIMITS.name_max;
  if (typeof name !== 'string') return false;
  const n = codePoints(name.normalize('NFC'));
  // letters, marks and digits of any script (the server also refuses mixed scripts)
  return n >= 1 && n <= max && /^[\p{L}\p{Mn}\p{Mc}\p{Nd}_-]+$/u.test(name);
}

export function validRoomName(name) {
  const n = codePoints(name);
  return n >= 1 && n <= state.limits.room_name_max && !/\p{Cc}/u.test(name) && name.trim() !== '';
}

/** Why `text` cannot be sent as a say or whisper, as [i18n key, args], or null. */
export function textProblem(text) {
  if (text.trim() === '') return ['text.empty'];
  const n = codePoints(text);
  if (n > state.limits.text_max) return ['text.tooLong', { n, max: state.limits.text_max }];
  return null;
}

// ---------------------------------------------------------------------------------------------
// words a person reads (issue 16, words part): room names the server makes, layout helpers

/** A room's name as the player reads it: the lobby's is the server's, in the page's language. */
export function roomLabel(r) {
  const name = String(r.name ?? r.id);
  return r.id === 'lobby' && name === 'Lobby' ? t('room.lobby') : name;
}

/** A room name short enough for the composer's placeholder on a phone. */
export function shortLabel(r) {
  const name = [...roomLabel(r)];
  return name.length > 18 ? `${name.slice(0, 17).join('')}…` : name.join('');
}
