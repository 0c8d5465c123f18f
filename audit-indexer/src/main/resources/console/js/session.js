// One session: identity and CI provenance, and a player over its timeline with denials,
// approvals and masking marked. A live (open) session is polled every 2 s.
import { api, el, replace, setupPage, showError, clearError, statusBadge, verdictBadge, badge, time, poll, safeUrl, statementRuns, parameterList } from './common.js';
import { Player } from './player.js';

const sessionId = new URLSearchParams(window.location.search).get('id');
let player = null;
let stopPolling = null;
let lastJson = null;

/** Where the CI system lives, for links: the run URL's origin, else the provider's public host. */
function ciOrigin(ci) {
  const run = safeUrl(ci.runUrl || '');
  if (run) return new URL(run).origin;
  const provider = (ci.provider || '').toLowerCase();
  if (provider.includes('github')) return 'https://github.com';
  if (provider.includes('gitlab')) return 'https://gitlab.com';
  return null;
}

function ciLinks(ci) {
  const origin = ciOrigin(ci);
  const gitlab = (ci.provider || '').toLowerCase().includes('gitlab');
  const repo = origin && ci.repository ? origin + '/' + ci.repository.split('/').map(encodeURIComponent).join('/') : null;
  const commit = repo && ci.commitSha ? repo + (gitlab ? '/-/commit/' : '/commit/') + encodeURIComponent(ci.commitSha) : null;
  let run = safeUrl(ci.runUrl || '');
  if (!run && repo && ci.runId && !gitlab) run = repo + '/actions/runs/' + encodeURIComponent(ci.runId);
  if (!run && repo && ci.runId && gitlab) run = repo + '/-/pipelines/' + encodeURIComponent(ci.runId);
  return { repo, commit, run };
}

function field(label, ...value) {
  return [el('dt', {}, label), el('dd', {}, ...value)];
}

function link(url, text, id) {
  return url ? el('a', { href: url, id, target: '_blank', rel: 'noopener noreferrer' }, text) : el('span', { id }, text);
}

/** A delegated session's chain, originator first: "alice → planner-agent". */
function chain(id) {
  const d = id.delegation;
  return [d.originator || '?', ...(d.earlierActors || []).slice().reverse(), id.subject || '?'].join(' → ');
}

/** The run or step the caller declared; one the issuer did not sign is marked unverified. */
function intent(i) {
  const what = i.description || [i.runId ? 'run ' + i.runId : null, i.stepId ? 'step ' + i.stepId : null].filter(Boolean).join(' ')
    + (i.verified ? ' (signed by the issuer)' : ' (unverified: declared by the client)');
  return el('span', { id: 'intent', class: i.verified ? 'intent-verified' : 'intent-unverified', 'data-verified': String(!!i.verified) }, what);
}

function renderOverview(s) {
  replace(document.getElementById('session-id'), s.sessionId);
  replace(document.getElementById('session-status'), statusBadge(s.status),
    s.sealed ? el('span', { class: 'badge badge-sealed', title: 'sealed evidence' }, 'sealed') : null);
  const id = s.identity || {};
  const d = id.delegation;
  const who = el('dl', { class: 'facts', id: 'identity' },
    field(d ? 'Actor' : 'Subject', el('span', { id: 'subject' }, id.subject || 'unknown')),
    d ? field('Acting for', el('span', { id: 'originator' }, d.originator || '?'),
      d.originatorIssuer && d.originatorIssuer !== id.issuer ? el('span', { class: 'muted' }, ' (' + d.originatorIssuer + ')') : null) : null,
    d ? field('Chain', el('span', { id: 'chain' }, chain(id)), el('span', { class: 'muted' }, ' (actor named in ' + (d.via || '?') + ')')) : null,
    field('Issuer', id.issuer || '—'),
    field(d ? 'Actor groups' : 'Groups', (id.groups || []).join(', ') || '—'),
    d ? field('Originator groups', (d.originatorGroups || []).join(', ') || '—') : null,
    id.intent ? field('Declared intent', intent(id.intent)) : null,
    field('Connection', s.connection ? (s.connection.name || '?') + ' · ' + (s.connection.database || '?') + ' · ' + (s.connection.protocol || '') : '—'),
    field('Client', s.clientAddress || '—'),
    field('Edge', s.edgeId || '—'),
    field('Started', time(s.startedAt)),
    field('Ended', time(s.endedAt), s.closeReason ? el('span', { class: 'muted' }, ' (' + s.closeReason + ')') : null),
    field('Commands', String(s.commands) + ' · ' + s.denied + ' denied · ' + s.approvals + ' approvals · ' + s.masked + ' masked'));
  let provenance = el('p', { class: 'muted', id: 'ci' }, 'No CI provenance: the token did not come from a CI system.');
  if (id.ci) {
    const c = id.ci;
    const links = ciLinks(c);
    provenance = el('dl', { class: 'facts', id: 'ci' },
      field('CI', c.provider || '?'),
      field('Repository', link(links.repo, c.repository || '?', 'ci-repository')),
      field('Commit', link(links.commit, c.commitSha || '?', 'ci-commit')),
      field('Ref', c.ref || '—'),
      field('Workflow', c.workflow || '—'),
      field('Run', link(links.run, c.runId || '?', 'ci-run'), c.job ? ' job ' + c.job : null),
      field('Actor', c.actor || '—'));
  }
  replace(document.getElementById('overview'),
    el('div', { class: 'card' }, el('h2', {}, 'Identity'), who),
    el('div', { class: 'card' }, el('h2', {}, 'CI provenance'), provenance));
}

/** The verdict class of a command entry: deny (a refusal too), mask, approval, allow or pending. */
function mark(entry) {
  if (entry.type !== 'command') return 'event';
  if (entry.refusal) return 'deny';
  const d = entry.decision;
  if (!d) return 'pending';
  if (d.verdict === 'deny') return 'deny';
  if (entry.approval || d.verdict === 'require_approval') return entry.approval && entry.approval.state === 'denied' ? 'deny' : 'approval';
  if (d.verdict === 'mask' || (entry.outcome && entry.outcome.masking)) return 'mask';
  return 'allow';
}

function summaryLine(entry) {
  if (entry.type !== 'command') {
    return [badge('event', entry.event), ' ', el('span', { class: 'event-detail' }, entry.detail || '')];
  }
  const m = mark(entry);
  const d = entry.decision;
  const bits = [el('span', { class: 'seq' }, '#' + entry.sequence), ' '];
  if (entry.refusal) bits.push(badge('deny', 'REFUSED', 'refused by gatehouse: ' + entry.refusal));
  else if (m === 'deny') bits.push(badge('deny', 'DENIED', d && d.reason ? d.reason : 'denied'));
  else if (m === 'approval') bits.push(badge('approval', 'approval: ' + (entry.approval ? entry.approval.state : 'required')));
  else if (m === 'mask') bits.push(badge('mask', 'masked'));
  else if (m === 'pending') bits.push(badge('pending', 'awaiting decision'));
  else bits.push(verdictBadge(d.verdict));
  bits.push(' ', el('code', { class: 'sql' }, entry.sql || ''));
  return bits;
}

function renderTimeline(entries) {
  const list = document.getElementById('timeline');
  // entries are appended in log order and earlier ones may still change (a decision, an outcome): re-render all
  replace(list, entries.map((entry, i) => el('li', {
    class: 'entry mark-' + mark(entry),
    'data-index': i,
    'data-type': entry.type,
    'data-sequence': entry.type === 'command' ? entry.sequence : null,
  }, el('span', { class: 'at' }, time(entry.at)), ' ', summaryLine(entry))));
  list.querySelectorAll('li').forEach(li => li.addEventListener('click', () => player.seek(Number(li.dataset.index))));
}

function table(sample) {
  const head = el('tr', {}, sample.columns.map(c => el('th', {}, c)));
  const rows = sample.rows.map(r => el('tr', {}, r.map(v => v === null ? el('td', { class: 'null' }, 'NULL') : el('td', {}, v))));
  return el('div', { class: 'sample' },
    el('table', { class: 'grid result', id: 'sample' }, el('thead', {}, head), el('tbody', {}, rows)),
    el('p', { class: sample.truncated ? 'truncated' : 'muted', id: 'sample-note' },
      sample.truncated
        ? '⚠ truncated: only the first ' + sample.rowsCaptured + ' row(s) / ' + sample.bytesCaptured + ' bytes were captured; the result had more.'
        : sample.rowsCaptured + ' row(s), ' + sample.bytesCaptured + ' bytes captured (complete)',
      sample.masked ? ' · values masked before capture' : null));
}

function renderDetail(entry) {
  const box = document.getElementById('detail');
  if (!entry) {
    replace(box, el('p', { class: 'muted' }, 'No events yet.'));
    return;
  }
  if (entry.type !== 'command') {
    replace(box, el('h2', {}, entry.event), el('p', {}, time(entry.at)), el('p', { class: 'event-detail' }, entry.detail || ''));
    return;
  }
  const parts = [el('h2', {}, 'Command #' + entry.sequence, ' ', el('span', { class: 'muted' }, entry.form || '')),
    el('pre', { class: 'sql', id: 'detail-sql' }, entry.sql || '')];
  const parameters = parameterList(entry.parameters);
  if (parameters) parts.push(parameters);
  if (entry.statements && entry.statements.length) {
    parts.push(el('p', {}, 'Statements: ', entry.statements.map(s =>
      el('span', { class: 'stmt' }, s.kind, s.objects && s.objects.length ? ' (' + s.objects.join(', ') + ')' : '', ' '))));
  }
  // a command recorded statement by statement: how each runs, with its own parameters
  const runs = statementRuns(entry.statements);
  if (runs) parts.push(runs);
  const d = entry.decision;
  if (entry.refusal) {
    parts.push(el('div', { class: 'decision decision-deny', id: 'decision' },
      badge('deny', 'REFUSED'), ' ', el('strong', {}, 'refused by gatehouse: ' + entry.refusal),
      el('div', { class: 'muted' }, 'a Gatehouse invariant, not a policy rule: no decision was asked for')));
  } else if (d) {
    const cls = 'decision decision-' + mark(entry);
    parts.push(el('div', { class: cls, id: 'decision' },
      verdictBadge(d.verdict), ' ',
      d.verdict === 'deny' ? el('strong', {}, 'Denied by rule ' + (d.ruleId || '?')) : el('span', {}, 'rule ' + (d.ruleId || '—')),
      d.reason ? el('span', {}, ': ' + d.reason) : null,
      el('div', { class: 'muted' }, 'policy ' + (d.policyVersion || '?') + ' · decided ', time(d.decidedAt)),
      (d.dryRun || []).map(r => el('div', { class: 'muted' }, 'dry run: ' + r.ruleId + ' would ' + r.verdict + (r.reason ? ' (' + r.reason + ')' : '')
        + (r.staged ? ' [staged policy ' + (r.policyVersion || '?') + ']' : '')))));
  } else {
    parts.push(el('div', { class: 'decision decision-pending' }, 'No decision recorded yet.'));
  }
  const a = entry.approval;
  if (a) {
    const state = a.state || 'requested';
    parts.push(el('div', { class: 'approval approval-' + state, id: 'approval' },
      badge('approval', 'approval ' + (a.approvalId || '')), ' ', el('strong', {}, state),
      a.approvers && a.approvers.length ? el('span', {}, ' · approved by ' + a.approvers.join(', ')) : null,
      a.deniedBy ? el('span', {}, ' · denied by ' + a.deniedBy) : null,
      a.reason ? el('span', {}, ': ' + a.reason) : null,
      el('div', { class: 'muted' }, d && d.decidedAt ? ['decided ', time(d.decidedAt), ' · '] : null,
        'expires ', time(a.expiresAt))));
  }
  const o = entry.outcome;
  if (o) {
    parts.push(el('div', { class: 'outcome', id: 'outcome' },
      o.forwarded ? 'forwarded' : el('strong', {}, 'not forwarded'),
      o.tags && o.tags.length ? ' · ' + o.tags.join(', ') : null,
      ' · ' + o.rows + ' row(s)',
      o.statementsRun !== null && o.statementsRun !== undefined ? ' · ' + o.statementsRun + ' statement(s) ran' : null,
      o.durationMicros ? ' · ' + (o.durationMicros / 1000).toFixed(1) + ' ms' : null,
      o.error ? el('div', { class: 'error-text' }, 'ERROR' + (o.sqlState ? ' ' + o.sqlState : '') + ': ' + o.error) : null));
    if (o.masking) {
      const m = o.masking;
      const columns = Object.entries(m.columns || {}).map(([c, n]) => c + ' ×' + n).join(', ');
      const detectors = Object.entries(m.detectors || {}).map(([c, n]) => c + ' ×' + n).join(', ');
      parts.push(el('div', { class: 'masking', id: 'masking' }, badge('mask', 'masked'),
        ' profile ' + (m.profile || (d && d.maskProfile) || '?') + ': ' + m.values + ' value(s)',
        columns ? ' · columns ' + columns : null, detectors ? ' · detectors ' + detectors : null));
    }
  } else if (d) {
    parts.push(el('div', { class: 'outcome muted' }, 'No outcome recorded yet.'));
  }
  if (entry.sample) parts.push(table(entry.sample));
  replace(box, parts);
}

function onMove(position, playing) {
  const entries = player.entries;
  document.getElementById('position').max = String(Math.max(0, entries.length - 1));
  document.getElementById('position').value = String(position);
  replace(document.getElementById('position-label'), entries.length ? (position + 1) + ' / ' + entries.length : '0 / 0');
  document.getElementById('play').disabled = playing;
  document.getElementById('pause').disabled = !playing;
  document.querySelectorAll('#timeline li').forEach(li => {
    const i = Number(li.dataset.index);
    li.classList.toggle('current', i === position);
    li.classList.toggle('future', i > position);
    if (i === position) li.setAttribute('aria-current', 'step');
    else li.removeAttribute('aria-current');
  });
  const current = document.querySelector('#timeline li.current');
  if (current && current.scrollIntoView) current.scrollIntoView({ block: 'nearest' });
  renderDetail(entries[position]);
}

async function refresh() {
  const body = await api('/api/v1/sessions/' + encodeURIComponent(sessionId));
  clearError();
  const json = JSON.stringify(body);
  if (json === lastJson) return body; // nothing new: keep the page as it is
  lastJson = json;
  renderOverview(body.session);
  renderTimeline(body.entries);
  player.setEntries(body.entries);
  if (body.session.status !== 'open' && stopPolling) {
    stopPolling();
    stopPolling = null;
  }
  return body;
}

setupPage(() => {
  if (!sessionId) {
    showError(new Error('no session id in the address (session.html?id=...)'));
    return;
  }
  player = new Player(onMove);
  document.getElementById('play').addEventListener('click', () => player.play());
  document.getElementById('pause').addEventListener('click', () => player.pause());
  document.getElementById('forward').addEventListener('click', () => player.forward());
  document.getElementById('back').addEventListener('click', () => player.back());
  document.getElementById('first').addEventListener('click', () => player.first());
  document.getElementById('last').addEventListener('click', () => player.last());
  document.getElementById('speed').addEventListener('change', e => player.setSpeed(e.target.value));
  document.getElementById('position').addEventListener('input', e => { player.pause(); player.seek(Number(e.target.value)); });
  document.addEventListener('keydown', e => {
    if (e.target && (e.target.tagName === 'INPUT' || e.target.tagName === 'TEXTAREA' || e.target.tagName === 'SELECT')) return;
    if (e.key === 'ArrowRight') player.forward();
    else if (e.key === 'ArrowLeft') player.back();
    else if (e.key === ' ') { e.preventDefault(); player.playing ? player.pause() : player.play(); }
  });
  refresh().then(body => {
    if (body.session.status === 'open') stopPolling = poll(refresh, 2000);
  }).catch(showError);
});
