package dev.gatehouse.policy.sql.mysql;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The built-in functions of MariaDB 11.4 and MySQL 8/9, listed in the resource {@value #RESOURCE}
 * (see there how it was made). A call of any other function, and of any function qualified with a
 * database ({@code shop.f()}), runs code the analyser cannot see: a stored function or a loadable
 * UDF. One list serves both servers: a name built into either counts as built-in on both.
 */
final class MySqlBuiltinFunctions {

    static final String RESOURCE = "mysql-builtin-functions.txt";

    private static final Set<String> NAMES = load();

    private MySqlBuiltinFunctions() {
    }

    /** Whether a call written {@code name} (lower case, {@code db.f} when qualified) is a built-in. */
    static boolean isBuiltin(String name) {
        return name.indexOf('.') < 0 && NAMES.contains(name.toLowerCase(Locale.ROOT));
    }

    static Set<String> names() {
        return NAMES;
    }

    private static Set<String> load() {
        try (InputStream in = MySqlBuiltinFunctions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the classpath");
            }
            Set<String> names = new HashSet<>();
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                String name = line.strip();
                if (!name.isEmpty() && !name.startsWith("#")) {
                    names.add(name.toLowerCase(Locale.ROOT));
                }
            }
            return Set.copyOf(names);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
