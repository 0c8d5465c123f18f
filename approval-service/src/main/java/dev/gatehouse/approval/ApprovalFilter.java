package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;

import java.util.Set;

/**
 * Which approvals to list.
 *
 * @param states the states to include; empty means all
 * @param limit  at most this many, newest first
 */
public record ApprovalFilter(Set<Approval.State> states, int limit) {
    public ApprovalFilter {
        states = states == null ? Set.of() : Set.copyOf(states);
        if (limit <= 0) throw new IllegalArgumentException("limit must be positive, was " + limit);
    }

    public static ApprovalFilter pending() {
        return new ApprovalFilter(Set.of(Approval.State.PENDING), 500);
    }

    public static ApprovalFilter all() {
        return new ApprovalFilter(Set.of(), 500);
    }

    public boolean matches(Approval a) {
        return states.isEmpty() || states.contains(a.state());
    }
}
