package dev.gatehouse.policy.engine;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where a {@link Rule} applies: the {@code scope} of a rule, so one document can hold rules for
 * many teams. A rule out of scope is skipped: its condition is not run.
 *
 * <pre>{@code
 * scope:                                   # optional; every key optional, at least one given
 *   connections: [orders-prod, "orders-*"] # connection.name, globs
 *   connection_labels: {env: prod}         # every label must be present with exactly this value
 *   protocols: [postgres]                  # connection.protocol, exact
 *   subjects: ["svc-*", alice]             # identity.subject, globs
 *   groups: [payments]                     # identity in any of these groups, exact
 *   issuers: ["https://keycloak.example.com/realms/*"]   # identity.issuer, globs
 *   delegated: true                        # identity.delegated: true only delegated sessions, false none
 *   originators: [alice, "ops-*"]          # identity.originator.subject, globs (delegated sessions only)
 *   originator_groups: [agent-users]       # originator in any of these groups, exact (delegated only)
 * }</pre>
 *
 * <p>The rule is in scope when every given key matches; within a key, any listed value may match.
 * {@code subjects} and {@code groups} are the acting subject's: in a delegated session the agent's,
 * never the originator's. {@code originators} and {@code originator_groups} match only delegated
 * sessions (a session that acts for nobody has no originator).
 * In globs {@code *} matches any run of characters (also none) and nothing else is special;
 * every comparison is case-sensitive. Immutable; built only by {@link Policy#parse}.
 */
public final class RuleScope {

    /** No restriction: the rule applies to every command. */
    public static final RuleScope UNRESTRICTED = new RuleScope(List.of(), Map.of(), List.of(), List.of(), List.of(), List.of(),
            null, List.of(), List.of());

    static final String CONNECTIONS = "connections";
    static final String CONNECTION_LABELS = "connection_labels";
    static final String PROTOCOLS = "protocols";
    static final String SUBJECTS = "subjects";
    static final String GROUPS = "groups";
    static final String ISSUERS = "issuers";
    static final String DELEGATED = "delegated";
    static final String ORIGINATORS = "originators";
    static final String ORIGINATOR_GROUPS = "originator_groups";
    private static final Set<String> KEYS = Set.of(CONNECTIONS, CONNECTION_LABELS, PROTOCOLS, SUBJECTS, GROUPS, ISSUERS,
            DELEGATED, ORIGINATORS, ORIGINATOR_GROUPS);

    private final List<String> connections;
    private final Map<String, String> connectionLabels;
    private final List<String> protocols;
    private final List<String> subjects;
    private final List<String> groups;
    private final List<String> issuers;
    private final Boolean delegated;
    private final List<String> originators;
    private final List<String> originatorGroups;
    private final List<Pattern> connectionPatterns;
    private final List<Pattern> subjectPatterns;
    private final List<Pattern> issuerPatterns;
    private final List<Pattern> originatorPatterns;

    private RuleScope(List<String> connections, Map<String, String> connectionLabels, List<String> protocols,
                      List<String> subjects, List<String> groups, List<String> issuers, Boolean delegated,
                      List<String> originators, List<String> originatorGroups) {
        this.connections = List.copyOf(connections);
        this.connectionLabels = Collections.unmodifiableMap(new LinkedHashMap<>(connectionLabels));
        this.protocols = List.copyOf(protocols);
        this.subjects = List.copyOf(subjects);
        this.groups = List.copyOf(groups);
        this.issuers = List.copyOf(issuers);
        this.delegated = delegated;
        this.originators = List.copyOf(originators);
        this.originatorGroups = List.copyOf(originatorGroups);
        this.connectionPatterns = connections.stream().map(RuleScope::glob).toList();
        this.subjectPatterns = subjects.stream().map(RuleScope::glob).toList();
        this.issuerPatterns = issuers.stream().map(RuleScope::glob).toList();
        this.originatorPatterns = originators.stream().map(RuleScope::glob).toList();
    }

    /**
     * Parses a rule's {@code scope} value; adds every error to {@code errors} (prefixed with
     * {@code where}, naming the rule) and returns null when there is any.
     */
    static RuleScope parse(JsonNode node, String where, List<String> errors) {
        if (node == null || node.isNull()) return UNRESTRICTED;
        String at = where + ": scope";
        if (!node.isObject()) {
            errors.add(at + " must be a mapping (" + String.join(", ", KEYS.stream().sorted().toList())
                    + "), found " + Policy.describe(node));
            return null;
        }
        if (node.isEmpty()) {
            errors.add(at + " must not be empty (omit it for a rule that applies everywhere)");
            return null;
        }
        int before = errors.size();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KEYS.contains(key)) {
                errors.add(at + ": unknown key '" + key + "' (expected "
                        + String.join(", ", KEYS.stream().sorted().toList()) + ")");
            }
        }
        List<String> connections = strings(node, CONNECTIONS, at, errors);
        Map<String, String> labels = labels(node, at, errors);
        List<String> protocols = strings(node, PROTOCOLS, at, errors);
        List<String> subjects = strings(node, SUBJECTS, at, errors);
        List<String> groups = strings(node, GROUPS, at, errors);
        List<String> issuers = strings(node, ISSUERS, at, errors);
        Boolean delegated = bool(node, DELEGATED, at, errors);
        List<String> originators = strings(node, ORIGINATORS, at, errors);
        List<String> originatorGroups = strings(node, ORIGINATOR_GROUPS, at, errors);
        if (Boolean.FALSE.equals(delegated) && !(originators.isEmpty() && originatorGroups.isEmpty())) {
            errors.add(at + ": 'delegated: false' matches only sessions without an originator, so '" + ORIGINATORS
                    + "' and '" + ORIGINATOR_GROUPS + "' would never match (drop one or the other)");
        }
        if (errors.size() > before) return null;
        return new RuleScope(connections, labels, protocols, subjects, groups, issuers, delegated, originators,
                originatorGroups);
    }

    private static Boolean bool(JsonNode scope, String key, String at, List<String> errors) {
        JsonNode value = scope.get(key);
        if (value == null) return null;
        if (!value.isBoolean()) {
            errors.add(at + ": '" + key + "' must be true or false, found "
                    + (value.isTextual() ? "the string '" + value.asText() + "' (write true or false without quotes)"
                    : Policy.describe(value)));
            return null;
        }
        return value.booleanValue();
    }

    private static List<String> strings(JsonNode scope, String key, String at, List<String> errors) {
        JsonNode value = scope.get(key);
        if (value == null) return List.of();
        if (!value.isArray()) {
            errors.add(at + ": '" + key + "' must be a list of strings, found "
                    + (value.isTextual() ? "a single string (write [" + value.asText() + "])" : Policy.describe(value)));
            return List.of();
        }
        if (value.isEmpty()) {
            errors.add(at + ": '" + key + "' must not be an empty list (omit the key to not restrict it)");
            return List.of();
        }
        List<String> result = new ArrayList<>();
        int index = 0;
        for (JsonNode element : value) {
            index++;
            if (!element.isTextual()) {
                errors.add(at + ": '" + key + "' entry #" + index + " must be a string, found " + Policy.describe(element)
                        + " (quote it)");
            } else if (element.asText().isBlank()) {
                errors.add(at + ": '" + key + "' entry #" + index + " must not be blank");
            } else {
                result.add(element.asText());
            }
        }
        return result;
    }

    private static Map<String, String> labels(JsonNode scope, String at, List<String> errors) {
        JsonNode value = scope.get(CONNECTION_LABELS);
        if (value == null) return Map.of();
        if (!value.isObject()) {
            errors.add(at + ": '" + CONNECTION_LABELS + "' must be a mapping of label to value, found " + Policy.describe(value));
            return Map.of();
        }
        if (value.isEmpty()) {
            errors.add(at + ": '" + CONNECTION_LABELS + "' must not be empty (omit the key to not restrict it)");
            return Map.of();
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                errors.add(at + ": '" + CONNECTION_LABELS + "' value of '" + e.getKey() + "' must be a string, found "
                        + Policy.describe(e.getValue()) + " (quote it)");
            } else {
                result.put(e.getKey(), e.getValue().asText());
            }
        }
        return result;
    }

    /** A case-sensitive glob: {@code *} matches any run of characters, everything else is literal. */
    static Pattern glob(String glob) {
        StringBuilder regex = new StringBuilder();
        int start = 0;
        for (int star = glob.indexOf('*'); star >= 0; star = glob.indexOf('*', start)) {
            if (star > start) regex.append(Pattern.quote(glob.substring(start, star)));
            regex.append(".*");
            start = star + 1;
        }
        if (start < glob.length()) regex.append(Pattern.quote(glob.substring(start)));
        return Pattern.compile(regex.toString(), Pattern.DOTALL);
    }

    /** Whether a rule with this scope applies to the command these facts describe. */
    boolean matches(Facts facts) {
        if (isUnrestricted()) return true;
        Map<String, Object> connection = facts.variable(Facts.CONNECTION);
        Map<String, Object> identity = facts.variable(Facts.IDENTITY);
        return anyGlob(connectionPatterns, text(connection.get("name")))
                && labelsMatch(connection.get("labels"))
                && (protocols.isEmpty() || protocols.contains(text(connection.get("protocol"))))
                && anyGlob(subjectPatterns, text(identity.get("subject")))
                && anyOf(groups, identity.get("groups"))
                && anyGlob(issuerPatterns, text(identity.get("issuer")))
                && delegationMatches(identity);
    }

    /** {@code delegated}, {@code originators} and {@code originator_groups}; the last two only for a delegated session. */
    private boolean delegationMatches(Map<String, Object> identity) {
        if (delegated == null && originators.isEmpty() && originatorGroups.isEmpty()) return true;
        boolean isDelegated = Boolean.TRUE.equals(identity.get("delegated"));
        if (delegated != null && delegated != isDelegated) return false;
        if (originators.isEmpty() && originatorGroups.isEmpty()) return true;
        if (!isDelegated || !(identity.get("originator") instanceof Map<?, ?> originator)) return false;
        return anyGlob(originatorPatterns, text(originator.get("subject")))
                && anyOf(originatorGroups, originator.get("groups"));
    }

    private static boolean anyGlob(List<Pattern> patterns, String value) {
        return patterns.isEmpty() || patterns.stream().anyMatch(p -> p.matcher(value).matches());
    }

    private boolean labelsMatch(Object labels) {
        if (connectionLabels.isEmpty()) return true;
        if (!(labels instanceof Map<?, ?> actual)) return false;
        return connectionLabels.entrySet().stream().allMatch(e -> e.getValue().equals(actual.get(e.getKey())));
    }

    private static boolean anyOf(List<String> wanted, Object actualGroups) {
        if (wanted.isEmpty()) return true;
        if (!(actualGroups instanceof List<?> actual)) return false;
        return actual.stream().anyMatch(wanted::contains);
    }

    private static String text(Object value) {
        return value == null ? "" : value.toString();
    }

    /** True when no key is given: the rule applies everywhere. */
    public boolean isUnrestricted() {
        return connections.isEmpty() && connectionLabels.isEmpty() && protocols.isEmpty() && subjects.isEmpty()
                && groups.isEmpty() && issuers.isEmpty() && delegated == null && originators.isEmpty()
                && originatorGroups.isEmpty();
    }

    /** Connection-name globs; empty when not restricted. */
    public List<String> connections() {
        return connections;
    }

    /** Labels the connection must all carry with these exact values; empty when not restricted. */
    public Map<String, String> connectionLabels() {
        return connectionLabels;
    }

    /** Protocols ("postgres", "mysql", "http"); empty when not restricted. */
    public List<String> protocols() {
        return protocols;
    }

    /** Identity-subject globs; empty when not restricted. */
    public List<String> subjects() {
        return subjects;
    }

    /** Groups, any of which the identity must be in; empty when not restricted. */
    public List<String> groups() {
        return groups;
    }

    /** Token-issuer globs; empty when not restricted. */
    public List<String> issuers() {
        return issuers;
    }

    /** True: only delegated sessions; false: only sessions that act for nobody; null when not restricted. */
    public Boolean delegated() {
        return delegated;
    }

    /** Originator-subject globs (delegated sessions only); empty when not restricted. */
    public List<String> originators() {
        return originators;
    }

    /** Groups, any of which the originator must be in (delegated sessions only); empty when not restricted. */
    public List<String> originatorGroups() {
        return originatorGroups;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RuleScope s && connections.equals(s.connections) && connectionLabels.equals(s.connectionLabels)
                && protocols.equals(s.protocols) && subjects.equals(s.subjects) && groups.equals(s.groups)
                && issuers.equals(s.issuers) && Objects.equals(delegated, s.delegated) && originators.equals(s.originators)
                && originatorGroups.equals(s.originatorGroups);
    }

    @Override
    public int hashCode() {
        return Objects.hash(connections, connectionLabels, protocols, subjects, groups, issuers, delegated, originators,
                originatorGroups);
    }

    @Override
    public String toString() {
        if (isUnrestricted()) return "RuleScope[unrestricted]";
        List<String> parts = new ArrayList<>();
        if (!connections.isEmpty()) parts.add(CONNECTIONS + "=" + connections);
        if (!connectionLabels.isEmpty()) parts.add(CONNECTION_LABELS + "=" + connectionLabels);
        if (!protocols.isEmpty()) parts.add(PROTOCOLS + "=" + protocols);
        if (!subjects.isEmpty()) parts.add(SUBJECTS + "=" + subjects);
        if (!groups.isEmpty()) parts.add(GROUPS + "=" + groups);
        if (!issuers.isEmpty()) parts.add(ISSUERS + "=" + issuers);
        if (delegated != null) parts.add(DELEGATED + "=" + delegated);
        if (!originators.isEmpty()) parts.add(ORIGINATORS + "=" + originators);
        if (!originatorGroups.isEmpty()) parts.add(ORIGINATOR_GROUPS + "=" + originatorGroups);
        return "RuleScope[" + String.join(", ", parts) + "]";
    }
}
