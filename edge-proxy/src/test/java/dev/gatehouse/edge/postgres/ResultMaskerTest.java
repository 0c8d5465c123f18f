package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultMaskerTest {

    private static final int USERS = 16384;
    private static final MaskingProfiles PROFILES = MaskingProfiles.parse("""
            profiles:
              - name: pii
                columns:
                  - column: public.users.email
                    method: hmac
                  - column: "*.ssn"
                    method: {keep_last: 4}
                  - column: public.users.birth_date
                    method: redact
                  - column: public.users.profile
                    method: redact
                  - column: public.contacts.email
                    method: hmac
                detectors:
                  - detector: email
                    method: redact
                  - detector: payment_card
                    method: {keep_last: 4}
              - name: copyable
                copy: mask
                detectors:
                  - detector: email
                    method: redact
                  - detector: us_ssn
                    method: "null"
            """, () -> HmacKey.of("result-masker-test-key"));

    private static final ResultMasker.Columns CATALOG = (oid, attnum) -> oid != USERS ? Optional.empty() : Optional.ofNullable(
            Map.of(1, new ColumnName("public", "users", "id"), 2, new ColumnName("public", "users", "email"),
                    3, new ColumnName("public", "users", "ssn"), 4, new ColumnName("public", "users", "birth_date"),
                    5, new ColumnName("public", "users", "note"), 6, new ColumnName("public", "users", "profile")).get(attnum));

    /** A view over users: email (a hmac rule names it), ssn (selected by *.ssn, keep_last), note. */
    private static final int CONTACTS = 16400;

    /** The users table and the contacts view, as the target catalog names them. */
    private static final ResultMasker.Columns WITH_VIEWS = new ResultMasker.Columns() {
        @Override
        public Optional<ColumnName> name(int tableOid, int attnum) {
            if (tableOid != CONTACTS) return CATALOG.name(tableOid, attnum);
            return Optional.ofNullable(Map.of(1, new ColumnName("public", "contacts", "email"),
                    2, new ColumnName("public", "contacts", "ssn"), 3, new ColumnName("public", "contacts", "note")).get(attnum));
        }

        @Override
        public boolean derived(int tableOid) {
            return tableOid == CONTACTS;
        }
    };

    // type OIDs as PostgreSQL 15 describes them
    private static final int INT4 = 23;
    private static final int TEXT = 25;
    private static final int BYTEA = 17;
    private static final int JSON = 114;
    private static final int JSONB = 3802;
    private static final int TEXT_ARRAY = 1009;
    private static final int TID = 27;
    /** The row type of users (a composite). */
    private static final int USERS_ROW = 16386;

    /** name, table oid, attnum, type oid, format. */
    private record Field(String name, int table, int attnum, int type, int format) {
    }

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @Test
    void masksColumnsAndDetectorsInTextFormat() {
        // Given a masker and the description of a result over public.users plus an expression
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("id", USERS, 1, 23, 0), new Field("email", USERS, 2, 25, 0),
                new Field("ssn", USERS, 3, 1043, 0), new Field("birth_date", USERS, 4, 1082, 0),
                new Field("note", USERS, 5, 25, 0), new Field("?column?", 0, 0, 25, 0));

        // When a row streams through
        List<byte[]> row = values(relay(masker, dataRow("42", "alice@example.com", "123-45-6789", "1990-02-03",
                "card 4111 1111 1111 1111 on file", "mail bob@example.org")));

        // Then
        assertThat(text(row.get(0))).isEqualTo("42");
        assertThat(text(row.get(1))).matches("[0-9a-f]{16}");
        assertThat(text(row.get(2))).isEqualTo("***-**-6789");
        assertThat(row.get(3)).as("a column rule on a non-text type yields NULL").isNull();
        assertThat(text(row.get(4))).isEqualTo("card **** **** **** 1111 on file");
        assertThat(text(row.get(5))).isEqualTo("mail [REDACTED]");
        assertThat(masker.stats().columns()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "public.users.email", 1L, "public.users.ssn", 1L, "public.users.birth_date", 1L));
        assertThat(masker.stats().detectors()).containsExactlyInAnyOrderEntriesOf(Map.of("payment_card", 1L, "email", 1L));
        assertThat(masker.stats().values()).isEqualTo(5);
    }

    @Test
    void hmacJoinsAcrossRowsAndNullsStayNull() {
        // Given
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("email", USERS, 2, 25, 0));

        // When
        String a = text(values(relay(masker, dataRow("alice@example.com"))).get(0));
        String b = text(values(relay(masker, dataRow("alice@example.com"))).get(0));
        List<byte[]> nullRow = values(relay(masker, dataRow((String) null)));

        // Then
        assertThat(a).isEqualTo(b);
        assertThat(nullRow.get(0)).isNull();
        assertThat(masker.stats().columns()).containsEntry("public.users.email", 2L);
    }

    @Test
    void rowsWithNothingToMaskAreRelayedAsTheSameBuffer() {
        // Given a result without text columns, and one whose text holds nothing sensitive
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("id", USERS, 1, 23, 0), new Field("note", USERS, 5, 25, 0));
        ByteBuf original = dataRow("7", "nothing here");
        BackendFrame frame = new BackendFrame(original);

        // When
        ResultMasker.Rewrite rewrite = masker.onFrame(frame);

        // Then the very bytes are relayed, no copy
        assertThat(rewrite.frame()).isSameAs(original);
        rewrite.frame().release();
    }

    @Test
    void binaryTextAndJsonbAreMaskedOtherBinaryTypesAreLeftOrNulled() {
        // Given binary-format columns: int4, text (column rule), text (scanned), jsonb (column rule), jsonb (scanned)
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("id", USERS, 1, 23, 1), new Field("email", USERS, 2, 25, 1),
                new Field("note", USERS, 5, 25, 1), new Field("profile", USERS, 6, 3802, 1), new Field("doc", 0, 0, 3802, 1));
        byte[] id = {0, 0, 0, 42};
        byte[] jsonb = withVersion("{\"contact\": \"carol@example.net\"}");

        // When
        List<byte[]> row = values(relay(masker, dataRowBytes(id, bytes("dave@example.com"), bytes("x eve@example.com y"),
                jsonb, jsonb)));

        // Then
        assertThat(row.get(0)).isEqualTo(id);
        assertThat(text(row.get(1))).matches("[0-9a-f]{16}");
        assertThat(text(row.get(2))).isEqualTo("x [REDACTED] y");
        assertThat(row.get(3)).isEqualTo(withVersion("\"[REDACTED]\""));
        assertThat(row.get(4)).isEqualTo(withVersion("{\"contact\": \"[REDACTED]\"}"));
    }

    @Test
    void tablesTheCatalogDoesNotKnowAreScannedAndCounted() {
        // Given a column of a table created after the catalog snapshot
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("email", 99999, 2, 25, 0));

        // When
        List<byte[]> row = values(relay(masker, dataRow("frank@example.com")));

        // Then detectors still apply
        assertThat(text(row.get(0))).isEqualTo("[REDACTED]");
        assertThat(masker.unknownTables()).isEqualTo(1);
    }

    @Test
    void executeWithoutDescribeGetsOneInjectedAndItsAnswerDropped() {
        // Given an extended batch whose Execute has no Describe (a client reusing a described statement)
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        List<FrontendMessage> batch = new ArrayList<>(List.of(
                new FrontendMessage.Bind("", "S_1", new short[0], List.of(), new short[]{1}),
                new FrontendMessage.Execute("", 0), new FrontendMessage.Sync()));

        // When
        List<FrontendMessage> prepared = masker.prepare(batch);
        ResultMasker.Rewrite bind = masker.onFrame(new BackendFrame(frame('2', new byte[0])));
        ResultMasker.Rewrite description = masker.onFrame(new BackendFrame(rowDescription(new Field("email", USERS, 2, 25, 1))));
        List<byte[]> row = values(relay(masker, dataRow("gina@example.com")));

        // Then
        assertThat(prepared).hasSize(4);
        assertThat(prepared.get(1)).isEqualTo(new FrontendMessage.Describe((byte) 'P', ""));
        assertThat(bind.dropped()).isFalse();
        bind.frame().release();
        assertThat(description.dropped()).isTrue();
        assertThat(text(row.get(0))).matches("[0-9a-f]{16}");
    }

    @Test
    void aClientDescribeIsRelayedAndAStatementDescriptionDoesNotDescribeRows() {
        // Given Parse/Describe S/Bind/Describe P/Execute
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        List<FrontendMessage> prepared = masker.prepare(new ArrayList<>(List.of(
                new FrontendMessage.Parse("", "select", new int[0]), new FrontendMessage.Describe((byte) 'S', ""),
                new FrontendMessage.Bind("", "", new short[0], List.of(), new short[0]),
                new FrontendMessage.Describe((byte) 'P', ""), new FrontendMessage.Execute("", 0), new FrontendMessage.Sync())));

        // When the statement is described as text columns, the portal as its real result
        ResultMasker.Rewrite ofStatement = masker.onFrame(new BackendFrame(rowDescription(new Field("id", USERS, 1, 23, 0))));
        ResultMasker.Rewrite ofPortal = masker.onFrame(new BackendFrame(rowDescription(new Field("email", USERS, 2, 25, 0))));
        List<byte[]> row = values(relay(masker, dataRow("hal@example.com")));

        // Then nothing was injected, both descriptions are relayed, and the portal's applies
        assertThat(prepared).hasSize(6);
        assertThat(ofStatement.dropped()).isFalse();
        assertThat(ofPortal.dropped()).isFalse();
        ofStatement.frame().release();
        ofPortal.frame().release();
        assertThat(text(row.get(0))).matches("[0-9a-f]{16}");
    }

    @Test
    void rowsWithoutADescriptionFailClosed() {
        // Given
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        ByteBuf row = dataRow("ivan@example.com");

        // When / Then
        assertThatThrownBy(() -> masker.onFrame(new BackendFrame(row))).isInstanceOf(ResultMasker.MaskingFailure.class)
                .hasMessageContaining("without describing");
        assertThat(row.refCnt()).isZero();
    }

    @Test
    void copyIsRefusedUnlessTheProfileMasksIt() {
        // Given COPY OUT in text format with 2 columns
        byte[] copyOut = {0, 0, 2, 0, 0, 0, 0};

        // When / Then: refused under a profile with copy: refuse
        ResultMasker strict = new ResultMasker(profile("pii"), CATALOG);
        assertThatThrownBy(() -> strict.onFrame(new BackendFrame(frame('H', copyOut))))
                .isInstanceOf(ResultMasker.MaskingFailure.class).hasMessageContaining("does not allow COPY");

        // and masked per field under copy: mask
        ResultMasker copyable = new ResultMasker(profile("copyable"), CATALOG);
        relay(copyable, frame('H', copyOut)).release();
        ByteBuf out = relay(copyable, frame('d', bytes("1\tjoe@example.com, 123-45-6789\t\\N\n")));
        assertThat(text(payload(out))).isEqualTo("1\t\\N\t\\N\n");
        out.release();
        ByteBuf out2 = relay(copyable, frame('d', bytes("2\tkim@example.com\tplain\n")));
        assertThat(text(payload(out2))).isEqualTo("2\t[REDACTED]\tplain\n");
        out2.release();
        assertThat(copyable.stats().detectors()).containsEntry("email", 1L).containsEntry("us_ssn", 1L);
    }

    @Test
    void binaryCopyIsRefused() {
        // Given
        ResultMasker copyable = new ResultMasker(profile("copyable"), CATALOG);

        // When / Then
        assertThatThrownBy(() -> copyable.onFrame(new BackendFrame(frame('H', new byte[]{1, 0, 1, 0, 1}))))
                .isInstanceOf(ResultMasker.MaskingFailure.class).hasMessageContaining("binary COPY");
    }


    @Test
    void derivedColumnsOfACommandReadingMaskedDataAreMaskedAsAWholeInTextFormat() {
        // Given a command reading users (ssn is masked) whose result holds what PostgreSQL sends for
        // upper(ssn), c, array_agg(ssn), ssn::bytea, row_to_json(c), to_jsonb(c), length(ssn), ctid, id, note
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);
        describe(masker, new Field("upper", 0, 0, TEXT, 0), new Field("c", USERS, 0, USERS_ROW, 0),
                new Field("array_agg", 0, 0, TEXT_ARRAY, 0), new Field("ssn", 0, 0, BYTEA, 0),
                new Field("row_to_json", 0, 0, JSON, 0), new Field("to_jsonb", 0, 0, JSONB, 0),
                new Field("length", 0, 0, INT4, 0), new Field("ctid", USERS, -1, TID, 0),
                new Field("id", USERS, 1, INT4, 0), new Field("note", USERS, 5, TEXT, 0));

        // When
        List<byte[]> row = values(relay(masker, dataRow("123-45-6789", "(7,ann@example.com,123-45-6789,1990-02-03,hi,)",
                "{123-45-6789,987-65-4321}", "\\x3132332d34352d36373839", "{\"id\":7,\"ssn\":\"123-45-6789\"}",
                "{\"id\": 7, \"ssn\": \"123-45-6789\"}", "11", "(0,1)", "7", "mail ann@example.com")));

        // Then text-like values get the redaction, every other type is NULL, table columns are as before
        assertThat(text(row.get(0))).isEqualTo("[REDACTED]");
        assertThat(row.get(1)).as("composite").isNull();
        assertThat(row.get(2)).as("array").isNull();
        assertThat(row.get(3)).as("bytea").isNull();
        assertThat(text(row.get(4))).isEqualTo("\"[REDACTED]\"");
        assertThat(text(row.get(5))).isEqualTo("\"[REDACTED]\"");
        assertThat(row.get(6)).as("a number computed from ssn").isNull();
        assertThat(text(row.get(7))).as("a system column is a stored value").isEqualTo("(0,1)");
        assertThat(text(row.get(8))).isEqualTo("7");
        assertThat(text(row.get(9))).isEqualTo("mail [REDACTED]");
        assertThat(masker.stats().derived()).isEqualTo(7);
        assertThat(masker.stats().values()).isEqualTo(8);
    }

    @Test
    void derivedColumnsAreMaskedInBinaryFormat() {
        // Given the binary forms of reverse(ssn), ARRAY[ssn], convert_to(ssn, 'UTF8'), json_build_object(...)::jsonb
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);
        describe(masker, new Field("reverse", 0, 0, TEXT, 1), new Field("array", 0, 0, TEXT_ARRAY, 1),
                new Field("convert_to", 0, 0, BYTEA, 1), new Field("json_build_object", 0, 0, JSONB, 1),
                new Field("id", USERS, 1, INT4, 1));
        byte[] array = textArrayBinary("123-45-6789");
        byte[] id = {0, 0, 0, 7};

        // When
        List<byte[]> row = values(relay(masker, dataRowBytes(bytes("9876-54-321"), array, bytes("123-45-6789"),
                withVersion("{\"s\": \"123-45-6789\"}"), id)));

        // Then
        assertThat(text(row.get(0))).isEqualTo("[REDACTED]");
        assertThat(row.get(1)).isNull();
        assertThat(row.get(2)).isNull();
        assertThat(row.get(3)).isEqualTo(withVersion("\"[REDACTED]\""));
        assertThat(row.get(4)).isEqualTo(id);
    }

    @Test
    void whetherADerivedTextValueIsNullDoesNotAnswerAConditionOnAMaskedColumn() {
        // Given CASE WHEN ssn LIKE '1%' THEN ... END as text, json, binary jsonb and int, and the table's ssn
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);
        describe(masker, new Field("t", 0, 0, TEXT, 0), new Field("j", 0, 0, JSON, 0), new Field("b", 0, 0, JSONB, 1),
                new Field("n", 0, 0, INT4, 0), new Field("ssn", USERS, 3, TEXT, 0));

        // When one row matches the condition and the other does not
        List<byte[]> matches = values(relay(masker, dataRowBytes(bytes("x"), bytes("\"x\""), withVersion("\"x\""),
                bytes("1"), bytes("123-45-6789"))));
        List<byte[]> doesNot = values(relay(masker, dataRowBytes(null, null, null, null, null)));

        // Then the derived columns read the same; non-text types and the table's own NULL stay NULL
        assertThat(text(doesNot.get(0))).isEqualTo(text(matches.get(0))).isEqualTo("[REDACTED]");
        assertThat(text(doesNot.get(1))).isEqualTo(text(matches.get(1))).isEqualTo("\"[REDACTED]\"");
        assertThat(doesNot.get(2)).isEqualTo(matches.get(2)).isEqualTo(withVersion("\"[REDACTED]\""));
        assertThat(matches.get(3)).isNull();
        assertThat(doesNot.get(3)).isNull();
        assertThat(doesNot.get(4)).isNull();
    }

    @Test
    void viewColumnsAreMaskedAsAWholeKeepingOnlyMethodsThatHideTheValue() {
        // Given a result over the contacts view: email (hmac rule), ssn (keep_last rule), note (no rule)
        ResultMasker masker = new ResultMasker(profile("pii"), WITH_VIEWS, true);
        describe(masker, new Field("email", CONTACTS, 1, TEXT, 0), new Field("ssn", CONTACTS, 2, TEXT, 0),
                new Field("note", CONTACTS, 3, TEXT, 0));

        // When the view computes its columns (the ssn column could be reverse(ssn))
        List<byte[]> row = values(relay(masker, dataRow("ann@example.com", "9876-54-321", "ssn 123-45-6789")));

        // Then hmac still joins, keep_last (which would show part of a computed value) and no rule redact
        assertThat(text(row.get(0))).matches("[0-9a-f]{16}");
        assertThat(text(row.get(1))).isEqualTo("[REDACTED]");
        assertThat(text(row.get(2))).isEqualTo("[REDACTED]");
        assertThat(masker.stats().derived()).isEqualTo(3);
    }

    @Test
    void withoutMaskDerivedExpressionsAndViewsAreLeftToRulesAndDetectors() {
        // Given a command that reads no relation with a masked column (the old constructor)
        ResultMasker masker = new ResultMasker(profile("pii"), WITH_VIEWS);
        describe(masker, new Field("ssn", CONTACTS, 2, TEXT, 0), new Field("note", CONTACTS, 3, TEXT, 0),
                new Field("n", 0, 0, INT4, 0), new Field("t", 0, 0, TEXT, 0));

        // When
        List<byte[]> row = values(relay(masker, dataRow("123-45-6789", "plain", "42", "x")));

        // Then
        assertThat(text(row.get(0))).isEqualTo("***-**-6789");
        assertThat(text(row.get(1))).isEqualTo("plain");
        assertThat(text(row.get(2))).isEqualTo("42");
        assertThat(text(row.get(3))).isEqualTo("x");
        assertThat(masker.stats().derived()).isZero();
    }

    @Test
    void aTableTheCatalogDoesNotKnowIsMaskedAsAWholeUnderMaskDerived() {
        // Given a relation created after the catalog snapshot (it may be a view)
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);
        describe(masker, new Field("x", 99999, 1, TEXT, 0));

        // When
        List<byte[]> row = values(relay(masker, dataRow("123-45-6789")));

        // Then
        assertThat(text(row.get(0))).isEqualTo("[REDACTED]");
        assertThat(masker.unknownTables()).isEqualTo(1);
    }

    @Test
    void thePlannerStatisticsAreMaskedAsAWholeUnderMaskDerived() {
        // Given SELECT stavalues1 FROM pg_statistic, the catalog naming the column
        ResultMasker.Columns columns = (oid, attnum) -> oid == 2619 && attnum == 22
                ? Optional.of(new ColumnName("pg_catalog", "pg_statistic", "stavalues1")) : Optional.empty();
        ResultMasker masker = new ResultMasker(profile("pii"), columns, true);
        describe(masker, new Field("stavalues1", 2619, 22, 2277, 0));

        // When the statistics list values of users.ssn
        List<byte[]> row = values(relay(masker, dataRow("{123-45-6789,987-65-4321}")));

        // Then
        assertThat(row.get(0)).isNull();
    }

    @Test
    void errorAndNoticeTextsThatCanEchoAValueAreWithheld() {
        // Given the ErrorResponse of SELECT ssn::int FROM users, and a NoticeResponse of a RAISE with all fields
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);
        ByteBuf error = errorOrNotice('E', "SERROR", "VERROR", "C22P02",
                "Minvalid input syntax for type integer: \"123-45-6789\"", "P8", "Fnumutils.c", "L323", "Rpg_strtoint32");
        ByteBuf notice = errorOrNotice('N', "SNOTICE", "VNOTICE", "C00000", "Mssn 123-45-6789", "Dfor 123-45-6789",
                "Hhint 123-45-6789", "WPL/pgSQL function inline_code_block line 1 at RAISE 123-45-6789",
                "qSELECT '123-45-6789'", "p8", "spublic", "tusers", "cssn", "dtext", "nusers_ssn_123456789",
                "Fpl_exec.c", "L3889", "Rexec_stmt_raise");

        // When
        ByteBuf errorOut = relay(masker, error);
        ByteBuf noticeOut = relay(masker, notice);
        Map<Character, String> e = BackendFrames.parseErrorOrNotice(new BackendFrame(errorOut));
        Map<Character, String> n = BackendFrames.parseErrorOrNotice(new BackendFrame(noticeOut));

        // Then the severity, SQLSTATE, position and source location remain; nothing else does
        assertThat(e).containsExactly(Map.entry('S', "ERROR"), Map.entry('V', "ERROR"), Map.entry('C', "22P02"),
                Map.entry('M', "gatehouse: the error text is withheld because the command's result is masked (SQLSTATE 22P02)"),
                Map.entry('P', "8"), Map.entry('F', "numutils.c"), Map.entry('L', "323"), Map.entry('R', "pg_strtoint32"));
        assertThat(n).containsOnlyKeys('S', 'V', 'C', 'M', 'F', 'L', 'R')
                .containsEntry('M', "gatehouse: the notice text is withheld because the command's result is masked (SQLSTATE 00000)");
        assertThat(text(payload(noticeOut))).doesNotContain("123-45-6789").doesNotContain("123456789");
        assertThat(masker.stats().withheldTexts()).isEqualTo(2);
        errorOut.release();
        noticeOut.release();
    }

    @Test
    void aMalformedErrorFailsClosed() {
        // Given an ErrorResponse whose last field is not terminated
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);
        ByteBuf error = frame('E', bytes("SERROR\0Mvalue 123-45-6789"));

        // When / Then
        assertThatThrownBy(() -> masker.onFrame(new BackendFrame(error))).isInstanceOf(ResultMasker.MaskingFailure.class);
        assertThat(error.refCnt()).isZero();
    }

    @Test
    void theContinuationOfASuspendedPortalIsDescribedAndMasked() {
        // Given a batch that only continues portal C_1, bound and partly executed in an earlier batch
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);
        List<FrontendMessage> prepared = masker.prepare(new ArrayList<>(List.of(
                new FrontendMessage.Execute("C_1", 2), new FrontendMessage.Flush())));

        // When the target answers the injected Describe, then the rows and PortalSuspended
        ResultMasker.Rewrite description = masker.onFrame(new BackendFrame(rowDescription(
                new Field("ssn", USERS, 3, TEXT, 1), new Field("upper", 0, 0, TEXT, 1))));
        List<byte[]> first = values(relay(masker, dataRow("123-45-6789", "123-45-6789")));
        List<byte[]> second = values(relay(masker, dataRow("987-65-4321", "987-65-4321")));
        ByteBuf suspended = relay(masker, frame('s', new byte[0]));

        // Then
        assertThat(prepared).containsExactly(new FrontendMessage.Describe((byte) 'P', "C_1"),
                new FrontendMessage.Execute("C_1", 2), new FrontendMessage.Flush());
        assertThat(description.dropped()).isTrue();
        assertThat(first).extracting(ResultMaskerTest::text).containsExactly("***-**-6789", "[REDACTED]");
        assertThat(second).extracting(ResultMaskerTest::text).containsExactly("***-**-4321", "[REDACTED]");
        suspended.release();
    }

    @Test
    void aPortalExecutedTwiceInOneBatchIsDescribedOnce() {
        // Given Execute(limit 1), Execute again of a portal bound earlier, then Sync
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);

        // When
        List<FrontendMessage> prepared = masker.prepare(new ArrayList<>(List.of(new FrontendMessage.Execute("C_2", 1),
                new FrontendMessage.Execute("C_2", 1), new FrontendMessage.Sync())));

        // Then
        assertThat(prepared).containsExactly(new FrontendMessage.Describe((byte) 'P', "C_2"),
                new FrontendMessage.Execute("C_2", 1), new FrontendMessage.Execute("C_2", 1), new FrontendMessage.Sync());
    }

    @Test
    void aFetchFromACursorIsDescribedByItsOwnRowDescription() {
        // Given FETCH 2 FROM c (simple query) on a cursor over SELECT id, upper(ssn), c FROM users c
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG, true);

        // When the target answers as it does for a FETCH
        ResultMasker.Rewrite description = masker.onFrame(new BackendFrame(rowDescription(new Field("id", USERS, 1, INT4, 0),
                new Field("upper", 0, 0, TEXT, 0), new Field("c", USERS, 0, USERS_ROW, 0))));
        List<byte[]> row = values(relay(masker, dataRow("7", "123-45-6789", "(7,ann@example.com,123-45-6789,,,)")));
        ByteBuf complete = relay(masker, frame('C', bytes("FETCH 1\0")));
        ByteBuf ready = relay(masker, frame('Z', bytes("T")));

        // Then the description is relayed and the rows are masked
        assertThat(description.dropped()).isFalse();
        description.frame().release();
        assertThat(text(row.get(0))).isEqualTo("7");
        assertThat(text(row.get(1))).isEqualTo("[REDACTED]");
        assertThat(row.get(2)).isNull();
        complete.release();
        ready.release();
    }

    // ------------------------------------------------------------------ helpers

    private static MaskingProfile profile(String name) {
        return PROFILES.find(name).orElseThrow();
    }

    /** Runs one frame through the masker, expecting it relayed; returns what is relayed (caller releases). */
    private static ByteBuf relay(ResultMasker masker, ByteBuf frame) {
        ResultMasker.Rewrite rewrite = masker.onFrame(new BackendFrame(frame));
        assertThat(rewrite.dropped()).isFalse();
        ByteBuf out = rewrite.frame();
        assertThat(out.getInt(out.readerIndex() + 1)).as("length field").isEqualTo(out.readableBytes() - 1);
        return out;
    }

    private static void describe(ResultMasker masker, Field... fields) {
        relay(masker, rowDescription(fields)).release();
    }

    private static List<byte[]> values(ByteBuf dataRow) {
        try {
            return BackendFrames.parseDataRow(new BackendFrame(dataRow.retainedDuplicate()));
        } finally {
            dataRow.release(2);
        }
    }

    private static ByteBuf payload(ByteBuf frame) {
        return frame.slice(frame.readerIndex() + 5, frame.readableBytes() - 5);
    }

    private static ByteBuf rowDescription(Field... fields) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(fields.length);
        for (Field f : fields) {
            b.writeBytes(bytes(f.name())).writeByte(0).writeInt(f.table()).writeShort(f.attnum()).writeInt(f.type())
                    .writeShort(-1).writeInt(-1).writeShort(f.format());
        }
        return frame('T', ByteBufUtilBytes(b));
    }

    private static ByteBuf dataRow(String... values) {
        return dataRowBytes(Arrays.stream(values).map(v -> v == null ? null : bytes(v)).toArray(byte[][]::new));
    }

    private static ByteBuf dataRowBytes(byte[]... values) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(values.length);
        for (byte[] v : values) {
            if (v == null) {
                b.writeInt(-1);
            } else {
                b.writeInt(v.length).writeBytes(v);
            }
        }
        return frame('D', ByteBufUtilBytes(b));
    }

    private static ByteBuf frame(char type, byte[] payload) {
        return Unpooled.buffer().writeByte(type).writeInt(payload.length + 4).writeBytes(payload);
    }

    private static byte[] ByteBufUtilBytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    /** An ErrorResponse or NoticeResponse from fields written as code letter then value. */
    private static ByteBuf errorOrNotice(char type, String... fields) {
        StringBuilder b = new StringBuilder();
        for (String f : fields) b.append(f).append('\0');
        return frame(type, bytes(b.append('\0').toString()));
    }

    /** A one-dimensional text[] in binary format, as array_send writes it. */
    private static byte[] textArrayBinary(String... elements) {
        ByteBuf b = Unpooled.buffer();
        b.writeInt(1).writeInt(0).writeInt(TEXT).writeInt(elements.length).writeInt(1);
        for (String e : elements) b.writeInt(bytes(e).length).writeBytes(bytes(e));
        return ByteBufUtilBytes(b);
    }

    private static byte[] withVersion(String json) {
        byte[] text = bytes(json);
        byte[] out = new byte[text.length + 1];
        out[0] = 1;
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String text(ByteBuf b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
