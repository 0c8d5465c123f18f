// The session list: the API's filters, status badges, refreshed every 2 s while live.
import { api, el, replace, setupPage, showError, clearError, statusBadge, time, poll } from './common.js';

const FIELDS = ['subject', 'originator', 'actor', 'group', 'issuer', 'repository', 'commit', 'connection', 'verdict', 'status', 'object', 'kind', 'text', 'from', 'to'];

let stopPolling = null;
let cursor = null;

/** The filters as API query parameters (datetime-local values become ISO instants). */
function query(form) {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const input = form.elements[name];
    let value = input ? input.value.trim() : '';
    if (!value) continue;
    if (name === 'from' || name === 'to') {
      const d = new Date(value);
      if (isNaN(d.getTime())) continue;
      value = d.toISOString();
    }
    params.set(name, value);
  }
  return params;
}

/** Keeps the filters in the query string, so a filtered list can be bookmarked or shared. */
function restore(form) {
  const params = new URLSearchParams(window.location.search);
  for (const name of FIELDS) {
    if (!params.has(name) || !form.elements[name]) continue;
    let value = params.get(name);
    if (name === 'from' || name === 'to') {
      const d = new Date(value);
      if (isNaN(d.getTime())) continue;
      const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
      value = local.toISOString().substring(0, 19);
    }
    form.elements[name].value = value;
  }
}

function who(s) {
  const id = s.identity;
  if (!id) return el('span', { class: 'muted' }, 'unknown');
  const d = id.delegation;
  return el('span', { class: 'who-cell' },
    el('span', { class: 'subject' }, id.subject || '?'),
    d ? el('span', { class: 'originator' }, ' for ' + (d.originator || '?')) : null,
    d && d.earlierActors && d.earlierActors.length ? el('span', { class: 'muted' }, ' via ' + d.earlierActors.join(', ')) : null,
    id.groups && id.groups.length ? el('span', { class: 'muted groups' }, ' ' + id.groups.join(', ')) : null,
    el('div', { class: 'muted issuer' }, id.issuer || ''));
}

function ci(s) {
  const c = s.identity && s.identity.ci;
  if (!c) return el('span', { class: 'muted' }, '—');
  return el('span', {},
    el('span', { class: 'repository' }, c.repository || '?'),
    c.commitSha ? el('span', { class: 'mono muted' }, ' @' + c.commitSha.substring(0, 10)) : null,
    c.runId ? el('div', { class: 'muted' }, 'run ' + c.runId + (c.job ? ' · ' + c.job : '')) : null);
}

function count(n, kind) {
  return el('td', { class: n > 0 ? 'num count-' + kind : 'num muted' }, String(n || 0));
}

function row(s) {
  const link = el('a', { href: 'session.html?id=' + encodeURIComponent(s.sessionId), class: 'mono session-link' },
    s.sessionId);
  const conn = s.connection ? (s.connection.name || '?') + (s.connection.database ? ' (' + s.connection.database + ')' : '') : '—';
  return el('tr', { 'data-session': s.sessionId, 'data-status': s.status, class: s.denied > 0 ? 'has-denials' : null },
    el('td', {}, statusBadge(s.status), s.sealed ? el('span', { class: 'badge badge-sealed', title: 'sealed evidence' }, 'sealed') : null),
    el('td', {}, time(s.startedAt)),
    el('td', {}, who(s)),
    el('td', {}, ci(s)),
    el('td', {}, conn),
    count(s.commands, 'commands'), count(s.denied, 'denied'), count(s.approvals, 'approvals'), count(s.masked, 'masked'),
    el('td', {}, link));
}

async function load(form, append) {
  const params = query(form);
  if (append && cursor) params.set('before', cursor);
  const body = await api('/api/v1/sessions?' + params.toString());
  clearError();
  const tbody = document.querySelector('#sessions tbody');
  // rows whose session did not change are kept as they are (no flicker, no lost selection)
  const known = new Map(Array.from(tbody.children).map(tr => [tr.dataset.session, tr]));
  const rows = body.sessions.map(s => {
    const json = JSON.stringify(s);
    const existing = known.get(s.sessionId);
    if (existing && existing.dataset.json === json) return existing;
    const tr = row(s);
    tr.dataset.json = json;
    return tr;
  });
  if (append) rows.forEach(r => tbody.appendChild(r));
  else replace(tbody, rows);
  cursor = body.next;
  const live = body.sessions.filter(s => s.status === 'open').length;
  replace(document.getElementById('summary'), tbody.children.length + ' session(s)' + (live ? ', ' + live + ' live' : '')
    + (params.toString() ? ' matching the filters' : ''));
  document.getElementById('more').hidden = !cursor;
}

function startPolling(form) {
  if (stopPolling) stopPolling();
  stopPolling = null;
  if (document.getElementById('autorefresh').checked) {
    // refreshes the first page only; "Older sessions" pages stay as loaded until the next search
    stopPolling = poll(() => document.querySelector('#sessions tbody').children.length <= 50 ? load(form, false) : null, 2000);
  }
}

setupPage(() => {
  const form = document.getElementById('filters');
  restore(form);
  const search = () => {
    const params = query(form);
    history.replaceState(null, '', window.location.pathname + (params.toString() ? '?' + params.toString() : ''));
    load(form, false).catch(showError);
    startPolling(form);
  };
  form.addEventListener('submit', event => { event.preventDefault(); search(); });
  document.getElementById('reset').addEventListener('click', () => { form.reset(); search(); });
  document.getElementById('autorefresh').addEventListener('change', () => startPolling(form));
  document.getElementById('more').addEventListener('click', () => load(form, true).catch(showError));
  search();
});
