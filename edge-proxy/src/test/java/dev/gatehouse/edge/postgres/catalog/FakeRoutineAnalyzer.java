package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.platform.core.RoutineAnalysis;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlAnalyzer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stands in for the real routine analyser (policy-service's, which edge-proxy does not depend on):
 * reads the simple bodies of the test fixtures with patterns. What it returns has the shape the
 * real one must give: names as the body writes them, opaque with a reason for dynamic SQL and for
 * languages it cannot read.
 */
final class FakeRoutineAnalyzer implements SqlAnalyzer {
    private static final Pattern WRITE = Pattern.compile("(?i)\\b(?:INSERT INTO|UPDATE|DELETE FROM)\\s+([\\w.]+)");
    private static final Pattern READ = Pattern.compile("(?i)(?<!DELETE )\\bFROM\\s+([\\w.]+)");
    private static final Pattern CALL = Pattern.compile("(?i)\\bPERFORM\\s+([\\w.]+)\\(");

    final AtomicInteger routinesAnalysed = new AtomicInteger();

    @Override
    public SqlAnalysis analyze(String sql) {
        throw new UnsupportedOperationException("statements are given already analysed in these tests");
    }

    @Override
    public RoutineAnalysis analyzeRoutine(String language, String definition) {
        routinesAnalysed.incrementAndGet();
        if (!language.equals("plpgsql") && !language.equals("sql")) {
            return RoutineAnalysis.opaque("written in " + language);
        }
        String body = definition.substring(definition.indexOf("AS $"));
        if (body.contains("EXECUTE")) return RoutineAnalysis.opaque("it runs dynamic SQL (EXECUTE)");
        return new RoutineAnalysis(false, null, all(READ, body), all(WRITE, body), all(CALL, body), List.of());
    }

    private static List<String> all(Pattern pattern, String body) {
        List<String> names = new ArrayList<>();
        Matcher m = pattern.matcher(body);
        while (m.find()) if (!names.contains(m.group(1))) names.add(m.group(1));
        return names;
    }
}
