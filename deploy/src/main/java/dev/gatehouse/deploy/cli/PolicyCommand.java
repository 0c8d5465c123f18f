package dev.gatehouse.deploy.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.policy.engine.Evaluation;
import dev.gatehouse.policy.engine.Facts;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.engine.PolicyException;
import dev.gatehouse.policy.engine.Rule;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import dev.gatehouse.policy.sql.mysql.MySqlAnalyzer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code gatehouse policy}: offline tools for policy authors. Validate a policy file, explain how it
 * decides one SQL command, and run a file of expected decisions against it. Nothing here needs Kafka
 * or a running gateway; the SQL is analysed by the same parser the policy service uses.
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = {"Policies: validate, explain a decision and run test cases offline; apply, stage, list, show and "
                + "diff the versions the policy services enforce (the gatehouse.policies log)."},
        subcommands = {PolicyCommand.Validate.class, PolicyCommand.Explain.class, PolicyCommand.Test.class,
                PolicyLogCommands.Apply.class, PolicyLogCommands.Unstage.class, PolicyLogCommands.History.class,
                PolicyLogCommands.Show.class, PolicyLogCommands.Diff.class})
final class PolicyCommand implements Callable<Integer> {

    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyCommand.class);

    /** The example policy shipped in the distribution. */
    static final String EXAMPLE_POLICY = "/policies/example-policy.yaml";
    /** Exit code of {@code explain} when the command would be denied. */
    static final int EXIT_DENY = 3;
    /** Exit code of {@code explain} when the command would wait for an approval. */
    static final int EXIT_REQUIRE_APPROVAL = 4;
    /** Exit code of {@code explain} when the command's result would be masked. */
    static final int EXIT_MASK = 5;

    private static final String DEFAULT_CONNECTION = "demo";
    // DevTokenIssuer.defaultIssuerUrl(18080), written out: the policy commands must run where gatehouse-dev is
    // not on the class path (the container image, image/)
    static final String DEFAULT_ISSUER = "http://127.0.0.1:18080/dev-issuer";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = {"Load and type-check a policy file.",
                    "Exit codes: 0 valid, 1 the policy has errors (one per line on stderr), 2 the file cannot be read."})
    static final class Validate implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "FILE", description = "The policy file (YAML).")
        Path file;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path path = existing(GatehouseCli.home().resolve(file), "policy file");
            try {
                Policy policy = Policy.load(path);
                out.println("policy " + policy.id() + " version " + policy.version() + ": " + policy.rules().size()
                        + (policy.rules().size() == 1 ? " rule" : " rules") + ", default "
                        + policy.defaultAction().label() + ": OK");
                return 0;
            } catch (PolicyException e) {
                err.println(spec.qualifiedName() + ": " + e.source() + " rejected, " + e.errors().size()
                        + (e.errors().size() == 1 ? " error:" : " errors:"));
                e.errors().forEach(err::println);
                return 1;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Command(name = "explain", mixinStandardHelpOptions = true,
            description = {"Show how a policy decides one SQL command: the SQL analysis, every rule in order, and the "
                    + "verdict.",
                    "Exit codes: 0 the command would be allowed, " + EXIT_DENY + " it would be denied, "
                            + EXIT_REQUIRE_APPROVAL + " it would need an approval, " + EXIT_MASK
                            + " its result would be masked, 2 bad input (unreadable or invalid policy, bad option)."})
    static final class Explain implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--policy", paramLabel = "FILE",
                description = "The policy file (default: .gatehouse/policy.yaml under the gatehouse home if it exists, "
                        + "else the example policy).")
        Path policyFile;
        @Option(names = "--as", required = true, paramLabel = "SUBJECT", description = "The caller's subject.")
        String subject;
        @Option(names = "--groups", split = ",", description = "Comma-separated groups, e.g. dba or ci.")
        List<String> groups = List.of();
        @Option(names = "--roles", split = ",", description = "Comma-separated roles.")
        List<String> roles = List.of();
        @Option(names = "--issuer", paramLabel = "URL", description = "The token issuer (default: the development issuer).")
        String issuer = DEFAULT_ISSUER;
        @Option(names = "--ci", paramLabel = "KEY=VALUE", description = "CI provenance (identity.ci), e.g. "
                + "--ci repository=acme/orders --ci ref=refs/heads/main; keys: system, repository, repository_id, "
                + "commit_sha, ref, workflow, run_id, job.")
        Map<String, String> ci = new LinkedHashMap<>();
        @Option(names = "--originator", paramLabel = "SUBJECT", description = "Explain a delegated session: --as is the "
                + "agent acting for this person (identity.originator.subject).")
        String originator;
        @Option(names = "--originator-groups", split = ",", description = "The originator's groups; only with --originator.")
        List<String> originatorGroups = List.of();
        @Option(names = "--originator-roles", split = ",", description = "The originator's roles; only with --originator.")
        List<String> originatorRoles = List.of();
        @Option(names = "--earlier-actors", split = ",", description = "Actors before --as in the chain, nearest first "
                + "(identity.earlier_actors); only with --originator.")
        List<String> earlierActors = List.of();
        @Option(names = "--run-id", paramLabel = "ID", description = "A declared run (identity.intent.run_id).")
        String runId;
        @Option(names = "--step-id", paramLabel = "ID", description = "A declared plan step (identity.intent.step_id).")
        String stepId;
        @Option(names = "--intent-verified", description = "The declared intent is signed by the issuer "
                + "(identity.intent.verified); only with --run-id or --step-id.")
        boolean intentVerified;
        @Option(names = "--connection", paramLabel = "NAME", defaultValue = DEFAULT_CONNECTION,
                description = "The catalog connection name (default: ${DEFAULT-VALUE}).")
        String connection;
        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A connection label; repeat for several.")
        Map<String, String> labels = new LinkedHashMap<>();
        @Option(names = "--protocol", paramLabel = "PROTOCOL", defaultValue = "postgres",
                description = "The connection's protocol, postgres or mysql: the SQL is read in its dialect (MySQL as "
                        + "MariaDB " + MYSQL_VERSION + " reads it, executable comments included) and policies see "
                        + "connection.protocol (default: ${DEFAULT-VALUE}).")
        String protocol;
        @Option(names = "--form", defaultValue = "SIMPLE_QUERY",
                description = "How the client sent it: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        SqlCommand.Form form;
        @Option(names = "--sql", description = "The SQL text (one or several statements); required unless --connect.")
        String sql;
        @Option(names = "--connect", description = "Explain the decision about connecting (the policy's on: connect "
                + "rules and connect_default) instead of a command; no --sql then.")
        boolean connect;
        @Option(names = "--time", paramLabel = "INSTANT",
                description = "When the command is received, ISO-8601 with an offset, e.g. 2026-11-24T09:00:00Z "
                        + "(default: now).")
        String time;
        @Option(names = "--time-zone", paramLabel = "ZONE", defaultValue = "UTC",
                description = "The zone time.hour, time.day_of_week, ... are read in, as policy.time-zone "
                        + "(default: ${DEFAULT-VALUE}).")
        String timeZone;
        @Option(names = "--client-address", paramLabel = "IP", description = "The client's IP address (session.client_address).")
        String clientAddress;
        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            if (connect == (sql != null)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), connect
                        ? "--connect explains a connection attempt: leave out --sql"
                        : "Missing required option: '--sql=<sql>' (or --connect to explain a connection attempt)");
            }
            Instant at = time == null ? Instant.now() : parseInstant("--time", time);
            ZoneId zone = parseZone("--time-zone", timeZone);
            Loaded loaded;
            try {
                loaded = loadPolicy(policyFile);
            } catch (PolicyException e) {
                return rejected(spec, e);
            }
            Identity identity = new Identity(subject, issuer, groups, roles, Map.of(), ciProvenance(), delegation(),
                    intent());
            if (!PROTOCOLS.contains(protocol)) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--protocol must be postgres or mysql,"
                        + " found '" + protocol + "'");
            }
            ConnectionRef ref = new ConnectionRef(connection, protocol, "", labels);
            // a fresh session: it began when the command arrived
            Facts.Context context = new Facts.Context(at, zone, at, clientAddress);
            Decided decided = connect ? decideConnect(loaded.policy(), identity, ref, context)
                    : decide(loaded.policy(), analyzerFor(protocol), identity, ref, form, sql, context);
            if (json) {
                out.println(toJson(loaded, identity, ref, form, sql, decided));
            } else {
                printReport(out, loaded, identity, ref, form, sql, decided);
            }
            out.flush();
            return switch (decided.evaluation().verdict()) {
                case ALLOW -> 0;
                case DENY -> EXIT_DENY;
                case REQUIRE_APPROVAL -> EXIT_REQUIRE_APPROVAL;
                case MASK -> EXIT_MASK;
            };
        }

        /** The {@code --originator...} options as a delegation read from {@code act}; null when not delegated. */
        private Delegation delegation() {
            if (originator == null) {
                if (!originatorGroups.isEmpty() || !originatorRoles.isEmpty() || !earlierActors.isEmpty()) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "--originator-groups, --originator-roles and --earlier-actors need --originator");
                }
                return null;
            }
            if (originator.isBlank()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--originator must not be blank");
            }
            return new Delegation(originator, issuer, originatorGroups, originatorRoles, earlierActors, Delegation.ACT);
        }

        /** The {@code --run-id}, {@code --step-id} options as a declared intent; null when none. */
        private DeclaredIntent intent() {
            if (runId == null && stepId == null) {
                if (intentVerified) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                            "--intent-verified needs --run-id or --step-id");
                }
                return null;
            }
            return new DeclaredIntent(runId, stepId, intentVerified, null);
        }

        /** The {@code --ci} options as CI provenance; null when none is given. */
        private CiProvenance ciProvenance() {
            if (ci.isEmpty()) return null;
            Set<String> unknown = new java.util.TreeSet<>(ci.keySet());
            unknown.removeAll(TestCase.CI_KEYS);
            if (!unknown.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "unknown --ci key(s) " + unknown
                        + " (expected " + new java.util.TreeSet<>(TestCase.CI_KEYS) + ")");
            }
            return new CiProvenance(ci.get("system"), ci.get("repository"), ci.get("repository_id"), ci.get("commit_sha"),
                    ci.get("ref"), ci.get("workflow"), ci.get("run_id"), ci.get("job"));
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Run a file of test cases against a policy and report which decisions differ from the "
                    + "expected ones.",
                    "CASES is YAML: cases: [{name, identity: {subject, issuer, groups, roles, claims, ci, "
                            + "originator: {subject, issuer, groups, roles}, earlier_actors, intent: {run_id, step_id, "
                            + "verified}}, "
                            + "connection: {name, labels, protocol}, sql, form, connect, time, time_zone, client_address, "
                            + "expect: {verdict, rule, dry_run}}]; verdict is allow, deny, require_approval or mask, "
                            + "dry_run the ids of the dry-run rules that must match, in order.",
                    "Exit codes: 0 every case passed, 1 a case failed, 2 bad input (unreadable or invalid policy, "
                            + "malformed cases file)."})
    static final class Test implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "FILE", description = "The policy file (YAML).")
        Path file;
        @Parameters(index = "1", paramLabel = "CASES", description = "The test cases file (YAML).")
        Path cases;
        @Option(names = "--time-zone", paramLabel = "ZONE", defaultValue = "UTC",
                description = "The zone time facts are read in for cases without time_zone, as policy.time-zone "
                        + "(default: ${DEFAULT-VALUE}).")
        String timeZone;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Loaded loaded;
            try {
                loaded = loadPolicy(file);
            } catch (PolicyException e) {
                return rejected(spec, e);
            }
            Path casesPath = existing(GatehouseCli.home().resolve(cases), "cases file");
            List<TestCase> testCases;
            try {
                testCases = TestCase.parseFile(casesPath);
            } catch (CasesException e) {
                err.println(spec.qualifiedName() + ": " + casesPath + " is not a valid cases file:");
                e.errors.forEach(line -> err.println("  " + line));
                return 2;
            }
            ZoneId defaultZone = parseZone("--time-zone", timeZone);
            Instant now = Instant.now();
            int passed = 0;
            int failed = 0;
            for (TestCase tc : testCases) {
                Instant at = tc.time() == null ? now : tc.time();
                Facts.Context context = new Facts.Context(at, tc.zone() == null ? defaultZone : tc.zone(), at,
                        tc.clientAddress());
                Evaluation ev = (tc.connect() ? decideConnect(loaded.policy(), tc.identity(), tc.connection(), context)
                        : decide(loaded.policy(), analyzerFor(tc.connection().protocol()), tc.identity(), tc.connection(),
                                tc.form(), tc.sql(), context))
                        .evaluation();
                List<String> dryRun = ev.dryRun().stream().map(DryRunVerdict::ruleId).toList();
                boolean verdictOk = ev.verdict() == tc.verdict();
                boolean ruleOk = tc.rule() == null || tc.rule().equals(ev.ruleId());
                boolean dryRunOk = tc.dryRun() == null || tc.dryRun().equals(dryRun);
                if (verdictOk && ruleOk && dryRunOk) {
                    passed++;
                    out.println("PASS " + tc.name());
                } else {
                    failed++;
                    out.println("FAIL " + tc.name());
                    out.println("       expected: " + tc.verdict().label()
                            + (tc.rule() == null ? " (any rule)" : " by rule " + tc.rule())
                            + (tc.dryRun() == null ? "" : ", dry run " + list(tc.dryRun())));
                    out.println("       actual:   " + ev.verdict().label() + " by rule " + ev.ruleId()
                            + (tc.dryRun() == null ? "" : ", dry run " + list(dryRun)));
                    out.println("       reason:   " + ev.reason());
                }
            }
            out.println(passed + " passed, " + failed + " failed (policy " + loaded.policy().id() + " version "
                    + loaded.policy().version() + ")");
            out.flush();
            LOGGER.debug("policy test cases={} passed={} failed={}", testCases.size(), passed, failed);
            return failed == 0 ? 0 : 1;
        }
    }

    // ---------------------------------------------------------------- shared

    /** A loaded policy and where it came from. */
    record Loaded(Policy policy, String source) {
    }

    /** The analysis of the SQL (null for a connect), the facts it was decided on and the policy's evaluation of it. */
    record Decided(SqlAnalysis analysis, Evaluation evaluation, Facts facts, Facts.Context context) {
    }

    private static int rejected(CommandSpec spec, PolicyException e) {
        PrintWriter err = spec.commandLine().getErr();
        err.println(spec.qualifiedName() + ": policy " + e.source() + " rejected:");
        e.errors().forEach(err::println);
        return 2;
    }

    static Path existing(Path path, String what) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("no " + what + " at " + path.toAbsolutePath().normalize());
        }
        if (!Files.isReadable(path)) {
            throw new IllegalArgumentException("cannot read " + what + " " + path.toAbsolutePath().normalize());
        }
        return path;
    }

    /** The given policy file; else the dev policy under the home; else the shipped example. */
    static Loaded loadPolicy(Path file) throws PolicyException {
        try {
            if (file != null) {
                Path path = existing(GatehouseCli.home().resolve(file), "policy file");
                return new Loaded(Policy.load(path), path.toString());
            }
            Path dev = GatehouseCli.home().resolve(".gatehouse").resolve("policy.yaml");
            if (Files.isRegularFile(dev)) {
                return new Loaded(Policy.load(dev), dev.toString());
            }
            try (InputStream in = PolicyCommand.class.getResourceAsStream(EXAMPLE_POLICY)) {
                if (in == null) throw new IllegalStateException("the example policy " + EXAMPLE_POLICY + " is missing from the classpath");
                String source = "classpath:" + EXAMPLE_POLICY;
                return new Loaded(Policy.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), source), source);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The protocols a connection can have. */
    static final Set<String> PROTOCOLS = Set.of("postgres", "mysql");
    /** The MySQL dialect's version the CLI reads SQL as: the pinned development and test target's. */
    static final String MYSQL_VERSION = dev.gatehouse.deploy.dev.DemoMariaDb.VERSION;
    private static final SqlAnalyzer POSTGRES = new PgQueryAnalyzer();
    private static final SqlAnalyzer MYSQL = MySqlAnalyzer.mariaDb(MYSQL_VERSION + "-MariaDB");

    /** The analyser of a connection's protocol (validated before: postgres or mysql). */
    static SqlAnalyzer analyzerFor(String protocol) {
        return "mysql".equals(protocol) ? MYSQL : POSTGRES;
    }

    static Decided decide(Policy policy, SqlAnalyzer analyzer, Identity identity, ConnectionRef connection,
                          SqlCommand.Form form, String sql, Facts.Context context) {
        SqlAnalysis analysis = analyzer.analyze(sql);
        SqlCommand command = new SqlCommand(CommandId.random(), SessionId.random(), 1, context.now(), form, sql,
                List.of(), analysis);
        Facts facts = Facts.of(identity, connection, command, context);
        Evaluation evaluation = new PolicyEvaluator(policy).evaluate(facts);
        return new Decided(analysis, evaluation, facts, context);
    }

    /** Decides a connection attempt: the policy's {@code on: connect} rules, else its {@code connect_default}. */
    static Decided decideConnect(Policy policy, Identity identity, ConnectionRef connection, Facts.Context context) {
        Facts facts = Facts.connect(identity, connection, SessionId.random().value(), context);
        return new Decided(null, new PolicyEvaluator(policy).evaluate(facts), facts, context);
    }

    /** An instant written ISO-8601 with an offset ({@code 2026-11-24T09:00:00Z}, {@code ...+01:00}). */
    static Instant parseInstant(String what, String text) {
        try {
            return OffsetDateTime.parse(text.strip()).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(what + " must be a date and time with an offset, e.g. "
                    + "2026-11-24T09:00:00Z or 2026-11-24T10:00:00+01:00, found '" + text + "'");
        }
    }

    /** A time zone id ({@code UTC}, {@code Europe/Berlin}, {@code +01:00}). */
    static ZoneId parseZone(String what, String text) {
        try {
            return ZoneId.of(text.strip());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(what + " must be a time zone such as UTC, Europe/Berlin or +01:00, found '"
                    + text + "' (" + e.getMessage() + ")");
        }
    }

    private static String list(List<String> values) {
        return values.isEmpty() ? "-" : String.join(", ", values);
    }

    private static void printReport(PrintWriter out, Loaded loaded, Identity identity, ConnectionRef connection,
                                    SqlCommand.Form form, String sql, Decided decided) {
        Policy policy = loaded.policy();
        SqlAnalysis analysis = decided.analysis();
        Evaluation ev = decided.evaluation();
        out.println("Policy      " + policy.id() + " version " + policy.version() + " (" + loaded.source() + ")");
        out.println("Identity    " + identity.subject() + ", groups " + list(identity.groups())
                + (identity.roles().isEmpty() ? "" : ", roles " + list(identity.roles())) + ", issuer " + identity.issuer());
        if (identity.delegation() != null) {
            Delegation d = identity.delegation();
            out.println("Acting for  " + d.originator() + ", groups " + list(d.originatorGroups())
                    + (d.originatorRoles().isEmpty() ? "" : ", roles " + list(d.originatorRoles()))
                    + " (chain " + d.chain(identity.subject()) + ")");
        }
        if (identity.intent() != null) out.println("Intent      " + identity.intent().describe());
        out.println("Connection  " + connection.name() + ("postgres".equals(connection.protocol()) ? "" : " (" + connection.protocol() + ")")
                + (connection.labels().isEmpty() ? ""
                : ", labels " + connection.labels().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "))));
        if (analysis == null) {
            out.println("Request     connect (the policy's on: connect rules decide)");
        } else {
            out.println("SQL         " + sql.strip().replace("\n", "\n            ") + "  [" + form + "]");
        }
        Map<String, Object> time = decided.facts().variable("time");
        out.println("Time        " + time.get("date") + " " + time.get("day_of_week") + " "
                + String.format(Locale.ROOT, "%02d:%02d", time.get("hour"), time.get("minute")) + " in " + time.get("zone"));
        Object client = decided.facts().variable("session").get("client_address");
        if (!"".equals(client)) out.println("Client      " + client);
        out.println();
        if (analysis == null) {
            // a connection attempt: there is no SQL to analyse
        } else if (!analysis.parseable()) {
            out.println("Analysis");
            out.println("  NOT PARSEABLE: " + analysis.parseError());
        } else {
            out.println("Analysis");
            out.println("  fingerprint  " + analysis.fingerprint());
            int n = 0;
            for (StatementAnalysis s : analysis.statements()) {
                n++;
                out.println("  statement " + n + ": " + s.tag() + " (kind " + s.kind().label()
                        + (s.objectType() == null ? "" : ", object type " + s.objectType()) + ")");
                out.println("    tables read     " + list(s.tablesRead()));
                out.println("    tables written  " + list(s.tablesWritten()));
                out.println("    functions       " + list(s.functions()));
                out.println("    missing WHERE   " + (s.missingWhere() ? "YES" : "no"));
            }
        }
        if (analysis != null) out.println();
        Facts.RequestType type = decided.facts().requestType();
        List<Rule> applicable = policy.rules().stream().filter(r -> r.appliesTo(type)).toList();
        out.println(type == Facts.RequestType.CONNECT ? "Connect rules (in order; the first that matches decides)"
                : "Rules (in order; the first that matches decides)");
        int width = applicable.stream().mapToInt(r -> r.id().length()).max().orElse(0);
        for (Rule rule : applicable) {
            boolean deciding = rule.id().equals(ev.ruleId());
            out.println((deciding ? "  => " : "     ") + pad(rule.id(), width) + "  " + pad(rule.action().label(), 17)
                    + status(rule, ev));
        }
        out.println((ev.isDefault() ? "  => " : "     ")
                + pad(type == Facts.RequestType.CONNECT ? "(connect_default)" : "(default)", width) + "  "
                + pad(policy.defaultFor(type).label(), 17) + (ev.isDefault() ? "APPLIED" : "not reached"));
        out.println();
        out.println("Verdict     " + ev.verdict().name());
        out.println("Rule        " + ev.ruleId());
        out.println("Reason      " + ev.reason());
        out.println("Version     " + ev.policyVersion());
        if (ev.approval() != null) {
            Rule.Approval a = ev.approval();
            out.println("Approval    " + a.count() + (a.count() == 1 ? " approval" : " approvals") + " from group "
                    + a.group() + " (mode " + a.mode().label() + ", expires in " + humane(a.expiresIn()) + ")");
        }
        if (ev.maskProfile() != null) {
            out.println("Mask        profile " + ev.maskProfile());
        }
        if (!ev.dryRun().isEmpty()) {
            out.println();
            out.println("Dry run (recorded, not applied)");
            for (DryRunVerdict d : ev.dryRun()) {
                out.println("  " + d.ruleId() + " would " + d.verdict().label() + parameters(d) + ": " + d.reason());
            }
        }
    }

    private static String parameters(DryRunVerdict d) {
        if (d.verdict() == Verdict.REQUIRE_APPROVAL) {
            // a rule's approval names a group, or none when the originator of a delegated session confirms
            return d.approverGroup() == null ? " (from the originator)" : " (" + d.approvals() + " from group " + d.approverGroup() + ")";
        }
        if (d.verdict() == Verdict.MASK) return " (profile " + d.maskProfile() + ")";
        return "";
    }

    private static String humane(java.time.Duration d) {
        if (d.toSeconds() % 86_400 == 0) return d.toDays() + "d";
        if (d.toSeconds() % 3_600 == 0) return d.toHours() + "h";
        if (d.toSeconds() % 60 == 0) return d.toMinutes() + "m";
        return d.toSeconds() + "s";
    }

    private static String status(Rule rule, Evaluation ev) {
        Evaluation.RuleTrace trace = ev.trace().stream().filter(t -> t.ruleId().equals(rule.id())).findFirst().orElse(null);
        String dryRun = rule.dryRun() ? " [dry run]" : "";
        if (trace == null) return "not evaluated (an earlier rule decided)" + dryRun;
        if (!trace.inScope()) return "out of scope (condition not evaluated)" + dryRun;
        if (rule.dryRun() && trace.matched()) {
            return "DRY RUN: would " + rule.action().verdict().label() + " (recorded, not applied)"
                    + (trace.errored() ? " [condition error: " + trace.error() + "]" : "");
        }
        if (trace.errored()) {
            return "ERROR (" + trace.error() + ")" + (trace.matched() ? ": counts as MATCHED (fail closed)" : ": counts as no match")
                    + dryRun;
        }
        return (trace.matched() ? "MATCHED" : "no match") + dryRun;
    }

    private static String statusCode(Rule rule, Evaluation ev) {
        Evaluation.RuleTrace trace = ev.trace().stream().filter(t -> t.ruleId().equals(rule.id())).findFirst().orElse(null);
        if (trace == null) return "not_evaluated";
        if (!trace.inScope()) return "out_of_scope";
        if (rule.dryRun() && trace.matched()) return "dry_run_matched";
        if (trace.errored()) return "error";
        return trace.matched() ? "matched" : "no_match";
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }

    private static String toJson(Loaded loaded, Identity identity, ConnectionRef connection, SqlCommand.Form form,
                                 String sql, Decided decided) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        Evaluation ev = decided.evaluation();
        Policy policy = loaded.policy();
        root.put("verdict", ev.verdict().label());
        root.put("rule", ev.ruleId());
        root.put("reason", ev.reason());
        root.put("action", ev.action().label());
        if (ev.approval() != null) {
            ObjectNode approval = root.putObject("approval");
            approval.put("group", ev.approval().group());
            approval.put("count", ev.approval().count());
            approval.put("mode", ev.approval().mode().label());
            approval.put("expires_in_seconds", ev.approval().expiresIn().toSeconds());
        } else {
            root.putNull("approval");
        }
        root.put("mask_profile", ev.maskProfile());
        ArrayNode dryRun = root.putArray("dry_run");
        for (DryRunVerdict d : ev.dryRun()) {
            ObjectNode n = dryRun.addObject();
            n.put("rule", d.ruleId());
            n.put("verdict", d.verdict().label());
            n.put("reason", d.reason());
            n.put("policy_version", d.policyVersion());
            if (d.approverGroup() != null) {
                n.put("approver_group", d.approverGroup());
                n.put("approvals", d.approvals());
            }
            if (d.maskProfile() != null) n.put("mask_profile", d.maskProfile());
        }
        ObjectNode time = root.putObject("time");
        decided.facts().variable("time").forEach((k, v) -> {
            if (v instanceof Long l) time.put(k, l);
            else if (v instanceof String str) time.put(k, str);
        });
        // the CEL timestamp is not JSON: written as ISO-8601 below
        time.put("now", decided.context().now().toString());
        root.put("client_address", decided.context().clientAddress());
        ObjectNode p = root.putObject("policy");
        p.put("id", policy.id());
        p.put("version", policy.version());
        p.put("source", loaded.source());
        p.put("default", policy.defaultAction().label());
        ObjectNode id = root.putObject("identity");
        id.put("subject", identity.subject());
        id.put("issuer", identity.issuer());
        strings(id.putArray("groups"), identity.groups());
        strings(id.putArray("roles"), identity.roles());
        id.put("delegated", identity.delegated());
        if (identity.delegation() != null) {
            Delegation d = identity.delegation();
            ObjectNode o = id.putObject("originator");
            o.put("subject", d.originator());
            o.put("issuer", d.originatorIssuer());
            strings(o.putArray("groups"), d.originatorGroups());
            strings(o.putArray("roles"), d.originatorRoles());
            strings(id.putArray("earlier_actors"), d.earlierActors());
            id.put("chain", d.chain(identity.subject()));
        }
        if (identity.intent() != null) {
            ObjectNode i = id.putObject("intent");
            i.put("run_id", identity.intent().runId());
            i.put("step_id", identity.intent().stepId());
            i.put("verified", identity.intent().verified());
        }
        ObjectNode conn = root.putObject("connection");
        conn.put("name", connection.name());
        conn.put("protocol", connection.protocol());
        ObjectNode labels = conn.putObject("labels");
        connection.labels().forEach(labels::put);
        Facts.RequestType type = decided.facts().requestType();
        root.put("request", type.label());
        p.put("connect_default", policy.connectDefault().label());
        SqlAnalysis analysis = decided.analysis();
        if (analysis != null) {
        ObjectNode cmd = root.putObject("command");
        cmd.put("sql", sql);
        cmd.put("form", form.name());
        ObjectNode a = root.putObject("analysis");
        a.put("parseable", analysis.parseable());
        a.put("parse_error", analysis.parseError());
        a.put("fingerprint", analysis.fingerprint());
        ArrayNode statements = a.putArray("statements");
        for (StatementAnalysis s : analysis.statements()) {
            ObjectNode st = statements.addObject();
            st.put("kind", s.kind().label());
            st.put("tag", s.tag());
            st.put("object_type", s.objectType());
            strings(st.putArray("tables_read"), s.tablesRead());
            strings(st.putArray("tables_written"), s.tablesWritten());
            strings(st.putArray("functions"), s.functions());
            st.put("missing_where", s.missingWhere());
        }
        }
        ArrayNode rules = root.putArray("rules");
        for (Rule rule : policy.rules().stream().filter(r -> r.appliesTo(type)).toList()) {
            ObjectNode r = rules.addObject();
            r.put("id", rule.id());
            r.put("action", rule.action().label());
            r.put("dry_run", rule.dryRun());
            r.put("status", statusCode(rule, ev));
            ev.trace().stream().filter(t -> t.ruleId().equals(rule.id()) && t.errored()).findFirst()
                    .ifPresent(t -> r.put("error", t.error()));
            r.put("deciding", rule.id().equals(ev.ruleId()));
        }
        root.put("policy_version", ev.policyVersion());
        try {
            return mapper.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    // ---------------------------------------------------------------- test cases

    /** A cases file that cannot be used; every problem found, each naming its case. */
    static final class CasesException extends Exception {
        final List<String> errors;

        CasesException(List<String> errors) {
            super(String.join("; ", errors));
            this.errors = List.copyOf(errors);
        }
    }

    /**
     * One expected decision. {@code rule} is null when any rule may decide, {@code dryRun} null when
     * the dry-run verdicts are not checked; {@code time} and {@code zone} null for now and the
     * command's default zone.
     */
    record TestCase(String name, Identity identity, ConnectionRef connection, SqlCommand.Form form, String sql,
                    Instant time, ZoneId zone, String clientAddress, Verdict verdict, String rule, List<String> dryRun,
                    boolean connect) {

        private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
        private static final Set<String> CASE_KEYS = Set.of("name", "identity", "connection", "sql", "form", "time",
                "time_zone", "client_address", "expect", "connect");
        private static final Set<String> IDENTITY_KEYS = Set.of("subject", "issuer", "groups", "roles", "claims", "ci",
                "originator", "earlier_actors", "intent");
        private static final Set<String> ORIGINATOR_KEYS = Set.of("subject", "issuer", "groups", "roles");
        private static final Set<String> INTENT_KEYS = Set.of("run_id", "step_id", "verified");
        private static final Set<String> CONNECTION_KEYS = Set.of("name", "protocol", "target", "labels");
        private static final Set<String> EXPECT_KEYS = Set.of("verdict", "rule", "dry_run");
        private static final Set<String> CI_KEYS = Set.of("system", "repository", "repository_id", "commit_sha", "ref",
                "workflow", "run_id", "job");

        static List<TestCase> parseFile(Path path) throws CasesException {
            JsonNode root;
            try {
                root = YAML.readTree(path.toFile());
            } catch (IOException e) {
                throw new CasesException(List.of("not a valid YAML document: " + e.getMessage().lines().findFirst().orElse("")));
            }
            List<String> errors = new ArrayList<>();
            if (root == null || !root.isObject() || !root.has("cases")) {
                throw new CasesException(List.of("the file must be a mapping with a 'cases' list"));
            }
            unknown(root, Set.of("cases"), "top level", errors);
            JsonNode list = root.get("cases");
            if (!list.isArray() || list.isEmpty()) {
                throw new CasesException(List.of("'cases' must be a non-empty list"));
            }
            List<TestCase> cases = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                TestCase tc = parseCase(list.get(i), i + 1, errors);
                if (tc != null) cases.add(tc);
            }
            if (!errors.isEmpty()) throw new CasesException(errors);
            return cases;
        }

        private static TestCase parseCase(JsonNode node, int index, List<String> errors) {
            if (!node.isObject()) {
                errors.add("case " + index + ": must be a mapping, found " + node.getNodeType().name().toLowerCase(Locale.ROOT));
                return null;
            }
            String name = text(node, "name");
            String where = "case " + index + (name == null ? "" : " '" + name + "'");
            int before = errors.size();
            if (name == null) errors.add(where + ": missing 'name'");
            unknown(node, CASE_KEYS, where, errors);

            boolean connect = false;
            JsonNode connectNode = node.get("connect");
            if (connectNode != null && !connectNode.isNull()) {
                if (connectNode.isBoolean()) connect = connectNode.booleanValue();
                else errors.add(where + ": 'connect' must be true or false");
            }
            String sql = text(node, "sql");
            if (connect && sql != null) {
                errors.add(where + ": a 'connect: true' case decides a connection attempt and has no 'sql'");
            } else if (!connect && (sql == null || sql.isBlank())) {
                errors.add(where + ": missing 'sql' (or 'connect: true' for a connection attempt)");
            }

            SqlCommand.Form form = SqlCommand.Form.SIMPLE_QUERY;
            String formText = text(node, "form");
            if (formText != null) {
                try {
                    form = SqlCommand.Form.valueOf(formText.trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    errors.add(where + ": 'form' must be one of " + List.of(SqlCommand.Form.values()) + ", found '" + formText + "'");
                }
            }

            Instant time = null;
            String timeText = text(node, "time");
            if (timeText != null) {
                try {
                    time = parseInstant("'time'", timeText);
                } catch (IllegalArgumentException e) {
                    errors.add(where + ": " + e.getMessage());
                }
            }
            ZoneId zone = null;
            String zoneText = text(node, "time_zone");
            if (zoneText != null) {
                try {
                    zone = parseZone("'time_zone'", zoneText);
                } catch (IllegalArgumentException e) {
                    errors.add(where + ": " + e.getMessage());
                }
            }
            String clientAddress = text(node, "client_address");

            Identity identity = null;
            JsonNode id = node.get("identity");
            if (id == null || !id.isObject()) {
                errors.add(where + ": missing 'identity' (a mapping with at least 'subject')");
            } else {
                unknown(id, IDENTITY_KEYS, where + " identity", errors);
                String subject = text(id, "subject");
                if (subject == null) errors.add(where + ": identity: missing 'subject'");
                String issuer = text(id, "issuer");
                Map<String, Object> claims = Map.of();
                JsonNode claimsNode = id.get("claims");
                if (claimsNode != null && !claimsNode.isNull()) {
                    if (claimsNode.isObject()) {
                        claims = YAML.convertValue(claimsNode, new TypeReference<Map<String, Object>>() { });
                    } else {
                        errors.add(where + ": identity.claims must be a mapping");
                    }
                }
                CiProvenance ci = null;
                JsonNode ciNode = id.get("ci");
                if (ciNode != null && !ciNode.isObject()) {
                    errors.add(where + ": identity.ci must be a mapping");
                } else if (ciNode != null) {
                    unknown(ciNode, CI_KEYS, where + " identity.ci", errors);
                    ci = new CiProvenance(text(ciNode, "system"), text(ciNode, "repository"), text(ciNode, "repository_id"),
                            text(ciNode, "commit_sha"), text(ciNode, "ref"), text(ciNode, "workflow"),
                            text(ciNode, "run_id"), text(ciNode, "job"));
                }
                String issuerOrDefault = issuer == null ? DEFAULT_ISSUER : issuer;
                Delegation delegation = delegation(id, issuerOrDefault, where, errors);
                DeclaredIntent intent = intent(id, where, errors);
                if (subject != null) {
                    identity = new Identity(subject, issuerOrDefault,
                            strings(id, "identity.", "groups", where, errors), strings(id, "identity.", "roles", where, errors),
                            claims, ci, delegation, intent);
                }
            }

            String connName = DEFAULT_CONNECTION;
            String protocol = "postgres";
            String target = "";
            Map<String, String> labels = Map.of();
            JsonNode conn = node.get("connection");
            if (conn != null) {
                if (!conn.isObject()) {
                    errors.add(where + ": 'connection' must be a mapping (name, labels)");
                } else {
                    unknown(conn, CONNECTION_KEYS, where + " connection", errors);
                    if (text(conn, "name") != null) connName = text(conn, "name");
                    if (text(conn, "protocol") != null) protocol = text(conn, "protocol");
                    if (!PROTOCOLS.contains(protocol)) {
                        errors.add(where + ": connection.protocol must be postgres or mysql, found '" + protocol + "'");
                    }
                    if (text(conn, "target") != null) target = text(conn, "target");
                    JsonNode l = conn.get("labels");
                    if (l != null) {
                        if (!l.isObject()) {
                            errors.add(where + ": connection.labels must be a mapping");
                        } else {
                            Map<String, String> m = new LinkedHashMap<>();
                            l.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
                            labels = m;
                        }
                    }
                }
            }

            Verdict verdict = null;
            String rule = null;
            List<String> dryRun = null;
            JsonNode expect = node.get("expect");
            if (expect == null || !expect.isObject()) {
                errors.add(where + ": missing 'expect' (a mapping with 'verdict' and optionally 'rule' and 'dry_run')");
            } else {
                unknown(expect, EXPECT_KEYS, where + " expect", errors);
                String v = text(expect, "verdict");
                if (v == null) {
                    errors.add(where + ": expect: missing 'verdict' (" + VERDICTS + ")");
                } else {
                    verdict = java.util.Arrays.stream(Verdict.values()).filter(x -> x.label().equals(v.strip()))
                            .findFirst().orElse(null);
                    if (verdict == null) {
                        errors.add(where + ": expect.verdict must be " + VERDICTS + ", found '" + v + "'");
                    }
                }
                rule = text(expect, "rule");
                JsonNode d = expect.get("dry_run");
                if (d != null && !d.isNull()) {
                    if (d.isArray()) {
                        List<String> ids = new ArrayList<>();
                        d.forEach(e -> ids.add(e.asText()));
                        dryRun = List.copyOf(ids);
                    } else {
                        errors.add(where + ": expect.dry_run must be a list of rule ids, e.g. [try-no-ddl] or []");
                    }
                }
            }
            if (errors.size() > before) return null;
            return new TestCase(name, identity, new ConnectionRef(connName, protocol, target, labels), form, sql,
                    time, zone, clientAddress, verdict, rule, dryRun, connect);
        }

        private static final String VERDICTS = "allow, deny, require_approval or mask";

        /**
         * A case identity's {@code originator} (and {@code earlier_actors}): the identity is then the
         * agent acting for the originator, as in a delegation token read through {@code act}.
         */
        private static Delegation delegation(JsonNode id, String issuer, String where, List<String> errors) {
            JsonNode node = id.get("originator");
            JsonNode earlier = id.get("earlier_actors");
            if (node == null || node.isNull()) {
                if (earlier != null && !earlier.isNull()) {
                    errors.add(where + ": identity.earlier_actors needs identity.originator (earlier actors are part of "
                            + "a delegation chain)");
                }
                return null;
            }
            if (!node.isObject()) {
                errors.add(where + ": identity.originator must be a mapping (subject, issuer, groups, roles), found "
                        + node.getNodeType().name().toLowerCase(Locale.ROOT));
                return null;
            }
            unknown(node, ORIGINATOR_KEYS, where + " identity.originator", errors);
            String subject = text(node, "subject");
            if (subject == null || subject.isBlank()) {
                errors.add(where + ": identity.originator: missing 'subject' (the person the agent acts for)");
                return null;
            }
            String originatorIssuer = text(node, "issuer");
            return new Delegation(subject, originatorIssuer == null ? issuer : originatorIssuer,
                    strings(node, "identity.originator.", "groups", where, errors),
                    strings(node, "identity.originator.", "roles", where, errors),
                    strings(id, "identity.", "earlier_actors", where, errors), Delegation.ACT);
        }

        /** A case identity's {@code intent}: the run and plan step the agent declared. */
        private static DeclaredIntent intent(JsonNode id, String where, List<String> errors) {
            JsonNode node = id.get("intent");
            if (node == null || node.isNull()) return null;
            if (!node.isObject()) {
                errors.add(where + ": identity.intent must be a mapping (run_id, step_id, verified)");
                return null;
            }
            unknown(node, INTENT_KEYS, where + " identity.intent", errors);
            String runId = text(node, "run_id");
            String stepId = text(node, "step_id");
            boolean verified = false;
            JsonNode v = node.get("verified");
            if (v != null && !v.isNull()) {
                if (v.isBoolean()) verified = v.booleanValue();
                else errors.add(where + ": identity.intent.verified must be true or false");
            }
            if (runId == null && stepId == null) {
                errors.add(where + ": identity.intent needs 'run_id' or 'step_id'");
                return null;
            }
            return new DeclaredIntent(runId, stepId, verified, null);
        }

        private static String text(JsonNode node, String field) {
            JsonNode v = node.get(field);
            return v == null || v.isNull() || !v.isValueNode() ? null : v.asText();
        }

        /** The list {@code field} of {@code node}, which is {@code at} ("identity.", "identity.originator.") in the case. */
        private static List<String> strings(JsonNode node, String at, String field, String where, List<String> errors) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) return List.of();
            if (!v.isArray()) {
                errors.add(where + ": " + at + field + " must be a list");
                return List.of();
            }
            List<String> out = new ArrayList<>();
            v.forEach(e -> out.add(e.asText()));
            return out;
        }

        private static void unknown(JsonNode node, Set<String> known, String where, List<String> errors) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!known.contains(key)) {
                    errors.add(where + ": unknown key '" + key + "' (known: "
                            + known.stream().sorted().collect(Collectors.joining(", ")) + ")");
                }
            }
        }
    }
}
