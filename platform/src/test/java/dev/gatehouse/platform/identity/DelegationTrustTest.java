package dev.gatehouse.platform.identity;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.identity.TokenRejectedException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Delegation tokens (RFC 8693) through a real validator: who acts, for whom, and what is refused. */
class DelegationTrustTest {

    @RegisterExtension
    static final ServedIssuer SERVED = new ServedIssuer();

    private static final DelegationTrust ACCEPT_ACT = new DelegationTrust(true, null, Set.of(), 3, null, null);

    @Test
    void anActClaimMakesTheActorTheIdentityAndRecordsTheOriginatorAndEarlierActors() throws Exception {
        // Given: alice asked planner-agent, which asked executor-agent (nearest actor first)
        String token = SERVED.issuer().sign(claims(Map.of("sub", "alice", "groups", List.of("dba"),
                "act", DevTokenIssuer.actClaim("executor-agent", List.of("agents"), List.of("planner-agent")))));

        // When
        Identity identity = validator(ACCEPT_ACT).validate(token);

        // Then: rules on subject and groups see the agent, never alice's dba
        assertThat(identity.subject()).isEqualTo("executor-agent");
        assertThat(identity.groups()).containsExactly("agents");
        assertThat(identity.delegated()).isTrue();
        assertThat(identity.delegation().originator()).isEqualTo("alice");
        assertThat(identity.delegation().originatorGroups()).containsExactly("dba");
        assertThat(identity.delegation().earlierActors()).containsExactly("planner-agent");
        assertThat(identity.delegation().via()).isEqualTo("act");
        assertThat(identity.delegation().chain(identity.subject())).isEqualTo("alice → planner-agent → executor-agent");
    }

    @Test
    void anIssuerNotTrustedToAssertDelegationHasItsActTokensRefused() throws Exception {
        String token = SERVED.issuer().sign(claims(Map.of("sub", "alice", "act", Map.of("sub", "planner-agent"))));

        TokenRejectedException e = catchThrowableOfType(TokenRejectedException.class,
                () -> validator(DelegationTrust.NONE).validate(token));

        assertThat(e.reason()).isEqualTo(Reason.DELEGATION_REFUSED);
        assertThat(e).hasMessageContaining("not trusted to assert delegation").hasMessageContaining("accept-act");
    }

    @Test
    void aChainDeeperThanTheLimitIsRefused() throws Exception {
        String token = SERVED.issuer().sign(claims(Map.of("sub", "alice",
                "act", DevTokenIssuer.actClaim("a3", List.of(), List.of("a2", "a1")))));
        DelegationTrust two = new DelegationTrust(true, null, Set.of(), 2, null, null);

        assertThat(validator(ACCEPT_ACT).validate(token).delegation().earlierActors()).containsExactly("a2", "a1");
        assertThatThrownBy(() -> validator(two).validate(token)).isInstanceOf(TokenRejectedException.class)
                .hasMessageContaining("deeper than the 2 actors");
    }

    @Test
    void aChainNamingTheSubjectAsActorIsRefused() throws Exception {
        String self = SERVED.issuer().sign(claims(Map.of("sub", "alice", "act", Map.of("sub", "alice"))));
        String loop = SERVED.issuer().sign(claims(Map.of("sub", "alice",
                "act", DevTokenIssuer.actClaim("planner-agent", List.of(), List.of("alice")))));

        assertThatThrownBy(() -> validator(ACCEPT_ACT).validate(self)).hasMessageContaining("cannot act for itself");
        assertThatThrownBy(() -> validator(ACCEPT_ACT).validate(loop)).hasMessageContaining("cannot act for itself");
    }

    @Test
    void anActClaimThatNamesNoActorIsRefused() throws Exception {
        String notAnObject = SERVED.issuer().sign(claims(Map.of("sub", "alice", "act", "planner-agent")));
        String noSub = SERVED.issuer().sign(claims(Map.of("sub", "alice", "act", Map.of("client_id", "planner-agent"))));

        assertThatThrownBy(() -> validator(ACCEPT_ACT).validate(notAnObject)).hasMessageContaining("naming its actor in `sub`");
        assertThatThrownBy(() -> validator(ACCEPT_ACT).validate(noSub)).hasMessageContaining("naming its actor in `sub`");
    }

    @Test
    void mayActWithoutActIsNoDelegation() throws Exception {
        String token = SERVED.issuer().sign(claims(Map.of("sub", "alice", "groups", List.of("dba"),
                "may_act", Map.of("sub", "planner-agent"))));

        Identity identity = validator(ACCEPT_ACT).validate(token);

        assertThat(identity.delegated()).isFalse();
        assertThat(identity.subject()).isEqualTo("alice");
        assertThat(identity.groups()).containsExactly("dba");
    }

    @Test
    void aConfiguredActorClaimNamesTheAgentUnlessItIsAHumanLoginClientOrTheClientItself() throws Exception {
        // Given: Keycloak's standard token exchange names the requesting client in azp
        DelegationTrust azp = new DelegationTrust(false, "azp", Set.of("gatehouse-cli"), 3, null, null);
        String exchanged = SERVED.issuer().sign(claims(Map.of("sub", "8709ee7e", "azp", "planner-agent", "groups", List.of("dba"))));
        String login = SERVED.issuer().sign(claims(Map.of("sub", "8709ee7e", "azp", "gatehouse-cli")));
        String serviceAccount = SERVED.issuer().sign(claims(Map.of("sub", "5c1e", "azp", "planner-agent", "client_id", "planner-agent")));

        // When
        Identity agent = validator(azp).validate(exchanged);

        // Then
        assertThat(agent.subject()).isEqualTo("planner-agent");
        assertThat(agent.groups()).isEmpty();
        assertThat(agent.delegation().originator()).isEqualTo("8709ee7e");
        assertThat(agent.delegation().originatorGroups()).containsExactly("dba");
        assertThat(agent.delegation().via()).isEqualTo("azp");
        assertThat(validator(azp).validate(login).delegated()).isFalse();
        assertThat(validator(azp).validate(serviceAccount).delegated()).isFalse();
    }

    @Test
    void signedRunAndStepClaimsAreAVerifiedIntent() throws Exception {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("sub", "alice");
        c.put("act", Map.of("sub", "planner-agent"));
        c.put("agent_run_id", "run-17");
        c.put("agent_step_id", "4");
        String token = SERVED.issuer().sign(claims(c));

        Identity identity = validator(ACCEPT_ACT).validate(token);

        assertThat(identity.intent()).isEqualTo(new DeclaredIntent("run-17", "4", true, DeclaredIntent.TOKEN));
        assertThat(identity.intent().describe()).isEqualTo("run run-17 step 4 (signed by the issuer)");
    }

    @Test
    void badSettingsAreRefusedWithTheirName() {
        assertThatThrownBy(() -> new DelegationTrust(true, null, Set.of(), 0, null, null)).hasMessageContaining("max-depth");
        assertThatThrownBy(() -> new DelegationTrust(true, "act", Set.of(), 3, null, null)).hasMessageContaining("accept-act");
    }

    private static TokenValidator validator(DelegationTrust trust) {
        return new TokenValidator(List.of(new TrustedIssuer(SERVED.issuer().issuerUrl(), SERVED.issuer().jwksUri(), Set.of("gatehouse"),
                Set.of(JWSAlgorithm.RS256), null, IssuerKind.GENERIC, null, trust)));
    }

    /** The given claims plus iss, aud, iat, nbf and exp. */
    private static JWTClaimsSet claims(Map<String, Object> claims) {
        Map<String, Object> withAudience = new LinkedHashMap<>(claims);
        withAudience.put("aud", "gatehouse");
        return SERVED.claims(withAudience);
    }
}
