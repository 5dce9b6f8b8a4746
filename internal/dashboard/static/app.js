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
  role: '',
  dets: new Map(), // id -> detection, as listed
  rules: new Map(), // name -> rule (GET /rules)
  filters: null, // the filters the list was loaded with (see urlState)
  selected: '', // the id of the detection shown
  detail: null, // the detection shown, as GET /detections/{id} answered
  streaming: false,
  streamAbort: null,
};

class AuthError extends Error {} // signed out: back to the sign-in box
class Forbidden extends Error {} // this request is not allowed (403): shown where it was asked for
class HTTPError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

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

// call fetches an API or dashboard path with the session cookie. A 401 means
// signed out (AuthError); a 403 is a refusal of this one request — a role that
// may not do it, say — shown where it was asked for (Forbidden).
async function call(path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.method && opts.method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
  if (opts.body) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { ...opts, headers, credentials: 'same-origin', cache: 'no-store' });
  const text = await r.text();
  let body = {};
  try { body = parseJSON(text); } catch (e) { /* not JSON */ }
  if (r.status === 401) throw new AuthError(body.error || r.statusText);
  if (r.status === 403) throw new Forbidden(body.error || r.statusText);
  if (!r.ok) throw new HTTPError(r.status, (body.error || r.statusText));
  return body;
}

function orgPath(rest) { return `/v1/orgs/${encodeURIComponent(state.org)}${rest}`; }

function setStatus(text, live) {
  const s = $('#status');
  s.textContent = text;
  s.className = 'status ' + (live ? 'live' : 'off');
}

function clearDetail() {
  state.selected = '';
  state.detail = null;
  for (const id of ['#d-meta', '#d-ancestry', '#d-keys', '#d-explain', '#d-context', '#t-history']) $(id).replaceChildren();
  for (const id of ['#d-event', '#d-status', '#d-desc', '#d-rulemeta', '#t-error', '#detail-error', '#t-tuning-text']) $(id).textContent = '';
  $('#t-tuning').hidden = true;
  $('#detail-body').hidden = true;
  $('#detail-empty').hidden = false;
  $('#d-link').hidden = true;
}

function showLogin(msg) {
  state.signedIn = false;
  state.csrf = '';
  if (state.streamAbort) state.streamAbort.abort();
  state.dets.clear();
  // nothing of the org's data stays in the page
  $('#detections').replaceChildren();
  $('#det-count').textContent = '0';
  $('#timeline').replaceChildren();
  $('#sensors tbody').replaceChildren();
  $('#rule-names').replaceChildren();
  state.rules = new Map();
  state.filters = null;
  clearDetail();
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

// ---- filters and the address: the URL's query is the page's state ----
// ?severity=&status=&rule=&host=&tag=&since=&until= select detections;
// ?detection=<id> opens one (a deep link). status, tag and since go to the API;
// severity, rule, host and until are applied in the page.

const FILTERS = ['severity', 'status', 'rule', 'host', 'tag', 'since', 'until'];

function urlState() {
  const q = new URLSearchParams(location.search);
  const f = {};
  for (const k of FILTERS) f[k] = (q.get(k) || '').trim();
  return { filters: f, detection: q.get('detection') || '' };
}

function urlFor(filters, detection) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (filters[k]) q.set(k, filters[k]);
  if (detection) q.set('detection', detection);
  const s = q.toString();
  return '/' + (s ? '?' + s : '');
}

// navigate records a new state in the history (back and forward return to it)
// and shows it.
function navigate(filters, detection) {
  const url = urlFor(filters, detection);
  if (url !== location.pathname + location.search) history.pushState(null, '', url);
  applyURL();
}

function filtersChanged(a, b) { return FILTERS.some((k) => (a[k] || '') !== (b[k] || '')); }

// applyURL shows what the address says: the filters (reloading the list when
// they changed) and the detection it names.
async function applyURL() {
  const { filters, detection } = urlState();
  const form = $('#filters');
  for (const k of FILTERS) form.elements[k].value = filters[k];
  if (!state.filters || filtersChanged(filters, state.filters)) {
    state.filters = filters;
    try {
      await loadDetections();
    } catch (err) {
      showError(err, '#filter-error');
    }
  }
  if (detection) {
    if (detection !== state.selected) openDetection(detection);
  } else {
    clearDetail();
    for (const li of document.querySelectorAll('li.det.selected')) li.classList.remove('selected');
  }
}

function timeBound(v) {
  if (!v) return NaN;
  const m = /^(\d+)(s|m|h|d)$/.exec(v);
  if (m) return Date.now() - Number(m[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[m[2]];
  return Date.parse(v);
}

// matches applies the page's filters (and the API's, to detections the stream
// pushes) to d.
function matches(d, f) {
  if (f.severity && (d.severity || 'info') !== f.severity) return false;
  if (f.status && (d.status || 'new') !== f.status) return false;
  if (f.rule && d.rule !== f.rule) return false;
  if (f.host && d.hostname !== f.host) return false;
  if (f.tag && !(d.tags || []).includes(f.tag)) return false;
  const t = Date.parse(d.time);
  const since = timeBound(f.since), until = timeBound(f.until);
  if (!isNaN(since) && t < since) return false;
  if (!isNaN(until) && t >= until) return false;
  return true;
}

function checkFilters(f) {
  if (f.since && isNaN(timeBound(f.since))) return `since "${f.since}": want a duration (15m, 24h, 7d) or a time (2026-11-22T10:00:00Z)`;
  if (f.until && isNaN(timeBound(f.until))) return `until "${f.until}": want a time (2026-11-22T10:00:00Z)`;
  return '';
}

$('#filters').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = e.target;
  const f = {};
  for (const k of FILTERS) f[k] = form.elements[k].value.trim();
  const bad = checkFilters(f);
  $('#filter-error').textContent = bad;
  if (!bad) navigate(f, '');
});
for (const name of ['severity', 'status']) {
  $('#filters').elements[name].addEventListener('change', () => $('#filters').requestSubmit());
}
$('#clear-filters').addEventListener('click', () => navigate({}, ''));
window.addEventListener('popstate', () => { if (state.signedIn) applyURL(); });

// ---- detections ----

function fmtTime(t) {
  const d = new Date(t);
  return isNaN(d) ? '' : d.toLocaleTimeString([], { hour12: false });
}

// nanosToDate turns an event time in Unix nanoseconds (a number or BigInt) into a Date.
function nanosToDate(n) {
  if (typeof n === 'bigint') return new Date(Number(n / 1000000n));
  return new Date(Number(n) / 1e6);
}

function ev(d) { return (d.event && d.event.event) || {}; }
function routing(d) { return (d.event && d.event.routing) || {}; }

// field reads a rule path ("TARGET/FILE_PATH") from an event's event part.
function field(e, path) {
  let v = e;
  for (const p of path.split('/')) {
    if (v == null || typeof v !== 'object') return undefined;
    v = v[p];
  }
  return v === '' ? undefined : v;
}

function hostPort(ip, port) {
  if (!ip) return undefined;
  const h = String(ip).includes(':') ? '[' + ip + ']' : String(ip);
  return port != null ? h + ':' + port : h;
}

// KEY_FIELDS is the one place that says what an event is about, by its type:
// the first entry whose test matches the type gives the fields shown first.
const KEY_FIELDS = [
  [(t) => t.startsWith('FILE_'), (e) => [['target file', field(e, 'TARGET/FILE_PATH')], ['renamed from', field(e, 'TARGET/OLD_FILE_PATH')]]],
  [(t) => t.startsWith('NETWORK_'), (e) => [['destination', hostPort(field(e, 'DESTINATION/IP_ADDRESS'), field(e, 'DESTINATION/PORT'))],
    ['source', hostPort(field(e, 'SOURCE/IP_ADDRESS'), field(e, 'SOURCE/PORT'))]]],
  [(t) => t === 'DNS_REQUEST', (e) => [['domain', field(e, 'DOMAIN_NAME')]]],
  [(t) => t === 'NEW_PROCESS', (e) => [['command line', field(e, 'COMMAND_LINE')]]],
  [(t) => t === 'MODULE_LOAD', (e) => [['module', field(e, 'MODULE_NAME') || field(e, 'TARGET/FILE_PATH')]]],
];

// keyFields returns [label, value] pairs: what the event of type acted on,
// then its process.
function keyFields(type, e) {
  const out = [];
  const rule = KEY_FIELDS.find(([test]) => test(type || ''));
  if (rule) out.push(...rule[1](e));
  out.push(['process', field(e, 'FILE_PATH')], ['pid', field(e, 'PROCESS_ID')], ['user', field(e, 'USER')],
    ['parent', field(e, 'PARENT/FILE_PATH')]);
  if (!rule) out.push(['command line', field(e, 'COMMAND_LINE')]);
  return out.filter(([, v]) => v !== undefined && v !== null);
}

// keyField is the one value a row of events shows: the first key field.
function keyField(type, e) {
  const kf = keyFields(type, e);
  return kf.length ? String(kf[0][1]) : '';
}

function statusLabel(s) { return (s || 'new').replace('_', ' '); }

function detectionRow(d) {
  const e = ev(d);
  const type = routing(d).event_type || '';
  const where = [d.hostname, keyField(type, e)].filter(Boolean).join(' · ');
  const li = el('li', { class: 'det', 'data-id': d.id, 'data-rule': d.rule, title: d.rule },
    el('span', { class: 'sev ' + (d.severity || 'info'), textContent: d.severity || 'info' }),
    el('span', { class: 'name', textContent: d.name || d.rule }),
    el('time', { textContent: fmtTime(d.time), dateTime: d.time }),
    el('span', { class: 'where', textContent: where }),
    el('span', { class: 'st ' + (d.status || 'new'), textContent: statusLabel(d.status) }));
  li.addEventListener('click', () => navigate(state.filters, d.id));
  return li;
}

function addDetections(list, live) {
  const ul = $('#detections');
  // newest first: insert each where its time belongs
  for (const d of list) {
    if (!d || !d.id || state.dets.has(d.id) || !matches(d, state.filters)) continue;
    state.dets.set(d.id, d);
    const row = detectionRow(d);
    if (live) row.classList.add('new');
    if (d.id === state.selected) row.classList.add('selected');
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
  $('#no-detections').textContent = FILTERS.some((k) => state.filters[k]) ? 'No detections match the filters.' : 'No detections yet.';
}

// updateDetection replaces d in the list (a status changed, say).
function updateDetection(d) {
  if (!state.dets.has(d.id)) return;
  const old = document.querySelector(`li.det[data-id="${CSS.escape(d.id)}"]`);
  state.dets.delete(d.id);
  if (old) old.remove();
  addDetections([d], false);
}

async function loadDetections() {
  const f = state.filters || {};
  const q = new URLSearchParams({ limit: '200' });
  for (const k of ['status', 'tag', 'since']) if (f[k]) q.set(k, f[k]);
  const body = await call(orgPath('/detections?' + q));
  $('#filter-error').textContent = '';
  state.dets.clear();
  $('#detections').replaceChildren();
  addDetections(body.detections || [], false);
}

async function loadRules() {
  const body = await call(orgPath('/rules'));
  state.rules = new Map((body.rules || []).map((r) => [r.name, r]));
  $('#rule-names').replaceChildren(...[...state.rules.keys()].sort().map((n) => el('option', { value: n })));
}

function showError(err, where) {
  if (err instanceof AuthError) { showLogin(err.message); return; }
  const msg = err instanceof Forbidden ? 'Not allowed: ' + err.message : err.message;
  $(where).textContent = msg;
}

// openDetection reads one detection (with its triage and explanation) from the
// API and shows it; its context follows.
async function openDetection(id) {
  state.selected = id;
  for (const li of document.querySelectorAll('li.det')) li.classList.toggle('selected', li.dataset.id === id);
  $('#detail-error').textContent = '';
  let d;
  try {
    d = await call(orgPath('/detections/' + encodeURIComponent(id)));
  } catch (err) {
    if (state.selected !== id) return;
    clearDetail();
    state.selected = id;
    showError(err instanceof HTTPError && err.status === 404 ? new Error(`detection ${id}: no such detection`) : err, '#detail-error');
    return;
  }
  if (state.selected !== id) return; // another was opened meanwhile
  renderDetail(d);
  loadContext(d);
}

function renderDetail(d) {
  if (!state.detail || state.detail.id !== d.id) { // what was said about the one shown before
    $('#t-error').textContent = '';
    $('#t-tuning').hidden = true;
  }
  state.detail = d;
  const e = ev(d);
  const type = routing(d).event_type || '';
  $('#detail-empty').hidden = true;
  $('#detail-body').hidden = false;
  const link = $('#d-link');
  link.href = urlFor({}, d.id);
  link.hidden = false;
  link.title = 'a link to this detection';
  $('#d-name').textContent = d.name || d.rule;
  $('#d-sev').textContent = d.severity || 'info';
  $('#d-sev').className = 'sev ' + (d.severity || 'info');
  renderStatus(d);

  const rule = (state.rules && state.rules.get(d.rule)) || {};
  $('#d-desc').textContent = rule.description || '';
  const rm = $('#d-rulemeta');
  rm.replaceChildren();
  rm.append(el('span', { textContent: 'rule ' + d.rule }));
  if (rule.maturity) rm.append(el('span', { class: 'chip maturity', textContent: rule.maturity }));
  for (const t of rule.mitre || []) {
    rm.append(el('a', { class: 'chip mitre', textContent: t, href: 'https://attack.mitre.org/techniques/' + t.replace('.', '/') + '/',
      target: '_blank', rel: 'noreferrer noopener' }));
  }

  const keys = $('#d-keys');
  keys.replaceChildren();
  keys.append(el('dt', { textContent: 'event' }), el('dd', { textContent: type }));
  for (const [k, v] of keyFields(type, e)) keys.append(el('dt', { textContent: k }), el('dd', { class: 'key', textContent: String(v) }));

  renderExplanation(d);

  const meta = $('#d-meta');
  meta.replaceChildren();
  const rows = [['category', d.category], ['time', d.time], ['sensor', d.sensor_id], ['host', d.hostname],
    ['tags', (d.tags || []).join(', ')], ['actions', (d.actions || []).join(', ')], ['id', d.id]];
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

// ---- triage: status, assignee, comments ----

function renderStatus(d) {
  const st = $('#d-status');
  st.textContent = statusLabel(d.status) + (d.assignee ? ' · ' + d.assignee : '');
  st.className = 'st ' + (d.status || 'new');
  for (const b of document.querySelectorAll('#triage [data-status]')) b.disabled = (d.status || 'new') === b.dataset.status;
  $('#t-assignee').value = d.assignee || '';
  const h = $('#t-history');
  h.replaceChildren();
  const items = [
    ...(d.history || []).filter((c) => c.field !== 'comment').map((c) => ({ time: c.time, who: c.by,
      text: `${c.field} ${c.from ? statusLabel(c.from) + ' → ' : ''}${c.field === 'status' ? statusLabel(c.to) : c.to || '(none)'}` })),
    ...(d.comments || []).map((c) => ({ time: c.time, who: c.author, text: c.text, comment: true })),
  ].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  for (const it of items) {
    h.append(el('li', { class: it.comment ? 'comment' : 'change' },
      el('time', { textContent: new Date(it.time).toLocaleString([], { hour12: false }), dateTime: it.time }),
      el('b', { textContent: it.who }), el('span', { textContent: it.text })));
  }
}

async function changeTriage(path, method, body) {
  const d = state.detail;
  if (!d) return;
  $('#t-error').textContent = '';
  try {
    const out = await call(orgPath('/detections/' + encodeURIComponent(d.id) + path), { method, body: JSON.stringify(body) });
    if (state.detail && state.detail.id === out.id) {
      state.detail = { ...state.detail, status: out.status, assignee: out.assignee, comments: out.comments, history: out.history };
      renderStatus(state.detail);
    }
    updateDetection({ ...(state.dets.get(out.id) || out), status: out.status, assignee: out.assignee });
    return out;
  } catch (err) {
    showError(err, '#t-error');
    return null;
  }
}

for (const b of document.querySelectorAll('#triage [data-status]')) {
  b.addEventListener('click', async () => {
    const out = await changeTriage('', 'PATCH', { status: b.dataset.status });
    if (!out) return;
    if (out.tuning || out.tuning_error) {
      $('#t-tuning').hidden = false;
      $('#t-tuning-text').textContent = out.tuning || 'No tuning entry: ' + out.tuning_error;
      $('#t-copy').hidden = !out.tuning;
      $('#t-copied').textContent = '';
    } else {
      $('#t-tuning').hidden = true;
    }
  });
}
$('#t-assign').addEventListener('click', () => changeTriage('', 'PATCH', { assignee: $('#t-assignee').value.trim() }));
$('#t-comment-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('#t-comment').value.trim();
  if (!text) return;
  if (await changeTriage('/comments', 'POST', { text })) $('#t-comment').value = '';
});
$('#t-copy').addEventListener('click', async () => {
  const text = $('#t-tuning-text').textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) { // no clipboard permission: copy the selection the old way
    const r = document.createRange();
    r.selectNodeContents($('#t-tuning-text'));
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    document.execCommand('copy');
  }
  $('#t-copied').textContent = 'copied';
});

// ---- why it fired ----

function fmtValue(v) {
  if (Array.isArray(v)) return '[' + v.map(fmtValue).join(', ') + ']';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function condition(c) {
  if (!c) return null;
  let text = c.op;
  if (c.path) text = c.path + ' ' + c.op;
  if (c.compare) text += ' ' + c.compare;
  if (c.list) text += ' ' + c.list;
  if (c.value) text += ' ' + (c.op === 'matches' ? '/' + c.value + '/' : JSON.stringify(c.value));
  if (c.values && c.values.length) text += ' [' + c.values.join(', ') + (c.values_left_out ? `, … ${c.values_left_out} more` : '') + ']';
  if (c.ignore_case) text += ' (ignoring case)';
  const li = el('li', { class: c.matched ? 'yes' : 'no' },
    el('span', { class: 'mark', textContent: c.matched ? '✓' : '✗' }),
    el('span', { class: 'cond', textContent: text }),
    c.actual !== undefined ? el('span', { class: 'actual', textContent: 'actual ' + fmtValue(c.actual) }) : null);
  if (c.rules && c.rules.length) li.append(el('ul', {}, ...c.rules.map(condition)));
  return li;
}

function earlierEvent(r) {
  const fields = Object.entries(r.fields || {}).map(([k, v]) => `${k}: ${fmtValue(v)}`).join('\n');
  return el('li', {}, el('span', { textContent: `${r.time} ${r.type} ${r.id}` }), fields ? el('pre', { textContent: fields }) : null);
}

function renderExplanation(d) {
  const box = $('#d-explain');
  box.replaceChildren();
  const x = d.explanation;
  if (!x) {
    box.append(el('p', { class: 'muted', textContent: d.anomaly ? 'An anomaly model\'s finding: see the event.' : 'No explanation stored with this detection.' }));
    return;
  }
  let head = `rule ${x.rule} ${x.matched ? 'matched' : 'did not match'} ${x.event_type} event`;
  if (x.with) head += `, with ${x.with}`;
  if (x.count) head += `, ${x.count} times within ${x.within}` + (x.group_by ? ` by ${x.group_by.join(', ')}` : '');
  box.append(el('p', { textContent: head }));
  const section = (title, c) => { if (c) box.append(el('div', { class: 'part' }, el('span', { class: 'role', textContent: title }), el('ul', { class: 'conds' }, condition(c)))); };
  section(x.with ? `detection (on the ${x.with === 'child' ? 'parent' : 'ancestor'} process)` : 'detection', x.detection);
  section('child (this event)', x.child);
  if (x.earlier && x.earlier.length) {
    box.append(el('div', { class: 'part' }, el('span', { class: 'role', textContent: x.count ? 'counted events' : 'earlier event' }),
      el('ul', { class: 'earlier' }, ...x.earlier.map(earlierEvent))));
  }
  if (x.note) box.append(el('p', { class: 'muted', textContent: x.note }));
}

// ---- context: the process tree and the events around the detection ----

const CONTEXT_MINUTES = 5;

async function loadContext(d) {
  const box = $('#d-context');
  box.replaceChildren(el('p', { class: 'muted', textContent: 'loading…' }));
  let c;
  try {
    c = await call(orgPath('/detections/' + encodeURIComponent(d.id) + '/context?minutes=' + CONTEXT_MINUTES));
  } catch (err) {
    if (state.selected !== d.id) return;
    if (err instanceof AuthError) { showLogin(err.message); return; }
    const msg = err instanceof HTTPError && err.status === 404
      ? 'Context not available: this API does not serve the events around a detection.'
      : 'Context not available: ' + (err instanceof Forbidden ? 'not allowed: ' : '') + err.message;
    box.replaceChildren(el('p', { class: 'muted context-missing', textContent: msg }));
    return;
  }
  if (state.selected !== d.id) return;
  renderContext(d, c);
}

function treeNode(n, open) {
  const label = el('span', { class: 'node' },
    el('span', { class: 'path', textContent: n.path || '?' }),
    el('span', { class: 'pid', textContent: ` pid ${n.pid}` + (n.user ? ` · ${n.user}` : '') + ` · ${n.events || 0} events` }),
    n.command_line ? el('code', { textContent: n.command_line }) : null);
  const kids = n.children || [];
  const node = kids.length
    ? el('details', { class: 'proc', 'data-pid': String(n.pid) }, el('summary', {}, label), ...kids.map((k) => treeNode(k, open)))
    : el('div', { class: 'proc leaf', 'data-pid': String(n.pid) }, label);
  if (n.detection) node.classList.add('hl');
  if (kids.length && open(n)) node.open = true;
  return node;
}

// onPath reports whether the detection's process is n or below it.
function onPath(n) { return !!n && (n.detection || (n.children || []).some(onPath)); }

function renderContext(d, c) {
  const box = $('#d-context');
  box.replaceChildren();
  if (c.tree) {
    box.append(el('div', { class: 'tree' }, treeNode(c.tree, onPath)));
  }
  const events = c.events || [];
  box.append(el('p', { class: 'muted', textContent: `${events.length} events from ${fmtTime(c.from)} to ${fmtTime(c.to)}` + (c.truncated ? ' (cut at the limit)' : '') }));
  const tb = el('tbody');
  const own = routing(d).event_id;
  const pane = el('pre', { class: 'ctx-event', hidden: true });
  events.forEach((x, i) => {
    const r = x.routing || {}, e = x.event || {};
    const tr = el('tr', { class: r.event_id && r.event_id === own ? 'own' : '', 'data-i': String(i) },
      el('td', { textContent: r.event_time != null ? nanosToDate(r.event_time).toLocaleTimeString([], { hour12: false }) : '' }),
      el('td', { textContent: r.event_type || '' }),
      el('td', { textContent: e.PROCESS_ID != null ? String(e.PROCESS_ID) : '' }),
      el('td', { class: 'key', textContent: keyField(r.event_type, e) }));
    tr.addEventListener('click', () => {
      for (const o of tb.children) o.classList.toggle('selected', o === tr);
      for (const p of box.querySelectorAll('.proc')) p.classList.toggle('sel', p.dataset.pid === String(e.PROCESS_ID));
      pane.hidden = false;
      pane.textContent = stringifyJSON(x);
    });
    tb.append(tr);
  });
  box.append(el('table', { class: 'ctx-events' },
    el('thead', {}, el('tr', {}, el('th', { textContent: 'Time' }), el('th', { textContent: 'Type' }), el('th', { textContent: 'PID' }), el('th', { textContent: 'Key field' }))),
    tb), pane);
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

// ---- timeline: click a minute to see its detections ----

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
  const f = state.filters || {};
  box.replaceChildren();
  box.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }));
  box.append(svg('text', { x: L - 6, y: T + 4, 'text-anchor': 'end' }, String(maxEv)));
  box.append(svg('text', { x: L - 6, y: H - B, 'text-anchor': 'end' }, '0'));
  box.append(svg('text', { x: W - R + 6, y: T + 8 }, String(maxDet)));
  minutes.forEach((m, i) => {
    const x = L + i * bw;
    const from = Date.parse(m.t);
    const chosen = f.since && f.until && timeBound(f.since) === from && timeBound(f.until) === from + 60000;
    // the whole minute is the click target, drawn under its bar and dot
    const hit = svg('rect', { class: 'hit' + (chosen ? ' chosen' : ''), x: x, width: Math.max(bw, 1), y: T, height: H - B - T, 'data-t': m.t });
    hit.append(svg('title', {}, `${fmtTime(m.t)}: ${m.events} events, ${m.detections} detections — click to see this minute's detections`));
    hit.addEventListener('click', () => navigate({ ...state.filters, since: new Date(from).toISOString(), until: new Date(from + 60000).toISOString() }, ''));
    box.append(hit);
    if (m.events > 0) {
      box.append(svg('rect', { class: 'bar', x: x + 1, width: Math.max(bw - 2, 1), y: y(m.events, maxEv), height: H - B - y(m.events, maxEv) }));
    }
    if (m.detections > 0) {
      box.append(svg('circle', { class: 'det', cx: x + bw / 2, cy: y(m.detections, maxDet), r: 4 }));
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
    state.role = who.role || '';
    state.signedIn = true;
    state.filters = null;
    showApp();
    if (who.name) $('#org').textContent += ` · ${who.name} (${who.role})`;
    await loadRules().catch(() => { state.rules = new Map(); });
    await Promise.all([applyURL(), refresh()]);
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
