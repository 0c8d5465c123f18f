package dev.gatehouse.edge.postgres.catalog;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads a name as the analyser gives it ({@code payouts}, {@code public.payouts},
 * {@code demo.public.payouts}: identifiers as the parser folded them, parts joined by dots,
 * without quotes) into its parts. As a quoted identifier may itself hold a dot ({@code "a.b"}
 * arrives as {@code a.b}), every way of grouping the dotted parts into one to three names is a
 * reading; the natural one (each dot separates) comes first. Double-quoted parts, should an
 * analyser keep them, are read as one identifier each.
 */
final class Names {
    /** More dotted parts than this are read only naturally (no grouping). */
    private static final int MAX_GROUPED_PARTS = 8;

    private Names() {
    }

    /** The readings of {@code written}, each one to three names; the natural reading first. */
    static List<List<String>> readings(String written) {
        List<String> parts = new ArrayList<>();
        boolean quotedAny = split(written, parts);
        List<List<String>> readings = new ArrayList<>();
        if (parts.size() <= 3) readings.add(List.copyOf(parts));
        if (quotedAny || parts.size() > MAX_GROUPED_PARTS) return readings;
        for (int groups = 1; groups <= Math.min(3, parts.size()); groups++) {
            group(parts, 0, groups, new ArrayList<>(), readings);
        }
        return readings;
    }

    /** Splits at dots outside double quotes into {@code parts}; true if any part was quoted. */
    private static boolean split(String written, List<String> parts) {
        StringBuilder part = new StringBuilder();
        boolean quoted = false;
        boolean quotedAny = false;
        for (int i = 0; i < written.length(); i++) {
            char c = written.charAt(i);
            if (c == '"') {
                quotedAny = true;
                if (quoted && i + 1 < written.length() && written.charAt(i + 1) == '"') {
                    part.append('"');
                    i++;
                } else {
                    quoted = !quoted;
                }
            } else if (c == '.' && !quoted) {
                parts.add(part.toString());
                part.setLength(0);
            } else {
                part.append(c);
            }
        }
        parts.add(part.toString());
        return quotedAny;
    }

    /** Adds every grouping of {@code parts[from..]} into {@code groups} consecutive names. */
    private static void group(List<String> parts, int from, int groups, List<String> prefix, List<List<String>> out) {
        if (groups == 1) {
            List<String> reading = new ArrayList<>(prefix);
            reading.add(String.join(".", parts.subList(from, parts.size())));
            if (!out.contains(reading)) out.add(List.copyOf(reading));
            return;
        }
        for (int end = from + 1; end <= parts.size() - groups + 1; end++) {
            prefix.add(String.join(".", parts.subList(from, end)));
            group(parts, end, groups - 1, prefix, out);
            prefix.removeLast();
        }
    }
}
