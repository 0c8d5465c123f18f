package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;

/**
 * The answer to a vote: the approval as this instance's fold shows it once the vote is in, and
 * whether the vote counted.
 *
 * @param refusal why the vote did not count (null when it counted)
 */
public record VoteResult(Approval approval, boolean counted, String refusal) {

    /** What the votes decide now (GRANTED / DENIED) or PENDING; the outcome event may follow. */
    public Approval.State tally() {
        return approval.outcome() != null ? approval.state() : approval.tally();
    }
}
