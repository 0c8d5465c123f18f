package dev.gatehouse.policy.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.policy.sql.LibPgQuery;
import dev.gatehouse.policy.sql.LibPgQueryUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What an approval is pinned to: {@code "sha256:" + hex} over a length-prefixed encoding of the
 * connection name, the identity's issuer and subject, and what runs.
 *
 * <p>A command recorded statement by statement ({@link SqlCommand#statements()} not empty; encoding
 * {@value #STATEMENTS}) is pinned to what each execution runs, in order: its normalized SQL (for an
 * EXECUTE the prepared statement's, for a FETCH the cursor's query), the digest of its complete
 * argument values ({@link CommandStatement#parametersDigest()}: the bounded parameter texts are not
 * enough, two long values may share them), its row limit and whether it continues a portal. So an
 * approval covers that one execution: the same prepared statement with other arguments, another
 * statement or another count of rows is another fingerprint. How the client got there (the
 * protocol step, the names it gave its prepared statement and portal, the SQL-level EXECUTE that
 * led there) is not part of it: a driver numbering its statements differently on the next
 * connection runs the same thing. A command recorded as one text
 * (the first event version; encoding {@value #TEXT}) is pinned as before to its SQL and parameters.
 *
 * <p>SQL is normalized to libpg_query's JSON parse tree with every {@code location} field
 * removed, so whitespace, comments and keyword case do not change the fingerprint while constants
 * do. SQL libpg_query cannot parse (or a process without the library) falls back to the raw text,
 * marked as such so the two encodings never collide. A null value differs from an empty one.
 */
public final class ApprovalFingerprint {
    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalFingerprint.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREFIX = "sha256:";
    /** The encoding of a command recorded as one text (the first event version). */
    static final String TEXT = "gatehouse-approval-fingerprint/1";
    /** The encoding of a command recorded statement by statement. */
    static final String STATEMENTS = "gatehouse-approval-fingerprint/2";

    private final LibPgQuery parser;

    /** Normalizes with {@code parser}; null: always the raw text. */
    public ApprovalFingerprint(LibPgQuery parser) {
        this.parser = parser;
    }

    /** A fingerprint on the process-wide libpg_query binding, or on the raw text when it is not installed. */
    public static ApprovalFingerprint withLibPgQueryIfAvailable() {
        try {
            return new ApprovalFingerprint(LibPgQuery.load());
        } catch (LibPgQueryUnavailableException e) {
            LOGGER.warn("libpg_query is not available: approval fingerprints use the raw SQL text ({})", e.getMessage());
            return new ApprovalFingerprint(null);
        }
    }

    /** The fingerprint of a command sent by {@code identity} over {@code connection}. */
    public String of(ConnectionRef connection, Identity identity, SqlCommand command) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(command, "command");
        if (command.statements().isEmpty()) {
            return of(connection.name(), identity.issuer(), identity.subject(), command.sql(), command.parameters());
        }
        return digest(out -> {
            out.writeUTF(STATEMENTS);
            field(out, connection.name());
            field(out, identity.issuer());
            field(out, identity.subject());
            field(out, command.protocol());
            out.writeInt(command.statements().size());
            for (CommandStatement s : command.statements()) {
                field(out, normalized(s.sql()));
                field(out, s.parametersDigest());
                if (s.parametersDigest() == null) parameters(out, s.parameters()); // a writer without digests
                out.writeLong(s.rowLimit());
                out.writeBoolean(s.continued());
            }
        });
    }

    /** The fingerprint of the given parts; {@code parameters} may hold nulls (SQL NULL). */
    public String of(String connection, String issuer, String subject, String sql, List<String> parameters) {
        Objects.requireNonNull(sql, "sql");
        return digest(out -> {
            out.writeUTF(TEXT);
            field(out, connection);
            field(out, issuer);
            field(out, subject);
            field(out, normalized(sql));
            parameters(out, parameters);
        });
    }

    /** What a fingerprint is computed over, written to a stream. */
    private interface Encoding {
        void write(DataOutputStream out) throws IOException;
    }

    private static String digest(Encoding encoding) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            encoding.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return PREFIX + HexFormat.of().formatHex(sha256(bytes.toByteArray()));
    }

    private static void parameters(DataOutputStream out, List<String> parameters) throws IOException {
        List<String> params = parameters == null ? List.of() : parameters;
        out.writeInt(params.size());
        for (String p : params) field(out, p);
    }

    /** The SQL as fingerprinted: {@code "tree:" + } the parse tree without locations, or {@code "text:" + } the raw text. */
    String normalized(String sql) {
        if (parser != null) {
            try {
                LibPgQuery.ParseResult parsed = parser.parse(sql);
                if (parsed.ok()) {
                    JsonNode tree = JSON.readTree(parsed.parseTree());
                    stripLocations(tree);
                    return "tree:" + JSON.writeValueAsString(tree);
                }
            } catch (IOException | RuntimeException e) {
                LOGGER.debug("SQL not normalized for the approval fingerprint, using its text: {}", e.toString());
            }
        }
        return "text:" + sql;
    }

    private static void stripLocations(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove(List.of("location", "stmt_location", "stmt_len"));
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) stripLocations(fields.next().getValue());
        } else if (node instanceof ArrayNode array) {
            for (JsonNode child : array) stripLocations(child);
        }
    }

    private static void field(DataOutputStream out, String value) throws IOException {
        if (value == null) {
            out.writeInt(-1);
            return;
        }
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static byte[] sha256(byte[] input) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
