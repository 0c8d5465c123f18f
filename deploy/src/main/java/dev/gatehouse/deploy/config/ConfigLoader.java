package dev.gatehouse.deploy.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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
        String resolved = substitute(yaml, env, source);
        try {
            return YAML.readValue(resolved, GatehouseConfig.class);
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

    static Map<String, String> noEnv() {
        return Map.of();
    }
}
