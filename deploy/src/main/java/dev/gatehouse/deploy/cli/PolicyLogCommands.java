package dev.gatehouse.deploy.cli;

import com.github.difflib.DiffUtils;
import com.github.difflib.UnifiedDiffUtils;
import com.github.difflib.patch.Patch;
import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.PolicyLog;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyException;
import dev.gatehouse.policy.service.PolicyActivator;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse policy apply | unstage | history | diff | show}: the policy lifecycle on the
 * {@code gatehouse.policies} topic (see {@link PolicyLog}). Changes go through the admin API (so each
 * version names the administrator who applied it); reading goes straight to the topic. Every
 * running policy-service instance follows that topic and switches versions without a restart.
 */
final class PolicyLogCommands {

    /** Exit code of {@code diff} when the versions differ (as diff(1)). */
    static final int EXIT_DIFFERENT = 1;

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);

    private PolicyLogCommands() {
    }

    /** Where the policy log is: the given Kafka, else the running {@code gatehouse dev}'s. */
    static final class KafkaOptions {
        @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers (default: the running gatehouse dev's).")
        String bootstrap;
        @Option(names = "--data-dir", defaultValue = ".gatehouse",
                description = "The dev data directory, to find the dev Kafka (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        String servers(String command) {
            if (bootstrap != null) return bootstrap;
            String servers = DevState.read(GatehouseCli.home().resolve(dataDir)).getProperty("kafka.bootstrap-servers");
            if (servers == null) {
                throw new IllegalArgumentException(command + ": no Kafka to read: start ./gatehouse dev or pass --bootstrap-servers");
            }
            return servers;
        }
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = {"Validate a policy file and publish it, through the admin API, as the version every policy "
                    + "service enforces; then wait until the running instances report it active.",
                    "With --dry-run the version is staged instead: evaluated beside the active one for every command, "
                            + "its verdicts recorded in the decisions as dry runs, nothing enforced.",
                    "The version records the administrator (the token's subject) who applied it.",
                    "Exit codes: 0 applied (or already in force), 1 the policy has errors or conflicts with an applied "
                            + "version, 2 bad arguments or nothing to talk to, 4 applied but not every instance reported it in time."})
    static final class Apply implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "FILE", description = "The policy file (YAML).")
        Path file;
        @Option(names = "--dry-run", description = "Stage the version (record its verdicts as dry runs) instead of enforcing it.")
        boolean dryRun;
        @Option(names = "--wait", defaultValue = "15s", paramLabel = "DURATION",
                description = "How long to wait for the policy services to report the version active; 0s not to wait (default: ${DEFAULT-VALUE}).")
        String wait;
        @Option(names = "--bootstrap-servers", description = "Kafka bootstrap servers, to watch the instances activate the version "
                + "(default: the running gatehouse dev's; without Kafka access, nothing is watched).")
        String bootstrap;
        @Mixin
        AdminClient.Options admin = new AdminClient.Options();

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Duration waitFor = dev.gatehouse.deploy.config.Durations.parse("--wait", wait);
            Path path = PolicyCommand.existing(GatehouseCli.home().resolve(file), "policy file");
            String text;
            Policy policy;
            try {
                text = Files.readString(path, StandardCharsets.UTF_8);
                policy = Policy.parse(text, path.toString());
            } catch (PolicyException e) {
                err.println(spec.qualifiedName() + ": " + e.source() + " rejected, nothing applied; "
                        + e.errors().size() + (e.errors().size() == 1 ? " error:" : " errors:"));
                e.errors().forEach(err::println);
                return 1;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            AdminClient client = AdminClient.from(admin);
            Instant before = Instant.now().minus(1, ChronoUnit.MINUTES);
            JsonObject answer;
            try {
                answer = client.post("/policies", new JsonObject().put("document", text).put("dryRun", dryRun)
                        .put("source", path.getFileName().toString()));
            } catch (AdminClient.ApiError e) {
                err.println(spec.qualifiedName() + ": " + e.getMessage());
                return e.status == 400 || e.status == 409 ? 1 : 2;
            }
            String status = answer.getString("status");
            if ("unchanged".equals(status)) {
                out.println("policy " + policy.id() + " version " + policy.version() + " is already "
                        + ("active".equals(answer.getString("state")) ? "in force" : "staged") + " (applied by "
                        + answer.getString("appliedBy") + " at " + answer.getString("appliedAt") + "); nothing to do");
                return 0;
            }
            out.println(status + " policy " + policy.id() + " version " + policy.version() + " ("
                    + policy.rules().size() + (policy.rules().size() == 1 ? " rule" : " rules") + ") as "
                    + Topics.POLICIES + " offset " + answer.getLong("offset") + " by " + answer.getString("appliedBy")
                    + (answer.containsKey("previousVersion") ? "; was version " + answer.getString("previousVersion") : ""));
            out.flush();
            String servers = bootstrap != null ? bootstrap
                    : DevState.read(GatehouseCli.home().resolve(admin.dataDir)).getProperty("kafka.bootstrap-servers");
            if (waitFor.isZero() || servers == null) return 0;
            return awaitActivations(servers, answer.getString("sha256"), before, waitFor, out, err);
        }

        /** Prints each instance that reports the version active; 0 when every member of the group did. */
        private int awaitActivations(String servers, String sha256, Instant since, Duration waitFor,
                                     PrintWriter out, PrintWriter err) {
            int expected = policyInstances(servers);
            Set<String> reported = ConcurrentHashMap.newKeySet();
            long start = System.nanoTime();
            AuditEventCodec codec = new AuditEventCodec();
            try (AuditTail tail = new AuditTail(servers, Topics.AUDIT, Duration.ofSeconds(15),
                    EventSerde.of(codec::encode, codec::decode))) {
                Thread timer = Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(waitFor);
                    } catch (InterruptedException e) {
                        return;
                    }
                    tail.close();
                });
                tail.follow(PolicyActivator.POLICY_EVENTS, since, event -> {
                    if (event instanceof AuditEvent.PolicyActivated a && sha256.equals(a.sha256())
                            && a.staged() == dryRun && reported.add(a.header().instance())) {
                        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                        out.println("  " + (a.staged() ? "staged" : "active") + " at policy instance " + a.header().instance()
                                + " (" + ms + " ms)");
                        out.flush();
                        if (expected > 0 && reported.size() >= expected) tail.close();
                    }
                });
                timer.interrupt();
            }
            if (expected > 0 && reported.size() >= expected) return 0;
            if (expected == 0 && !reported.isEmpty()) return 0;
            err.println(spec.qualifiedName() + ": " + reported.size() + " of " + (expected > 0 ? expected : "?")
                    + " running policy instances reported the version within " + waitFor.toSeconds()
                    + "s; it is in the log and instances pick it up when they catch up (see: gatehouse policy history)");
            return 4;
        }
    }

    @Command(name = "unstage", mixinStandardHelpOptions = true,
            description = "Withdraw the staged (dry-run) policy version, through the admin API; the active version is unaffected.")
    static final class Unstage implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminClient.Options admin = new AdminClient.Options();

        @Override
        public Integer call() {
            JsonObject answer;
            try {
                answer = AdminClient.from(admin).post("/policies/unstage", new JsonObject());
            } catch (AdminClient.ApiError e) {
                spec.commandLine().getErr().println(spec.qualifiedName() + ": " + e.getMessage());
                return 2;
            }
            if ("unchanged".equals(answer.getString("status"))) {
                spec.commandLine().getOut().println("no policy version is staged; nothing to do");
            } else {
                spec.commandLine().getOut().println("withdrew staged policy " + answer.getString("policyId") + " version "
                        + answer.getString("version"));
            }
            return 0;
        }
    }

    /** The log folded as the policy services fold it: documents that do not load are skipped. */
    static PolicyLog.State read(String servers) {
        return PolicyActivator.fold(PolicyLog.read(servers, Duration.ofSeconds(15)).entries());
    }

    /** How many members the policy services' consumer group has now; 0 when unknown. */
    static int policyInstances(String servers) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000))) {
            ConsumerGroupDescription group = admin.describeConsumerGroups(List.of("gatehouse-policy"))
                    .all().get(5, TimeUnit.SECONDS).get("gatehouse-policy");
            return group == null ? 0 : group.members().size();
        } catch (Exception e) {
            return 0;
        }
    }

    @Command(name = "history", mixinStandardHelpOptions = true,
            description = "List every policy version in the log, oldest first, marking the active and staged ones.")
    static final class History implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @ArgGroup(exclusive = false)
        KafkaOptions kafka = new KafkaOptions();

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PolicyLog.State state = read(kafka.servers(spec.qualifiedName()));
            if (state.entries().isEmpty()) {
                out.println("no policy has been applied yet");
                return 0;
            }
            out.printf("%-7s %-8s %-20s %-24s %-14s %-21s %s%n", "OFFSET", "STATE", "APPLIED", "POLICY", "VERSION", "SHA256", "APPLIED BY");
            for (PolicyLog.Entry e : state.entries()) {
                String mark = state.active().filter(a -> a == e).isPresent() ? "active"
                        : state.staged().filter(s -> s == e).isPresent() ? "staged"
                        : state.refused().contains(e.offset()) ? "REFUSED"
                        : e.kind() == PolicyLog.Kind.UNSTAGED ? "unstage" : e.kind() == PolicyLog.Kind.STAGED ? "(staged)" : "";
                out.printf("%-7d %-8s %-20s %-24s %-14s %-21s %s%n", e.offset(), mark, TIME.format(e.appliedAt()),
                        e.policyId() == null ? "-" : e.policyId(), e.version() == null ? "-" : e.version(),
                        e.sha256() == null ? "-" : e.sha256().substring(0, 12), e.appliedBy());
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Print a policy version's document exactly as applied.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", arity = "0..1", paramLabel = "VERSION", defaultValue = "active",
                description = "A version, 'active' or 'staged' (default: ${DEFAULT-VALUE}).")
        String version;
        @ArgGroup(exclusive = false)
        KafkaOptions kafka = new KafkaOptions();

        @Override
        public Integer call() {
            PolicyLog.State state = read(kafka.servers(spec.qualifiedName()));
            spec.commandLine().getOut().print(resolve(state, version, spec.qualifiedName()).text());
            return 0;
        }
    }

    @Command(name = "diff", mixinStandardHelpOptions = true,
            description = {"Show what changed between two policy versions as a unified diff.",
                    "V1 and V2 are versions from the log, 'active', 'staged', or a policy file.",
                    "Exit codes: 0 identical, 1 different, 2 a version is unknown."})
    static final class Diff implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "V1", description = "The old version.")
        String from;
        @Parameters(index = "1", arity = "0..1", paramLabel = "V2", defaultValue = "active",
                description = "The new version (default: ${DEFAULT-VALUE}).")
        String to;
        @ArgGroup(exclusive = false)
        KafkaOptions kafka = new KafkaOptions();

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PolicyLog.State state = read(kafka.servers(spec.qualifiedName()));
            Document a = resolve(state, from, spec.qualifiedName());
            Document b = resolve(state, to, spec.qualifiedName());
            List<String> left = a.text().lines().toList();
            List<String> right = b.text().lines().toList();
            Patch<String> patch = DiffUtils.diff(left, right);
            if (patch.getDeltas().isEmpty()) {
                out.println(a.label() + " and " + b.label() + " are identical");
                return 0;
            }
            UnifiedDiffUtils.generateUnifiedDiff(a.label(), b.label(), left, patch, 3).forEach(out::println);
            return EXIT_DIFFERENT;
        }
    }

    /** A document to show or compare, with a label naming where it came from. */
    record Document(String label, String text) {
    }

    /** A version from the log, 'active', 'staged', or a file. */
    static Document resolve(PolicyLog.State state, String ref, String command) {
        Optional<PolicyLog.Entry> entry = switch (ref) {
            case "active" -> state.active();
            case "staged" -> state.staged();
            default -> state.version(ref);
        };
        if (entry.isPresent()) {
            PolicyLog.Entry e = entry.get();
            return new Document(e.policyId() + " version " + e.version() + " (" + e.kind().name().toLowerCase(java.util.Locale.ROOT)
                    + ", applied " + TIME.format(e.appliedAt()) + " by " + e.appliedBy() + ")", e.document());
        }
        Path path = GatehouseCli.home().resolve(ref);
        if (Files.isRegularFile(path)) {
            try {
                return new Document(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new IllegalArgumentException(command + ": cannot read " + path + ": " + e.getMessage(), e);
            }
        }
        String known = String.join(", ", state.entries().stream().filter(e -> e.version() != null)
                .map(PolicyLog.Entry::version).distinct().toList());
        throw new IllegalArgumentException(command + ": no policy version '" + ref + "' in the log and no such file"
                + (ref.equals("active") || ref.equals("staged") ? " (nothing is " + ref + ")" : "")
                + (known.isEmpty() ? "" : "; versions in the log: " + known));
    }
}
