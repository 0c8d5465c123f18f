package dev.gatehouse.edge.postgres.codec;

import java.util.Arrays;
import java.util.List;

/** Content equality and redacted rendering for lists of nullable byte arrays. */
final class ByteArrays {

    private ByteArrays() {
    }

    static boolean listEquals(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    static int listHashCode(List<byte[]> list) {
        int h = 1;
        for (byte[] e : list) {
            h = 31 * h + Arrays.hashCode(e);
        }
        return h;
    }

    /** Sizes only, never values: {@code [4 bytes, NULL]}. */
    static String describe(List<byte[]> list) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            byte[] e = list.get(i);
            sb.append(e == null ? "NULL" : e.length + " bytes");
        }
        return sb.append(']').toString();
    }
}
