package dev.gatehouse.platform.identity;

import com.nimbusds.jose.JWSAlgorithm;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.identity.TokenRejectedException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Issuer kinds and their claim mappings, on tokens with the claim sets the providers document. */
class ClaimMappingTest {

    @RegisterExtension
    static final ServedIssuer SERVED = new ServedIssuer();

    @Test
    void keycloakTokensGiveRelativeGroupPathsRealmRolesAndClientRoles() throws Exception {
        // Given: the access token Keycloak 26 issues to a user in group /ops/dba (password grant)
        TokenValidator validator = validator(IssuerKind.KEYCLOAK, ClaimMapping.defaults(IssuerKind.KEYCLOAK), "gatehouse");
        String token = SERVED.issuer().sign(SERVED.claims(Map.of(
                "aud", List.of("gatehouse", "account"),
                "sub", "8709ee7e-e964-4bd1-9ee9-e29eb5cf2fdb",
                "typ", "Bearer",
                "azp", "gatehouse-cli",
                "realm_access", Map.of("roles", List.of("offline_access", "default-roles-gatehouse", "db-reader")),
                "resource_access", Map.of("gatehouse", Map.of("roles", List.of("auditor")),
                        "account", Map.of("roles", List.of("view-profile"))),
                "groups", List.of("/ops/dba", "/auditors"),
                "preferred_username", "alice")));

        // When
        Identity identity = validator.validate(token);

        // Then
        assertThat(identity.subject()).isEqualTo("8709ee7e-e964-4bd1-9ee9-e29eb5cf2fdb");
        assertThat(identity.groups()).containsExactly("ops/dba", "auditors");
        assertThat(identity.roles()).containsExactlyInAnyOrder("offline_access", "default-roles-gatehouse", "db-reader",
                "gatehouse:auditor", "account:view-profile");
        assertThat(identity.ci()).isNull();
        assertThat(identity.claims()).containsEntry("preferred_username", "alice");
    }

    @Test
    void subjectClaimAndGroupPathsAreConfigurable() throws Exception {
        // Given
        ClaimMapping mapping = ClaimMapping.of(IssuerKind.KEYCLOAK, "preferred_username", null, List.of("realm_access.roles"),
                ClaimMapping.GroupPaths.LEAF);
        TokenValidator validator = validator(IssuerKind.KEYCLOAK, mapping, "gatehouse");
        String token = SERVED.issuer().sign(SERVED.claims(Map.of("aud", "gatehouse", "sub", "8709ee7e", "preferred_username", "alice",
                "groups", List.of("/ops/dba", "/dev/dba", "/oncall"),
                "realm_access", Map.of("roles", List.of("db-reader")),
                "resource_access", Map.of("gatehouse", Map.of("roles", List.of("auditor"))))));

        // When
        Identity identity = validator.validate(token);

        // Then
        assertThat(identity.subject()).isEqualTo("alice");
        assertThat(identity.groups()).containsExactly("dba", "oncall");
        assertThat(identity.roles()).containsExactly("db-reader");
    }

    @Test
    void aTokenWithoutTheSubjectClaimIsRefused() {
        // Given
        ClaimMapping mapping = ClaimMapping.of(IssuerKind.GENERIC, "preferred_username", null, null, null);
        TokenValidator validator = validator(IssuerKind.GENERIC, mapping, "gatehouse");
        String token = SERVED.issuer().sign(SERVED.claims(Map.of("aud", "gatehouse", "sub", "someone")));

        // When
        TokenRejectedException e = catchThrowableOfType(TokenRejectedException.class, () -> validator.validate(token));

        // Then
        assertThat(e.reason()).isEqualTo(Reason.MISSING_CLAIM);
        assertThat(e.getMessage()).contains("preferred_username");
    }

    @Test
    void gitHubActionsTokensCarryTheRunsProvenance() throws Exception {
        // Given: the claim set GitHub documents for a job in environment prod of a reusable workflow
        TokenValidator validator = validator(IssuerKind.GITHUB_ACTIONS, null, "https://github.com/octo-org");
        Map<String, Object> github = new java.util.LinkedHashMap<>();
        github.put("jti", "example-id");
        github.put("sub", "repo:octo-org/octo-repo:environment:prod");
        github.put("environment", "prod");
        github.put("aud", "https://github.com/octo-org");
        github.put("ref", "refs/heads/main");
        github.put("sha", "c040cae0f0dc81641728557b80f09cfa23b83fe5");
        github.put("repository", "octo-org/octo-repo");
        github.put("repository_owner", "octo-org");
        github.put("actor_id", "12");
        github.put("repository_visibility", "private");
        github.put("repository_id", "74");
        github.put("repository_owner_id", "65");
        github.put("run_id", "22259804324");
        github.put("run_number", "10");
        github.put("run_attempt", "2");
        github.put("runner_environment", "github-hosted");
        github.put("actor", "octocat");
        github.put("workflow", "example-workflow");
        github.put("head_ref", "");
        github.put("base_ref", "");
        github.put("event_name", "workflow_dispatch");
        github.put("ref_type", "branch");
        github.put("ref_protected", "true");
        github.put("workflow_ref", "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main");
        github.put("workflow_sha", "c040cae0f0dc81641728557b80f09cfa23b83fe5");
        github.put("job_workflow_ref", "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main");
        github.put("job_workflow_sha", "c9ed89cf4dacf01feb527c42a26e0a8920d14c61");
        github.put("check_run_id", "90000001");
        String token = SERVED.issuer().sign(SERVED.claims(github));

        // When
        Identity identity = validator.validate(token);

        // Then
        assertThat(identity.subject()).isEqualTo("repo:octo-org/octo-repo:environment:prod");
        assertThat(identity.groups()).isEmpty();
        assertThat(identity.roles()).isEmpty();
        assertThat(identity.ci()).isEqualTo(new CiProvenance("github-actions", "octo-org/octo-repo", "74",
                "c040cae0f0dc81641728557b80f09cfa23b83fe5", "refs/heads/main", "example-workflow", "22259804324",
                "90000001", "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
                "c040cae0f0dc81641728557b80f09cfa23b83fe5",
                "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
                "c9ed89cf4dacf01feb527c42a26e0a8920d14c61", "2", "octocat", "12", "prod", "workflow_dispatch", "true",
                "github-hosted"));
    }

    @Test
    void gitLabIdTokensCarryThePipelinesProvenance() throws Exception {
        // Given: the claim set GitLab documents for an ID token of a job deploying to production
        TokenValidator validator = validator(IssuerKind.GITLAB, null, "https://gatehouse.example.com");
        Map<String, Object> gitlab = new java.util.LinkedHashMap<>();
        gitlab.put("namespace_id", "72");
        gitlab.put("namespace_path", "my-group");
        gitlab.put("project_id", "20");
        gitlab.put("project_path", "my-group/my-project");
        gitlab.put("user_id", "1");
        gitlab.put("user_login", "sample-user");
        gitlab.put("user_email", "sample-user@example.com");
        gitlab.put("user_identities", List.of());
        gitlab.put("pipeline_id", "574");
        gitlab.put("pipeline_source", "push");
        gitlab.put("job_id", "302");
        gitlab.put("ref", "feature-branch-1");
        gitlab.put("ref_type", "branch");
        gitlab.put("ref_path", "refs/heads/feature-branch-1");
        gitlab.put("ref_protected", "false");
        gitlab.put("environment", "production");
        gitlab.put("environment_protected", "true");
        gitlab.put("deployment_tier", "production");
        gitlab.put("environment_action", "start");
        gitlab.put("runner_id", 27);
        gitlab.put("runner_environment", "gitlab-hosted");
        gitlab.put("sha", "714a629c0b401fdce83e847fc9589983fc6f46bc");
        gitlab.put("project_visibility", "public");
        gitlab.put("ci_config_ref_uri", "gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main");
        gitlab.put("ci_config_sha", "714a629c0b401fdce83e847fc9589983fc6f46bc");
        gitlab.put("jti", "235b3a54-b797-45c7-ae9a-f72d7bc6ef5b");
        gitlab.put("sub", "project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1");
        gitlab.put("aud", "https://gatehouse.example.com");
        String token = SERVED.issuer().sign(SERVED.claims(gitlab));

        // When
        Identity identity = validator.validate(token);

        // Then
        assertThat(identity.subject()).isEqualTo("project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1");
        assertThat(identity.ci()).isEqualTo(new CiProvenance("gitlab", "my-group/my-project", "20",
                "714a629c0b401fdce83e847fc9589983fc6f46bc", "refs/heads/feature-branch-1", null, "574", "302",
                "gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
                "714a629c0b401fdce83e847fc9589983fc6f46bc", null, null, null, "sample-user", "1", "production", "push",
                "false", "gitlab-hosted"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "HS256", "HS384", "HS512"})
    void symmetricAndUnsignedAlgorithmsAreAConfigurationError(String alg) {
        // When / Then
        assertThatThrownBy(() -> new TrustedIssuer(SERVED.issuer().issuerUrl(), null, Set.of("gatehouse"),
                TrustedIssuer.algorithms(Set.of("RS256", alg)), null, IssuerKind.KEYCLOAK, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(alg).hasMessageContaining("only asymmetric");
    }

    @Test
    void issuerKindsAreParsedByTheirConfigurationNames() {
        // When / Then
        assertThat(IssuerKind.parse("github-actions")).isEqualTo(IssuerKind.GITHUB_ACTIONS);
        assertThat(IssuerKind.parse(null)).isEqualTo(IssuerKind.GENERIC);
        assertThatThrownBy(() -> IssuerKind.parse("okta")).hasMessageContaining("generic, keycloak, github-actions, gitlab");
    }

    private static TokenValidator validator(IssuerKind kind, ClaimMapping mapping, String audience) {
        return new TokenValidator(List.of(new TrustedIssuer(SERVED.issuer().issuerUrl(), SERVED.issuer().jwksUri(), Set.of(audience),
                Set.of(JWSAlgorithm.RS256), null, kind, mapping)));
    }

}
