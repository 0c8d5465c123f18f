package dev.gatehouse.leakguard;

import java.util.List;

/** A test failure for leaks Netty reported, with the records of each. */
public final class NettyLeakError extends AssertionError {

    private static final long serialVersionUID = 1L;

    private final transient List<LeakReport> reports;

    NettyLeakError(List<LeakReport> reports, String during) {
        super(message(reports, during));
        this.reports = List.copyOf(reports);
    }

    /** The leaks, in the order Netty reported them. */
    public List<LeakReport> reports() {
        return reports;
    }

    private static String message(List<LeakReport> reports, String during) {
        StringBuilder b = new StringBuilder()
                .append("Netty reported ").append(reports.size()).append(" leaked resource(s) during ").append(during)
                .append(". A leak is noticed when the garbage collector reclaims the resource, so it may come from an")
                .append(" earlier test of this JVM: the records show where it was created and last accessed.");
        for (int i = 0; i < reports.size(); i++) {
            b.append(System.lineSeparator()).append('#').append(i + 1).append(' ').append(reports.get(i));
        }
        return b.toString();
    }
}
