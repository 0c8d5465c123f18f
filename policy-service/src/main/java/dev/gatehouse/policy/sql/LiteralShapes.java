package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * When the analysis of one SQL text holds for every text that differs from it only in the values
 * of its literals, and the key under which such texts meet.
 *
 * <p>Two texts with the same {@link #key} have the same tokens in the same order (comments aside,
 * which the grammar never sees): the same kinds, and the same source text for everything but
 * literals. PostgreSQL's grammar is deterministic over that token stream; a literal's value reaches
 * the parse tree only as the value of a node built from it. The analysis of one such text therefore
 * holds for all of them when (1) every literal became a constant ({@code A_Const}) at that literal's
 * position, and nothing else (a literal that became a name, a function body, a file name, a count,
 * as in {@code DO}, {@code COPY ... FROM 'file'}, {@code FETCH 5} or {@code float(53)}, does not;
 * a negative number is a constant placed at its sign), and (2) the analysis read no constant at
 * all. (2) is not a list of places the analyser is believed to look at: {@link #guard} puts every constant behind a map that records
 * any access whatever (a value, its presence, its size, a walk over it, a comparison), so an
 * analysis that looked at a constant in any way, now or after a future change, is never shared.
 * Statements with an effect on the session are not shared either (their effects are values).
 */
final class LiteralShapes {

    private LiteralShapes() {
    }

    /** Whether a token kind ({@link SqlText}'s) is a literal: a number, a string, a bit string. */
    static boolean isLiteral(int kind) {
        return kind == SqlText.FCONST || kind == SqlText.SCONST || kind == SqlText.USCONST || kind == SqlText.BCONST || kind == SqlText.XCONST
                || kind == SqlText.ICONST;
    }

    /**
     * The key of a text's token stream: each token's kind and, except for literals, its exact source
     * text (length-prefixed, so no two streams share a key).
     */
    static String key(SqlText text) {
        StringBuilder key = new StringBuilder(64);
        for (int i = 0; i < text.size(); i++) {
            int kind = text.kind(i);
            key.append((char) kind);
            if (isLiteral(kind)) {
                continue;
            }
            int start = text.start(i);
            int end = text.end(i);
            key.append((char) (end - start)).append(text.source(), start, end);
        }
        return key.toString();
    }

    /**
     * Whether every literal token of {@code text} became a constant: one starts where the literal
     * does, or, for a number right after a minus sign, where the sign does (the grammar folds
     * {@code - 5} into the constant -5, placed at the sign). Byte offsets.
     */
    static boolean everyLiteralIsAConstant(SqlText text, Set<Integer> constantLocations) {
        for (int i = 0; i < text.size(); i++) {
            if (!isLiteral(text.kind(i)) || constantLocations.contains(text.byteStart(i))) continue;
            boolean negated = (text.kind(i) == SqlText.ICONST || text.kind(i) == SqlText.FCONST) && i > 0
                    && text.kind(i - 1) == SqlText.MINUS
                    && constantLocations.contains(text.byteStart(i - 1));
            if (!negated) return false;
        }
        return true;
    }


    /** Records that a constant was looked at. */
    static final class Taint {
        private boolean touched;

        void touch() {
            touched = true;
        }

        boolean touched() {
            return touched;
        }
    }

    /**
     * Replaces the body of every {@code A_Const} in {@code tree} with one whose every access
     * touches {@code taint}, and returns the constants' byte locations (read before they are guarded).
     */
    static Set<Integer> guard(JsonNode tree, Taint taint) {
        Set<Integer> locations = new HashSet<>();
        Deque<JsonNode> todo = new ArrayDeque<>();
        todo.push(tree);
        while (!todo.isEmpty()) {
            JsonNode node = todo.pop();
            if (node.isArray()) {
                node.forEach(todo::push);
            } else if (node.isObject()) {
                ObjectNode object = (ObjectNode) node;
                JsonNode constant = object.get(PgNodes.A_CONST);
                if (constant != null && constant.isObject() && object.size() == 1) {
                    locations.add(constant.path("location").asInt(0));
                    Map<String, JsonNode> fields = new LinkedHashMap<>();
                    constant.properties().forEach(e -> fields.put(e.getKey(), e.getValue()));
                    object.set(PgNodes.A_CONST, new ObjectNode(JsonNodeFactory.instance, new Guarded(fields, taint)));
                } else {
                    object.forEach(todo::push);
                }
            }
        }
        return locations;
    }

    /** A constant's fields: every method, reading or not, touches the taint first. */
    private static final class Guarded implements Map<String, JsonNode> {
        private final Map<String, JsonNode> fields;
        private final Taint taint;

        Guarded(Map<String, JsonNode> fields, Taint taint) {
            this.fields = fields;
            this.taint = taint;
        }

        private Map<String, JsonNode> touched() {
            taint.touch();
            return fields;
        }

        @Override public int size() { return touched().size(); }
        @Override public boolean isEmpty() { return touched().isEmpty(); }
        @Override public boolean containsKey(Object key) { return touched().containsKey(key); }
        @Override public boolean containsValue(Object value) { return touched().containsValue(value); }
        @Override public JsonNode get(Object key) { return touched().get(key); }
        @Override public JsonNode put(String key, JsonNode value) { return touched().put(key, value); }
        @Override public JsonNode remove(Object key) { return touched().remove(key); }
        @Override public void putAll(Map<? extends String, ? extends JsonNode> m) { touched().putAll(m); }
        @Override public void clear() { touched().clear(); }
        @Override public Set<String> keySet() { return touched().keySet(); }
        @Override public Collection<JsonNode> values() { return touched().values(); }
        @Override public Set<Entry<String, JsonNode>> entrySet() { return touched().entrySet(); }
        @Override public JsonNode getOrDefault(Object key, JsonNode fallback) { return touched().getOrDefault(key, fallback); }
        @Override public void forEach(java.util.function.BiConsumer<? super String, ? super JsonNode> action) { touched().forEach(action); }
        @Override public void replaceAll(BiFunction<? super String, ? super JsonNode, ? extends JsonNode> f) { touched().replaceAll(f); }
        @Override public JsonNode putIfAbsent(String key, JsonNode value) { return touched().putIfAbsent(key, value); }
        @Override public boolean remove(Object key, Object value) { return touched().remove(key, value); }
        @Override public boolean replace(String key, JsonNode old, JsonNode value) { return touched().replace(key, old, value); }
        @Override public JsonNode replace(String key, JsonNode value) { return touched().replace(key, value); }
        @Override public JsonNode computeIfAbsent(String key, Function<? super String, ? extends JsonNode> f) { return touched().computeIfAbsent(key, f); }
        @Override public JsonNode computeIfPresent(String key, BiFunction<? super String, ? super JsonNode, ? extends JsonNode> f) { return touched().computeIfPresent(key, f); }
        @Override public JsonNode compute(String key, BiFunction<? super String, ? super JsonNode, ? extends JsonNode> f) { return touched().compute(key, f); }
        @Override public JsonNode merge(String key, JsonNode value, BiFunction<? super JsonNode, ? super JsonNode, ? extends JsonNode> f) { return touched().merge(key, value, f); }
        @Override public boolean equals(Object o) { return touched().equals(o); }
        @Override public int hashCode() { return touched().hashCode(); }
        @Override public String toString() { return touched().toString(); }
    }
}
