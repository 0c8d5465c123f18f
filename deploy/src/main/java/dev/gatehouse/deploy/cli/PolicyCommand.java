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
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.platform.identity.DevTokenIssuer;
import dev.gatehouse.policy.engine.Evaluation;
import dev.gatehouse.policy.engine.Facts;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.engine.PolicyException;
import dev.gatehouse.policy.engine.Rule;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
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
import java.time.Instant;
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
        description = "Offline tools for policy authors: validate, explain a decision, run test cases.",
        subcommands = {PolicyCommand.Validate.class, PolicyCommand.Explain.class, PolicyCommand.Test.class})
final class PolicyCommand implements Callable<Integer> {

    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyCommand.class);

    /** The example policy shipped in the distribution. */
    static final String EXAMPLE_POLICY = "/policies/example-policy.yaml";
    /** Exit code of {@code explain} when the command would be denied. */
    static final int EXIT_DENY = 3;

    private static final String DEFAULT_CONNECTION = "demo";
    private static final String DEFAULT_ISSUER = DevTokenIssuer.defaultIssuerUrl(18080);

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
                            + "2 bad input (unreadable or invalid policy, bad option)."})
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
        @Option(names = "--connection", paramLabel = "NAME", defaultValue = DEFAULT_CONNECTION,
                description = "The catalog connection name (default: ${DEFAULT-VALUE}).")
        String connection;
        @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A connection label; repeat for several.")
        Map<String, String> labels = new LinkedHashMap<>();
        @Option(names = "--form", defaultValue = "SIMPLE_QUERY",
                description = "How the client sent it: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
        SqlCommand.Form form;
        @Option(names = "--sql", required = true, description = "The SQL text (one or several statements).")
        String sql;
        @Option(names = "--json", description = "Print the report as one JSON object.")
        boolean json;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            Loaded loaded;
            try {
                loaded = loadPolicy(policyFile);
            } catch (PolicyException e) {
                return rejected(spec, e);
            }
            Identity identity = new Identity(subject, issuer, groups, roles, Map.of(), null);
            ConnectionRef ref = new ConnectionRef(connection, "postgres", "", labels);
            Decided decided = decide(loaded.policy(), new PgQueryAnalyzer(), identity, ref, form, sql);
            if (json) {
                out.println(toJson(loaded, identity, ref, form, sql, decided));
            } else {
                printReport(out, loaded, identity, ref, form, sql, decided);
            }
            out.flush();
            return decided.evaluation().verdict() == Verdict.ALLOW ? 0 : EXIT_DENY;
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Run a file of test cases against a policy and report which decisions differ from the "
                    + "expected ones.",
                    "CASES is YAML: cases: [{name, identity: {subject, issuer, groups, roles, claims, ci}, "
                            + "connection: {name, labels}, sql, form, expect: {verdict, rule}}].",
                    "Exit codes: 0 every case passed, 1 a case failed, 2 bad input (unreadable or invalid policy, "
                            + "malformed cases file)."})
    static final class Test implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(index = "0", paramLabel = "FILE", description = "The policy file (YAML).")
        Path file;
        @Parameters(index = "1", paramLabel = "CASES", description = "The test cases file (YAML).")
        Path cases;

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
            PgQueryAnalyzer analyzer = new PgQueryAnalyzer();
            int passed = 0;
            int failed = 0;
            for (TestCase tc : testCases) {
                Evaluation ev = decide(loaded.policy(), analyzer, tc.identity(), tc.connection(), tc.form(), tc.sql())
                        .evaluation();
                boolean verdictOk = ev.verdict() == tc.verdict();
                boolean ruleOk = tc.rule() == null || tc.rule().equals(ev.ruleId());
                if (verdictOk && ruleOk) {
                    passed++;
                    out.println("PASS " + tc.name());
                } else {
                    failed++;
                    out.println("FAIL " + tc.name());
                    out.println("       expected: " + tc.verdict().label()
                            + (tc.rule() == null ? " (any rule)" : " by rule " + tc.rule()));
                    out.println("       actual:   " + ev.verdict().label() + " by rule " + ev.ruleId());
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

    /** The analysis of the SQL and the policy's evaluation of it. */
    record Decided(SqlAnalysis analysis, Evaluation evaluation) {
    }

    private static int rejected(CommandSpec spec, PolicyException e) {
        PrintWriter err = spec.commandLine().getErr();
        err.println(spec.qualifiedName() + ": policy " + e.source() + " rejected:");
        e.errors().forEach(err::println);
        return 2;
    }

    private static Path existing(Path path, String what) {
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

    static Decided decide(Policy policy, PgQueryAnalyzer analyzer, Identity identity, ConnectionRef connection,
                          SqlCommand.Form form, String sql) {
        SqlAnalysis analysis = analyzer.analyze(sql);
        SqlCommand command = new SqlCommand(CommandId.random(), SessionId.random(), 1, Instant.now(), form, sql,
                List.of(), analysis);
        Evaluation evaluation = new PolicyEvaluator(policy).evaluate(Facts.of(identity, connection, command));
        return new Decided(analysis, evaluation);
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
        out.println("Connection  " + connection.name() + (connection.labels().isEmpty() ? ""
                : ", labels " + connection.labels().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "))));
        out.println("SQL         " + sql.strip().replace("\n", "\n            ") + "  [" + form + "]");
        out.println();
        out.println("Analysis");
        if (!analysis.parseable()) {
            out.println("  NOT PARSEABLE: " + analysis.parseError());
        } else {
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
        out.println();
        out.println("Rules (in order; the first that matches decides)");
        int width = policy.rules().stream().mapToInt(r -> r.id().length()).max().orElse(0);
        for (Rule rule : policy.rules()) {
            boolean deciding = rule.id().equals(ev.ruleId());
            out.println((deciding ? "  => " : "     ") + pad(rule.id(), width) + "  " + pad(rule.action().label(), 16)
                    + status(rule, ev));
        }
        out.println((ev.isDefault() ? "  => " : "     ") + pad("(default)", width) + "  "
                + pad(policy.defaultAction().label(), 16) + (ev.isDefault() ? "APPLIED" : "not reached"));
        out.println();
        out.println("Verdict     " + ev.verdict().name());
        out.println("Rule        " + ev.ruleId());
        out.println("Reason      " + ev.reason());
        out.println("Version     " + ev.policyVersion());
    }

    private static String status(Rule rule, Evaluation ev) {
        Evaluation.RuleTrace trace = ev.trace().stream().filter(t -> t.ruleId().equals(rule.id())).findFirst().orElse(null);
        if (trace == null) return "not evaluated (an earlier rule decided)";
        if (!trace.inScope()) return "out of scope (condition not evaluated)";
        if (trace.errored()) {
            return "ERROR (" + trace.error() + ")" + (trace.matched() ? ": counts as MATCHED (fail closed)" : ": counts as no match");
        }
        return trace.matched() ? "MATCHED" : "no match";
    }

    private static String statusCode(Rule rule, Evaluation ev) {
        Evaluation.RuleTrace trace = ev.trace().stream().filter(t -> t.ruleId().equals(rule.id())).findFirst().orElse(null);
        if (trace == null) return "not_evaluated";
        if (!trace.inScope()) return "out_of_scope";
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
        ObjectNode conn = root.putObject("connection");
        conn.put("name", connection.name());
        ObjectNode labels = conn.putObject("labels");
        connection.labels().forEach(labels::put);
        ObjectNode cmd = root.putObject("command");
        cmd.put("sql", sql);
        cmd.put("form", form.name());
        SqlAnalysis analysis = decided.analysis();
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
        ArrayNode rules = root.putArray("rules");
        for (Rule rule : policy.rules()) {
            ObjectNode r = rules.addObject();
            r.put("id", rule.id());
            r.put("action", rule.action().label());
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

    /** One expected decision. {@code rule} is null when any rule may decide. */
    record TestCase(String name, Identity identity, ConnectionRef connection, SqlCommand.Form form, String sql,
                    Verdict verdict, String rule) {

        private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
        private static final Set<String> CASE_KEYS = Set.of("name", "identity", "connection", "sql", "form", "expect");
        private static final Set<String> IDENTITY_KEYS = Set.of("subject", "issuer", "groups", "roles", "claims", "ci");
        private static final Set<String> CONNECTION_KEYS = Set.of("name", "protocol", "target", "labels");
        private static final Set<String> EXPECT_KEYS = Set.of("verdict", "rule");
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

            String sql = text(node, "sql");
            if (sql == null || sql.isBlank()) errors.add(where + ": missing 'sql'");

            SqlCommand.Form form = SqlCommand.Form.SIMPLE_QUERY;
            String formText = text(node, "form");
            if (formText != null) {
                try {
                    form = SqlCommand.Form.valueOf(formText.trim().toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    errors.add(where + ": 'form' must be one of " + List.of(SqlCommand.Form.values()) + ", found '" + formText + "'");
                }
            }

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
                if (subject != null) {
                    identity = new Identity(subject, issuer == null ? DEFAULT_ISSUER : issuer,
                            strings(id, "groups", where, errors), strings(id, "roles", where, errors),
                            claims, ci);
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
            JsonNode expect = node.get("expect");
            if (expect == null || !expect.isObject()) {
                errors.add(where + ": missing 'expect' (a mapping with 'verdict' and optionally 'rule')");
            } else {
                unknown(expect, EXPECT_KEYS, where + " expect", errors);
                String v = text(expect, "verdict");
                if (v == null) {
                    errors.add(where + ": expect: missing 'verdict' (allow or deny)");
                } else if (v.equalsIgnoreCase("allow") || v.equalsIgnoreCase("deny")) {
                    verdict = Verdict.parse(v);
                } else {
                    errors.add(where + ": expect.verdict must be allow or deny, found '" + v + "'");
                }
                rule = text(expect, "rule");
            }
            if (errors.size() > before) return null;
            return new TestCase(name, identity, new ConnectionRef(connName, protocol, target, labels), form, sql,
                    verdict, rule);
        }

        private static String text(JsonNode node, String field) {
            JsonNode v = node.get(field);
            return v == null || v.isNull() || !v.isValueNode() ? null : v.asText();
        }

        private static List<String> strings(JsonNode node, String field, String where, List<String> errors) {
            JsonNode v = node.get(field);
            if (v == null || v.isNull()) return List.of();
            if (!v.isArray()) {
                errors.add(where + ": identity." + field + " must be a list");
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
