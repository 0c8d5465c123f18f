package dev.gatehouse.policy.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the protobuf {@code pg_query_scan} returns ({@code ScanResult} of {@code pg_query.proto}):
 * {@code version = 1}, {@code repeated ScanToken tokens = 2}; a {@code ScanToken} is {@code start = 1},
 * {@code end = 2}, {@code token = 4}, {@code keyword_kind = 5}, all varints. Two messages do not
 * justify a protobuf runtime; unknown fields are skipped by their wire type, as protobuf requires.
 */
final class ScanProtobuf {

    private static final int VARINT = 0;
    private static final int FIXED64 = 1;
    private static final int LENGTH_DELIMITED = 2;
    private static final int FIXED32 = 5;

    private final byte[] data;
    private int position;
    private final int limit;

    private ScanProtobuf(byte[] data, int position, int limit) {
        this.data = data;
        this.position = position;
        this.limit = limit;
    }

    /** The tokens of a serialized {@code ScanResult}, in order. */
    static List<LibPgQuery.Token> tokens(byte[] scanResult) {
        List<LibPgQuery.Token> tokens = new ArrayList<>();
        ScanProtobuf message = new ScanProtobuf(scanResult, 0, scanResult.length);
        while (message.position < message.limit) {
            long key = message.varint();
            int field = (int) (key >>> 3);
            int wireType = (int) (key & 7);
            if (field == 2 && wireType == LENGTH_DELIMITED) {
                int length = message.length();
                tokens.add(new ScanProtobuf(scanResult, message.position, message.position + length).token());
                message.position += length;
            } else {
                message.skip(wireType);
            }
        }
        return tokens;
    }

    private LibPgQuery.Token token() {
        int start = 0;
        int end = 0;
        int token = 0;
        int keywordKind = 0;
        while (position < limit) {
            long key = varint();
            int field = (int) (key >>> 3);
            int wireType = (int) (key & 7);
            if (wireType != VARINT) {
                skip(wireType);
                continue;
            }
            int value = (int) varint();
            switch (field) {
                case 1 -> start = value;
                case 2 -> end = value;
                case 4 -> token = value;
                case 5 -> keywordKind = value;
                default -> { }
            }
        }
        return new LibPgQuery.Token(start, end, token, keywordKind);
    }

    private long varint() {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (position >= limit) {
                throw new IllegalStateException("truncated scan result from libpg_query");
            }
            byte b = data[position++];
            value |= (long) (b & 0x7f) << shift;
            if (b >= 0) {
                return value;
            }
        }
        throw new IllegalStateException("malformed varint in scan result from libpg_query");
    }

    private int length() {
        long length = varint();
        if (length < 0 || length > limit - position) {
            throw new IllegalStateException("malformed length in scan result from libpg_query");
        }
        return (int) length;
    }

    private void skip(int wireType) {
        switch (wireType) {
            case VARINT -> varint();
            case FIXED64 -> position += 8;
            case LENGTH_DELIMITED -> position += length();
            case FIXED32 -> position += 4;
            default -> throw new IllegalStateException("unknown wire type " + wireType + " in scan result from libpg_query");
        }
        if (position > limit) {
            throw new IllegalStateException("truncated scan result from libpg_query");
        }
    }
}
