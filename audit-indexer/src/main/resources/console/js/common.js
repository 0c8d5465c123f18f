// Shared helpers of the Gatehouse console: the token, API calls, safe DOM building.
//
// Everything shown here comes from the audit log: SQL, identities and result values are
// attacker-controlled. Build the DOM with el()/text() only (textContent, never innerHTML).

const TOKEN_KEY = 'gatehouse.console.token';

/** Takes a token from the URL fragment (#token=...) into sessionStorage and removes it from the address bar. */
export function adoptFragmentToken() {
  const hash = window.location.hash || '';
  const match = /^#(?:.*&)?token=([^&]+)/.exec(hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
  history.replaceState(null, '', window.location.pathname + window.location.search);
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The claims of the (JWT) token, for display and to know which buttons make sense; never trusted by the server. */
export function tokenClaims() {
  const t = token();
  if (!t) return null;
  try {
    const part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(part), c => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    return JSON.parse(json);
  } catch (e) {
    return null;
  }
}

/** The groups a token's claims name (groups, or roles as a fallback). */
export function tokenGroups() {
  const c = tokenClaims();
  if (!c) return [];
  const g = c.groups || c.roles || [];
  return Array.isArray(g) ? g.map(String) : [];
}

/** An API failure: the HTTP status and the server's error message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the API with the bearer token; resolves to the parsed JSON or rejects with an ApiError. */
export async function api(path, options = {}) {
  const t = token();
  if (!t) throw new ApiError(401, 'sign in with a token first');
  const headers = Object.assign({ 'Accept': 'application/json', 'Authorization': 'Bearer ' + t }, options.headers || {});
  let response;
  try {
    response = await fetch(path, Object.assign({}, options, { headers, cache: 'no-store', credentials: 'omit' }));
  } catch (e) {
    throw new ApiError(0, 'the indexer is not reachable: ' + e.message);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error : response.status + ' ' + response.statusText;
    throw new ApiError(response.status, message);
  }
  return body;
}

/**
 * Creates an element. attrs: {class, id, title, href, 'data-x', ...} set as attributes (href only
 * for http(s) URLs); children: strings (as text nodes), nodes, null/undefined (skipped) or arrays.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'href') {
      const safe = safeUrl(value);
      if (safe) node.setAttribute('href', safe);
      continue;
    }
    if (name.startsWith('on')) throw new Error('no inline handlers: use addEventListener');
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of a node. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** The URL if it is http(s), else null (no javascript:, data: ...). */
export function safeUrl(value) {
  try {
    const url = new URL(String(value), window.location.href);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch (e) {
    return null;
  }
}

/** A badge: <span class="badge badge-KIND">text</span>. */
/** Parameters as $1=... codes (SQL NULL marked), or null when there are none. */
export function parameterList(parameters) {
  if (!parameters || !parameters.length) return null;
  return el('p', {}, 'Parameters: ', parameters.map((p, i) =>
    el('code', { class: p === null ? 'null' : null }, '$' + (i + 1) + '=' + (p === null ? 'NULL' : p) + ' ')));
}

/**
 * The statements of a command recorded statement by statement (those with a step), each with how
 * it runs (step, statement and portal names, via, continued, row limit), its SQL and its own
 * parameters; null when the command was recorded as one text.
 */
export function statementRuns(statements) {
  const runs = (statements || []).filter(s => s.step);
  if (!runs.length) return null;
  const named = v => v !== null && v !== undefined;
  return el('ol', { class: 'runs' }, runs.map(s => el('li', {},
    el('span', { class: 'muted' }, [s.step.toLowerCase(),
      named(s.statementName) ? 'statement "' + s.statementName + '"' : null,
      named(s.portalName) ? 'portal "' + s.portalName + '"' : null,
      s.via ? 'via ' + s.via : null, s.continued ? 'continued' : null,
      s.rowLimit ? 'row limit ' + s.rowLimit : null].filter(x => x).join(' · ')),
    el('pre', { class: 'sql' }, s.sql || ''),
    parameterList(s.parameters))));
}

export function badge(kind, label, title) {
  return el('span', { class: 'badge badge-' + kind, title }, label);
}

/** The badge of a session status (open sessions are "live"). */
export function statusBadge(status) {
  if (status === 'open') return badge('live', 'live', 'the session is still open');
  return badge(status || 'unknown', status || 'unknown');
}

/** The badge of a verdict (allow, deny, mask, require_approval). */
export function verdictBadge(verdict) {
  const labels = { allow: 'allowed', deny: 'DENIED', mask: 'masked', require_approval: 'approval' };
  return badge('verdict-' + (verdict || 'none'), labels[verdict] || verdict || 'no decision');
}

/** An instant as local date and time with the ISO text as its title. */
export function time(iso) {
  if (!iso) return el('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  const shown = isNaN(d.getTime()) ? iso : d.toLocaleString();
  return el('time', { datetime: iso, title: iso }, shown);
}

/** Wires the header: who is signed in, sign-out, the sign-in box when there is no token. */
export function setupPage(onReady) {
  adoptFragmentToken();
  const who = document.getElementById('who');
  const main = document.getElementById('main');
  const signin = document.getElementById('signin');
  const render = () => {
    const claims = tokenClaims();
    if (who) {
      replace(who, token() ? el('span', {}, 'signed in as ', el('strong', {}, claims && claims.sub ? claims.sub : 'token holder'), ' ') : null,
        token() ? el('button', { type: 'button', id: 'signout' }, 'sign out') : null);
      const out = document.getElementById('signout');
      if (out) out.addEventListener('click', () => { signOut(); window.location.reload(); });
    }
    if (!token()) {
      main.hidden = true;
      signin.hidden = false;
      return;
    }
    signin.hidden = true;
    main.hidden = false;
    onReady();
  };
  const form = document.getElementById('signin-form');
  form.addEventListener('submit', event => {
    event.preventDefault();
    const value = document.getElementById('signin-token').value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value.replace(/^Bearer\s+/i, ''));
    document.getElementById('signin-token').value = '';
    render();
  });
  render();
}

/** Shows an error in the page's message area; a refused token (401) sends the user back to the sign-in box. */
export function showError(err) {
  const box = document.getElementById('message');
  if (err instanceof ApiError && err.status === 401) {
    signOut();
    document.getElementById('main').hidden = true;
    document.getElementById('signin').hidden = false;
    replace(document.getElementById('signin-error'), 'The indexer refused the token: ' + err.message);
    return;
  }
  if (box) {
    box.hidden = false;
    replace(box, err instanceof ApiError && err.status === 403
      ? 'Access refused: ' + err.message
      : 'Error: ' + (err && err.message ? err.message : String(err)));
  }
}

export function clearError() {
  const box = document.getElementById('message');
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
}

/** Calls fn every intervalMs while the page is visible; returns a stop function. */
export function poll(fn, intervalMs) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await fn(); } catch (e) { showError(e); }
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, intervalMs);
  return () => { stopped = true; clearTimeout(timer); };
}
