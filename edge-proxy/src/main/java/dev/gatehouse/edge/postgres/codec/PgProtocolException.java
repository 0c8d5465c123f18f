package dev.gatehouse.edge.postgres.codec;

import io.netty.handler.codec.DecoderException;

/**
 * A violation of the PostgreSQL wire protocol found while decoding (SQLSTATE 08P01). The message
 * says what was wrong in terms an operator can act on; after it the decoder discards all input.
 */
public class PgProtocolException extends DecoderException {

    private static final long serialVersionUID = 1L;

    public PgProtocolException(String message) {
        super(message);
    }

    public PgProtocolException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The SQLSTATE to answer with: always {@link PgProtocol#PROTOCOL_VIOLATION}. */
    public String sqlState() {
        return PgProtocol.PROTOCOL_VIOLATION;
    }
}
