package dev.gatehouse.deploy.it;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import org.apache.kafka.common.errors.NotEnoughReplicasAfterAppendException;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * Fault injection between the edge's decision port and the audit log: the record is written as
 * usual, but the acknowledgement the port sees of a chosen request is held back, delayed, or
 * turned into a failure (as a broker answers when the record reached the leader but too few
 * in-sync replicas). Commands are chosen by a marker in their SQL ({@code wa-fault-...}),
 * connection attempts by their application name. Requests without a planned fault pass through.
 */
final class AcknowledgementFaults implements UnaryOperator<AuditSink> {
    private static final Pattern MARKER = Pattern.compile("wa-fault-[A-Za-z0-9-]+");

    /** What happens to a request's acknowledgement once the broker gave it. */
    sealed interface Fault {
    }

    /** Held until {@code release} completes; a failed release turns it into a failure. */
    record Hold(CompletableFuture<Void> release) implements Fault {
    }

    /** Delayed by {@code delay}, then given ({@code fail} false) or turned into a failure. */
    record Delay(Duration delay, boolean fail) implements Fault {
    }

    private final Map<String, Fault> commandFaults = new ConcurrentHashMap<>();
    private final Map<String, Fault> connectFaults = new ConcurrentHashMap<>();
    private final Map<String, AuditEvent.CommandReceived> commands = new ConcurrentHashMap<>();
    private final Map<String, AuditEvent.SessionRequested> connects = new ConcurrentHashMap<>();

    /** Plans a fault for the command whose SQL carries {@code marker}. */
    void command(String marker, Fault fault) {
        commandFaults.put(marker, fault);
    }

    /** Plans a fault for the connection attempt with application name {@code marker}. */
    void connect(String marker, Fault fault) {
        connectFaults.put(marker, fault);
    }

    /** The command carrying {@code marker}, once the edge has appended it. */
    AuditEvent.CommandReceived awaitCommand(String marker) {
        return appended(commands, marker);
    }

    /** The connection attempt named {@code marker}, once the edge has appended it. */
    AuditEvent.SessionRequested awaitConnect(String marker) {
        return appended(connects, marker);
    }

    private static <T> T appended(Map<String, T> seen, String marker) {
        // look first: Awaitility waits its poll delay even for a condition that holds at once
        if (!seen.containsKey(marker)) await().atMost(Duration.ofSeconds(30)).until(() -> seen.containsKey(marker));
        return seen.get(marker);
    }

    /** An injected failure, as the producer reports it. */
    static Throwable injected() {
        return new NotEnoughReplicasAfterAppendException("injected: written, but to fewer in-sync replicas than required");
    }

    @Override
    public AuditSink apply(AuditSink sink) {
        return event -> {
            CompletionStage<Void> written = sink.append(event);
            Fault fault = null;
            if (event instanceof AuditEvent.CommandReceived cr) {
                Matcher m = MARKER.matcher(cr.command().sql());
                if (m.find()) {
                    commands.put(m.group(), cr);
                    fault = commandFaults.get(m.group());
                }
            } else if (event instanceof AuditEvent.SessionRequested sr && sr.applicationName() != null
                    && MARKER.matcher(sr.applicationName()).matches()) {
                connects.put(sr.applicationName(), sr);
                fault = connectFaults.get(sr.applicationName());
            }
            if (fault == null) return written;
            return switch (fault) {
                case Hold h -> written.thenCombine(h.release(), (a, b) -> null);
                case Delay d -> written.thenCompose(ok -> CompletableFuture.runAsync(() -> {
                    if (d.fail()) throw new CompletionException(injected());
                    // on the delay's own timer thread: never queued behind blocked work in the common pool
                }, CompletableFuture.delayedExecutor(d.delay().toNanos(), TimeUnit.NANOSECONDS, Runnable::run)));
            };
        };
    }
}
