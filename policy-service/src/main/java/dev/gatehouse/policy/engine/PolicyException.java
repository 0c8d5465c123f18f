package dev.gatehouse.policy.engine;

import java.util.List;

/**
 * A policy document was rejected. A policy is accepted as a whole or not at all: this exception
 * lists every error found (YAML structure, missing or unknown fields, duplicate rule ids, unknown
 * actions, conditions that do not compile or type-check), each naming the rule it belongs to.
 */
public final class PolicyException extends Exception {

    private final String source;
    private final List<String> errors;

    public PolicyException(String source, List<String> errors) {
        super(message(source, errors));
        if (errors.isEmpty()) throw new IllegalArgumentException("a policy exception needs at least one error");
        this.source = source;
        this.errors = List.copyOf(errors);
    }

    /** Where the document came from (a file path, or "&lt;string&gt;"). */
    public String source() {
        return source;
    }

    /** Every error found, in document order. */
    public List<String> errors() {
        return errors;
    }

    private static String message(String source, List<String> errors) {
        StringBuilder sb = new StringBuilder("policy ").append(source).append(" rejected, ")
                .append(errors.size()).append(errors.size() == 1 ? " error:" : " errors:");
        errors.forEach(e -> sb.append("\n  - ").append(e));
        return sb.toString();
    }
}
