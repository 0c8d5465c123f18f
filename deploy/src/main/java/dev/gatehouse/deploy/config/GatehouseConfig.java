package dev.gatehouse.deploy.config;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The configuration of one Gatehouse process, as loaded from YAML by {@link ConfigLoader}. Each
 * section is a record validated in its compact constructor, so a bad file fails at start with
 * a message naming the field.
 */
public record GatehouseConfig(
        @JsonProperty("instance-id") String instanceId,
        @JsonProperty("data-dir") Path dataDir,
        Kafka kafka,
        Edge edge,
        List<Connection> connections,
        Identity identity,
        Policy policy,
        Observability observability) {

    public GatehouseConfig {
        Objects.requireNonNull(kafka, "kafka: section is required");
        instanceId = instanceId == null || instanceId.isBlank() ? defaultInstanceId() : instanceId;
        dataDir = dataDir == null ? Path.of(".gatehouse") : dataDir;
        edge = edge == null ? new Edge(null) : edge;
        connections = connections == null ? List.of() : List.copyOf(connections);
        identity = identity == null ? new Identity(List.of()) : identity;
        policy = policy == null ? new Policy(null) : policy;
        observability = observability == null ? new Observability(null, null) : observability;
    }

    private static String defaultInstanceId() {
        String host = System.getenv().getOrDefault("HOSTNAME", "gatehouse");
        return host + "-" + ProcessHandle.current().pid();
    }

    /** Kafka: where the log lives and how its topics are created. */
    public record Kafka(
            @JsonProperty("bootstrap-servers") String bootstrapServers,
            Integer partitions,
            @JsonProperty("replication-factor") Integer replicationFactor,
            @JsonProperty("audit-retention") String auditRetention,
            @JsonProperty("delivery-timeout") String deliveryTimeout,
            Map<String, String> properties) {

        public Kafka {
            if (bootstrapServers == null || bootstrapServers.isBlank()) {
                throw new IllegalArgumentException("kafka.bootstrap-servers is required");
            }
            partitions = partitions == null ? 6 : partitions;
            replicationFactor = replicationFactor == null ? 3 : replicationFactor;
            if (partitions < 1) throw new IllegalArgumentException("kafka.partitions must be at least 1");
            if (replicationFactor < 1) throw new IllegalArgumentException("kafka.replication-factor must be at least 1");
            deliveryTimeout = deliveryTimeout == null ? "5s" : deliveryTimeout;
            Durations.parse("kafka.audit-retention", auditRetention);
            Durations.parse("kafka.delivery-timeout", deliveryTimeout);
            properties = properties == null ? Map.of() : Map.copyOf(properties);
        }

        /** Null: the audit log is kept forever (the default). */
        public Duration auditRetentionDuration() {
            return Durations.parse("kafka.audit-retention", auditRetention);
        }

        public Duration deliveryTimeoutDuration() {
            return Durations.parse("kafka.delivery-timeout", deliveryTimeout);
        }
    }

    public record Edge(Postgres postgres) {
        public Edge {
            postgres = postgres == null ? new Postgres(null, null, null, null, null, null, null) : postgres;
        }
    }

    /** The PostgreSQL listener. */
    public record Postgres(
            String host,
            Integer port,
            Tls tls,
            @JsonProperty("allow-plaintext") Boolean allowPlaintext,
            @JsonProperty("decision-deadline") String decisionDeadline,
            @JsonProperty("max-message-size") Integer maxMessageSize,
            @JsonProperty("max-parameter-bytes") Integer maxParameterBytes) {

        public Postgres {
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 15432 : port;
            allowPlaintext = allowPlaintext == null ? Boolean.FALSE : allowPlaintext;
            decisionDeadline = decisionDeadline == null ? "5s" : decisionDeadline;
            Durations.parse("edge.postgres.decision-deadline", decisionDeadline);
            maxMessageSize = maxMessageSize == null ? 1 << 20 : maxMessageSize;
            maxParameterBytes = maxParameterBytes == null ? 4096 : maxParameterBytes;
        }

        public Duration decisionDeadlineDuration() {
            return Durations.parse("edge.postgres.decision-deadline", decisionDeadline);
        }
    }

    /** A PEM certificate and key. */
    public record Tls(Path cert, Path key) {
        public Tls {
            if (cert == null || key == null) throw new IllegalArgumentException("tls: both cert and key are required");
        }
    }

    /**
     * One catalog entry; see the edge's TargetConnection. {@code tls-ca}: a PEM bundle of the CAs
     * to trust for the target's certificate (default: the JDK's trust store); only with {@code tls}.
     */
    public record Connection(String name, String host, Integer port, String database, String user, String password,
                             Boolean tls, @JsonProperty("tls-ca") Path tlsCa, String mode, Map<String, String> labels) {
        public Connection {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("connections: every entry needs a name");
            port = port == null ? 5432 : port;
            tls = tls != null && tls;
            if (tlsCa != null && !tls) {
                throw new IllegalArgumentException("connections." + name + ": tls-ca is set but tls is not true");
            }
            mode = mode == null ? "enforce" : mode;
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }

        @Override
        public String toString() {
            return "Connection[" + name + " -> " + user + "@" + host + ":" + port + "/" + database + "]";
        }
    }

    public record Identity(List<Issuer> issuers) {
        public Identity {
            issuers = issuers == null ? List.of() : List.copyOf(issuers);
        }
    }

    /** A trusted token issuer. */
    public record Issuer(String issuer, @JsonProperty("jwks-uri") URI jwksUri, Set<String> audiences,
                         Set<String> algorithms, @JsonProperty("clock-skew") String clockSkew,
                         @JsonProperty("groups-claim") String groupsClaim) {
        public Issuer {
            if (issuer == null || issuer.isBlank()) throw new IllegalArgumentException("identity.issuers: issuer is required");
            if (jwksUri == null) throw new IllegalArgumentException("identity.issuers[" + issuer + "]: jwks-uri is required");
            if (audiences == null || audiences.isEmpty()) {
                throw new IllegalArgumentException("identity.issuers[" + issuer + "]: at least one audience is required");
            }
            audiences = Set.copyOf(audiences);
            algorithms = algorithms == null ? Set.of("RS256", "ES256") : Set.copyOf(algorithms);
            clockSkew = clockSkew == null ? "30s" : clockSkew;
            Durations.parse("identity.issuers.clock-skew", clockSkew);
            groupsClaim = groupsClaim == null ? "groups" : groupsClaim;
        }
    }

    public record Policy(Path file) {
    }

    public record Observability(String host, Integer port) {
        public Observability {
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 9464 : port;
        }
    }
}
