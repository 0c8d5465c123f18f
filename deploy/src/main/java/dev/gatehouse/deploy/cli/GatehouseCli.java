package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.deploy.config.ConfigLoader;
import dev.gatehouse.deploy.config.Durations;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoMariaDb;
import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.events.AuditEventJson;
import dev.gatehouse.platform.identity.DelegationTrust;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/** The {@code gatehouse} command. */
@Command(name = "gatehouse", mixinStandardHelpOptions = true, version = "gatehouse 0.1.0",
        description = "Identity-aware gateway: every command in the Kafka log and decided before it reaches the target.",
        subcommands = {GatehouseCli.Dev.class, GatehouseCli.Run.class, GatehouseCli.Token.class, GatehouseCli.Audit.class,
                PolicyCommand.class, RevokeCommand.class, SessionsCommand.class, ReplayCommand.class,
                FleetCommand.class,
                ApprovalsCommand.class, ConsoleCommand.class, KafkaCommand.class})
public final class GatehouseCli {

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        if (code != 0 || !Boolean.getBoolean("gatehouse.stay")) System.exit(code);
    }

    /**
     * The command line, with bad input (an invalid option value, a broken configuration or policy)
     * reported as one clear line and exit code 2, not a stack trace.
     */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new GatehouseCli()).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setExecutionExceptionHandler((e, command, parseResult) -> {
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
                command.getErr().println(command.getCommandSpec().qualifiedName() + ": " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli;
    }

    static Path home() {
        return Path.of(System.getProperty("gatehouse.home", "."));
    }

    @Command(name = "dev", mixinStandardHelpOptions = true, modelTransformer = Dev.Description.class)
    static final class Dev implements Callable<Integer> {
        /**
         * Names every role in the description, as {@link DevEnvironment} starts every one: generated
         * from {@link Role}, so the help cannot fall behind when a role is added.
         */
        static final class Description implements CommandLine.IModelTransformer {
            @Override
            public CommandLine.Model.CommandSpec transform(CommandLine.Model.CommandSpec spec) {
                spec.usageMessage().description("Start everything in one process: embedded Kafka, the demo PostgreSQL "
                        + "and MariaDB targets, the development token issuer and every role (" + Role.labels() + "). Stop with Ctrl-C.");
                return spec;
            }
        }

        @Option(names = "--data-dir", description = "Where state is kept across restarts (default: ${DEFAULT-VALUE}).",
                defaultValue = ".gatehouse")
        Path dataDir;
        @Option(names = "--port", description = "PostgreSQL listener port (default: ${DEFAULT-VALUE}).", defaultValue = "15432")
        int port;
        @Option(names = "--kafka-port", description = "Embedded Kafka port (default: ${DEFAULT-VALUE}).", defaultValue = "19092")
        int kafkaPort;
        @Option(names = "--issuer-port", description = "Development token issuer port (default: ${DEFAULT-VALUE}).",
                defaultValue = "18080")
        int issuerPort;
        @Option(names = "--target-port", description = "Demo PostgreSQL target port (default: ${DEFAULT-VALUE}).",
                defaultValue = "15433")
        int targetPort;
        @Option(names = "--metrics-port", description = "/metrics and /health port (default: ${DEFAULT-VALUE}).",
                defaultValue = "9464")
        int metricsPort;
        @Option(names = "--admin-port", description = "Admin API port (default: ${DEFAULT-VALUE}).", defaultValue = "18081")
        int adminPort;
        @Option(names = "--policy", description = "Policy file (default: the example policy, copied to DATA-DIR/policy.yaml).")
        Path policy;
        @Option(names = "--mysql-port", description = "MySQL listener port; -1 runs neither it nor the MariaDB demo target"
                + " (default: ${DEFAULT-VALUE}).", defaultValue = "13306")
        int mysqlPort;
        @Option(names = "--mysql-target-port", description = "Demo MariaDB target port (default: ${DEFAULT-VALUE}).",
                defaultValue = "13307")
        int mysqlTargetPort;

        @Override
        public Integer call() throws Exception {
            DevState.requireDevelopmentParts("dev");
            Path dir = home().resolve(dataDir);
            DevEnvironment env = new DevEnvironment(new DevEnvironment.Settings(dir, port, kafkaPort, issuerPort, targetPort,
                    metricsPort, policy, adminPort, mysqlPort, mysqlTargetPort)).start();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                env.close();
                stop.countDown();
            }, "gatehouse-shutdown"));
            int edgePort = env.runtime().edgePort();
            PrintStream out = System.out;
            out.println();
            out.println("Gatehouse is running (data in " + dir.toAbsolutePath().normalize() + ").");
            out.println();
            out.println("  Get a token and connect with psql:");
            out.println();
            out.println("    export TOKEN=$(./gatehouse token --subject alice --groups dba)");
            out.println("    psql \"host=127.0.0.1 port=" + edgePort + " dbname=demo user=alice password=$TOKEN\"");
            if (env.runtime().mysqlPort() > 0) {
                out.println();
                out.println("  or with the mysql client (MariaDB " + DemoMariaDb.VERSION + " behind the edge):");
                out.println();
                out.println("    mysql --protocol=TCP -h 127.0.0.1 -P " + env.runtime().mysqlPort()
                        + " --ssl -u alice --password=\"$TOKEN\" -D demo-mysql");
            }
            out.println();
            out.println("  Watch the audit log:        ./gatehouse audit tail --follow");
            out.println("  Policy in force:            " + env.runtime().decider().active().policy().id() + " version "
                    + env.runtime().decider().active().policy().version() + " (./gatehouse policy history)");
            out.println("  Change it without a restart: ./gatehouse policy apply " + (policy != null ? policy
                    : dir.resolve("policy.yaml")) + "   (--dry-run to stage it first)");
            out.println("  Metrics and health:         http://127.0.0.1:" + env.runtime().observabilityPort() + "/metrics");
            out.println("  Kafka bootstrap servers:    " + env.kafka().bootstrapServers());
            out.println("  Token issuer (JWKS):        " + env.issuer().jwksUri());
            out.println("  Admin API:                  " + env.adminUrl() + "/admin/v1 (./gatehouse revoke, ./gatehouse sessions)");
            if (env.runtime().indexerPort() > 0) {
                out.println("  Audit indexer API:          http://127.0.0.1:" + env.runtime().indexerPort()
                        + "/api/v1 (./gatehouse audit search, ./gatehouse replay, ./gatehouse audit verify)");
                out.println("  Web console:                http://127.0.0.1:" + env.runtime().indexerPort()
                        + "/console/ (./gatehouse console --open signs you in)");
            }
            if (env.runtime().approvalPort() > 0) {
                out.println("  Approvals API:              " + env.approvalUrl()
                        + "/api/v1/approvals (./gatehouse approvals list|show|approve|deny)");
            }
            out.println();
            out.println("Press Ctrl-C to stop.");
            out.flush();
            stop.await();
            return 0;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run the given roles with a configuration file, against an existing Kafka cluster (a fleet member).")
    static final class Run implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, required = true, description = "Configuration file (YAML).")
        Path config;
        @Option(names = "--roles", defaultValue = "all", completionCandidates = RoleNames.class,
                description = "Roles to run, comma-separated, any of: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        String roles;

        @Override
        public Integer call() throws Exception {
            GatehouseConfig cfg = ConfigLoader.load(config);
            GatehouseRuntime runtime = new GatehouseRuntime(cfg, Role.parse(roles)).start();
            CountDownLatch stop = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                runtime.drain();
                runtime.close();
                stop.countDown();
            }, "gatehouse-shutdown"));
            System.err.println("gatehouse: running roles " + roles + " as " + cfg.instanceId());
            stop.await();
            return 0;
        }
    }

    /** What {@code --roles} accepts, from {@link Role} (the help lists them, shells complete them). */
    static final class RoleNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return Stream.concat(Arrays.stream(Role.values()).map(Role::label), Stream.of("all")).iterator();
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true,
            description = "Print a token from the development issuer (the key gatehouse dev uses).")
    static final class Token implements Callable<Integer> {
        @Option(names = "--subject", required = true, description = "The token's subject (who you are).")
        String subject;
        @Option(names = "--groups", split = ",", description = "Comma-separated groups, e.g. dba or ci.")
        List<String> groups = List.of();
        @Option(names = "--ttl", defaultValue = "1h", description = "Lifetime: 30m, 1h, 8h ... (default: ${DEFAULT-VALUE}).")
        String ttl;
        @Option(names = "--actor", description = "Mint a delegation token (RFC 8693): the agent acting for --subject,"
                + " named in the act claim.")
        String actor;
        @Option(names = "--actor-groups", split = ",", description = "The actor's groups (act.groups); only with --actor.")
        List<String> actorGroups = List.of();
        @Option(names = "--earlier-actors", split = ",", description = "Actors before --actor, nearest first (nested act"
                + " claims); recorded, never used for decisions.")
        List<String> earlierActors = List.of();
        @Option(names = "--run-id", description = "The agent's run id, as a signed claim (agent_run_id).")
        String runId;
        @Option(names = "--step-id", description = "The agent's plan step id, as a signed claim (agent_step_id).")
        String stepId;
        @Option(names = "--data-dir", defaultValue = ".gatehouse", description = "The dev data directory (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        @Override
        public Integer call() {
            DevState.requireDevelopmentParts("token");
            if (actor == null && (!actorGroups.isEmpty() || !earlierActors.isEmpty())) {
                System.err.println("gatehouse token: --actor-groups and --earlier-actors need --actor");
                return 2;
            }
            Path dir = home().resolve(dataDir);
            Properties state = DevState.read(dir);
            String issuerUrl = state.getProperty("issuer.url", DevTokenIssuer.defaultIssuerUrl(18080));
            Duration lifetime = Durations.parse("--ttl", ttl);
            Map<String, Object> extra = new java.util.LinkedHashMap<>();
            if (actor != null) extra.put("act", DevTokenIssuer.actClaim(actor, actorGroups, earlierActors));
            if (runId != null) extra.put(DelegationTrust.DEFAULT_RUN_CLAIM, runId);
            if (stepId != null) extra.put(DelegationTrust.DEFAULT_STEP_CLAIM, stepId);
            String token = DevTokenIssuer.load(dir.resolve("issuer"), issuerUrl).issue(subject, groups, lifetime, extra);
            System.out.println(token);
            return 0;
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, description = "Read the audit log.",
            subcommands = {Audit.Tail.class, AuditSearchCommand.class, AuditEvidenceCommands.Export.class,
                    AuditEvidenceCommands.Verify.class})
    static final class Audit implements Callable<Integer> {
        @Override
        public Integer call() {
            CommandLine.usage(this, System.out);
            return 0;
        }

        @Command(name = "tail", mixinStandardHelpOptions = true,
                description = "Print the audit log as JSON lines: from the beginning to now, or new events with --follow.")
        static final class Tail implements Callable<Integer> {
            @Option(names = "--session", description = "Only this session's events.")
            String session;
            @Option(names = {"-f", "--follow"}, description = "Keep printing new events until interrupted.")
            boolean follow;
            @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers (default: the running gatehouse dev's).")
            String bootstrap;
            @Option(names = "--data-dir", defaultValue = ".gatehouse", description = "The dev data directory (default: ${DEFAULT-VALUE}).")
            Path dataDir;

            @Override
            public Integer call() {
                String servers = bootstrap != null ? bootstrap
                        : DevState.read(home().resolve(dataDir)).getProperty("kafka.bootstrap-servers");
                if (servers == null) {
                    System.err.println("gatehouse audit tail: no Kafka to read: start ./gatehouse dev or pass --bootstrap-servers");
                    return 2;
                }
                AuditEventCodec codec = new AuditEventCodec();
                PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
                try (AuditTail tail = new AuditTail(servers, Topics.AUDIT, Duration.ofSeconds(15),
                        EventSerde.of(codec::encode, codec::decode))) {
                    if (follow) {
                        Runtime.getRuntime().addShutdownHook(new Thread(tail::close));
                    }
                    tail.read(session == null ? null : new SessionId(session), follow,
                            event -> out.println(AuditEventJson.render(event)));
                }
                return 0;
            }
        }
    }
}
