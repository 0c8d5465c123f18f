package dev.gatehouse.policy.engine;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A parsed, compiled, immutable policy document: ordered rules, first match wins, and a default
 * action when none matches.
 *
 * <pre>{@code
 * id: gatehouse-example          # required
 * version: "1"                   # optional; else the first 12 hex chars of SHA-256 of the text
 * default: allow                 # required: allow | deny (commands no rule matched)
 * connect_default: allow         # optional: allow | deny (connection attempts no rule matched; default allow)
 * rules:                         # required, may be empty
 *   - id: ci-no-ddl              # required, unique, not "default"
 *     description: ...           # optional
 *     scope: {groups: [ci]}      # optional: where the rule applies (see RuleScope)
 *     when: '"ci" in identity.groups && "ddl" in command.kinds'   # required, CEL, must be bool
 *     action: deny               # required: allow | deny | require_approval | mask
 *     reason: CI identities may not change the schema              # required unless allow
 *     dry_run: false             # optional: true records the would-be verdict and does not decide
 *     on: command                # optional: command (default) | connect | [connect, command];
 *                                # connect rules decide connection attempts, allow or deny only
 *   - id: prod-ddl-approval
 *     when: 'connection.labels["env"] == "prod" && "ddl" in command.kinds'
 *     action: require_approval
 *     approval: {group: dba, count: 2, mode: hold, expires_in: 10m}  # required for require_approval;
 *                                # count 1..10 (default 1), mode hold | deferred (default hold),
 *                                # expires_in <n>s|m|h|d up to 7d (default 10m); neither the
 *                                # requester nor, in a delegated session, its originator or
 *                                # earlier actors may approve
 *     reason: schema changes in production need two DBAs
 *   - id: agent-writes-confirmed
 *     when: '"agents" in identity.groups && "write" in command.kinds'
 *     action: require_approval
 *     approval: {from: originator, mode: hold, expires_in: 10m}  # only the person the agent acts
 *                                # for confirms (no group, no count); in a session that is not
 *                                # delegated nobody can, so the command is denied
 *     reason: alice confirms what her agent writes
 *   - id: mask-customers
 *     when: '"public.customers" in command.tables_read'
 *     action: mask
 *     mask: {profile: pii-basic} # required for mask: letters, digits, _ - .
 *     reason: customer data is masked
 * }</pre>
 *
 * <p>A rule with a {@code scope} (connections, connection_labels, protocols, subjects, groups,
 * issuers, delegated, originators, originator_groups; see {@link RuleScope}) applies only to commands within it; out of scope its condition
 * is not run.
 *
 * <p>Every condition is parsed and type-checked against the fact variables (see {@link Facts})
 * when the document is parsed. A document with any error is rejected as a whole with a
 * {@link PolicyException} listing every error, each naming its rule.
 */
public final class Policy {

    private static final Logger LOGGER = LoggerFactory.getLogger(Policy.class);

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Set<String> DOCUMENT_FIELDS = Set.of("id", "version", "description", "default",
            "connect_default", "rules");
    private static final Set<String> RULE_FIELDS = Set.of("id", "description", "scope", "when", "action", "reason",
            "dry_run", "approval", "mask", "on");
    private static final Set<String> APPROVAL_FIELDS = Set.of("from", "group", "count", "mode", "expires_in");
    private static final Set<String> MASK_FIELDS = Set.of("profile");
    private static final Pattern MASK_PROFILE = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Pattern DURATION = Pattern.compile("([0-9]{1,7})([smhd])");
    private static final Duration MAX_EXPIRES_IN = Duration.ofDays(7);
    private static final Pattern RULE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]*");
    private static final int HASH_HEX_CHARS = 12;

    private final String id;
    private final String version;
    private final String description;
    private final Action defaultAction;
    private final Action connectDefault;
    private final List<Rule> rules;

    private Policy(String id, String version, String description, Action defaultAction, Action connectDefault,
                   List<Rule> rules) {
        this.id = id;
        this.version = version;
        this.description = description;
        this.defaultAction = defaultAction;
        this.connectDefault = connectDefault;
        this.rules = List.copyOf(rules);
    }

    /** Parses and compiles a policy document. */
    public static Policy parse(String yaml) throws PolicyException {
        return parse(yaml, "<string>");
    }

    /** Reads (UTF-8), parses and compiles the policy document at {@code path}. */
    public static Policy load(Path path) throws IOException, PolicyException {
        return parse(Files.readString(path, StandardCharsets.UTF_8), path.toString());
    }

    /**
     * Parses and compiles a policy document; {@code source} names it in errors and logs.
     */
    public static Policy parse(String yaml, String source) throws PolicyException {
        List<String> errors = new ArrayList<>();
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new PolicyException(source, List.of("not a valid YAML document: " + e.getOriginalMessage()
                    + location(e)));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new PolicyException(source, List.of("the policy document is empty"));
        }
        if (!root.isObject()) {
            throw new PolicyException(source, List.of("the policy document must be a mapping (id, default, rules), found "
                    + describe(root)));
        }
        unknownFields(root, DOCUMENT_FIELDS, "policy", errors);

        String id = requiredText(root, "id", "policy", errors);
        String version = optionalScalar(root, "version", "policy", errors);
        if (version == null) version = sha256Prefix(yaml);
        String description = optionalScalar(root, "description", "policy", errors);

        Action defaultAction = null;
        String defaultText = requiredText(root, "default", "policy", errors);
        if (defaultText != null) {
            defaultAction = Action.fromLabel(defaultText).filter(a -> a == Action.ALLOW || a == Action.DENY).orElse(null);
            if (defaultAction == null) {
                errors.add("policy: 'default' must be allow or deny, found '" + defaultText + "'");
            }
        }

        Action connectDefault = Action.ALLOW;
        String connectDefaultText = optionalScalar(root, "connect_default", "policy", errors);
        if (connectDefaultText != null) {
            connectDefault = Action.fromLabel(connectDefaultText).filter(a -> a == Action.ALLOW || a == Action.DENY)
                    .orElse(null);
            if (connectDefault == null) {
                errors.add("policy: 'connect_default' must be allow or deny, found '" + connectDefaultText + "'");
            }
        }

        List<Rule> rules = new ArrayList<>();
        JsonNode rulesNode = root.get("rules");
        if (rulesNode == null || rulesNode.isNull()) {
            errors.add("policy: missing required field 'rules' (a list, may be empty)");
        } else if (!rulesNode.isArray()) {
            errors.add("policy: 'rules' must be a list, found " + describe(rulesNode));
        } else {
            Set<String> seen = new HashSet<>();
            int index = 0;
            for (JsonNode ruleNode : rulesNode) {
                index++;
                Rule rule = parseRule(ruleNode, index, seen, errors);
                if (rule != null) rules.add(rule);
            }
        }

        if (!errors.isEmpty()) {
            LOGGER.warn("policy rejected source={} errors={}", source, errors.size());
            throw new PolicyException(source, errors);
        }
        LOGGER.debug("policy loaded source={} id={} version={} rules={} default={} connectDefault={}", source, id, version,
                rules.size(), defaultAction.label(), connectDefault.label());
        return new Policy(id, version, description, defaultAction, connectDefault, rules);
    }

    private static Rule parseRule(JsonNode node, int index, Set<String> seen, List<String> errors) {
        String where = "rule #" + index;
        if (!node.isObject()) {
            errors.add(where + ": must be a mapping (id, when, action, reason), found " + describe(node));
            return null;
        }
        String id = requiredText(node, "id", where, errors);
        if (id != null) {
            where = "rule '" + id + "' (#" + index + ")";
            if (id.equals(Evaluation.DEFAULT_RULE_ID)) {
                errors.add(where + ": the id 'default' is reserved for the policy's default action");
            } else if (!RULE_ID.matcher(id).matches()) {
                errors.add(where + ": id must be letters, digits and _ . : - (starting with a letter or digit)");
            } else if (!seen.add(id)) {
                errors.add(where + ": duplicate rule id '" + id + "'");
            }
        }
        unknownFields(node, RULE_FIELDS, where, errors);
        String description = optionalScalar(node, "description", where, errors);
        RuleScope scope = RuleScope.parse(node.get("scope"), where, errors);
        String condition = requiredText(node, "when", where, errors);
        Action action = null;
        String actionText = requiredText(node, "action", where, errors);
        if (actionText != null) {
            action = Action.fromLabel(actionText).orElse(null);
            if (action == null) {
                errors.add(where + ": unknown action '" + actionText + "' (expected one of: " + Action.labels() + ")");
            }
        }
        String reason = optionalScalar(node, "reason", where, errors);
        if (reason == null && action != null) {
            if (action == Action.ALLOW) {
                reason = "allowed by rule '" + id + "'";
            } else {
                errors.add(where + ": missing required field 'reason' (required for action " + action.label() + ")");
            }
        }
        boolean dryRun = false;
        JsonNode dryRunNode = node.get("dry_run");
        if (dryRunNode != null && !dryRunNode.isNull()) {
            if (dryRunNode.isBoolean()) {
                dryRun = dryRunNode.booleanValue();
            } else {
                errors.add(where + ": 'dry_run' must be true or false, found " + describe(dryRunNode));
            }
        }
        int errorsBefore = errors.size();
        java.util.Set<Facts.RequestType> on = on(node.get("on"), where, errors);
        if (on != null && on.contains(Facts.RequestType.CONNECT) && (action == Action.MASK || action == Action.REQUIRE_APPROVAL)) {
            errors.add(where + ": action " + action.label() + " is for commands only; a rule 'on: connect' may allow or deny");
        }
        Rule.Approval approval = action == null ? null : approval(node.get("approval"), action, where, errors);
        String maskProfile = action == null ? null : maskProfile(node.get("mask"), action, where, errors);
        boolean parametersOk = errors.size() == errorsBefore;
        Conditions.Compiled compiled = null;
        if (condition != null) {
            Conditions.Result result = Conditions.compile(condition);
            for (String error : result.errors()) {
                errors.add(where + ": condition error at " + error);
            }
            compiled = result.compiled();
        }
        if (id == null || scope == null || condition == null || action == null || reason == null || compiled == null
                || !parametersOk) {
            return null;
        }
        return new Rule(id, description, scope, condition, action, reason, compiled, dryRun, approval, maskProfile, on);
    }

    /** A rule's {@code on}: connect, command (the default) or a list of both; null (with an error) when invalid. */
    private static java.util.Set<Facts.RequestType> on(JsonNode node, String where, List<String> errors) {
        if (node == null || node.isNull()) return java.util.EnumSet.of(Facts.RequestType.COMMAND);
        List<JsonNode> values = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(values::add);
            if (values.isEmpty()) {
                errors.add(where + ": 'on' must not be an empty list (connect, command or [connect, command])");
                return null;
            }
        } else {
            values.add(node);
        }
        java.util.Set<Facts.RequestType> on = java.util.EnumSet.noneOf(Facts.RequestType.class);
        for (JsonNode value : values) {
            Facts.RequestType type = value.isTextual() ? java.util.Arrays.stream(Facts.RequestType.values())
                    .filter(t -> t.label().equals(value.asText().strip())).findFirst().orElse(null) : null;
            if (type == null) {
                errors.add(where + ": 'on' must be connect, command or [connect, command], found " + quoted(value));
                return null;
            }
            on.add(type);
        }
        return on;
    }

    /** The {@code approval} of a require_approval rule; null (with an error if it was needed or misplaced) otherwise. */
    private static Rule.Approval approval(JsonNode node, Action action, String where, List<String> errors) {
        boolean present = node != null && !node.isNull();
        if (action != Action.REQUIRE_APPROVAL) {
            if (present) errors.add(where + ": 'approval' is only for action require_approval, not " + action.label());
            return null;
        }
        if (!present) {
            errors.add(where + ": action require_approval needs 'approval' with at least the approver group, "
                    + "e.g. approval: {group: dba, count: 1}, or approval: {from: originator}");
            return null;
        }
        if (!node.isObject()) {
            errors.add(where + ": 'approval' must be a mapping (from, group, count, mode, expires_in), found " + describe(node));
            return null;
        }
        int before = errors.size();
        unknownFields(node, APPROVAL_FIELDS, where + ": approval", errors);
        Rule.Approval.From from = Rule.Approval.From.GROUP;
        JsonNode fromNode = node.get("from");
        if (fromNode != null && !fromNode.isNull()) {
            from = java.util.Arrays.stream(Rule.Approval.From.values())
                    .filter(f -> fromNode.isTextual() && f.label().equals(fromNode.asText().strip()))
                    .findFirst().orElse(null);
            if (from == null) {
                errors.add(where + ": approval.from must be group (members of approval.group approve) or originator "
                        + "(the person a delegated session acts for confirms), found " + quoted(fromNode));
                return null;
            }
        }
        if (from == Rule.Approval.From.ORIGINATOR) {
            JsonNode groupNode = node.get("group");
            if (groupNode != null && !groupNode.isNull()) {
                errors.add(where + ": approval.group does not go with from: originator (only the originator confirms); "
                        + "for a four-eyes approval by a group drop 'from', found group " + quoted(groupNode));
            }
            JsonNode countNode = node.get("count");
            if (countNode != null && !countNode.isNull() && !(countNode.isIntegralNumber() && countNode.intValue() == 1)) {
                errors.add(where + ": approval.count does not go with from: originator (one person confirms), found "
                        + quoted(countNode));
            }
        }
        String group = from == Rule.Approval.From.ORIGINATOR ? null : requiredText(node, "group", where + ": approval", errors);

        int count = Rule.Approval.DEFAULT_COUNT;
        JsonNode countNode = node.get("count");
        if (countNode != null && !countNode.isNull()) {
            if (countNode.isIntegralNumber() && countNode.canConvertToInt()
                    && countNode.intValue() >= Rule.Approval.MIN_COUNT && countNode.intValue() <= Rule.Approval.MAX_COUNT) {
                count = countNode.intValue();
            } else {
                errors.add(where + ": approval.count must be a whole number from " + Rule.Approval.MIN_COUNT + " to "
                        + Rule.Approval.MAX_COUNT + ", found " + quoted(countNode));
            }
        }

        Rule.Approval.Mode mode = Rule.Approval.Mode.HOLD;
        JsonNode modeNode = node.get("mode");
        if (modeNode != null && !modeNode.isNull()) {
            mode = java.util.Arrays.stream(Rule.Approval.Mode.values())
                    .filter(m -> modeNode.isTextual() && m.label().equals(modeNode.asText().strip()))
                    .findFirst().orElse(null);
            if (mode == null) errors.add(where + ": approval.mode must be hold or deferred, found " + quoted(modeNode));
        }

        Duration expiresIn = Rule.Approval.DEFAULT_EXPIRES_IN;
        JsonNode expiresNode = node.get("expires_in");
        if (expiresNode != null && !expiresNode.isNull()) {
            expiresIn = duration(expiresNode);
            if (expiresIn == null) {
                errors.add(where + ": approval.expires_in must be a duration such as 90s, 10m, 2h or 1d, found "
                        + quoted(expiresNode));
            } else if (expiresIn.isZero() || expiresIn.compareTo(MAX_EXPIRES_IN) > 0) {
                errors.add(where + ": approval.expires_in must be more than 0 and at most 7d, found " + quoted(expiresNode));
            }
        }
        if (errors.size() > before || mode == null) return null;
        if (from == Rule.Approval.From.ORIGINATOR) return Rule.Approval.fromOriginator(mode, expiresIn);
        if (group == null) return null;
        return new Rule.Approval(group, count, mode, expiresIn);
    }

    /** The {@code mask.profile} of a mask rule; null (with an error if it was needed or misplaced) otherwise. */
    private static String maskProfile(JsonNode node, Action action, String where, List<String> errors) {
        boolean present = node != null && !node.isNull();
        if (action != Action.MASK) {
            if (present) errors.add(where + ": 'mask' is only for action mask, not " + action.label());
            return null;
        }
        if (!present) {
            errors.add(where + ": action mask needs 'mask' with the masking profile, e.g. mask: {profile: pii-basic}");
            return null;
        }
        if (!node.isObject()) {
            errors.add(where + ": 'mask' must be a mapping (profile), found " + describe(node));
            return null;
        }
        int before = errors.size();
        unknownFields(node, MASK_FIELDS, where + ": mask", errors);
        String profile = requiredText(node, "profile", where + ": mask", errors);
        if (profile != null && !MASK_PROFILE.matcher(profile).matches()) {
            errors.add(where + ": mask.profile must be letters, digits and _ - . only, found '" + profile + "'");
        }
        return errors.size() > before ? null : profile;
    }

    /** A duration written as a whole number and a unit (s, m, h, d), or null. */
    private static Duration duration(JsonNode node) {
        if (!node.isTextual()) return null;
        java.util.regex.Matcher m = DURATION.matcher(node.asText().strip());
        if (!m.matches()) return null;
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static String quoted(JsonNode node) {
        return node.isValueNode() ? "'" + node.asText() + "'" : describe(node);
    }

    private static void unknownFields(JsonNode node, Set<String> known, String where, List<String> errors) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            String name = it.next().getKey();
            if (!known.contains(name)) {
                errors.add(where + ": unknown field '" + name + "' (expected " + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    private static String requiredText(JsonNode node, String field, String where, List<String> errors) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            errors.add(where + ": missing required field '" + field + "'");
            return null;
        }
        if (!value.isTextual()) {
            errors.add(where + ": '" + field + "' must be a string, found " + describe(value) + " (quote it)");
            return null;
        }
        if (value.asText().isBlank()) {
            errors.add(where + ": '" + field + "' must not be blank");
            return null;
        }
        return value.asText().strip();
    }

    private static String optionalScalar(JsonNode node, String field, String where, List<String> errors) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) return null;
        if (!value.isValueNode()) {
            errors.add(where + ": '" + field + "' must be a string, found " + describe(value));
            return null;
        }
        String text = value.asText().strip();
        return text.isEmpty() ? null : text;
    }

    static String describe(JsonNode node) {
        if (node.isObject()) return "a mapping";
        if (node.isArray()) return "a list";
        if (node.isNumber()) return "a number";
        if (node.isBoolean()) return "a boolean";
        return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    private static String location(JsonProcessingException e) {
        var location = e.getLocation();
        if (location == null || location.getLineNr() < 1) return "";
        return " (at line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    static String sha256Prefix(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, HASH_HEX_CHARS);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    public String id() {
        return id;
    }

    /** The declared version, or the first 12 hex chars of the SHA-256 of the document text. */
    public String version() {
        return version;
    }

    /** For humans; null when the document has none. */
    public String description() {
        return description;
    }

    /** ALLOW or DENY: what applies to a command when no rule matches. */
    public Action defaultAction() {
        return defaultAction;
    }

    /** ALLOW or DENY: what applies to a connection attempt when no {@code on: connect} rule matches ({@code connect_default}, default allow). */
    public Action connectDefault() {
        return connectDefault;
    }

    /** The default for requests of this type: {@link #connectDefault()} or {@link #defaultAction()}. */
    public Action defaultFor(Facts.RequestType type) {
        return type == Facts.RequestType.CONNECT ? connectDefault : defaultAction;
    }

    /** The rules in document order. */
    public List<Rule> rules() {
        return rules;
    }

    /** The rule with this id, if any. */
    public Optional<Rule> rule(String ruleId) {
        return rules.stream().filter(r -> r.id().equals(ruleId)).findFirst();
    }

    @Override
    public String toString() {
        return "Policy[" + id + " version " + version + ", " + rules.size() + " rules, default " + defaultAction.label() + "]";
    }
}
