package dev.gatehouse.leakguard;

/**
 * One leak Netty reported: a reference-counted resource was garbage-collected before its last
 * {@code release()}.
 *
 * @param resourceType what leaked, as Netty names it ({@code ByteBuf}, ...)
 * @param records      where it was created and last accessed (empty below Netty's advanced level)
 * @param thread       the thread on which Netty noticed it, not necessarily the one that leaked it
 */
public record LeakReport(String resourceType, String records, String thread) {

    @Override
    public String toString() {
        return "LEAK: " + resourceType + ".release() was not called before it was garbage-collected"
                + " (noticed on thread " + thread + ")"
                + (records.isEmpty() ? " (no records: run with -Dio.netty.leakDetection.level=advanced)" : records);
    }
}
