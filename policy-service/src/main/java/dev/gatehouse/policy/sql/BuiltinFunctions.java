package dev.gatehouse.policy.sql;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The names of PostgreSQL 15's built-in functions: every function in {@code pg_catalog} of a fresh
 * PostgreSQL 15 cluster, listed in the resource {@value #RESOURCE}. A call of any other function
 * runs code the analyser cannot see (a user-defined function, an extension's). The list is
 * generated from the embedded PostgreSQL 15 the tests use, and checked against it, by
 * {@code PostgresAgreementTest} (see there how to regenerate it).
 *
 * <p>By name only, as the text writes the call: an unqualified name or one qualified with
 * {@code pg_catalog} is built-in when {@code pg_catalog} has a function of that name; a name
 * qualified with any other schema never is. (A user-defined overload of a built-in name that the
 * arguments' types select, or a {@code search_path} that puts {@code pg_catalog} after a user
 * schema, is beyond what a name tells.)
 */
final class BuiltinFunctions {

    static final String RESOURCE = "pg15-builtin-functions.txt";

    private static final BuiltinFunctions SHARED = new BuiltinFunctions(load());

    private final Set<String> names;

    private BuiltinFunctions(Set<String> names) {
        this.names = Set.copyOf(names);
    }

    static BuiltinFunctions shared() {
        return SHARED;
    }

    /** Whether a call of the function named by these parts ({@code ["lower"]}, {@code ["pg_catalog", "lower"]}) is built-in. */
    boolean isBuiltin(List<String> nameParts) {
        if (nameParts.isEmpty()) {
            return false;
        }
        String name = nameParts.getLast();
        if (nameParts.size() > 1 && !PgNodes.PG_CATALOG.equals(nameParts.get(nameParts.size() - 2))) {
            return false;
        }
        return names.contains(name);
    }

    /** The names in the resource, as listed. */
    static Set<String> load() {
        try (InputStream in = BuiltinFunctions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the classpath");
            }
            Set<String> names = new HashSet<>();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String name = line.strip();
                if (!name.isEmpty() && !name.startsWith("#")) {
                    names.add(name);
                }
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
