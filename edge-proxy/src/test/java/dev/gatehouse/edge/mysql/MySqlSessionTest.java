package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.session.Refusal;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The MySQL adapter's rules that need no server. */
class MySqlSessionTest {

    @Test
    void aCharacterSetChangeIsAcceptedOnlyWhenEveryPlaceItIsNamedNamesAnAsciiCompatibleSet() {
        assertThat(MySqlSession.namesSafeCharsets("SET NAMES utf8mb4")).isTrue();
        assertThat(MySqlSession.namesSafeCharsets("set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES'),"
                + " NAMES utf8mb4 COLLATE utf8mb4_unicode_ci")).isTrue();
        assertThat(MySqlSession.namesSafeCharsets("SET character_set_client = 'latin1'")).isTrue();
        assertThat(MySqlSession.namesSafeCharsets("SET CHARACTER SET `utf8`")).isTrue();
        // multi-byte sets where 0x5c can end a character: the classic escaping bypass
        assertThat(MySqlSession.namesSafeCharsets("SET NAMES gbk")).isFalse();
        assertThat(MySqlSession.namesSafeCharsets("SET NAMES utf8mb4, character_set_client = sjis")).isFalse();
        assertThat(MySqlSession.namesSafeCharsets("SET NAMES utf8mb4x")).isFalse();
        assertThat(MySqlSession.namesSafeCharsets("SET NAMES /*!50000 big5 */")).isFalse();
        assertThat(MySqlSession.namesSafeCharsets("SET @@character_set_client = @x")).isFalse();
        assertThat(MySqlSession.namesSafeCharsets("SET NAMES DEFAULT")).isFalse();
        // a change named no way the edge can read is refused too
        assertThat(MySqlSession.namesSafeCharsets("SET @@session.collation_connection = 1")).isFalse();
    }

    @Test
    void onlyAsciiCompatibleCollationsAreAccepted() {
        assertThat(MySqlSession.charsetOf(45)).isEqualTo("utf8mb4");
        assertThat(MySqlSession.charsetOf(224)).isEqualTo("utf8mb4");
        assertThat(MySqlSession.charsetOf(255)).isEqualTo("utf8mb4");
        assertThat(MySqlSession.charsetOf(33)).isEqualTo("utf8mb3");
        assertThat(MySqlSession.charsetOf(8)).isEqualTo("latin1");
        assertThat(MySqlSession.charsetOf(63)).isEqualTo("binary");
        assertThat(MySqlSession.charsetOf(28)).isNull();   // gbk_chinese_ci
        assertThat(MySqlSession.charsetOf(13)).isNull();   // sjis_japanese_ci
        assertThat(MySqlSession.charsetOf(1)).isNull();    // big5_chinese_ci
    }

    @Test
    void refusalsMapToMySqlErrorsClientsKnow() {
        assertThat(MySqlSession.errorNumber(Refusal.of(Refusal.Kind.DENIED, "x"))).isEqualTo(1227);
        assertThat(MySqlSession.errorNumber(Refusal.of(Refusal.Kind.BAD_CREDENTIAL, "x"))).isEqualTo(1045);
        assertThat(MySqlSession.errorNumber(Refusal.of(Refusal.Kind.TOO_MANY_CONNECTIONS, "x"))).isEqualTo(1040);
        assertThat(MySqlSession.errorNumber(new Refusal(Refusal.Kind.EDGE, "x", null, "1235"))).isEqualTo(1235);
    }
}
