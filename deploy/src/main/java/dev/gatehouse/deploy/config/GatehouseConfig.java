package dev.gatehouse.deploy.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.platform.identity.DelegationTrust;

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
        Observability observability,
        Admin admin,
        Approval approval,
        Indexer indexer) {

    /** A configuration without an {@code admin} section (the admin API on its defaults). */
    public GatehouseConfig(String instanceId, Path dataDir, Kafka kafka, Edge edge, List<Connection> connections,
                           Identity identity, Policy policy, Observability observability) {
        this(instanceId, dataDir, kafka, edge, connections, identity, policy, observability, null, null, null);
    }

    /** A configuration without an {@code approval} section (the approval service on its defaults). */
    public GatehouseConfig(String instanceId, Path dataDir, Kafka kafka, Edge edge, List<Connection> connections,
                           Identity identity, Policy policy, Observability observability, Admin admin) {
        this(instanceId, dataDir, kafka, edge, connections, identity, policy, observability, admin, null, null);
    }

    /** A configuration without an {@code indexer} section (the audit indexer on its defaults). */
    public GatehouseConfig(String instanceId, Path dataDir, Kafka kafka, Edge edge, List<Connection> connections,
                           Identity identity, Policy policy, Observability observability, Admin admin, Approval approval) {
        this(instanceId, dataDir, kafka, edge, connections, identity, policy, observability, admin, approval, null);
    }

    public GatehouseConfig {
        Objects.requireNonNull(kafka, "kafka: section is required");
        instanceId = instanceId == null || instanceId.isBlank() ? defaultInstanceId() : instanceId;
        dataDir = dataDir == null ? Path.of(".gatehouse") : dataDir;
        edge = edge == null ? new Edge(null) : edge;
        connections = connections == null ? List.of() : List.copyOf(connections);
        identity = identity == null ? new Identity(List.of()) : identity;
        policy = policy == null ? new Policy(null) : policy;
        observability = observability == null ? new Observability(null, null) : observability;
        admin = admin == null ? new Admin(null, null, null) : admin;
        approval = approval == null ? new Approval(null, null, null, null, null) : approval;
        indexer = indexer == null ? new Indexer(null, null, null, null, null, null, null, null) : indexer;
    }

    private static String defaultInstanceId() {
        String host = System.getenv().getOrDefault("HOSTNAME", "gatehouse");
        return host + "-" + ProcessHandle.current().pid();
    }

    /**
     * Kafka: where the log lives, how its topics are created, and how this process connects.
     *
     * @param properties      client settings passed to every Kafka client of the process (TLS, SASL);
     *                        the ones Gatehouse sets itself are refused ({@code KafkaClients.REFUSED})
     * @param provisionTopics true (default): create missing topics at start; false: only check they
     *                        exist and fail naming the missing ones ({@code gatehouse kafka provision})
     * @param aclPrincipals   role -> Kafka principal ({@code User:name}), read only by
     *                        {@code gatehouse kafka provision} to create each role's ACLs
     */
    public record Kafka(
            @JsonProperty("bootstrap-servers") String bootstrapServers,
            Integer partitions,
            @JsonProperty("replication-factor") Integer replicationFactor,
            @JsonProperty("audit-retention") String auditRetention,
            @JsonProperty("delivery-timeout") String deliveryTimeout,
            Map<String, String> properties,
            @JsonProperty("provision-topics") Boolean provisionTopics,
            @JsonProperty("acl-principals") Map<String, String> aclPrincipals) {

        @com.fasterxml.jackson.annotation.JsonCreator
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
            properties = properties == null ? Map.of()
                    : dev.gatehouse.platform.kafka.KafkaClients.checkProperties("kafka.properties", properties);
            provisionTopics = provisionTopics == null || provisionTopics;
            aclPrincipals = aclPrincipals == null ? Map.of() : dev.gatehouse.platform.kafka.KafkaAcls.checkPrincipals(aclPrincipals);
        }

        /** Topics created at start, no ACL principals. */
        public Kafka(String bootstrapServers, Integer partitions, Integer replicationFactor, String auditRetention,
                     String deliveryTimeout, Map<String, String> properties) {
            this(bootstrapServers, partitions, replicationFactor, auditRetention, deliveryTimeout, properties, null, null);
        }

        /** Names the properties but shows none of their values (sasl.jaas.config holds a password). */
        @Override
        public String toString() {
            return "Kafka[bootstrapServers=" + bootstrapServers + ", partitions=" + partitions + ", replicationFactor="
                    + replicationFactor + ", auditRetention=" + auditRetention + ", deliveryTimeout=" + deliveryTimeout
                    + ", properties=" + new java.util.TreeSet<>(properties.keySet()) + " (values hidden), provisionTopics="
                    + provisionTopics + ", aclPrincipals=" + aclPrincipals + "]";
        }

        /** Null: the audit log is kept forever (the default). */
        public Duration auditRetentionDuration() {
            return Durations.parse("kafka.audit-retention", auditRetention);
        }

        public Duration deliveryTimeoutDuration() {
            return Durations.parse("kafka.delivery-timeout", deliveryTimeout);
        }
    }

    /**
     * The edge's listeners and masking.
     *
     * @param postgres the PostgreSQL listener (always on)
     * @param masking  result masking
     * @param mysql    the MySQL listener, or null for none (the section turns it on)
     * @param drainTimeout on SIGTERM, how long sessions may finish the command in flight before the
     *                     edge ends them (default 20s); see {@code GatehouseRuntime#drain}
     */
    public record Edge(Postgres postgres, Masking masking, MySql mysql,
                       @JsonProperty("drain-timeout") String drainTimeout) {
        public Edge {
            postgres = postgres == null ? new Postgres(null, null, null, null, null, null, null) : postgres;
            masking = masking == null ? new Masking(null, null, null) : masking;
            drainTimeout = drainTimeout == null ? "20s" : drainTimeout;
            Durations.parse("edge.drain-timeout", drainTimeout);
        }

        /** An edge with the default drain timeout. */
        public Edge(Postgres postgres, Masking masking, MySql mysql) {
            this(postgres, masking, mysql, null);
        }

        /** An edge without a MySQL listener. */
        public Edge(Postgres postgres, Masking masking) {
            this(postgres, masking, null);
        }

        public Duration drainTimeoutDuration() {
            return Durations.parse("edge.drain-timeout", drainTimeout);
        }

        /** An edge without masking profiles. */
        public Edge(Postgres postgres) {
            this(postgres, null, null);
        }
    }

    /**
     * The MySQL listener (MySQL and MariaDB clients), for the connections whose protocol is
     * {@code mysql}. Decision deadline, authentication timeout and result capture are the PostgreSQL
     * listener's; TLS too unless set here.
     *
     * @param host            address to listen on (default 127.0.0.1)
     * @param port            port (default 13306; 0 picks a free one)
     * @param tls             PEM certificate and key; default: the PostgreSQL listener's
     * @param allowPlaintext  whether a token may arrive without TLS (default false)
     * @param maxPacketSize   the largest command a client may send, in bytes (default 64 MiB, as MariaDB's
     *                        max_allowed_packet in 11.4; at least 1 KiB)
     * @param maxConnections  the most client connections at once (default 1000)
     * @param eventLoops      event loops serving its sessions (default: one per processor)
     * @param serverVersion   the version its greeting announces (default {@code 11.4.5-MariaDB-Gatehouse});
     *                        SQL is analysed for each target's own version
     */
    public record MySql(String host, Integer port, Tls tls, @JsonProperty("allow-plaintext") Boolean allowPlaintext,
                        @JsonProperty("max-packet-size") Integer maxPacketSize,
                        @JsonProperty("max-connections") Integer maxConnections,
                        @JsonProperty("event-loops") Integer eventLoops,
                        @JsonProperty("server-version") String serverVersion) {
        public MySql {
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 13306 : port;
            if (port < 0 || port > 65535) throw new IllegalArgumentException("edge.mysql.port must be 0..65535, not " + port);
            allowPlaintext = allowPlaintext == null ? Boolean.FALSE : allowPlaintext;
            maxPacketSize = maxPacketSize == null ? 64 << 20 : maxPacketSize;
            if (maxPacketSize < 1024) {
                throw new IllegalArgumentException("edge.mysql.max-packet-size must be at least 1024 bytes, not " + maxPacketSize);
            }
            maxConnections = maxConnections == null ? 1000 : maxConnections;
            if (maxConnections < 1) {
                throw new IllegalArgumentException("edge.mysql.max-connections must be at least 1, not " + maxConnections);
            }
            eventLoops = eventLoops == null ? PgEdgeConfig.defaultEventLoops() : eventLoops;
            if (eventLoops < 1 || eventLoops > PgEdgeConfig.MAX_EVENT_LOOPS) {
                throw new IllegalArgumentException("edge.mysql.event-loops must be 1.." + PgEdgeConfig.MAX_EVENT_LOOPS
                        + ", not " + eventLoops);
            }
            serverVersion = serverVersion == null || serverVersion.isBlank() ? "11.4.5-MariaDB-Gatehouse" : serverVersion;
        }
    }

    /**
     * Result masking at the edge: the profiles that {@code mask: {profile: NAME}} rules name, and
     * where the key of the {@code hmac} method comes from (a file, or an environment variable;
     * never the configuration itself, never logged).
     *
     * @param profilesFile YAML file of masking profiles, or null for none (Mask decisions are then refused)
     * @param hmacKeyEnv   environment variable holding the HMAC key (default {@code GATEHOUSE_MASKING_HMAC_KEY})
     * @param hmacKeyFile  file holding the HMAC key; takes precedence over the variable
     */
    public record Masking(@JsonProperty("profiles-file") Path profilesFile, @JsonProperty("hmac-key-env") String hmacKeyEnv,
                          @JsonProperty("hmac-key-file") Path hmacKeyFile) {
        public Masking {
            hmacKeyEnv = hmacKeyEnv == null || hmacKeyEnv.isBlank() ? "GATEHOUSE_MASKING_HMAC_KEY" : hmacKeyEnv;
        }

        /** Loads the profiles, asking for the HMAC key only if a profile uses it. */
        public dev.gatehouse.edge.masking.MaskingProfiles profiles() {
            if (profilesFile == null) return dev.gatehouse.edge.masking.MaskingProfiles.NONE;
            try {
                return dev.gatehouse.edge.masking.MaskingProfiles.load(profilesFile, this::hmacKey);
            } catch (dev.gatehouse.edge.masking.MaskingException e) {
                throw new IllegalArgumentException("edge.masking: " + e.getMessage(), e);
            }
        }

        private dev.gatehouse.edge.masking.HmacKey hmacKey() {
            if (hmacKeyFile != null) {
                try {
                    return dev.gatehouse.edge.masking.HmacKey.of(java.nio.file.Files.readString(hmacKeyFile));
                } catch (java.io.IOException e) {
                    throw new dev.gatehouse.edge.masking.MaskingException("cannot read edge.masking.hmac-key-file "
                            + hmacKeyFile + ": " + e.getMessage());
                }
            }
            String key = System.getenv(hmacKeyEnv);
            if (key == null || key.isBlank()) {
                throw new dev.gatehouse.edge.masking.MaskingException("the hmac method needs a key: set the environment variable "
                        + hmacKeyEnv + " or edge.masking.hmac-key-file");
            }
            return dev.gatehouse.edge.masking.HmacKey.of(key);
        }
    }

    /**
     * The PostgreSQL listener.
     *
     * @param authenticationTimeout how long a client connection may take to log in (startup, token,
     *                              connect decision, target login) before it is closed, as PostgreSQL's
     *                              {@code authentication_timeout} (default 60s, its default too)
     * @param maxConnections        the most client connections the listener holds at once, logged in or
     *                              not; more are refused with SQLSTATE 53300 (default 1000)
     * @param eventLoops            event loops serving the listener's sessions (default: one per processor)
     */
    public record Postgres(
            String host,
            Integer port,
            Tls tls,
            @JsonProperty("allow-plaintext") Boolean allowPlaintext,
            @JsonProperty("decision-deadline") String decisionDeadline,
            @JsonProperty("max-message-size") Integer maxMessageSize,
            @JsonProperty("max-parameter-bytes") Integer maxParameterBytes,
            @JsonProperty("result-capture") ResultCapture resultCapture,
            @JsonProperty("approval-notice-interval") String approvalNoticeInterval,
            @JsonProperty("authentication-timeout") String authenticationTimeout,
            @JsonProperty("max-connections") Integer maxConnections,
            @JsonProperty("event-loops") Integer eventLoops) {

        public Postgres {
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 15432 : port;
            allowPlaintext = allowPlaintext == null ? Boolean.FALSE : allowPlaintext;
            decisionDeadline = decisionDeadline == null ? "10s" : decisionDeadline;
            Durations.parse("edge.postgres.decision-deadline", decisionDeadline);
            maxMessageSize = maxMessageSize == null ? 1 << 20 : maxMessageSize;
            maxParameterBytes = maxParameterBytes == null ? 4096 : maxParameterBytes;
            resultCapture = resultCapture == null ? new ResultCapture(null, null) : resultCapture;
            approvalNoticeInterval = approvalNoticeInterval == null ? "30s" : approvalNoticeInterval;
            if (Durations.parse("edge.postgres.approval-notice-interval", approvalNoticeInterval).isZero()) {
                throw new IllegalArgumentException("edge.postgres.approval-notice-interval must be positive");
            }
            authenticationTimeout = authenticationTimeout == null ? "60s" : authenticationTimeout;
            if (Durations.parse("edge.postgres.authentication-timeout", authenticationTimeout).isZero()) {
                throw new IllegalArgumentException("edge.postgres.authentication-timeout must be positive");
            }
            maxConnections = maxConnections == null ? 1000 : maxConnections;
            if (maxConnections < 1) {
                throw new IllegalArgumentException("edge.postgres.max-connections must be at least 1, not " + maxConnections);
            }
            eventLoops = eventLoops == null ? PgEdgeConfig.defaultEventLoops() : eventLoops;
            if (eventLoops < 1 || eventLoops > PgEdgeConfig.MAX_EVENT_LOOPS) {
                throw new IllegalArgumentException("edge.postgres.event-loops must be 1.." + PgEdgeConfig.MAX_EVENT_LOOPS
                        + ", not " + eventLoops);
            }
        }

        /** A listener with one event loop per processor. */
        public Postgres(String host, Integer port, Tls tls, Boolean allowPlaintext, String decisionDeadline,
                        Integer maxMessageSize, Integer maxParameterBytes, ResultCapture resultCapture,
                        String approvalNoticeInterval, String authenticationTimeout, Integer maxConnections) {
            this(host, port, tls, allowPlaintext, decisionDeadline, maxMessageSize, maxParameterBytes, resultCapture,
                    approvalNoticeInterval, authenticationTimeout, maxConnections, null);
        }

        /** A listener with the default authentication timeout and connection limit. */
        public Postgres(String host, Integer port, Tls tls, Boolean allowPlaintext, String decisionDeadline,
                        Integer maxMessageSize, Integer maxParameterBytes, ResultCapture resultCapture,
                        String approvalNoticeInterval) {
            this(host, port, tls, allowPlaintext, decisionDeadline, maxMessageSize, maxParameterBytes, resultCapture,
                    approvalNoticeInterval, null, null);
        }

        /** A listener with the default approval notice interval. */
        public Postgres(String host, Integer port, Tls tls, Boolean allowPlaintext, String decisionDeadline,
                        Integer maxMessageSize, Integer maxParameterBytes, ResultCapture resultCapture) {
            this(host, port, tls, allowPlaintext, decisionDeadline, maxMessageSize, maxParameterBytes, resultCapture, null);
        }

        /** A listener with the default result capture. */
        public Postgres(String host, Integer port, Tls tls, Boolean allowPlaintext, String decisionDeadline,
                        Integer maxMessageSize, Integer maxParameterBytes) {
            this(host, port, tls, allowPlaintext, decisionDeadline, maxMessageSize, maxParameterBytes, null, null);
        }

        public Duration decisionDeadlineDuration() {
            return Durations.parse("edge.postgres.decision-deadline", decisionDeadline);
        }

        /** How often a client whose command is held for approval is reminded (NoticeResponse); default 30s. */
        public Duration approvalNoticeIntervalDuration() {
            return Durations.parse("edge.postgres.approval-notice-interval", approvalNoticeInterval);
        }

        /** How long a client connection may take to log in before it is closed; default 60s. */
        public Duration authenticationTimeoutDuration() {
            return Durations.parse("edge.postgres.authentication-timeout", authenticationTimeout);
        }
    }

    /**
     * How much of each result the edge samples into the audit log ({@code ResultSampled}): the
     * first {@code rows} rows, at most {@code bytes} bytes of values (defaults 20 and 16384; either
     * at 0 disables capture; bytes at most 4 MiB). Under {@code edge.postgres.result-capture} for
     * every connection, under a connection to override it.
     */
    public record ResultCapture(Integer rows, Integer bytes) {
        public ResultCapture {
            rows = rows == null ? dev.gatehouse.edge.catalog.ResultCapture.DEFAULT.rows() : rows;
            bytes = bytes == null ? dev.gatehouse.edge.catalog.ResultCapture.DEFAULT.bytes() : bytes;
            limits(rows, bytes);
        }

        /** The edge's form of these limits. */
        public dev.gatehouse.edge.catalog.ResultCapture limits() {
            return limits(rows, bytes);
        }

        private static dev.gatehouse.edge.catalog.ResultCapture limits(int rows, int bytes) {
            return new dev.gatehouse.edge.catalog.ResultCapture(rows, bytes);
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
                             Boolean tls, @JsonProperty("tls-ca") Path tlsCa, String mode, Map<String, String> labels,
                             @JsonProperty("result-capture") ResultCapture resultCapture, String protocol) {
        public Connection {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("connections: every entry needs a name");
            protocol = protocol == null || protocol.isBlank() ? "postgres" : protocol.trim().toLowerCase(java.util.Locale.ROOT);
            if (!protocol.equals("postgres") && !protocol.equals("mysql")) {
                throw new IllegalArgumentException("connections." + name + ": protocol must be postgres or mysql, not '"
                        + protocol + "'");
            }
            port = port == null ? (protocol.equals("mysql") ? 3306 : 5432) : port;
            tls = tls != null && tls;
            if (tlsCa != null && !tls) {
                throw new IllegalArgumentException("connections." + name + ": tls-ca is set but tls is not true");
            }
            mode = mode == null ? "enforce" : mode;
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }

        /** A PostgreSQL connection. */
        public Connection(String name, String host, Integer port, String database, String user, String password,
                          Boolean tls, Path tlsCa, String mode, Map<String, String> labels, ResultCapture resultCapture) {
            this(name, host, port, database, user, password, tls, tlsCa, mode, labels, resultCapture, null);
        }

        /** A PostgreSQL connection without a result capture of its own (the edge-wide one applies). */
        public Connection(String name, String host, Integer port, String database, String user, String password,
                          Boolean tls, Path tlsCa, String mode, Map<String, String> labels) {
            this(name, host, port, database, user, password, tls, tlsCa, mode, labels, null, null);
        }

        @Override
        public String toString() {
            return "Connection[" + name + " -> " + user + "@" + host + ":" + port + "/" + database
                    + (protocol.equals("postgres") ? "" : ", protocol=" + protocol) + "]";
        }
    }

    /**
     * Token validation.
     *
     * @param issuers                the trusted issuers
     * @param sessionExpiryGrace     how long a live session may outlive its token's {@code exp}
     *                               before the edge ends it (default 60s; 0s ends it at expiry)
     * @param jwksCacheTtl           how long a fetched JWKS is used before it is fetched again (default 5m)
     * @param jwksMinRefreshInterval at most one JWKS refresh for an unknown {@code kid} per interval and issuer (default 30s)
     */
    public record Identity(List<Issuer> issuers,
                           @JsonProperty("session-expiry-grace") String sessionExpiryGrace,
                           @JsonProperty("jwks-cache-ttl") String jwksCacheTtl,
                           @JsonProperty("jwks-min-refresh-interval") String jwksMinRefreshInterval) {
        @com.fasterxml.jackson.annotation.JsonCreator
        public Identity {
            issuers = issuers == null ? List.of() : List.copyOf(issuers);
            sessionExpiryGrace = sessionExpiryGrace == null ? "60s" : sessionExpiryGrace;
            Durations.parse("identity.session-expiry-grace", sessionExpiryGrace);
            jwksCacheTtl = jwksCacheTtl == null ? "5m" : jwksCacheTtl;
            if (Durations.parse("identity.jwks-cache-ttl", jwksCacheTtl).isZero()) {
                throw new IllegalArgumentException("identity.jwks-cache-ttl must be positive");
            }
            jwksMinRefreshInterval = jwksMinRefreshInterval == null ? "30s" : jwksMinRefreshInterval;
            Durations.parse("identity.jwks-min-refresh-interval", jwksMinRefreshInterval);
            if (issuers.stream().map(Issuer::issuer).distinct().count() != issuers.size()) {
                throw new IllegalArgumentException("identity.issuers: an issuer is configured twice");
            }
        }

        /** Issuers with the default grace and JWKS settings. */
        public Identity(List<Issuer> issuers) {
            this(issuers, null, null, null);
        }
    }

    /**
     * A trusted token issuer.
     *
     * @param issuer       the exact {@code iss} of its tokens
     * @param jwksUri      where it publishes its keys; when absent, found by OIDC discovery at
     *                     {@code <issuer>/.well-known/openid-configuration}
     * @param audiences    a token's {@code aud} must name one of these
     * @param algorithms   accepted signature algorithms: RS*, PS*, ES*, EdDSA (default RS256, ES256);
     *                     {@code none} and HS* are refused at start
     * @param clockSkew    tolerance for {@code exp} and {@code nbf} (default 30s)
     * @param groupsClaim  the claim listing groups (default {@code groups}; none for CI kinds)
     * @param kind         generic | keycloak | github-actions | gitlab: selects the default claim mapping
     * @param subjectClaim the claim naming the caller (default {@code sub})
     * @param rolesClaims  the claims listing roles; {@code resource_access} gives Keycloak client
     *                     roles as "client:role" (default per kind)
     * @param groupPaths   keep | relative | leaf: how group paths "/ops/dba" are written
     *                     (keycloak default relative: "ops/dba"; others keep)
     * @param delegation   whether the issuer may assert delegation (RFC 8693 {@code act}) and how
     *                     its tokens name the acting client; default: no delegation accepted
     */
    public record Issuer(String issuer, @JsonProperty("jwks-uri") URI jwksUri, Set<String> audiences,
                         Set<String> algorithms, @JsonProperty("clock-skew") String clockSkew,
                         @JsonProperty("groups-claim") String groupsClaim,
                         String kind,
                         @JsonProperty("subject-claim") String subjectClaim,
                         @JsonProperty("roles-claims") List<String> rolesClaims,
                         @JsonProperty("group-paths") String groupPaths,
                         Delegation delegation) {
        @com.fasterxml.jackson.annotation.JsonCreator
        public Issuer {
            if (issuer == null || issuer.isBlank()) throw new IllegalArgumentException("identity.issuers: issuer is required");
            if (audiences == null || audiences.isEmpty()) {
                throw new IllegalArgumentException("identity.issuers[" + issuer + "]: at least one audience is required");
            }
            audiences = Set.copyOf(audiences);
            algorithms = algorithms == null ? Set.of("RS256", "ES256") : Set.copyOf(algorithms);
            for (String alg : algorithms) {
                String name = alg == null ? "" : alg.strip();
                if (name.equalsIgnoreCase("none") || name.toUpperCase(java.util.Locale.ROOT).startsWith("HS")) {
                    throw new IllegalArgumentException("identity.issuers[" + issuer + "]: algorithm " + alg
                            + " is never accepted (unsigned or symmetric); use RS*, PS*, ES* or EdDSA");
                }
            }
            clockSkew = clockSkew == null ? "30s" : clockSkew;
            Durations.parse("identity.issuers.clock-skew", clockSkew);
            kind = kind == null || kind.isBlank() ? "generic" : kind.strip();
            if (!List.of("generic", "keycloak", "github-actions", "gitlab").contains(kind)) {
                throw new IllegalArgumentException("identity.issuers[" + issuer + "]: kind '" + kind
                        + "' is not one of generic, keycloak, github-actions, gitlab");
            }
            rolesClaims = rolesClaims == null ? null : List.copyOf(rolesClaims);
            if (groupPaths != null && !List.of("keep", "relative", "leaf").contains(groupPaths)) {
                throw new IllegalArgumentException("identity.issuers[" + issuer + "]: group-paths '" + groupPaths
                        + "' is not one of keep, relative, leaf");
            }
            delegation = delegation == null ? new Delegation(null, null, null, null, null, null) : delegation;
            try {
                delegation.trust();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("identity.issuers[" + issuer + "]." + e.getMessage(), e);
            }
        }

        /** An issuer that asserts no delegation. */
        public Issuer(String issuer, URI jwksUri, Set<String> audiences, Set<String> algorithms, String clockSkew,
                      String groupsClaim, String kind, String subjectClaim, List<String> rolesClaims, String groupPaths) {
            this(issuer, jwksUri, audiences, algorithms, clockSkew, groupsClaim, kind, subjectClaim, rolesClaims, groupPaths, null);
        }

        /** This issuer with other delegation settings. */
        public Issuer withDelegation(Delegation d) {
            return new Issuer(issuer, jwksUri, audiences, algorithms, clockSkew, groupsClaim, kind, subjectClaim, rolesClaims,
                    groupPaths, d);
        }

        /** A generic issuer with the default claim mapping. */
        public Issuer(String issuer, URI jwksUri, Set<String> audiences, Set<String> algorithms, String clockSkew,
                      String groupsClaim) {
            this(issuer, jwksUri, audiences, algorithms, clockSkew, groupsClaim, null, null, null, null, null);
        }
    }

    /**
     * What an issuer may say about delegation (see {@link DelegationTrust}).
     *
     * @param acceptAct    accept RFC 8693 {@code act} claims from this issuer (default false: such tokens are refused)
     * @param actorClaim   another claim naming the acting client, e.g. {@code azp} for Keycloak's token exchange
     * @param humanClients values of the actor claim that mean the person acts themself (their login clients)
     * @param maxDepth     the longest delegation chain accepted, counting the current actor (default 3)
     * @param runClaim     the token claim holding an agent's run id (default agent_run_id)
     * @param stepClaim    the token claim holding an agent's plan step id (default agent_step_id)
     */
    public record Delegation(@JsonProperty("accept-act") Boolean acceptAct, @JsonProperty("actor-claim") String actorClaim,
                             @JsonProperty("human-clients") Set<String> humanClients,
                             @JsonProperty("max-depth") Integer maxDepth, @JsonProperty("run-claim") String runClaim,
                             @JsonProperty("step-claim") String stepClaim) {
        public Delegation {
            acceptAct = acceptAct != null && acceptAct;
            humanClients = humanClients == null ? Set.of() : Set.copyOf(humanClients);
            maxDepth = maxDepth == null ? DelegationTrust.DEFAULT_MAX_DEPTH : maxDepth;
        }

        /** The trust these settings give; fails naming the setting when one is invalid. */
        public DelegationTrust trust() {
            return new DelegationTrust(acceptAct, actorClaim, humanClients, maxDepth, runClaim, stepClaim);
        }

        /** Accepting {@code act} from the issuer, the defaults otherwise. */
        public static Delegation acceptingAct() {
            return new Delegation(true, null, null, null, null, null);
        }
    }

    /**
     * The policy role.
     *
     * @param file           the first policy version, used when none was applied yet
     * @param sessionTimeout how soon a policy instance that stopped heartbeating (crashed, frozen,
     *                       cut off) loses its audit partitions to the others (default 6s, the
     *                       brokers' default minimum); see the example configuration for the trade-off
     * @param timeZone       the zone policy conditions read {@code time.hour}, {@code time.day_of_week}, ...
     *                       in (default UTC), e.g. Europe/Berlin
     * @param inlineDecisions when the process also runs the edge role: whether this process's policy
     *                       decides its own edge's requests before they are written, request and
     *                       decision appended together (default true; see {@code InlineDecisionPort})
     */
    public record Policy(Path file, @JsonProperty("session-timeout") String sessionTimeout,
                         @JsonProperty("time-zone") String timeZone,
                         @JsonProperty("inline-decisions") Boolean inlineDecisions) {
        public Policy {
            sessionTimeout = sessionTimeout == null ? "6s" : sessionTimeout;
            Durations.parse("policy.session-timeout", sessionTimeout);
            timeZone = timeZone == null || timeZone.isBlank() ? "UTC" : timeZone.strip();
            zoneOf(timeZone);
            inlineDecisions = inlineDecisions == null || inlineDecisions;
        }

        public Policy(Path file) {
            this(file, null, null, null);
        }

        public Policy(Path file, String sessionTimeout) {
            this(file, sessionTimeout, null, null);
        }

        public Policy(Path file, String sessionTimeout, String timeZone) {
            this(file, sessionTimeout, timeZone, null);
        }

        /** The zone of {@code time-zone}. */
        public java.time.ZoneId zone() {
            return zoneOf(timeZone);
        }

        private static java.time.ZoneId zoneOf(String timeZone) {
            try {
                return java.time.ZoneId.of(timeZone);
            } catch (java.time.DateTimeException e) {
                throw new IllegalArgumentException("policy.time-zone must be a time zone such as UTC, Europe/Berlin or "
                        + "+01:00, found '" + timeZone + "' (" + e.getMessage() + ")", e);
            }
        }

        public Duration sessionTimeoutDuration() {
            return Durations.parse("policy.session-timeout", sessionTimeout);
        }
    }

    /**
     * The admin API (role {@code admin}): revocations, the fleet's sessions. Callers present an
     * OIDC token of a trusted issuer whose groups include {@code group}.
     *
     * @param host  address to listen on (default 127.0.0.1)
     * @param port  port to listen on (default 9470; 0 picks a free one)
     * @param group the group an administrator must be in (default gatehouse-admins)
     */
    public record Admin(String host, Integer port, String group) {
        public static final String DEFAULT_GROUP = "gatehouse-admins";

        public Admin {
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 9470 : port;
            group = group == null ? DEFAULT_GROUP : group.strip();
            if (port < 0 || port > 65535) throw new IllegalArgumentException("admin.port must be 0..65535, not " + port);
            if (group.isEmpty()) throw new IllegalArgumentException("admin.group must not be blank");
        }
    }

    /**
     * The approval service (role {@code approval}) and how approval requests are made: its HTTP
     * server (REST API, Slack interactivity), the expiry of a request whose rule names none, and how
     * long a deferred grant stays redeemable.
     *
     * @param host             address to listen on (default 127.0.0.1)
     * @param port             port to listen on (default 18083; 0 picks a free one)
     * @param defaultExpiry    a request expires unanswered after this (default 10m)
     * @param deferredValidity a deferred grant may be redeemed (once) within this (default 1h)
     * @param sessionTimeout   how soon a standby approval service takes over from a dead arbiter (default 6s)
     * @param slack            the Slack integration (notifications, buttons), or null for none
     */
    public record Approval(String host, Integer port, @JsonProperty("default-expiry") String defaultExpiry,
                           @JsonProperty("deferred-validity") String deferredValidity,
                           @JsonProperty("session-timeout") String sessionTimeout,
                           dev.gatehouse.approval.slack.SlackConfig slack) {
        /** Without Slack. */
        public Approval(String host, Integer port, String defaultExpiry, String deferredValidity, String sessionTimeout) {
            this(host, port, defaultExpiry, deferredValidity, sessionTimeout, null);
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public Approval {
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 18083 : port;
            if (port < 0 || port > 65535) throw new IllegalArgumentException("approval.port must be 0..65535, not " + port);
            defaultExpiry = defaultExpiry == null ? "10m" : defaultExpiry;
            deferredValidity = deferredValidity == null ? "1h" : deferredValidity;
            sessionTimeout = sessionTimeout == null ? "6s" : sessionTimeout;
            positive("approval.default-expiry", defaultExpiry);
            positive("approval.deferred-validity", deferredValidity);
            positive("approval.session-timeout", sessionTimeout);
        }

        private static void positive(String field, String text) {
            Duration d = Durations.parse(field, text);
            if (d.isZero() || d.isNegative()) throw new IllegalArgumentException(field + " must be positive, not " + text);
        }

        public Duration defaultExpiryDuration() {
            return Durations.parse("approval.default-expiry", defaultExpiry);
        }

        public Duration deferredValidityDuration() {
            return Durations.parse("approval.deferred-validity", deferredValidity);
        }

        public Duration sessionTimeoutDuration() {
            return Durations.parse("approval.session-timeout", sessionTimeout);
        }
    }

    /**
     * The audit indexer (role {@code indexer}): session timelines projected from the audit log, their
     * store, the query API and the evidence seals. Callers of the API present an OIDC token of a
     * trusted issuer whose groups include {@code readGroup}.
     *
     * @param store          {@code embedded} (H2 files under data-dir/indexer, the default) or {@code postgres}
     * @param postgres       the PostgreSQL store, with {@code store: postgres}
     * @param host           address of the HTTP API (default 127.0.0.1)
     * @param port           port of the HTTP API (default 18082; 0 picks a free one)
     * @param readGroup      the group a reader must be in (default gatehouse-auditors)
     * @param signingKeyFile Ed25519 PKCS#8 PEM key that signs session seals (default data-dir/indexer/signing-key.pem,
     *                       generated when missing)
     * @param abortGrace     how long an open session's edge must have stopped reporting it before it is
     *                       marked aborted (default 15s)
     * @param ocsf           the OCSF exporter
     */
    public record Indexer(String store, IndexerPostgres postgres, String host, Integer port,
                          @JsonProperty("read-group") String readGroup,
                          @JsonProperty("signing-key-file") Path signingKeyFile,
                          @JsonProperty("abort-grace") String abortGrace, Ocsf ocsf) {
        public static final String DEFAULT_READ_GROUP = "gatehouse-auditors";

        public Indexer {
            store = store == null ? "embedded" : store.strip().toLowerCase(java.util.Locale.ROOT);
            if (!store.equals("embedded") && !store.equals("postgres")) {
                throw new IllegalArgumentException("indexer.store must be embedded or postgres, not " + store);
            }
            if (store.equals("postgres") && postgres == null) {
                throw new IllegalArgumentException("indexer.postgres: url and user are required with indexer.store: postgres");
            }
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 18082 : port;
            if (port < 0 || port > 65535) throw new IllegalArgumentException("indexer.port must be 0..65535, not " + port);
            readGroup = readGroup == null ? DEFAULT_READ_GROUP : readGroup.strip();
            if (readGroup.isEmpty()) throw new IllegalArgumentException("indexer.read-group must not be blank");
            abortGrace = abortGrace == null ? "15s" : abortGrace;
            Durations.parse("indexer.abort-grace", abortGrace);
            ocsf = ocsf == null ? new Ocsf(null) : ocsf;
        }

        public Duration abortGraceDuration() {
            return Durations.parse("indexer.abort-grace", abortGrace);
        }

        /** The signing key file: the configured one, or {@code indexer/signing-key.pem} under the data dir. */
        public Path signingKeyFile(Path dataDir) {
            return signingKeyFile != null ? signingKeyFile : dataDir.resolve("indexer").resolve("signing-key.pem");
        }

        /** The OCSF exporter's switch (default on). */
        public record Ocsf(Boolean enabled) {
            public Ocsf {
                enabled = enabled == null ? Boolean.TRUE : enabled;
            }
        }
    }

    /**
     * The indexer's PostgreSQL store. The password is read from the environment variable
     * {@code passwordEnv}, never from the file.
     */
    public record IndexerPostgres(String url, String user, @JsonProperty("password-env") String passwordEnv) {
        public IndexerPostgres {
            if (url == null || !url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("indexer.postgres.url must be a jdbc:postgresql: URL, was " + url);
            }
            if (user == null || user.isBlank()) throw new IllegalArgumentException("indexer.postgres.user is required");
        }

        /** The password from the environment, or null when no variable is named. */
        public String password() {
            if (passwordEnv == null) return null;
            String value = System.getenv(passwordEnv);
            if (value == null) {
                throw new IllegalArgumentException("indexer.postgres.password-env names " + passwordEnv + ", which is not set");
            }
            return value;
        }
    }

    public record Observability(String host, Integer port) {
        public Observability {
            host = host == null ? "127.0.0.1" : host;
            port = port == null ? 9464 : port;
        }
    }
}
