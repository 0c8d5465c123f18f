package dev.gatehouse.edge.catalog;

/**
 * How much of each result the edge samples into the audit log ({@code ResultSampled} events):
 * the first {@code rows} rows and at most {@code bytes} bytes of values in all. Either limit at 0
 * turns capture off.
 *
 * @param rows  rows captured at most (0 disables)
 * @param bytes value bytes captured at most, as rendered text (0 disables); at most {@link #MAX_BYTES}
 */
public record ResultCapture(int rows, int bytes) {

    /** The largest byte limit accepted: 4 MiB, i.e. at most about twenty 256 KiB chunks per result. */
    public static final int MAX_BYTES = 4 * 1024 * 1024;

    /** The default: the first 20 rows, at most 16 KiB. */
    public static final ResultCapture DEFAULT = new ResultCapture(20, 16 * 1024);

    /** Capture turned off. */
    public static final ResultCapture DISABLED = new ResultCapture(0, 0);

    public ResultCapture {
        if (rows < 0) {
            throw new IllegalArgumentException("result-capture: rows must be >= 0 (0 disables capture), not " + rows);
        }
        if (bytes < 0) {
            throw new IllegalArgumentException("result-capture: bytes must be >= 0 (0 disables capture), not " + bytes);
        }
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException("result-capture: bytes must be at most " + MAX_BYTES
                    + " (4 MiB) so a sample stays a few Kafka messages; " + bytes + " is too many");
        }
    }

    /** Whether anything is captured. */
    public boolean enabled() {
        return rows > 0 && bytes > 0;
    }
}
