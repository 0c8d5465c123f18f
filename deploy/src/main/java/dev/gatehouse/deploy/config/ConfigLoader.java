package dev.gatehouse.deploy.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads {@link GatehouseConfig} from YAML. {@code ${NAME}} and {@code ${NAME:-default}} are
 * replaced by environment variables before parsing, so secrets stay out of the file.
 */
public final class ConfigLoader {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);

    private ConfigLoader() {
    }

    public static GatehouseConfig load(Path file) {
        return load(file, System.getenv()::get);
    }

    public static GatehouseConfig load(Path file, Function<String, String> env) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
        return parse(text, env, file.toString());
    }

    public static GatehouseConfig parse(String yaml, Function<String, String> env, String source) {
        try {
            JsonNode tree = YAML.readTree(yaml);
            if (tree == null || !tree.isObject()) {
                throw new IllegalArgumentException("configuration " + source + " is empty or not a mapping");
            }
            // placeholders are resolved in values only (never in comments or keys), and a value
            // from the environment is never parsed as YAML
            return YAML.treeToValue(resolve(tree, env, source), GatehouseConfig.class);
        } catch (JsonMappingException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) root = root.getCause();
            String where = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .reduce((a, b) -> a + "." + b).orElse("(root)");
            String message = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
            throw new IllegalArgumentException("configuration " + source + ": " + message + " (at " + where + ")", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("configuration " + source + " is not valid YAML: " + e.getMessage(), e);
        }
    }

    private static JsonNode resolve(JsonNode node, Function<String, String> env, String source) {
        if (node.isTextual()) {
            return TextNode.valueOf(substitute(node.asText(), env, source));
        }
        if (node.isObject()) {
            ObjectNode out = ((ObjectNode) node).objectNode();
            node.properties().forEach(e -> out.set(e.getKey(), resolve(e.getValue(), env, source)));
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = ((ArrayNode) node).arrayNode();
            node.forEach(n -> out.add(resolve(n, env, source)));
            return out;
        }
        return node;
    }

    static String substitute(String text, Function<String, String> env, String source) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.apply(m.group(1));
            if (value == null) value = m.group(2);
            if (value == null) {
                throw new IllegalArgumentException("configuration " + source + ": environment variable " + m.group(1)
                        + " is not set and has no default (write ${" + m.group(1) + ":-default})");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
