package dev.gatehouse.edge.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fuzzer's bytes as a target reads them: first a few setting bytes, each 0 to 255 (0 once the
 * input is exhausted), then the payload, the bytes a peer sends. A fixed layout rather than
 * Jazzer's {@code FuzzedDataProvider} so that a seed is a real capture behind a short header.
 */
final class FuzzInput {

    private final byte[] bytes;
    private int next;

    FuzzInput(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The next setting byte, 0 to 255; 0 when the input has none left. */
    int setting() {
        return next < bytes.length ? bytes[next++] & 0xff : 0;
    }

    /** Everything after the settings read so far. */
    byte[] payload() {
        return Arrays.copyOfRange(bytes, Math.min(next, bytes.length), bytes.length);
    }

    /**
     * {@code payload} cut into socket reads of {@code size} bytes each (the last one shorter),
     * or one read if {@code size} is 0. An empty payload is no read at all.
     */
    static List<byte[]> reads(byte[] payload, int size) {
        int step = size == 0 ? Math.max(payload.length, 1) : size;
        List<byte[]> reads = new ArrayList<>();
        for (int from = 0; from < payload.length; from += step) {
            reads.add(Arrays.copyOfRange(payload, from, Math.min(from + step, payload.length)));
        }
        return reads;
    }
}
