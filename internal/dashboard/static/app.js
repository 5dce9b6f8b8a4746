// Vigil local dashboard: plain JavaScript, no build step, nothing loaded from
// elsewhere. The browser signs in into a server-side session held in an HttpOnly
// cookie: this script never sees a key or the session id. State-changing calls
// carry the session's CSRF token (from the sign-in or whoami answer) in a header.
'use strict';

const $ = (sel) => document.querySelector(sel);
const SVG = 'http://www.w3.org/2000/svg';
const MAX_ROWS = 500;

// Earlier versions kept an API key here; nothing is stored in the browser now.
localStorage.removeItem('vigil.key');
localStorage.removeItem('vigil.org');

const state = {
  signedIn: false,
  csrf: '',
  org: 'local',
  dets: new Map(), // id -> detection
  selected: '',
  streaming: false,
  streamAbort: null,
};

class AuthError extends Error {}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

// ---- JSON with exact integers ----
// Event times are Unix nanoseconds, beyond the 2^53 a JavaScript number holds
// exactly: integers that do not fit are parsed as BigInt, and printed back as
// they came.

const BIG = '\u0000bigint:';

function parseJSON(text) {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') { // skip the string, escapes included
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      continue;
    }
    if (c !== '-' && (c < '0' || c > '9')) continue;
    let j = i + 1;
    while (j < text.length && /[0-9.eE+\-]/.test(text[j])) j++;
    const num = text.slice(i, j);
    if (/^-?\d+$/.test(num) && !Number.isSafeInteger(Number(num))) {
      out += text.slice(from, i) + JSON.stringify(BIG + num);
      from = j;
    }
    i = j - 1;
  }
  out += text.slice(from);
  return JSON.parse(out, (k, v) => (typeof v === 'string' && v.startsWith(BIG) ? BigInt(v.slice(BIG.length)) : v));
}

function stringifyJSON(v) {
  const s = JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? BIG + x.toString() : x), 2);
  return s.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

async function call(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.method && opts.method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  const r = await fetch(path, { ...opts, headers, credentials: 'same-origin', cache: 'no-store' });
  const text = await r.text();
  let body = {};
  try { body = parseJSON(text); } catch (e) { /* not JSON */ }
  if (r.status === 401 || r.status === 403) throw new AuthError(body.error || r.statusText);
  if (!r.ok) throw new Error(path + ': ' + r.status + ' ' + (body.error || ''));
  return body;
}

function setStatus(text, live) {
  const s = $('#status');
  s.textContent = text;
  s.className = 'status ' + (live ? 'live' : 'off');
}

function showLogin(msg) {
  state.signedIn = false;
  state.csrf = '';
  if (state.streamAbort) state.streamAbort.abort();
  state.dets.clear();
  state.selected = '';
  // nothing of the org's data stays in the page
  $('#detections').replaceChildren();
  $('#det-count').textContent = '0';
  $('#timeline').replaceChildren();
  $('#sensors tbody').replaceChildren();
  $('#d-meta').replaceChildren();
  $('#d-ancestry').replaceChildren();
  $('#d-event').textContent = '';
  $('#detail-body').hidden = true;
  $('#detail-empty').hidden = false;
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = msg || '';
  $('#org').textContent = '';
  setStatus('signed out', false);
}

function showApp() {
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#logout').hidden = false;
  $('#org').textContent = 'org ' + state.org;
}

async function signIn(body) {
  const r = await fetch('/dashboard/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin',
  });
  const out = await r.json().catch(() => ({}));
  if (!r.ok) throw new AuthError(out.error || 'sign-in failed');
  state.csrf = out.csrf;
  state.org = out.org;
}

// A one-time login link is /login#<token>: the token stays out of the server's
// logs and the history; it is exchanged for a session cookie.
async function exchangeLoginToken() {
  if (location.pathname !== '/login' || location.hash.length < 2) return;
  const token = decodeURIComponent(location.hash.slice(1));
  history.replaceState(null, '', '/');
  await signIn({ token });
}

async function signOut() {
  try {
    await call('/dashboard/logout', { method: 'POST' });
  } catch (err) { /* signed out either way */ }
  showLogin('');
}

// ---- detections ----

function fmtTime(t) {
  const d = new Date(t);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour12: false });
}

function ev(d) { return (d.event && d.event.event) || {}; }

function detectionRow(d) {
  const e = ev(d);
  const where = [d.hostname, e.USER && 'user ' + e.USER, e.PROCESS_ID && 'pid ' + e.PROCESS_ID, e.COMMAND_LINE || e.FILE_PATH]
    .filter(Boolean).join(' · ');
  const li = el('li', { class: 'det', 'data-id': d.id, 'data-rule': d.rule, title: d.rule },
    el('span', { class: 'sev ' + (d.severity || 'info'), textContent: d.severity || 'info' }),
    el('span', { class: 'name', textContent: d.name || d.rule }),
    el('time', { textContent: fmtTime(d.time), dateTime: d.time }),
    el('span', { class: 'where', textContent: where }));
  li.addEventListener('click', () => select(d.id));
  return li;
}

function addDetections(list, live) {
  const ul = $('#detections');
  // newest first: insert each where its time belongs
  for (const d of list) {
    if (!d || !d.id || state.dets.has(d.id)) continue;
    state.dets.set(d.id, d);
    const row = detectionRow(d);
    if (live) row.classList.add('new');
    let before = null;
    for (const li of ul.children) {
      const other = state.dets.get(li.dataset.id);
      if (other && Date.parse(other.time) <= Date.parse(d.time)) { before = li; break; }
    }
    ul.insertBefore(row, before);
  }
  while (ul.children.length > MAX_ROWS) {
    const last = ul.lastElementChild;
    state.dets.delete(last.dataset.id);
    last.remove();
  }
  $('#det-count').textContent = String(state.dets.size);
  $('#no-detections').hidden = state.dets.size > 0;
  if (!state.selected && ul.firstElementChild) select(ul.firstElementChild.dataset.id);
}

async function loadDetections() {
  const body = await call(`/v1/orgs/${encodeURIComponent(state.org)}/detections?limit=200`);
  addDetections(body.detections || [], false);
}

function select(id) {
  const d = state.dets.get(id);
  if (!d) return;
  state.selected = id;
  for (const li of document.querySelectorAll('li.det')) li.classList.toggle('selected', li.dataset.id === id);
  const e = ev(d);
  $('#detail-empty').hidden = true;
  $('#detail-body').hidden = false;
  $('#d-name').textContent = d.name || d.rule;
  const meta = $('#d-meta');
  meta.replaceChildren();
  const rows = [['rule', d.rule], ['severity', d.severity], ['category', d.category], ['time', d.time],
    ['sensor', d.sensor_id], ['host', d.hostname], ['tags', (d.tags || []).join(', ')],
    ['actions', (d.actions || []).join(', ')], ['id', d.id]];
  for (const [k, v] of rows) if (v) meta.append(el('dt', { textContent: k }), el('dd', { textContent: v }));

  // process ancestry: grandparent → parent → the process
  const chain = [
    ['grandparent', e.GRANDPARENT || {}],
    ['parent', e.PARENT || {}],
    ['process', { FILE_PATH: e.FILE_PATH, COMMAND_LINE: e.COMMAND_LINE, PROCESS_ID: e.PROCESS_ID, USER: e.USER }],
  ].filter(([, p]) => p.FILE_PATH || p.COMMAND_LINE);
  const ol = $('#d-ancestry');
  ol.replaceChildren();
  chain.forEach(([role, p], i) => {
    const extra = role === 'process' ? [p.USER && 'user ' + p.USER, p.PROCESS_ID && 'pid ' + p.PROCESS_ID].filter(Boolean).join(', ') : '';
    const li = el('li', { class: role === 'process' ? 'self' : '' },
      el('span', { class: 'role', textContent: role + (extra ? ' — ' + extra : '') }),
      el('span', { class: 'path', textContent: p.FILE_PATH || '?' }),
      p.COMMAND_LINE ? el('code', { textContent: p.COMMAND_LINE }) : null);
    li.style.setProperty('--depth', String(i));
    ol.append(li);
  });
  if (!chain.length) ol.append(el('li', { textContent: 'no process context on this event' }));
  $('#d-event').textContent = stringifyJSON(d.event);
}

// ---- live stream (Server-Sent Events read with fetch, authenticated by the session cookie) ----

async function stream() {
  if (state.streaming) return;
  state.streaming = true;
  let first = true;
  while (state.signedIn) {
    const abort = new AbortController();
    state.streamAbort = abort;
    try {
      const r = await fetch('/dashboard/stream', { credentials: 'same-origin', cache: 'no-store', signal: abort.signal });
      if (r.status === 401 || r.status === 403) throw new AuthError((await r.json().catch(() => ({}))).error || 'signed out');
      if (!r.ok || !r.body) throw new Error('stream: ' + r.status);
      if (!first) loadDetections().catch(() => {}); // catch up on what a reconnect missed
      first = false;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          handleEvent(buf.slice(0, i));
          buf = buf.slice(i + 2);
        }
      }
    } catch (err) {
      if (err instanceof AuthError) { state.streaming = false; showLogin(err.message); return; }
    }
    if (!state.signedIn) break;
    setStatus('reconnecting', false);
    await new Promise((res) => setTimeout(res, 2000));
  }
  state.streaming = false;
}

function handleEvent(block) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const [field, ...rest] = line.split(':');
    const value = rest.join(':').replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (type === 'hello') setStatus('live', true);
  if (type === 'detection' && data.length) {
    try { addDetections([parseJSON(data.join('\n'))], true); } catch (e) { /* not a detection */ }
  }
}

// ---- timeline ----

async function loadTimeline() {
  const body = await call('/dashboard/timeline?minutes=60');
  drawTimeline(body.minutes || []);
}

function drawTimeline(minutes) {
  const box = $('#timeline');
  const W = 960, H = 180, L = 44, R = 36, T = 16, B = 24;
  const n = Math.max(minutes.length, 1);
  const maxEv = Math.max(1, ...minutes.map((m) => m.events));
  const maxDet = Math.max(1, ...minutes.map((m) => m.detections));
  const bw = (W - L - R) / n;
  const y = (v, max) => T + (H - T - B) * (1 - v / max);
  box.replaceChildren();
  box.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  box.append(svg('text', { x: L - 6, y: T + 4, 'text-anchor': 'end' }, String(maxEv)));
  box.append(svg('text', { x: L - 6, y: H - B, 'text-anchor': 'end' }, '0'));
  box.append(svg('text', { x: W - R + 6, y: T + 8 }, String(maxDet)));
  minutes.forEach((m, i) => {
    const x = L + i * bw;
    if (m.events > 0) {
      const r = svg('rect', { class: 'bar', x: x + 1, width: Math.max(bw - 2, 1), y: y(m.events, maxEv), height: H - B - y(m.events, maxEv) });
      r.append(svg('title', {}, `${fmtTime(m.t)}: ${m.events} events, ${m.detections} detections`));
      box.append(r);
    }
    if (m.detections > 0) {
      const c = svg('circle', { class: 'det', cx: x + bw / 2, cy: y(m.detections, maxDet), r: 4 });
      c.append(svg('title', {}, `${fmtTime(m.t)}: ${m.detections} detections`));
      box.append(c);
    }
    if (i % 10 === 0) box.append(svg('text', { x: x, y: H - 6 }, fmtTime(m.t).slice(0, 5)));
  });
}

// ---- sensors ----

function ago(t) {
  const s = Math.round((Date.now() - new Date(t)) / 1000);
  if (!isFinite(s)) return '';
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  return new Date(t).toLocaleString();
}

async function loadSensors() {
  const body = await call(`/v1/orgs/${encodeURIComponent(state.org)}/sensors`);
  const tb = $('#sensors tbody');
  tb.replaceChildren();
  for (const s of body.sensors || []) {
    tb.append(el('tr', { 'data-sensor': s.sensor_id },
      el('td', { textContent: s.sensor_id }), el('td', { textContent: s.hostname }),
      el('td', { textContent: s.version || '' }), el('td', { textContent: (s.tags || []).join(', ') }),
      el('td', { textContent: ago(s.last_seen), title: s.last_seen }),
      el('td', { textContent: Math.round((s.uptime_seconds || 0) / 60) + ' min' }),
      el('td', { textContent: String(s.drops || 0) })));
  }
  if (!tb.children.length) tb.append(el('tr', {}, el('td', { colSpan: 7, className: 'muted', textContent: 'No heartbeat yet.' })));
}

// ---- start ----

async function refresh() {
  await Promise.all([loadTimeline(), loadSensors()]);
}

async function start() {
  try {
    await exchangeLoginToken();
  } catch (err) {
    showLogin(err.message);
    return;
  }
  try {
    const who = await call('/dashboard/whoami');
    state.org = who.org;
    state.csrf = who.csrf || '';
    state.signedIn = true;
    showApp();
    await Promise.all([loadDetections(), refresh()]);
  } catch (err) {
    if (err instanceof AuthError) { showLogin(state.signedIn ? err.message : ''); return; }
    setStatus('error: ' + err.message, false);
  }
  stream();
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = $('#key').value.trim();
  $('#key').value = '';
  try {
    await signIn({ key });
  } catch (err) {
    showLogin(err.message);
    return;
  }
  start();
});
$('#logout').addEventListener('click', () => { signOut(); });
setInterval(() => { if (state.signedIn && !$('#app').hidden) refresh().catch((err) => { if (err instanceof AuthError) showLogin(err.message); }); }, 5000);
start();
