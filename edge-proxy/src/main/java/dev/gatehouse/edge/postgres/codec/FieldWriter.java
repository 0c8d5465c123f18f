package dev.gatehouse.edge.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.util.List;

/** Writes message framing and fields; shared by the encoders of both directions. */
final class FieldWriter {

    private FieldWriter() {
    }

    /** Writes the type byte and a length placeholder; returns the index of the length field. */
    static int begin(ByteBuf out, byte type) {
        out.writeByte(type);
        return beginUntyped(out);
    }

    /** Writes a length placeholder (startup packets have no type byte). */
    static int beginUntyped(ByteBuf out) {
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    /** Back-fills the length field: everything from it to the writer index. */
    static void end(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    static void cstring(ByteBuf out, String s) {
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a protocol string cannot contain a NUL character");
        }
        ByteBufUtil.writeUtf8(out, s);
        out.writeByte(0);
    }

    static void formats(ByteBuf out, short[] formats) {
        out.writeShort(formats.length);
        for (short f : formats) {
            out.writeShort(f);
        }
    }

    static void values(ByteBuf out, List<byte[]> values) {
        out.writeShort(values.size());
        for (byte[] v : values) {
            if (v == null) {
                out.writeInt(-1);
            } else {
                out.writeInt(v.length);
                out.writeBytes(v);
            }
        }
    }
}
