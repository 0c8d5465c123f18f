package dev.gatehouse.loadtest;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The options of a load run: each from {@code --name=value} (or {@code --name value}) on the
 * command line, else from the system property {@code loadtest.name}, else its default. A blank
 * value counts as absent, so an empty Maven property leaves the default.
 */
final class OptionValues {
    private final Map<String, String> given;

    private OptionValues(Map<String, String> given) {
        this.given = given;
    }

    /**
     * @param names the options this run knows; {@code --keep} alone means {@code --keep=true}
     * @throws IllegalArgumentException for an unknown option or a missing value
     */
    static OptionValues parse(String[] args, Set<String> names) {
        Map<String, String> given = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + arg + "'; options are --name=value");
            String name;
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                name = arg.substring(2, eq);
                value = arg.substring(eq + 1);
            } else if (arg.equals("--keep")) {
                name = "keep";
                value = "true";
            } else {
                name = arg.substring(2);
                if (i + 1 >= args.length) throw new IllegalArgumentException("option --" + name + " needs a value");
                value = args[++i];
            }
            if (!names.contains(name)) throw new IllegalArgumentException("unknown option --" + name + "; known: " + new TreeSet<>(names));
            given.put(name, value);
        }
        return new OptionValues(given);
    }

    String value(String name, String fallback) {
        String v = given.get(name);
        if (v == null) v = System.getProperty("loadtest." + name);
        return v == null || v.isBlank() ? fallback : v.strip();
    }

    int integer(String name, int fallback) {
        return parseInt(name, value(name, String.valueOf(fallback)));
    }

    /** A comma-separated list. */
    List<String> list(String name, String fallback) {
        return Arrays.stream(value(name, fallback).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** A comma-separated list of whole numbers. */
    List<Integer> integers(String name, String fallback) {
        return list(name, fallback).stream().map(v -> parseInt(name, v)).toList();
    }

    /** JVM options, separated by white space; none when blank. */
    List<String> jvmOptions(String name) {
        String v = value(name, "");
        return v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
    }

    boolean bool(String name, boolean fallback) {
        return Boolean.parseBoolean(value(name, String.valueOf(fallback)));
    }

    private static int parseInt(String name, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, not '" + v + "'");
        }
    }

    static void positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException("--" + name + " must be positive, not " + value);
    }

    static String sslmode(String sslmode) {
        if (!Set.of("disable", "allow", "prefer", "require").contains(sslmode)) {
            throw new IllegalArgumentException("--sslmode must be disable, allow, prefer or require, not '" + sslmode + "'");
        }
        return sslmode;
    }
}
