package dev.gatehouse.deploy.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplayTargetTest {

    @Test
    void aLibpqUriBecomesAJdbcUrlWithoutShowingThePassword() {
        // When
        ReplayTarget target = ReplayTarget.parse("postgresql://bob:s%40cret@db.example:6543/scratch?sslmode=require", null, null);

        // Then
        assertThat(target.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/scratch?sslmode=require");
        assertThat(target.properties()).containsEntry("user", "bob").containsEntry("password", "s@cret");
        assertThat(target.display()).isEqualTo("postgresql://bob@db.example:6543/scratch?sslmode=require").doesNotContain("cret");
    }

    @Test
    void optionsOverrideTheUrlsCredentialsAndAJdbcPasswordIsHidden() {
        // When
        ReplayTarget target = ReplayTarget.parse("jdbc:postgresql://h/db?user=x&password=hunter2", "replayer", "pw");

        // Then
        assertThat(target.jdbcUrl()).isEqualTo("jdbc:postgresql://h/db?user=x&password=hunter2");
        assertThat(target.properties()).containsEntry("user", "replayer").containsEntry("password", "pw");
        assertThat(target.toString()).doesNotContain("hunter2");
    }

    @Test
    void anythingElseIsRefused() {
        // When / Then
        assertThatThrownBy(() -> ReplayTarget.parse("mysql://u:secret@h/db", null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--target must be")
                .hasMessageNotContaining("secret");
    }
}
