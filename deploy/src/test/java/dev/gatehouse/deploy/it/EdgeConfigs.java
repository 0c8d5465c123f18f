package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.dev.DevTokenIssuer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Configurations of extra edges for tests: same issuer as the fixture, free ports. */
final class EdgeConfigs {
    private EdgeConfigs() {
    }

    static GatehouseConfig.Connection connection(String name, DemoTarget target, String mode) {
        return new GatehouseConfig.Connection(name, target.host(), target.port(), DemoTarget.DATABASE, target.role(),
                target.password(), false, null, mode, Map.of());
    }

    /** A connection over TLS to {@code target}, trusting {@code ca} (null: the JDK's default trust store). */
    static GatehouseConfig.Connection tlsConnection(String name, DemoTarget target, Path ca) {
        return new GatehouseConfig.Connection(name, target.host(), target.port(), DemoTarget.DATABASE, target.role(),
                target.password(), true, ca, "enforce", Map.of());
    }

    static GatehouseConfig edge(String instanceId, Path dir, String bootstrapServers, String deliveryTimeout,
                                GatehouseConfig.Postgres listener, List<GatehouseConfig.Connection> connections) {
        DevTokenIssuer issuer = Gateway.get().env.issuer();
        return new GatehouseConfig(instanceId, dir,
                new GatehouseConfig.Kafka(bootstrapServers, 3, 1, null, deliveryTimeout, Map.of()),
                new GatehouseConfig.Edge(listener),
                connections,
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(issuer.issuerUrl(), issuer.jwksUri(),
                        Set.of(DevTokenIssuer.AUDIENCE), null, null, null))),
                new GatehouseConfig.Policy(null),
                new GatehouseConfig.Observability("127.0.0.1", 0));
    }

    static GatehouseConfig.Postgres plaintextListener(String decisionDeadline) {
        return new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, decisionDeadline, null, null);
    }
}
