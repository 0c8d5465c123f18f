package dev.gatehouse.platform.core;

import java.util.concurrent.CompletionStage;

/** Appends events to the audit log; the stage completes when the write is durable. */
@FunctionalInterface
public interface AuditSink {
    CompletionStage<Void> append(AuditEvent event);
}
