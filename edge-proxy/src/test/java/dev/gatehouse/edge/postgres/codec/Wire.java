package dev.gatehouse.edge.postgres.codec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Hand-built protocol bytes, written field by field as the protocol documentation lays them out,
 * independent of the encoders under test.
 */
final class Wire {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static Wire bytes() {
        return new Wire();
    }

    Wire int8(int v) {
        out.write(v);
        return this;
    }

    Wire int16(int v) {
        out.write(v >>> 8);
        out.write(v);
        return this;
    }

    Wire int32(int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
        return this;
    }

    Wire raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    Wire cstring(String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        return this;
    }

    /** Appends a regular message: type byte, Int32 length (itself included), body. */
    Wire message(char type, Wire body) {
        byte[] b = body.toArray();
        int8(type);
        int32(b.length + 4);
        return raw(b);
    }

    /** Appends a startup packet: Int32 length (itself included), body. */
    Wire packet(Wire body) {
        byte[] b = body.toArray();
        int32(b.length + 4);
        return raw(b);
    }

    byte[] toArray() {
        return out.toByteArray();
    }

    static byte[] hex(String hex) {
        String h = hex.replaceAll("\\s", "");
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
