package dev.gatehouse.platform.kafka;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The policy history on the compacted topic {@code gatehouse.policies} (one partition, so the
 * order of applications is the order of offsets). Knows nothing of the policy language: an
 * {@link Entry} carries the document text and who applied it.
 *
 * <p>Three kinds of record: {@code active} (the fleet enforces this version), {@code staged}
 * (evaluated beside the active version, its verdicts recorded as dry runs, never enforced) and
 * {@code unstaged} (no staged version any more). Keys are {@code active:<id>@<version>},
 * {@code staged:<id>@<version>} and {@code unstaged}, so compaction keeps the latest application
 * of every version and the fold over what remains ({@link State#fold}) is the same as over the
 * full log. Every activation is also an audit event ({@code PolicyActivated}), so the full
 * sequence of applications stays in {@code gatehouse.audit}.
 *
 * <p>Values are JSON (see {@link Entry}), readable with any Kafka console consumer.
 */
public final class PolicyLog {

    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyLog.class);

    static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    /** What a record does. */
    public enum Kind {
        ACTIVE, STAGED, UNSTAGED;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One application of a policy document.
     *
     * @param kind      active, staged or unstaged
     * @param policyId  the document's id (null for unstaged)
     * @param version   the document's version (null for unstaged)
     * @param sha256    hex SHA-256 of the document text (null for unstaged)
     * @param appliedBy who applied it: an authenticated subject, or a local user marked as such
     * @param appliedAt when it was applied
     * @param document  the document text exactly as applied (null for unstaged)
     * @param offset    the record's offset in the topic; -1 before it is written
     */
    public record Entry(Kind kind, String policyId, String version, String sha256, String appliedBy, Instant appliedAt,
                        String document, long offset) {
        public Entry {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(appliedBy, "appliedBy");
            Objects.requireNonNull(appliedAt, "appliedAt");
            if (kind != Kind.UNSTAGED) {
                Objects.requireNonNull(policyId, "policyId");
                Objects.requireNonNull(version, "version");
                Objects.requireNonNull(document, "document");
                if (sha256 == null) sha256 = PolicyLog.sha256(document);
            }
        }

        /** A new application of {@code document}, not yet written. */
        public static Entry of(Kind kind, String policyId, String version, String document, String appliedBy) {
            return new Entry(kind, policyId, version, null, appliedBy, Instant.now(), document, -1);
        }

        /** Ends staging, not yet written. */
        public static Entry unstage(String appliedBy) {
            return new Entry(Kind.UNSTAGED, null, null, null, appliedBy, Instant.now(), null, -1);
        }

        /** The record key (see the class comment). */
        public String key() {
            return kind == Kind.UNSTAGED ? "unstaged" : kind.label() + ":" + policyId + "@" + version;
        }

        Entry at(long offset) {
            return new Entry(kind, policyId, version, sha256, appliedBy, appliedAt, document, offset);
        }
    }

    /**
     * The fold of the log: what is enforced and what is staged, and every entry in order.
     *
     * @param active  the version in force; empty before the first application
     * @param staged  the staged version; empty when none
     * @param entries everything read, in offset order
     * @param refused offsets of entries whose document does not load (never activated)
     */
    public record State(Optional<Entry> active, Optional<Entry> staged, List<Entry> entries, java.util.Set<Long> refused) {
        public State {
            entries = List.copyOf(entries);
            refused = java.util.Set.copyOf(refused);
        }

        /** Folds entries in offset order, taking every document as loadable. */
        public static State fold(List<Entry> entries) {
            return fold(entries, e -> true);
        }

        /**
         * Folds entries in offset order as a policy service does: an entry whose document does not
         * load ({@code loads} false) is skipped, so the version before it stays in force.
         */
        public static State fold(List<Entry> entries, java.util.function.Predicate<Entry> loads) {
            Entry active = null;
            Entry staged = null;
            java.util.Set<Long> refused = new java.util.HashSet<>();
            for (Entry e : entries) {
                if (e.kind() != Kind.UNSTAGED && !loads.test(e)) {
                    refused.add(e.offset());
                    continue;
                }
                switch (e.kind()) {
                    case ACTIVE -> {
                        active = e;
                        // enforcing the staged version ends its staging
                        if (staged != null && staged.sha256().equals(e.sha256())) staged = null;
                    }
                    case STAGED -> staged = e;
                    case UNSTAGED -> staged = null;
                }
            }
            return new State(Optional.ofNullable(active), Optional.ofNullable(staged), entries, refused);
        }

        /** The latest application of {@code version} (of any policy id), of kind active or staged. */
        public Optional<Entry> version(String version) {
            return entries.reversed().stream()
                    .filter(e -> e.kind() != Kind.UNSTAGED && e.version().equals(version))
                    .findFirst();
        }
    }

    private PolicyLog() {
    }

    /** Hex SHA-256 of a document's UTF-8 bytes. */
    public static String sha256(String document) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(document.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    static byte[] encode(Entry entry) {
        try {
            return JSON.writeValueAsBytes(new Wire(entry.kind().label(), entry.policyId(), entry.version(), entry.sha256(),
                    entry.appliedBy(), entry.appliedAt().toString(), entry.document()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Entry decode(byte[] value, long offset) {
        try {
            Wire w = JSON.readValue(value, Wire.class);
            Kind kind = Kind.valueOf(Objects.requireNonNull(w.kind(), "kind").toUpperCase(java.util.Locale.ROOT));
            Instant at = Instant.parse(Objects.requireNonNull(w.appliedAt(), "appliedAt"));
            return new Entry(kind, w.policyId(), w.version(), w.sha256(), w.appliedBy(), at, w.document(), offset);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("not a policy record at offset " + offset + ": " + e.getMessage(), e);
        }
    }

    /** The JSON form of a record's value. */
    record Wire(String kind, String policyId, String version, String sha256, String appliedBy, String appliedAt,
                String document) {
    }

    /** Writes one entry ({@code acks=all}, idempotent) and returns it with its offset. */
    public static Entry publish(String bootstrapServers, Entry entry, Duration timeout) {
        Map<String, Object> config = KafkaClients.client(bootstrapServers, "gatehouse-policy-publisher");
        config.putAll(Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) timeout.toMillis(),
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(timeout.toMillis(), 2000),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(timeout.toMillis(), 2000) / 2));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
            RecordMetadata meta = producer.send(new ProducerRecord<>(Topics.POLICIES, 0, entry.key(), encode(entry)))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            LOGGER.info("Policy record written kind={} policyId={} version={} appliedBy={} offset={}",
                    entry.kind().label(), entry.policyId(), entry.version(), entry.appliedBy(), meta.offset());
            return entry.at(meta.offset());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + Topics.POLICIES, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("cannot write to " + Topics.POLICIES + " at " + bootstrapServers + ": " + cause, cause);
        }
    }

    /** Reads the whole topic up to its current end and folds it. */
    public static State read(String bootstrapServers, Duration timeout) {
        List<Entry> entries = new ArrayList<>();
        follow(bootstrapServers, "gatehouse-policy-reader", timeout, 0, entries::add).close();
        return State.fold(entries);
    }

    /**
     * Reads the topic to its current end and then follows it ({@link CompactedTopicReader}),
     * handing every entry at or after {@code fromOffset} to {@code listener} in offset order, on
     * the reader's thread (this call returns once the entries up to the end were handed over).
     * Undecodable records are logged and skipped (they cannot change the state).
     */
    public static CompactedTopicReader<Entry> follow(String bootstrapServers, String clientId, Duration timeout,
                                                     long fromOffset, Consumer<Entry> listener) {
        Objects.requireNonNull(listener, "listener");
        return new CompactedTopicReader<>(new CompactedTopicReader.Settings(bootstrapServers, Topics.POLICIES, clientId, timeout),
                value -> decode(value, -1),
                (key, entry, offset) -> {
                    if (entry != null && offset >= fromOffset) listener.accept(entry.at(offset));
                });
    }
}
