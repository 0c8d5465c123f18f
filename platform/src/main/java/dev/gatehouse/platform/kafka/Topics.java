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
    /**
     * The approval service's event-sourced state: every approval event (requested, voted, notified,
     * granted, denied, expired, executed), keyed by approval id; one partition, so one total order
     * decides which outcome came first.
     */
    public static final String APPROVALS = "gatehouse.approvals";
    /**
     * The audit events as OCSF 1.8.0 JSON (Datastore Activity, Authentication), keyed by session id;
     * derived from {@link #AUDIT} by the indexer's OCSF exporter for SIEMs (see docs/siem.md).
     */
    public static final String AUDIT_OCSF = "gatehouse.audit.ocsf";
    /**
     * Dead letters: {@link #AUDIT} records the indexer could not decode, with the original key and
     * bytes and headers {@code gatehouse.dlq.reason}, {@code .topic}, {@code .partition}, {@code .offset}.
     */
    public static final String AUDIT_DLQ = "gatehouse.audit.dlq";

    private Topics() {
    }
}
