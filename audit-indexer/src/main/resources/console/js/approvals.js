// Approvals: the approval service's requests (through the indexer's same-origin proxy at
// /api/v1/approvals), with approve/deny buttons when the token's groups include the approver group.
import { api, el, replace, setupPage, showError, clearError, badge, time, poll, tokenClaims, tokenGroups, ApiError, statementRuns } from './common.js';

function canVote(a) {
  if (a.state !== 'pending') return 'the approval is ' + a.state;
  const claims = tokenClaims() || {};
  if (a.requester && a.requester.subject && a.requester.subject === claims.sub) return 'you cannot approve your own request';
  if (a.approverGroup && !tokenGroups().includes(a.approverGroup)) return 'your token is not in the approver group ' + a.approverGroup;
  return null;
}

async function vote(a, approve, card) {
  const reasonInput = card.querySelector('input.reason');
  const reason = reasonInput ? reasonInput.value.trim() : '';
  if (!approve && !reason) {
    replace(card.querySelector('.vote-result'), 'A denial needs a reason.');
    return;
  }
  try {
    const body = await api('/api/v1/approvals/' + encodeURIComponent(a.id) + (approve ? '/approve' : '/deny'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ reason: reason || null }),
    });
    const state = body && (body.state || (body.approval && body.approval.state));
    replace(card.querySelector('.vote-result'), (approve ? 'Approved' : 'Denied') + (state ? ': the request is now ' + state : ''));
    await load();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showError(e);
    else replace(card.querySelector('.vote-result'), 'Refused: ' + e.message);
  }
}

function card(a) {
  const who = a.requester ? a.requester.subject + (a.requester.ci && a.requester.ci.repository ? ' (' + a.requester.ci.repository + ')' : '') : 'unknown';
  const refusal = canVote(a);
  const node = el('article', { class: 'card approval-card approval-' + a.state, 'data-approval': a.id },
    el('h2', {}, badge('approval', a.state), ' ', el('span', { class: 'mono' }, a.id)),
    el('pre', { class: 'sql' }, a.sql || ''),
    statementRuns(a.statements),
    el('dl', { class: 'facts' },
      el('dt', {}, 'Requested by'), el('dd', {}, who),
      el('dt', {}, 'Connection'), el('dd', {}, a.connection || '—'),
      el('dt', {}, 'Rule'), el('dd', {}, (a.ruleId || '—') + (a.reason ? ': ' + a.reason : '')),
      el('dt', {}, 'Approvers'), el('dd', {}, (a.approvedBy || []).length + ' of ' + a.approvalsRequired + ' from group ' + (a.approverGroup || '?'),
        (a.approvedBy || []).length ? ' (' + a.approvedBy.join(', ') + ')' : null),
      el('dt', {}, 'Requested'), el('dd', {}, time(a.requestedAt)),
      el('dt', {}, 'Expires'), el('dd', {}, time(a.expiresAt)),
      el('dt', {}, 'Session'), el('dd', {}, el('a', { href: 'session.html?id=' + encodeURIComponent(a.sessionId || '') , class: 'mono' }, a.sessionId || '?')),
      a.outcome ? [el('dt', {}, 'Outcome'), el('dd', {}, a.outcome.state + ' by ' + (a.outcome.by || []).join(', ') + ' ', time(a.outcome.at),
        a.outcome.reason ? ': ' + a.outcome.reason : '')] : null),
    a.state === 'pending' ? el('div', { class: 'vote' },
      el('input', { class: 'reason', placeholder: 'reason (required to deny)', 'aria-label': 'reason' }),
      el('button', { type: 'button', class: 'approve', disabled: refusal !== null, title: refusal }, 'Approve'),
      el('button', { type: 'button', class: 'deny', disabled: refusal !== null, title: refusal }, 'Deny'),
      refusal ? el('span', { class: 'muted' }, ' ' + refusal) : null) : null,
    el('p', { class: 'vote-result', role: 'status' }));
  const approveButton = node.querySelector('button.approve');
  if (approveButton) approveButton.addEventListener('click', () => vote(a, true, node));
  const denyButton = node.querySelector('button.deny');
  if (denyButton) denyButton.addEventListener('click', () => vote(a, false, node));
  return node;
}

async function load() {
  const state = document.getElementById('state').value;
  const body = await api('/api/v1/approvals?state=' + encodeURIComponent(state));
  clearError();
  const list = document.getElementById('approvals');
  // keeps a card being typed into; replaces the others
  const typing = document.activeElement && document.activeElement.closest ? document.activeElement.closest('article') : null;
  if (typing && list.contains(typing)) return;
  replace(list, body.approvals.length ? body.approvals.map(card) : el('p', { class: 'muted' }, 'No ' + state + ' approvals.'));
  replace(document.getElementById('summary'), body.approvals.length + ' ' + state + ' approval(s)');
}

setupPage(() => {
  document.getElementById('state').addEventListener('change', () => load().catch(showError));
  load().catch(showError);
  poll(load, 3000);
});
