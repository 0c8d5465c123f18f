package dev.gatehouse.deploy.cli;

import java.util.List;

/** The lines {@code gatehouse replay --execute} prints: one per recorded command, and a summary. */
final class ExecutionReport {

    private ExecutionReport() {
    }

    /** {@code #3  DIFFERS  INSERT INTO t SELECT * FROM s  recorded "INSERT 0 3", now "INSERT 0 0"}. */
    static String line(ReplayExecutor.Step step) {
        String status = switch (step.status()) {
            case SAME -> "same   ";
            case DIFFERS -> "DIFFERS";
            case SKIPPED -> "skipped";
        };
        return String.format("#%-4s %s  %s  %s", step.sequence(), status, SearchFormat.oneLine(step.sql(), 60), step.detail());
    }

    /** {@code replayed 5 of 6 commands: 4 same, 1 differs, 1 skipped}. */
    static String summary(List<ReplayExecutor.Step> steps) {
        long same = steps.stream().filter(s -> s.status() == ReplayExecutor.Status.SAME).count();
        long differs = steps.stream().filter(s -> s.status() == ReplayExecutor.Status.DIFFERS).count();
        long skipped = steps.stream().filter(s -> s.status() == ReplayExecutor.Status.SKIPPED).count();
        return "replayed " + (same + differs) + " of " + steps.size() + " commands: " + same + " same, " + differs
                + (differs == 1 ? " differs, " : " differ, ") + skipped + " skipped";
    }
}
