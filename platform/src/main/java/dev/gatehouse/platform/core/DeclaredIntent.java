package dev.gatehouse.platform.core;

/**
 * What an agent says it is doing: the run and plan step it acts in. Only an intent its issuer signed
 * (a token claim) is {@code verified}; one the client sent as a connection parameter is the
 * client's word, and is marked unverified wherever it is shown.
 *
 * @param runId    the agent's run, or null
 * @param stepId   the plan step within the run, or null
 * @param verified true when read from the signed token
 * @param source   where it was read: {@code token} or {@code connection-parameter}
 */
public record DeclaredIntent(String runId, String stepId, boolean verified, String source) {

    public static final String TOKEN = "token";
    public static final String CONNECTION_PARAMETER = "connection-parameter";

    public DeclaredIntent {
        if (runId == null && stepId == null) throw new IllegalArgumentException("a declared intent names a run or a step");
        if (source == null) source = verified ? TOKEN : CONNECTION_PARAMETER;
    }

    /** For people: "run r-17 step 4 (unverified: declared by the client)". */
    public String describe() {
        String what = (runId == null ? "" : "run " + runId) + (runId != null && stepId != null ? " " : "")
                + (stepId == null ? "" : "step " + stepId);
        return verified ? what + " (signed by the issuer)" : what + " (unverified: declared by the client)";
    }
}
