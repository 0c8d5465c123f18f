package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.DevTokenIssuer;
import io.vertx.core.Vertx;

import java.nio.file.Files;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * An edge of the shared {@link Gateway}'s fleet that trusts, next to the development issuer, a
 * local issuer standing in for GitHub Actions (kind {@code github-actions}, its JWKS found
 * through OIDC discovery), with sessions bounded by their token's expiry (no grace). Tests sign
 * GitHub's documented claim sets with {@link #github()}.
 */
final class GitHubActionsEdge implements AutoCloseable {
    private final Vertx vertx;
    private final DevTokenIssuer github;
    private final GatehouseRuntime runtime;

    private GitHubActionsEdge(Vertx vertx, DevTokenIssuer github, GatehouseRuntime runtime) {
        this.vertx = vertx;
        this.github = github;
        this.runtime = runtime;
    }

    /**
     * @param audience         the audience GitHub tokens must carry
     * @param decisionDeadline the edge's decision deadline
     * @param connections      the edge's catalog
     */
    static GitHubActionsEdge start(Gateway gw, String edgeId, String audience, String decisionDeadline,
                                   List<GatehouseConfig.Connection> connections) throws Exception {
        Vertx vertx = Vertx.vertx();
        GatehouseRuntime runtime = null;
        try {
            DevTokenIssuer github = DevTokenIssuer.load(Files.createTempDirectory("github-issuer"));
            github.serve(vertx, "127.0.0.1", 0).await(30, TimeUnit.SECONDS);
            DevTokenIssuer dev = gw.env.issuer();
            var base = EdgeConfigs.edge(edgeId, gw.dataDir.resolve(edgeId), gw.env.kafka().bootstrapServers(), "5s",
                    EdgeConfigs.plaintextListener(decisionDeadline), connections);
            GatehouseConfig config = new GatehouseConfig(base.instanceId(), base.dataDir(), base.kafka(), base.edge(),
                    base.connections(),
                    new GatehouseConfig.Identity(List.of(
                            // as in gatehouse dev: the development issuer may assert delegation (act)
                            new GatehouseConfig.Issuer(dev.issuerUrl(), dev.jwksUri(), Set.of(DevTokenIssuer.AUDIENCE),
                                    null, null, null).withDelegation(GatehouseConfig.Delegation.acceptingAct()),
                            // no jwks-uri: found through OIDC discovery
                            new GatehouseConfig.Issuer(github.issuerUrl(), null, Set.of(audience), Set.of("RS256"),
                                    null, null, "github-actions", null, null, null)),
                            "0s", null, null),
                    base.policy(), base.observability());
            runtime = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
            return new GitHubActionsEdge(vertx, github, runtime);
        } catch (Exception | Error e) {
            if (runtime != null) runtime.close();
            vertx.close().await(30, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The stand-in GitHub Actions issuer. */
    DevTokenIssuer github() {
        return github;
    }

    int edgePort() {
        return runtime.edgePort();
    }

    @Override
    public void close() throws Exception {
        runtime.close();
        vertx.close().await(30, TimeUnit.SECONDS);
    }
}
