package dev.gatehouse.edge.session;

import dev.gatehouse.platform.core.AuditEvent;

import java.util.List;

/**
 * What the protocol adapter reports when a command is finished: what the target answered (or the
 * error the client was given), for its {@code CommandCompleted}, and the result sample captured.
 *
 * @param forwarded      whether any of it reached the target
 * @param tags           the completion tags, in order
 * @param rows           rows returned or affected
 * @param errorCode      the first error's code (SQLSTATE), or null
 * @param errorMessage   the first error's message, or null
 * @param bytesToClient  bytes of answer relayed
 * @param txStatus       the transaction status after it ("I", "T", "E"), or null when not known yet
 * @param masking        what was masked, or null
 * @param statementsRun  how many of its statements ran to completion at the target, -1 when not known
 * @param samples        the result sample's events, in order (one: written inside CommandCompleted; several: before it)
 */
public record CommandResult(boolean forwarded, List<String> tags, long rows, String errorCode, String errorMessage,
                            long bytesToClient, String txStatus, AuditEvent.Masking masking, int statementsRun,
                            List<AuditEvent.ResultSampled> samples) {
    public CommandResult {
        tags = List.copyOf(tags);
        samples = samples == null ? List.of() : List.copyOf(samples);
    }
}
