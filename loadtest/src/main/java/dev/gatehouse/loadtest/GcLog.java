package dev.gatehouse.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JVM's unified GC log ({@link #options}): the heap in use after each collection, the one
 * figure of heap use that garbage does not inflate. G1, Parallel, Serial and ZGC lines all read
 * {@code ... 24M->3M(256M) ...} (ZGC with percentages).
 */
final class GcLog {
    private static final Pattern LINE = Pattern.compile(
            "^\\[(\\d+)ms\\] GC\\(\\d+\\) (.*?) (\\d+)([KMG])(?:\\(\\d+%\\))?->(\\d+)([KMG])(?:\\(\\d+%\\))?");

    /** One collection: when it was logged (ms since the epoch), what it was, the heap in use after it. */
    record Collection(long epochMillis, String what, long afterBytes) {
    }

    private GcLog() {
    }

    /** JVM options that write this log to {@code file}, each line stamped with the wall clock in ms. */
    static List<String> options(Path file) {
        return List.of("-Xlog:gc:file=" + file + ":timemillis");
    }

    /** Every collection logged so far; none when the file does not exist yet. */
    static List<Collection> read(Path file) throws IOException {
        List<Collection> collections = new ArrayList<>();
        if (!Files.exists(file)) return collections;
        for (String line : Files.readAllLines(file, StandardCharsets.ISO_8859_1)) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                collections.add(new Collection(Long.parseLong(m.group(1)), m.group(2), bytes(m.group(5), m.group(6))));
            }
        }
        return collections;
    }

    private static long bytes(String amount, String unit) {
        long n = Long.parseLong(amount);
        return switch (unit) {
            case "K" -> n << 10;
            case "M" -> n << 20;
            default -> n << 30;
        };
    }
}
