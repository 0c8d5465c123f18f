package dev.gatehouse.approval;

import dev.gatehouse.platform.http.ApiError;
import dev.gatehouse.platform.approval.Approval;

import java.util.Objects;

/**
 * A vote that does not count, with a message an approver can act on. {@link #status()} is the
 * HTTP status to answer with.
 */
public final class VoteRefusedException extends ApiError {

    /** Why, beyond the fold's own reasons: the approval does not exist. */
    public static final String UNKNOWN = "UNKNOWN";

    private final String kind;

    public VoteRefusedException(String kind, String message) {
        super(statusOf(Objects.requireNonNull(kind, "kind")), message);
        this.kind = kind;
    }

    public static VoteRefusedException of(Approval.Refusal refusal) {
        return new VoteRefusedException(refusal.kind().name(), refusal.message());
    }

    /** {@link #UNKNOWN} or the name of an {@link Approval.Refusal.Kind}. */
    public String kind() {
        return kind;
    }

    /** 404 unknown approval, 403 self-approval, outside the group or not the originator, 409 decided / expired / repeated, 400 else. */
    private static int statusOf(String kind) {
        return switch (kind) {
            case UNKNOWN -> 404;
            case "SELF", "NOT_IN_GROUP", "NOT_ORIGINATOR" -> 403;
            case "DECIDED", "EXPIRED", "ALREADY_VOTED" -> 409;
            default -> 400;
        };
    }
}
