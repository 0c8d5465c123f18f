package dev.gatehouse.edge.masking;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The masking profiles an edge knows, by name, loaded from YAML:
 *
 * <pre>{@code
 * profiles:
 *   - name: pii
 *     copy: refuse                      # refuse (default) | mask
 *     columns:
 *       - column: public.users.email    # schema.table.column, table.column or column; * globs
 *         method: hmac                  # redact | null | hmac | {hmac: 24} | {keep_last: 4} | {replace: "text"}
 *       - column: "*.ssn"
 *         method: {keep_last: 4}
 *     detectors:
 *       - detector: email               # email, phone, payment_card, iban, us_ssn, ipv4, ipv6, jwt,
 *         method: redact               # aws_access_key, gcp_api_key, azure_storage_key, pem_private_key
 *       - detector: regex
 *         name: employee_id             # the name in masking statistics
 *         pattern: 'EMP-[0-9]{6}'
 *         method: {replace: EMP-XXXXXX}
 * }</pre>
 *
 * The {@code hmac} key is not in this file: it is given to {@link #parse} (from the edge's
 * configuration: an environment variable or a key file). Every error names its profile.
 */
public final class MaskingProfiles {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final int DEFAULT_HMAC_HEX = 16;

    /** No profiles: every Mask decision is refused with an error naming the missing profile. */
    public static final MaskingProfiles NONE = new MaskingProfiles(Map.of());

    private final Map<String, MaskingProfile> profiles;

    public MaskingProfiles(Map<String, MaskingProfile> profiles) {
        this.profiles = Map.copyOf(profiles);
    }

    /** The profile called {@code name}. */
    public Optional<MaskingProfile> find(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(profiles.get(name));
    }

    /** The names of all profiles. */
    public Set<String> names() {
        return profiles.keySet();
    }

    /**
     * Loads a profiles file.
     *
     * @param hmacKey supplies the key for {@code hmac} methods; called only if a profile uses one
     * @throws MaskingException listing what is wrong
     */
    public static MaskingProfiles load(Path file, Supplier<HmacKey> hmacKey) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new MaskingException("cannot read masking profiles " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(text, hmacKey);
        } catch (MaskingException e) {
            throw new MaskingException("masking profiles " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses profiles from YAML text; see the class comment for the syntax. */
    public static MaskingProfiles parse(String yaml, Supplier<HmacKey> hmacKey) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (IOException e) {
            throw new MaskingException("not valid YAML: " + e.getMessage());
        }
        if (root == null || !root.isObject() || !root.path("profiles").isArray()) {
            throw new MaskingException("expected a mapping with a \"profiles\" list");
        }
        unknownFields(root, Set.of("profiles"), "the profiles file");
        Map<String, MaskingProfile> profiles = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        int index = 0;
        Memo<HmacKey> key = new Memo<>(hmacKey);
        for (JsonNode p : root.get("profiles")) {
            index++;
            String name = p.path("name").asText("").strip();
            String label = name.isEmpty() ? "profile #" + index : "profile \"" + name + "\"";
            try {
                if (name.isEmpty()) throw new MaskingException("has no name");
                if (profiles.containsKey(name)) throw new MaskingException("is defined twice");
                profiles.put(name, profile(name, p, key));
            } catch (MaskingException e) {
                errors.add(e.getMessage().startsWith("masking profile") ? e.getMessage() : "masking " + label + " " + e.getMessage());
            }
        }
        if (!errors.isEmpty()) throw new MaskingException(String.join("; ", errors));
        return new MaskingProfiles(profiles);
    }

    private static MaskingProfile profile(String name, JsonNode p, Memo<HmacKey> key) {
        unknownFields(p, Set.of("name", "copy", "columns", "detectors"), "");
        List<MaskingProfile.ColumnRule> columns = new ArrayList<>();
        for (JsonNode c : list(p, "columns")) {
            unknownFields(c, Set.of("column", "method"), "column rule");
            String pattern = text(c, "column", "a column rule");
            columns.add(new MaskingProfile.ColumnRule(ColumnPattern.parse(pattern), method(c.get("method"), key, "column " + pattern)));
        }
        List<MaskingProfile.DetectorRule> detectors = new ArrayList<>();
        for (JsonNode d : list(p, "detectors")) {
            unknownFields(d, Set.of("detector", "name", "pattern", "method"), "detector rule");
            String type = text(d, "detector", "a detector rule").toLowerCase(Locale.ROOT);
            Detector detector;
            if (type.equals("regex")) {
                String pattern = text(d, "pattern", "the regex detector");
                detector = Detectors.regex(d.path("name").asText("regex"), pattern);
            } else {
                detector = Detectors.builtIn(type).orElseThrow(() -> new MaskingException("has unknown detector \"" + type
                        + "\" (known: " + String.join(", ", Detectors.builtInNames()) + ", regex)"));
            }
            detectors.add(new MaskingProfile.DetectorRule(detector, method(d.get("method"), key, "detector " + detector.name())));
        }
        String copy = p.path("copy").asText("refuse").toLowerCase(Locale.ROOT);
        MaskingProfile.CopyMode mode = switch (copy) {
            case "refuse" -> MaskingProfile.CopyMode.REFUSE;
            case "mask" -> MaskingProfile.CopyMode.MASK;
            default -> throw new MaskingException("has copy: \"" + copy + "\"; expected refuse or mask");
        };
        return new MaskingProfile(name, columns, detectors, mode);
    }

    private static MaskMethod method(JsonNode node, Memo<HmacKey> key, String where) {
        if (node == null || node.isNull()) throw new MaskingException("has no method for " + where);
        String name;
        JsonNode argument = null;
        if (node.isTextual()) {
            name = node.asText();
        } else if (node.isObject() && node.size() == 1) {
            Map.Entry<String, JsonNode> e = node.fields().next();
            name = e.getKey();
            argument = e.getValue();
        } else {
            throw new MaskingException("has a method for " + where + " that is neither a name nor {name: argument}");
        }
        try {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "redact" -> new MaskMethod.Redact();
                case "null" -> new MaskMethod.Null();
                case "hmac" -> new MaskMethod.Hmac(key.get(), argument == null ? DEFAULT_HMAC_HEX : count(argument, "hmac"));
                case "keep_last" -> new MaskMethod.KeepLast(count(argument, "keep_last"));
                case "replace" -> {
                    if (argument == null || !argument.isValueNode()) throw new MaskingException("replace needs text: {replace: \"text\"}");
                    yield new MaskMethod.Replace(argument.asText());
                }
                default -> throw new MaskingException("unknown method \"" + name
                        + "\" (known: redact, null, hmac, keep_last, replace)");
            };
        } catch (MaskingException | IllegalArgumentException e) {
            throw new MaskingException("has a bad method for " + where + ": " + e.getMessage(), e);
        }
    }

    private static int count(JsonNode argument, String method) {
        if (argument == null || !argument.canConvertToInt()) {
            throw new MaskingException(method + " needs a whole number: {" + method + ": N}");
        }
        return argument.asInt();
    }

    private static Iterable<JsonNode> list(JsonNode p, String field) {
        JsonNode n = p.get(field);
        if (n == null || n.isNull()) return List.of();
        if (!n.isArray()) throw new MaskingException("has \"" + field + "\" that is not a list");
        return n;
    }

    private static String text(JsonNode node, String field, String what) {
        JsonNode n = node.get(field);
        if (n == null || !n.isValueNode() || n.asText().isBlank()) throw new MaskingException("has " + what + " without \"" + field + "\"");
        return n.asText();
    }

    private static void unknownFields(JsonNode node, Set<String> known, String what) {
        if (!node.isObject()) throw new MaskingException("has a " + (what.isEmpty() ? "profile" : what) + " that is not a mapping");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!known.contains(f)) {
                throw new MaskingException("has unknown field \"" + f + "\"" + (what.isEmpty() ? "" : " in a " + what)
                        + " (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
            }
        }
    }

    /** Asks the supplier once, only when a profile needs the key. */
    private static final class Memo<T> implements Supplier<T> {
        private final Supplier<T> supplier;
        private T value;

        Memo(Supplier<T> supplier) {
            this.supplier = supplier;
        }

        @Override
        public T get() {
            if (value == null) {
                value = supplier.get();
                if (value == null) throw new MaskingException("the hmac method needs a key, and none is configured");
            }
            return value;
        }
    }
}
