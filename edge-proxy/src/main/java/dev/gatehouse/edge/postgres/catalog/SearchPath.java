package dev.gatehouse.edge.postgres.catalog;

import java.util.ArrayList;
import java.util.List;

/**
 * The session's {@code search_path} as far as the edge knows it.
 *
 * @param schemas              the items as the target would show them ({@code "$user"},
 *                             {@code public}, {@code "My Schema"}): quoted items are taken as
 *                             written, unquoted ones folded to lower case, as PostgreSQL reads
 *                             the setting
 * @param known                false when the edge cannot be sure of the path (a setting it could
 *                             not follow): then an unqualified name resolves to every schema that
 *                             has such a relation
 * @param role                 the session's current role, what {@code $user} stands for; null if
 *                             unknown (then a path naming {@code $user} is not known)
 * @param sessionHasTempTables the session may have temporary tables (it created one): an
 *                             unqualified name may then also mean {@code pg_temp.name}
 */
public record SearchPath(List<String> schemas, boolean known, String role, boolean sessionHasTempTables) {
    /** PostgreSQL's default path. */
    public static final List<String> DEFAULT = List.of("\"$user\"", "public");

    /** The path item that stands for the session's temporary schema. */
    static final String TEMP = "pg_temp";
    static final String CATALOG = "pg_catalog";
    private static final String USER = "$user";

    public SearchPath {
        schemas = List.copyOf(schemas);
    }

    /** A known path from its setting's value ({@code "$user", public}), as SHOW or a function's SET clause gives it. */
    public static SearchPath parse(String value, String role, boolean sessionHasTempTables) {
        return new SearchPath(split(value), true, role, sessionHasTempTables);
    }

    /** A path the edge cannot know (it then considers every schema). */
    public static SearchPath unknown(String role, boolean sessionHasTempTables) {
        return new SearchPath(DEFAULT, false, role, sessionHasTempTables);
    }

    /** Another known path (a routine's own {@code SET search_path}) for the same session. */
    SearchPath withValue(String value) {
        return parse(value, role, sessionHasTempTables);
    }

    /**
     * The schema names in search order as the target reads them: quotes removed, unquoted names
     * folded, {@code $user} replaced by the role; {@code pg_temp} stays as the temp marker. Empty
     * when the path is not known (not {@link #known}, or {@code $user} with no role).
     */
    List<String> names() {
        if (!known) return List.of();
        List<String> names = new ArrayList<>();
        for (String item : schemas) {
            String name = identifier(item);
            if (name.isEmpty()) continue;
            if (name.equals(USER)) {
                if (role == null) return List.of();
                names.add(role);
            } else {
                names.add(name);
            }
        }
        return names;
    }

    /** Whether unqualified names can be resolved by walking the path. */
    boolean resolvable() {
        return known && (role != null || schemas.stream().map(SearchPath::identifier).noneMatch(USER::equals));
    }

    /** Splits a setting's value into its items, keeping each as written (quotes included). */
    public static List<String> split(String value) {
        List<String> items = new ArrayList<>();
        if (value == null) return items;
        StringBuilder item = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') quoted = !quoted;
            if (c == ',' && !quoted) {
                items.add(item.toString().strip());
                item.setLength(0);
            } else {
                item.append(c);
            }
        }
        if (!item.isEmpty() || !items.isEmpty()) items.add(item.toString().strip());
        items.removeIf(String::isEmpty);
        return items;
    }

    /** One item as PostgreSQL reads it: {@code "My ""x"""} is {@code My "x"}, {@code Public} is {@code public}. */
    static String identifier(String item) {
        String s = item.strip();
        if (s.length() >= 2 && s.charAt(0) == '"' && s.charAt(s.length() - 1) == '"') {
            return s.substring(1, s.length() - 1).replace("\"\"", "\"");
        }
        StringBuilder folded = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            folded.append(c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c); // ASCII only, as in a UTF-8 database
        }
        return folded.toString();
    }
}
