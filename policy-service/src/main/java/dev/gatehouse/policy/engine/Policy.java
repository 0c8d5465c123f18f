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
 * default: allow                 # required: allow | deny
 * rules:                         # required, may be empty
 *   - id: ci-no-ddl              # required, unique, not "default"
 *     description: ...           # optional
 *     scope: {groups: [ci]}      # optional: where the rule applies (see RuleScope)
 *     when: '"ci" in identity.groups && "ddl" in command.kinds'   # required, CEL, must be bool
 *     action: deny               # required: allow | deny | require_approval | mask
 *     reason: CI identities may not change the schema              # required unless allow
 * }</pre>
 *
 * <p>A rule with a {@code scope} (connections, connection_labels, protocols, subjects, groups,
 * issuers; see {@link RuleScope}) applies only to commands within it; out of scope its condition
 * is not run.
 *
 * <p>Every condition is parsed and type-checked against the fact variables (see {@link Facts})
 * when the document is parsed. A document with any error is rejected as a whole with a
 * {@link PolicyException} listing every error. {@code require_approval} and {@code mask} parse
 * but evaluate to DENY until the approval service and masking are deployed (see {@link Action}).
 */
public final class Policy {

    private static final Logger LOGGER = LoggerFactory.getLogger(Policy.class);

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Set<String> DOCUMENT_FIELDS = Set.of("id", "version", "description", "default", "rules");
    private static final Set<String> RULE_FIELDS = Set.of("id", "description", "scope", "when", "action", "reason");
    private static final Pattern RULE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]*");
    private static final int HASH_HEX_CHARS = 12;

    private final String id;
    private final String version;
    private final String description;
    private final Action defaultAction;
    private final List<Rule> rules;

    private Policy(String id, String version, String description, Action defaultAction, List<Rule> rules) {
        this.id = id;
        this.version = version;
        this.description = description;
        this.defaultAction = defaultAction;
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
        LOGGER.info("policy loaded source={} id={} version={} rules={} default={}", source, id, version, rules.size(),
                defaultAction.label());
        return new Policy(id, version, description, defaultAction, rules);
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
        Conditions.Compiled compiled = null;
        if (condition != null) {
            Conditions.Result result = Conditions.compile(condition);
            for (String error : result.errors()) {
                errors.add(where + ": condition error at " + error);
            }
            compiled = result.compiled();
        }
        if (id == null || scope == null || condition == null || action == null || reason == null || compiled == null) {
            return null;
        }
        return new Rule(id, description, scope, condition, action, reason, compiled);
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

    /** ALLOW or DENY: what applies when no rule matches. */
    public Action defaultAction() {
        return defaultAction;
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
