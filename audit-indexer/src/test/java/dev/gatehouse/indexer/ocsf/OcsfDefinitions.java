package dev.gatehouse.indexer.ocsf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks OCSF events against class and object definitions derived from the OCSF schema
 * ({@code src/test/resources/ocsf/ocsf-1.8.0-subset.json}, see its header and
 * {@code src/test/ocsf/derive_ocsf_subset.py}): required attributes present (profile attributes
 * when their profile is declared in {@code metadata.profiles}), no attribute outside the
 * definitions, types and enum values valid, enum captions consistent with their sibling,
 * {@code at_least_one} constraints met, class, category and type_uid consistent.
 */
final class OcsfDefinitions {

    static final String RESOURCE = "/ocsf/ocsf-1.8.0-subset.json";

    private final JsonNode root;

    private OcsfDefinitions(JsonNode root) {
        this.root = root;
    }

    static OcsfDefinitions load() {
        try (InputStream in = OcsfDefinitions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("test resource " + RESOURCE + " is missing");
            return new OcsfDefinitions(new ObjectMapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String version() {
        return root.path("version").asText();
    }

    /** Every violation found in {@code event}; empty when it conforms. */
    List<String> violations(JsonNode event) {
        List<String> out = new ArrayList<>();
        int classUid = event.path("class_uid").asInt(-1);
        JsonNode cls = null;
        for (Iterator<JsonNode> it = root.path("classes").elements(); it.hasNext(); ) {
            JsonNode c = it.next();
            if (c.path("class_uid").asInt() == classUid) cls = c;
        }
        if (cls == null) return List.of("class_uid " + event.path("class_uid") + " is not a class of the fixture");
        if (!version().equals(event.path("metadata").path("version").asText())) {
            out.add("metadata.version is " + event.path("metadata").path("version") + ", expected " + version());
        }
        long expectedType = (long) classUid * 100 + event.path("activity_id").asInt();
        if (event.path("type_uid").asLong() != expectedType) {
            out.add("type_uid is " + event.path("type_uid") + ", expected class_uid*100+activity_id = " + expectedType);
        }
        Set<String> profiles = new HashSet<>();
        event.path("metadata").path("profiles").forEach(p -> profiles.add(p.asText()));
        checkObject("", event, cls, profiles, out);
        return out;
    }

    private void checkObject(String path, JsonNode value, JsonNode definition, Set<String> profiles, List<String> out) {
        if (!value.isObject()) {
            out.add(path + " must be an object, is " + value.getNodeType());
            return;
        }
        JsonNode attributes = definition.path("attributes");
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            String where = path.isEmpty() ? name : path + "." + name;
            JsonNode attribute = attributes.get(name);
            if (attribute == null) {
                out.add(where + " is not an attribute of the definition");
                continue;
            }
            if (attribute.has("profile") && !profiles.contains(attribute.path("profile").asText())) {
                out.add(where + " belongs to profile " + attribute.path("profile").asText()
                        + ", which metadata.profiles does not declare");
            }
            if (attribute.path("deprecated").asBoolean()) out.add(where + " is deprecated");
            checkValue(where, field.getValue(), attribute, value, profiles, out);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = attributes.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> attribute = it.next();
            JsonNode a = attribute.getValue();
            boolean applies = !a.has("profile") || profiles.contains(a.path("profile").asText());
            if (applies && "required".equals(a.path("requirement").asText()) && !value.hasNonNull(attribute.getKey())) {
                out.add((path.isEmpty() ? "" : path + ".") + attribute.getKey() + " is required but missing");
            }
        }
        JsonNode atLeastOne = definition.path("constraints").path("at_least_one");
        if (atLeastOne.isArray() && !atLeastOne.isEmpty()) {
            boolean any = false;
            for (JsonNode n : atLeastOne) any |= value.hasNonNull(n.asText());
            if (!any) out.add((path.isEmpty() ? "event" : path) + " needs at least one of " + atLeastOne);
        }
    }

    private void checkValue(String where, JsonNode value, JsonNode attribute, JsonNode parent, Set<String> profiles,
                            List<String> out) {
        if (attribute.path("is_array").asBoolean()) {
            if (!value.isArray()) {
                out.add(where + " must be an array");
                return;
            }
            int i = 0;
            for (JsonNode element : value) checkSingle(where + "[" + i++ + "]", element, attribute, parent, profiles, out);
            return;
        }
        checkSingle(where, value, attribute, parent, profiles, out);
    }

    private void checkSingle(String where, JsonNode value, JsonNode attribute, JsonNode parent, Set<String> profiles,
                             List<String> out) {
        if (attribute.has("object")) {
            String object = attribute.path("object").asText();
            JsonNode definition = root.path("objects").get(object);
            if (definition == null) out.add(where + " is an object " + object + " that the fixture does not define");
            else checkObject(where, value, definition, profiles, out);
            return;
        }
        String type = attribute.path("type").asText();
        String base = root.path("types").path(type).asText(type);
        boolean ok = switch (base) {
            case "string_t" -> value.isTextual();
            case "integer_t", "long_t" -> value.isIntegralNumber();
            case "float_t" -> value.isNumber();
            case "boolean_t" -> value.isBoolean();
            case "object", "json_t" -> true;
            default -> false;
        };
        if (!ok) out.add(where + " has type " + type + " (" + base + "), value is " + value.getNodeType());
        JsonNode enumeration = attribute.get("enum");
        if (enumeration != null) {
            String id = value.asText();
            if (!enumeration.has(id)) {
                out.add(where + " = " + id + " is not one of " + fieldNames(enumeration));
            } else if (attribute.has("sibling") && !"99".equals(id)) {
                String sibling = attribute.path("sibling").asText();
                String caption = enumeration.path(id).asText();
                if (parent.has(sibling) && !parent.path(sibling).asText().equals(caption)) {
                    out.add(where.substring(0, where.length() - where.replaceAll(".*\\.", "").length()) + sibling
                            + " is '" + parent.path(sibling).asText() + "', the caption of " + id + " is '" + caption + "'");
                }
            }
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
