package dev.gatehouse.platform.kafka;

/** The names of Gatehouse's topics (see ARCHITECTURE.md, "Event model"). */
public final class Topics {

    /** The immutable log, keyed by session id. */
    public static final String AUDIT = "gatehouse.audit";
    /** Decisions routed to the waiting edge's reply partition, keyed by session id. */
    public static final String DECISIONS = "gatehouse.decisions";
    /** Cancel requests and session kills, read by every edge. */
    public static final String CONTROL = "gatehouse.control";
    /** Versioned policy documents, keyed by policy id; compacted. */
    public static final String POLICIES = "gatehouse.policies";
    /** Revocations, keyed by revocation id; compacted, read fully by every edge. */
    public static final String REVOCATIONS = "gatehouse.revocations";
    /** Each edge's live sessions (a heartbeat), keyed by edge id; compacted. */
    public static final String SESSIONS = "gatehouse.sessions";

    private Topics() {
    }
}
