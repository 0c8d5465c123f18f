package dev.gatehouse.deploy.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.gatehouse.deploy.config.ConfigLoader;
import dev.gatehouse.deploy.config.GatehouseConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Helm chart deploy/helm/gatehouse, checked without a cluster: {@code helm lint --strict} and
 * {@code helm template} through helm-java (Helm itself, as a native library), every rendered
 * manifest read strictly into fabric8's typed Kubernetes model, each role's gatehouse.yaml loaded
 * with the project's own {@link ConfigLoader}, and what operators rely on asserted.
 *
 * <p>helm-java's template leaves Helm hooks out of its output (manusa/helm-java#416), so the chart is
 * rendered from a copy whose {@code helm.sh/hook*} annotations are renamed, and the names are put
 * back in the output: the hook resources are then rendered and checked like the others.
 */
class HelmChartTest {
    private static final Path CHART = Path.of("helm/gatehouse");
    private static final String KUBE_VERSION = "1.31.0";
    private static final String HOOK_ALIAS = "gatehouse.test/hook";
    private static final List<String> ROLES = List.of("edge", "policy", "approval", "indexer", "admin");
    private static final ObjectMapper YAML = new YAMLMapper();
    private static final long STARTED = System.nanoTime();

    /** Secret values of the inline-secrets value set: none may appear outside a Secret. */
    private static final List<String> SECRETS = List.of("kafka-edge-s3cret", "kafka-policy-s3cret", "kafka-approval-s3cret",
            "kafka-indexer-s3cret", "kafka-admin-s3cret", "kafka-provisioner-s3cret", "orders-target-s3cret",
            "indexer-db-s3cret", "xoxb-slack-s3cret", "slack-signing-s3cret", "masking-hmac-key-s3cret-0123456789");

    /** Passwords inline (the chart's own Secrets), MySQL on, autoscaling off, ServiceMonitor, Slack, masking. */
    private static final String INLINE_SECRETS = """
            kafka:
              bootstrapServers: "b-1.kafka.example:9096,b-2.kafka.example:9096"
              sasl: {mechanism: SCRAM-SHA-256}
              credentials:
                edge: {username: gh-edge, password: kafka-edge-s3cret, existingSecret: ""}
                policy: {username: gh-policy, password: kafka-policy-s3cret, existingSecret: ""}
                approval: {username: gh-approval, password: kafka-approval-s3cret, existingSecret: ""}
                indexer: {username: gh-indexer, password: kafka-indexer-s3cret, existingSecret: ""}
                admin: {username: gh-admin, password: kafka-admin-s3cret, existingSecret: ""}
              provisioning:
                credential: {username: gh-root, password: kafka-provisioner-s3cret, existingSecret: ""}
            identity:
              issuers:
                - issuer: https://login.example.com/oauth2/default
                  kind: generic
                  jwksUri: https://login.example.com/oauth2/default/v1/keys
                  audiences: [api://gatehouse]
                  algorithms: [RS256, ES256]
                  groupsClaim: groups
                  delegation: {actorClaim: azp, humanClients: [okta-cli], maxDepth: 2}
            connections:
              - {name: orders, host: orders.db, database: orders, user: gh, password: orders-target-s3cret, existingSecret: "", tls: true}
              - {name: shop-mysql, protocol: mysql, host: shop.db, port: 3306, database: shop, user: gh, mode: observe, resultCapture: {rows: 0}}
            edge:
              mysql: {enabled: true}
              autoscaling: {enabled: false}
              replicas: 3
              drainTimeoutSeconds: 45
              masking:
                profiles: |
                  profiles:
                    - name: pii
                      columns:
                        - {column: "*.email", method: hmac}
                hmacKey: {value: masking-hmac-key-s3cret-0123456789}
            approval:
              slack:
                enabled: true
                channel: "#approvals"
                botToken: {value: xoxb-slack-s3cret}
                signingSecret: {value: slack-signing-s3cret}
            indexer:
              postgres: {url: "jdbc:postgresql://pg.example:5432/audit", user: auditor, password: indexer-db-s3cret, existingSecret: ""}
              signingKey: {existingSecret: gatehouse-seal-key}
            observability:
              serviceMonitor: {enabled: true, labels: {release: prometheus}}
            """;

    /** Existing Secrets everywhere, Kafka without TLS and SASL, the PDB by maxUnavailable, no provisioning job. */
    private static final String PLAIN_KAFKA = """
            kafka:
              bootstrapServers: "kafka.infra:9092"
              tls: {enabled: false}
              sasl: {enabled: false}
              provisioning: {enabled: false}
            edge:
              podDisruptionBudget: {minAvailable: null, maxUnavailable: 1}
              service: {type: LoadBalancer}
            policy: {replicas: 3}
            """;

    @TempDir
    static Path work;
    private static Path renderableChart;
    private static final Map<String, Long> TIMINGS = new LinkedHashMap<>();

    @BeforeAll
    static void copyChartWithHooksRenamed() throws IOException {
        renderableChart = work.resolve("gatehouse");
        copyChart(CHART, renderableChart, text -> text.replace("helm.sh/hook", HOOK_ALIAS));
    }

    @AfterAll
    static void reportTimings() {
        long total = (System.nanoTime() - STARTED) / 1_000_000;
        System.out.println("HelmChartTest timings (ms): " + TIMINGS + ", whole class " + total);
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void theChartPassesStrictLint() {
        // When
        long start = System.nanoTime();
        LintResult lint = new Helm(CHART).lint().strict().call();
        TIMINGS.merge("lint", (System.nanoTime() - start) / 1_000_000, Long::sum);

        // Then
        assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
        assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
    }

    @Test
    void theChartPassesStrictLintWithTheOtherValueSets() throws IOException {
        // helm-java's lint takes no values file: lint copies of the chart whose values.yaml is the
        // defaults with the value set merged in, as Helm merges them
        for (String values : List.of(INLINE_SECRETS, PLAIN_KAFKA)) {
            // Given
            Path copy = Files.createTempDirectory(work, "lint-").resolve("gatehouse");
            copyChart(CHART, copy, Function.identity());
            JsonNode merged = merge(YAML.readTree(CHART.resolve("values.yaml").toFile()), YAML.readTree(values));
            YAML.writeValue(copy.resolve("values.yaml").toFile(), merged);

            // When
            long start = System.nanoTime();
            LintResult lint = new Helm(copy).lint().strict().call();
            TIMINGS.merge("lint", (System.nanoTime() - start) / 1_000_000, Long::sum);

            // Then
            assertThat(lint.isFailed()).as("helm lint --strict: %s", lint.getMessages()).isFalse();
            assertThat(lint.getMessages()).noneMatch(m -> m.contains("[ERROR]") || m.contains("[WARNING]"));
        }
        // and lint fails on bad values
        Path bad = Files.createTempDirectory(work, "lint-").resolve("gatehouse");
        copyChart(CHART, bad, Function.identity());
        JsonNode merged = merge(YAML.readTree(CHART.resolve("values.yaml").toFile()), YAML.readTree("edge: {replicas: -1}"));
        YAML.writeValue(bad.resolve("values.yaml").toFile(), merged);
        LintResult lint = new Helm(bad).lint().strict().call();
        assertThat(lint.isFailed()).isTrue();
        assertThat(String.join("\n", lint.getMessages())).contains("/edge/replicas");
    }

    /** Helm's merge of values: maps merge key by key, anything else replaces (null too). */
    private static JsonNode merge(JsonNode base, JsonNode overlay) {
        if (!(base instanceof ObjectNode target) || !overlay.isObject()) return overlay.deepCopy();
        ObjectNode out = target.deepCopy();
        overlay.properties().forEach(e -> out.set(e.getKey(),
                out.has(e.getKey()) ? merge(out.get(e.getKey()), e.getValue()) : e.getValue().deepCopy()));
        return out;
    }

    private static void copyChart(Path from, Path to, Function<String, String> rewrite) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path source : files.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.writeString(target, rewrite.apply(Files.readString(source)));
                }
            }
        }
    }

    @Test
    void everyRoleRunsInItsOwnDeploymentWithItsOwnConfiguration() {
        for (Rendered chart : List.of(render("defaults", ""), render("inline", INLINE_SECRETS), render("plain", PLAIN_KAFKA))) {
            // Then
            assertThat(chart.all(Deployment.class)).extracting(d -> d.getMetadata().getLabels().get("app.kubernetes.io/component"))
                    .as(chart.name).containsExactlyInAnyOrderElementsOf(ROLES);
            for (String role : ROLES) {
                Deployment deployment = chart.deployment(role);
                Container container = onlyContainer(deployment.getSpec().getTemplate().getSpec());
                assertThat(container.getImage()).isEqualTo("gatehouse:0.1.0-SNAPSHOT");
                assertThat(container.getArgs()).as("%s %s", chart.name, role)
                        .containsExactly("run", "--config", "/etc/gatehouse/gatehouse.yaml", "--roles", role);
                assertThat(env(container).get("POD_NAME").getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");

                GatehouseConfig config = chart.config(deployment);
                assertThat(config.instanceId()).as("instance-id is the pod's name").isEqualTo("gh-" + role + "-7d9f-abcde");
                assertThat(config.observability().port()).isEqualTo(9464);
                assertThat(config.observability().host()).isEqualTo("0.0.0.0");
                assertThat(config.kafka().provisionTopics()).as("the job provisions topics, not the roles").isFalse();
                assertThat(config.identity().issuers()).isNotEmpty();
                assertThat(config.connections().isEmpty()).as("only the edge holds the catalog (and its passwords)")
                        .isEqualTo(!role.equals("edge"));
            }
        }
    }

    @Test
    void probesTellTheTruthOnTheObservabilityPort() {
        Rendered chart = render("defaults", "");
        for (String role : ROLES) {
            // Given
            Container container = onlyContainer(chart.deployment(role).getSpec().getTemplate().getSpec());

            // Then
            assertThat(container.getPorts()).anySatisfy(p -> {
                assertThat(p.getName()).isEqualTo("metrics");
                assertThat(p.getContainerPort()).isEqualTo(9464);
            });
            assertHttpProbe(container.getLivenessProbe(), "/health/live");
            assertHttpProbe(container.getReadinessProbe(), "/health/ready");
            assertHttpProbe(container.getStartupProbe(), "/health/live");
            assertThat(container.getStartupProbe().getFailureThreshold() * container.getStartupProbe().getPeriodSeconds())
                    .as("time a JVM gets to start").isGreaterThanOrEqualTo(60);
            assertThat(container.getReadinessProbe().getPeriodSeconds()).isLessThanOrEqualTo(container.getLivenessProbe().getPeriodSeconds());
            Map<String, String> annotations = chart.deployment(role).getSpec().getTemplate().getMetadata().getAnnotations();
            assertThat(annotations).containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", "9464")
                    .containsEntry("prometheus.io/path", "/metrics").containsKey("checksum/config");
        }
    }

    @Test
    void eachRoleLogsInToKafkaWithItsOwnCredential() {
        for (Rendered chart : List.of(render("defaults", ""), render("inline", INLINE_SECRETS))) {
            Map<String, String> jaasByRole = new HashMap<>();
            Map<String, String> secretByRole = new HashMap<>();
            for (String role : ROLES) {
                // Given
                Deployment deployment = chart.deployment(role);
                Container container = onlyContainer(deployment.getSpec().getTemplate().getSpec());
                SecretKeySelector ref = env(container).get("GATEHOUSE_KAFKA_PASSWORD").getValueFrom().getSecretKeyRef();

                // When
                GatehouseConfig config = chart.config(deployment);

                // Then
                Map<String, String> properties = config.kafka().properties();
                assertThat(properties).containsEntry("security.protocol", "SASL_SSL").containsEntry("ssl.truststore.type", "PEM")
                        .containsEntry("ssl.truststore.location", "/etc/gatehouse/kafka-ca/ca.crt");
                assertThat(properties.get("sasl.jaas.config"))
                        .contains("password=\"" + fakeValue("GATEHOUSE_KAFKA_PASSWORD", role) + "\"")
                        .endsWith(";");
                assertThat(mountedSecretItems(deployment.getSpec().getTemplate().getSpec()))
                        .as("the brokers' CA is mounted where the properties say").contains("kafka-ca/ca.crt");
                jaasByRole.put(role, properties.get("sasl.jaas.config"));
                secretByRole.put(role, ref.getName() + "/" + ref.getKey());
            }
            assertThat(Set.copyOf(jaasByRole.values())).as(chart.name + ": one user per role").hasSize(ROLES.size());
            assertThat(Set.copyOf(secretByRole.values())).as(chart.name + ": one password Secret per role").hasSize(ROLES.size());
            assertThat(jaasByRole.get("policy")).contains("username=\"" + (chart.name.equals("inline") ? "gh-policy" : "gatehouse-policy") + "\"");
        }
        Rendered inline = render("inline", INLINE_SECRETS);
        assertThat(inline.config(inline.deployment("edge")).kafka().properties())
                .containsEntry("sasl.mechanism", "SCRAM-SHA-256")
                .hasEntrySatisfying("sasl.jaas.config", j -> assertThat(j).startsWith("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"gh-edge\""));
        Rendered plain = render("plain", PLAIN_KAFKA);
        assertThat(plain.config(plain.deployment("edge")).kafka().properties()).containsOnly(Map.entry("security.protocol", "PLAINTEXT"));
        assertThat(env(onlyContainer(plain.deployment("edge").getSpec().getTemplate().getSpec()))).doesNotContainKey("GATEHOUSE_KAFKA_PASSWORD");
    }

    @Test
    void secretsStayInSecretsAndNeverInTheConfigMap() {
        // Given
        Rendered chart = render("inline", INLINE_SECRETS);

        // When
        String configMaps = chart.all(ConfigMap.class).stream().flatMap(c -> c.getData().values().stream())
                .collect(Collectors.joining("\n"));
        String secrets = chart.all(Secret.class).stream().flatMap(s -> s.getData().values().stream())
                .map(v -> new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)).collect(Collectors.joining("\n"));
        String podSpecs = chart.all(Deployment.class).stream().map(d -> d.getSpec().getTemplate().getSpec().toString())
                .collect(Collectors.joining("\n"));

        // Then
        for (String secret : SECRETS) {
            assertThat(configMaps).as("ConfigMaps").doesNotContain(secret);
            assertThat(podSpecs).as("pod specs").doesNotContain(secret);
            assertThat(secrets).as("the chart's Secrets").contains(secret);
        }
        Container edge = onlyContainer(chart.deployment("edge").getSpec().getTemplate().getSpec());
        GatehouseConfig edgeConfig = chart.config(chart.deployment("edge"));
        assertThat(edgeConfig.connections()).hasSize(2);
        assertThat(edgeConfig.connections().getFirst().password()).isEqualTo(fakeValue("GATEHOUSE_TARGET_ORDERS_PASSWORD", "edge"));
        assertThat(edgeConfig.connections().get(1).password()).as("no password given, none rendered").isNull();
        assertThat(edgeConfig.connections().get(1).protocol()).isEqualTo("mysql");
        assertThat(edgeConfig.connections().get(1).mode()).isEqualTo("observe");
        assertThat(edgeConfig.connections().get(1).resultCapture().rows()).isZero();
        assertThat(env(edge).get("GATEHOUSE_TARGET_ORDERS_PASSWORD").getValueFrom().getSecretKeyRef())
                .satisfies(r -> assertThat(r.getName() + "/" + r.getKey()).isEqualTo("gh-gatehouse-targets/orders"));
        assertThat(env(edge)).containsKey("GATEHOUSE_MASKING_HMAC_KEY");
        assertThat(edgeConfig.edge().masking().profilesFile()).hasToString("/etc/gatehouse/masking.yaml");
        Container indexer = onlyContainer(chart.deployment("indexer").getSpec().getTemplate().getSpec());
        GatehouseConfig indexerConfig = chart.config(chart.deployment("indexer"));
        assertThat(indexerConfig.indexer().store()).isEqualTo("postgres");
        assertThat(indexerConfig.indexer().postgres().passwordEnv()).isEqualTo("GATEHOUSE_INDEXER_DB_PASSWORD");
        assertThat(env(indexer)).containsKey("GATEHOUSE_INDEXER_DB_PASSWORD");
        assertThat(indexerConfig.indexer().signingKeyFile(Path.of("/var/lib/gatehouse"))).hasToString("/etc/gatehouse/indexer/signing-key.pem");
        GatehouseConfig approvalConfig = chart.config(chart.deployment("approval"));
        assertThat(approvalConfig.approval().slack()).isNotNull();
        assertThat(env(onlyContainer(chart.deployment("approval").getSpec().getTemplate().getSpec())))
                .containsKeys("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET");

        // and with existing Secrets (the defaults) the chart renders no Secret of its own
        assertThat(render("defaults", "").all(Secret.class)).isEmpty();
    }

    @Test
    void anIssuersDelegationSettingsReachEveryRolesConfiguration() {
        // When
        Rendered inline = render("inline", INLINE_SECRETS);
        Rendered defaults = render("defaults", "");

        // Then: as given, and no delegation trusted unless configured
        var trust = inline.config(inline.deployment("edge")).identity().issuers().getFirst().delegation().trust();
        assertThat(trust.actorClaim()).isEqualTo("azp");
        assertThat(trust.humanClients()).containsExactly("okta-cli");
        assertThat(trust.maxDepth()).isEqualTo(2);
        assertThat(trust.acceptAct()).isFalse();
        var none = defaults.config(defaults.deployment("edge")).identity().issuers().getFirst().delegation().trust();
        assertThat(none.acceptAct()).isFalse();
        assertThat(none.actorClaim()).isNull();
    }

    @Test
    void theProvisioningJobRunsBeforeInstallAndUpgradeWithTheRolesPrincipals() {
        // Given
        Rendered chart = render("inline", INLINE_SECRETS);

        // When
        Job job = chart.only(Job.class);
        ConfigMap jobConfig = chart.named(ConfigMap.class, "gh-gatehouse-kafka-provision");

        // Then
        assertThat(job.getMetadata().getAnnotations()).containsEntry("helm.sh/hook", "pre-install,pre-upgrade")
                .containsEntry("helm.sh/hook-weight", "0");
        assertThat(jobConfig.getMetadata().getAnnotations()).containsEntry("helm.sh/hook", "pre-install,pre-upgrade")
                .containsEntry("helm.sh/hook-weight", "-10");
        Secret jobSecret = chart.named(Secret.class, "gh-gatehouse-kafka-provisioner");
        assertThat(jobSecret.getMetadata().getAnnotations()).containsEntry("helm.sh/hook", "pre-install,pre-upgrade");
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        assertThat(pod.getRestartPolicy()).isEqualTo("Never");
        Container container = onlyContainer(pod);
        assertThat(container.getArgs()).containsExactly("kafka", "provision", "--config", "/etc/gatehouse/gatehouse.yaml");
        assertThat(env(container).get("GATEHOUSE_KAFKA_PASSWORD").getValueFrom().getSecretKeyRef().getName())
                .isEqualTo("gh-gatehouse-kafka-provisioner");
        GatehouseConfig config = ConfigLoader.parse(jobConfig.getData().get("gatehouse.yaml"), envOf(container, "job"), "job");
        assertThat(config.kafka().aclPrincipals()).isEqualTo(Map.of("edge", "User:gh-edge", "policy", "User:gh-policy",
                "approval", "User:gh-approval", "indexer", "User:gh-indexer", "admin", "User:gh-admin"));
        assertThat(config.kafka().properties().get("sasl.jaas.config")).contains("username=\"gh-root\"");
        assertThat(projectedConfigMaps(pod)).containsExactly("gh-gatehouse-kafka-provision");

        // the defaults: existing Secret, the chart's default principals; disabled: no job at all
        Rendered defaults = render("defaults", "");
        assertThat(env(onlyContainer(defaults.only(Job.class).getSpec().getTemplate().getSpec())).get("GATEHOUSE_KAFKA_PASSWORD")
                .getValueFrom().getSecretKeyRef().getName()).isEqualTo("gatehouse-kafka-provisioner");
        assertThat(defaults.all(Secret.class)).isEmpty();
        assertThat(render("plain", PLAIN_KAFKA).all(Job.class)).isEmpty();
    }

    @Test
    void edgesDrainWithinTheirGracePeriod() {
        for (Rendered chart : List.of(render("defaults", ""), render("inline", INLINE_SECRETS))) {
            // Given
            Deployment edge = chart.deployment("edge");

            // When
            Duration drain = chart.config(edge).edge().drainTimeoutDuration();
            long grace = edge.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();
            Container container = onlyContainer(edge.getSpec().getTemplate().getSpec());
            long preStop = Optional.ofNullable(container.getLifecycle()).map(l -> l.getPreStop().getSleep().getSeconds()).orElse(0L);

            // Then
            assertThat(drain).isEqualTo(chart.name.equals("inline") ? Duration.ofSeconds(45) : Duration.ofSeconds(20));
            assertThat(grace).as("%s: grace period > preStop sleep + drain timeout", chart.name).isGreaterThan(preStop + drain.toSeconds());
        }
    }

    @Test
    void theEdgeServiceAutoscalerAndDisruptionBudgetTargetTheEdges() {
        // Given
        Rendered defaults = render("defaults", "");
        Deployment edge = defaults.deployment("edge");
        Map<String, String> podLabels = edge.getSpec().getTemplate().getMetadata().getLabels();

        // Then
        HorizontalPodAutoscaler hpa = defaults.only(HorizontalPodAutoscaler.class);
        assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("Deployment");
        assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo(edge.getMetadata().getName());
        assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
        assertThat(hpa.getSpec().getMetrics().getFirst().getResource().getName()).isEqualTo("cpu");
        assertThat(edge.getSpec().getReplicas()).as("the HPA owns the count").isNull();
        PodDisruptionBudget pdb = defaults.only(PodDisruptionBudget.class);
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
        assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
        assertThat(otherRolesMatch(defaults, pdb.getSpec().getSelector().getMatchLabels())).isEmpty();
        Service service = defaults.named(Service.class, "gh-gatehouse-edge");
        assertThat(service.getSpec().getType()).isEqualTo("ClusterIP");
        assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
        assertThat(service.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(15432);
        assertServicePortsExist(defaults);

        // MySQL on, autoscaling off
        Rendered inline = render("inline", INLINE_SECRETS);
        assertThat(inline.named(Service.class, "gh-gatehouse-edge").getSpec().getPorts()).extracting(ServicePort::getPort)
                .containsExactly(15432, 13306);
        assertThat(inline.config(inline.deployment("edge")).edge().mysql().port()).isEqualTo(13306);
        assertThat(inline.all(HorizontalPodAutoscaler.class)).isEmpty();
        assertThat(inline.deployment("edge").getSpec().getReplicas()).isEqualTo(3);
        assertServicePortsExist(inline);

        Rendered plain = render("plain", PLAIN_KAFKA);
        assertThat(plain.only(PodDisruptionBudget.class).getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(plain.only(PodDisruptionBudget.class).getSpec().getMinAvailable()).isNull();
        assertThat(plain.named(Service.class, "gh-gatehouse-edge").getSpec().getType()).isEqualTo("LoadBalancer");
        assertThat(plain.deployment("policy").getSpec().getReplicas()).isEqualTo(3);
        assertThat(defaults.deployment("policy").getSpec().getReplicas()).isEqualTo(2);
    }

    @Test
    void theHttpRolesAreReachableOnTheirPorts() {
        // Given
        Rendered chart = render("defaults", "");

        // Then
        assertThat(chart.named(Service.class, "gh-gatehouse-approval").getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(18083);
        assertThat(chart.named(Service.class, "gh-gatehouse-indexer").getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(18082);
        assertThat(chart.named(Service.class, "gh-gatehouse-admin").getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(18081);
        assertThat(chart.config(chart.deployment("approval")).approval().port()).isEqualTo(18083);
        assertThat(chart.config(chart.deployment("indexer")).indexer().port()).isEqualTo(18082);
        assertThat(chart.config(chart.deployment("admin")).admin().port()).isEqualTo(18081);
        assertThat(chart.config(chart.deployment("admin")).admin().host()).isEqualTo("0.0.0.0");
        assertThat(chart.all(ServiceMonitor.class)).as("off by default").isEmpty();

        Rendered monitored = render("inline", INLINE_SECRETS);
        ServiceMonitor monitor = monitored.only(ServiceMonitor.class);
        assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "prometheus");
        Service metrics = monitored.named(Service.class, "gh-gatehouse-metrics");
        assertThat(metrics.getMetadata().getLabels()).containsAllEntriesOf(monitor.getSpec().getSelector().getMatchLabels());
        assertThat(monitor.getSpec().getEndpoints().getFirst().getPort()).isEqualTo(metrics.getSpec().getPorts().getFirst().getName());
        assertThat(monitor.getSpec().getEndpoints().getFirst().getPath()).isEqualTo("/metrics");
    }

    @Test
    void noPodRunsAsRootOrWritesItsImage() {
        for (Rendered chart : List.of(render("defaults", ""), render("inline", INLINE_SECRETS), render("plain", PLAIN_KAFKA))) {
            List<PodSpec> pods = Stream.concat(chart.all(Deployment.class).stream().map(d -> d.getSpec().getTemplate().getSpec()),
                    chart.all(Job.class).stream().map(j -> j.getSpec().getTemplate().getSpec())).toList();
            assertThat(pods).hasSizeGreaterThanOrEqualTo(ROLES.size());
            for (PodSpec pod : pods) {
                assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
                assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(10001L);
                assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
                assertThat(pod.getAutomountServiceAccountToken()).isFalse();
                Container container = onlyContainer(pod);
                var security = container.getSecurityContext();
                assertThat(security.getRunAsNonRoot()).isTrue();
                assertThat(security.getRunAsUser()).isEqualTo(10001L);
                assertThat(security.getReadOnlyRootFilesystem()).isTrue();
                assertThat(security.getAllowPrivilegeEscalation()).isFalse();
                assertThat(security.getCapabilities().getDrop()).containsExactly("ALL");
                assertThat(security.getCapabilities().getAdd()).isNullOrEmpty();
                assertThat(security.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
                Map<String, String> emptyDirs = pod.getVolumes().stream().filter(v -> v.getEmptyDir() != null)
                        .collect(Collectors.toMap(Volume::getName, Volume::getName));
                assertThat(container.getVolumeMounts()).filteredOn(m -> emptyDirs.containsKey(m.getName()))
                        .extracting(VolumeMount::getMountPath).contains("/tmp", "/var/lib/gatehouse");
                assertThat(container.getResources().getRequests()).containsKey("memory");
                assertThat(container.getResources().getLimits()).containsKey("memory");
            }
        }
    }

    @Test
    void theNotesTellHowToConnect() {
        // When
        long start = System.nanoTime();
        String notes = new Helm(renderableChart).install().withName("gh").withNamespace("gatehouse").withKubeVersion(KUBE_VERSION)
                .set("edge.mysql.enabled", "true").dryRun().clientOnly().call().getOutput();
        TIMINGS.merge("install --dry-run", (System.nanoTime() - start) / 1_000_000, Long::sum);

        // Then
        assertThat(notes).contains("kubectl -n gatehouse port-forward svc/gh-gatehouse-edge 15432:15432 13306:13306")
                .contains("psql \"host=127.0.0.1 port=15432 dbname=<connection> user=$USER password=$TOKEN sslmode=require\"")
                .contains("mysql -h 127.0.0.1 -P 13306")
                .contains("https://keycloak.example.com/realms/gatehouse")
                .contains("gh-gatehouse-edge.gatehouse.svc:15432")
                .contains("indexer.signingKey.existingSecret is not set");
    }

    // --- strictness and bad values ----------------------------------------------------------------

    @Test
    void aMisspelledFieldInAManifestIsRejected() {
        // Given
        String good = firstDocumentOf(render("defaults", "").yaml, "kind: Deployment");

        // When / Then: the rendered text is accepted as is ...
        assertThat(StrictManifests.parse(good)).hasSize(1);
        // ... and rejected with one field misspelled, at the top and deep in the pod template
        assertThatThrownBy(() -> StrictManifests.parse(good.replace("revisionHistoryLimit:", "revisionHistoryLimt:")))
                .hasMessageContaining("revisionHistoryLimt");
        assertThatThrownBy(() -> StrictManifests.parse(good.replace("readOnlyRootFilesystem:", "readOnlyRootFileSystem:")))
                .hasMessageContaining("readOnlyRootFileSystem");
        assertThatThrownBy(() -> StrictManifests.parse(good.replace("failureThreshold:", "failureTreshold:")))
                .hasMessageContaining("failureTreshold");
        assertThatThrownBy(() -> StrictManifests.parse(good.replace("kind: Deployment", "kind: Deploymnt")))
                .hasMessageContaining("unexpected manifest apps/v1/Deploymnt");
        assertThatThrownBy(() -> StrictManifests.parse(good + "\nspec: {}\n")).hasMessageContaining("spec");
    }

    @Test
    void badValuesFailWithAMessageNamingTheKey() {
        assertThatThrownBy(() -> render("negative replicas", "policy: {replicas: -1}"))
                .hasMessageContaining("/policy/replicas").hasMessageContaining("minimum");
        assertThatThrownBy(() -> render("no bootstrap", "kafka: {bootstrapServers: \"\"}"))
                .hasMessageContaining("/kafka/bootstrapServers");
        assertThatThrownBy(() -> render("bootstrap without port", "kafka: {bootstrapServers: kafka-0}"))
                .hasMessageContaining("/kafka/bootstrapServers").hasMessageContaining("pattern");
        assertThatThrownBy(() -> render("typo", "edge: {replica: 2}"))
                .hasMessageContaining("replica");
        assertThatThrownBy(() -> render("service type", "edge: {service: {type: Ingress}}"))
                .hasMessageContaining("/edge/service/type");
        assertThatThrownBy(() -> render("issuer without audience", "identity: {issuers: [{issuer: \"https://idp.example\", audiences: []}]}"))
                .hasMessageContaining("/identity/issuers/0/audiences");
        assertThatThrownBy(() -> render("no credential", "kafka: {credentials: {indexer: {username: x, existingSecret: \"\"}}}"))
                .hasMessageContaining("kafka.credentials.indexer: set kafka.credentials.indexer.existingSecret");
        assertThatThrownBy(() -> render("no tls", "edge: {tls: {secretName: \"\"}}"))
                .hasMessageContaining("edge.tls.secretName");
        assertThatThrownBy(() -> render("both pdb", "edge: {podDisruptionBudget: {minAvailable: 1, maxUnavailable: 1}}"))
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> render("jaas override", "kafka: {extraProperties: {sasl.jaas.config: x}}"))
                .hasMessageContaining("kafka.extraProperties.sasl.jaas.config");
        assertThatThrownBy(() -> render("drain", "edge: {drainTimeoutSeconds: 0}"))
                .hasMessageContaining("/edge/drainTimeoutSeconds");
    }

    // --- helpers ----------------------------------------------------------------------------------

    private static String firstDocumentOf(String yaml, String containing) {
        return Stream.of(yaml.split("(?m)^---\\s*$")).filter(d -> d.contains(containing)).findFirst().orElseThrow();
    }

    private static void assertHttpProbe(Probe probe, String path) {
        assertThat(probe).isNotNull();
        assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
        assertThat(probe.getHttpGet().getPort().getIntVal()).isEqualTo(9464);
        assertThat(probe.getPeriodSeconds()).isPositive();
        assertThat(probe.getTimeoutSeconds()).isPositive();
        assertThat(probe.getFailureThreshold()).isGreaterThanOrEqualTo(2);
    }

    /** Every Service's target ports are named ports of the pods it selects. */
    private static void assertServicePortsExist(Rendered chart) {
        for (Service service : chart.all(Service.class)) {
            List<Deployment> selected = chart.all(Deployment.class).stream()
                    .filter(d -> d.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(service.getSpec().getSelector().entrySet()))
                    .toList();
            assertThat(selected).as("pods of Service %s", service.getMetadata().getName()).isNotEmpty();
            for (Deployment d : selected) {
                Set<String> names = onlyContainer(d.getSpec().getTemplate().getSpec()).getPorts().stream()
                        .map(p -> p.getName()).collect(Collectors.toSet());
                assertThat(service.getSpec().getPorts()).allSatisfy(p -> assertThat(names).contains(p.getTargetPort().getStrVal()));
            }
        }
    }

    private static List<String> otherRolesMatch(Rendered chart, Map<String, String> selector) {
        return chart.all(Deployment.class).stream()
                .filter(d -> d.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
                .map(d -> d.getMetadata().getName()).filter(n -> !n.endsWith("-edge")).toList();
    }

    private static Container onlyContainer(PodSpec pod) {
        assertThat(pod.getContainers()).hasSize(1);
        return pod.getContainers().getFirst();
    }

    private static Map<String, EnvVar> env(Container container) {
        return container.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, Function.identity()));
    }

    private static List<String> mountedSecretItems(PodSpec pod) {
        return pod.getVolumes().stream().filter(v -> v.getProjected() != null)
                .flatMap(v -> v.getProjected().getSources().stream())
                .filter(s -> s.getSecret() != null).flatMap(s -> s.getSecret().getItems().stream()).map(i -> i.getPath()).toList();
    }

    private static List<String> projectedConfigMaps(PodSpec pod) {
        return pod.getVolumes().stream().filter(v -> v.getProjected() != null)
                .flatMap(v -> v.getProjected().getSources().stream())
                .filter(s -> s.getConfigMap() != null).map(s -> s.getConfigMap().getName()).toList();
    }

    /** The fake value the environment of a test pod gives a variable. */
    private static String fakeValue(String variable, String pod) {
        return "fake-" + variable + "-of-" + pod;
    }

    /**
     * The pod's environment as a test stands it in: POD_NAME a pod name, every other variable a fake
     * value. A ${...} placeholder of the configuration that the pod does not set stays unset, and
     * {@link ConfigLoader} then fails naming it.
     */
    private static Function<String, String> envOf(Container container, String pod) {
        Map<String, String> env = new HashMap<>();
        for (EnvVar variable : container.getEnv()) {
            env.put(variable.getName(), variable.getName().equals("POD_NAME") ? "gh-" + pod + "-7d9f-abcde"
                    : variable.getValue() != null ? variable.getValue() : fakeValue(variable.getName(), pod));
        }
        return env::get;
    }

    /** Renderings by value set: each is made once per run (they are read, never changed). */
    private static final Map<String, Rendered> RENDERED = new java.util.concurrent.ConcurrentHashMap<>();

    private Rendered render(String name, String values) {
        Rendered done = RENDERED.get(values);
        if (done != null) return done;
        Rendered fresh = renderNow(name, values);
        RENDERED.put(values, fresh);
        return fresh;
    }

    private Rendered renderNow(String name, String values) {
        long start = System.nanoTime();
        try {
            Path file = Files.createTempFile(work, "values-", ".yaml");
            Files.writeString(file, values);
            TemplateCommand template = new Helm(renderableChart).template().withName("gh").withNamespace("gatehouse")
                    .withKubeVersion(KUBE_VERSION).withValuesFile(file);
            String yaml = template.call().replace(HOOK_ALIAS, "helm.sh/hook");
            return new Rendered(name, yaml, StrictManifests.parse(yaml));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            TIMINGS.merge("template", (System.nanoTime() - start) / 1_000_000, Long::sum);
        }
    }

    /** One rendering of the chart: its text and its manifests, typed. */
    private record Rendered(String name, String yaml, List<HasMetadata> objects) {
        <T extends HasMetadata> List<T> all(Class<T> type) {
            return objects.stream().filter(type::isInstance).map(type::cast).toList();
        }

        <T extends HasMetadata> T only(Class<T> type) {
            List<T> found = all(type);
            assertThat(found).as("%s: one %s", name, type.getSimpleName()).hasSize(1);
            return found.getFirst();
        }

        <T extends HasMetadata> T named(Class<T> type, String objectName) {
            return all(type).stream().filter(o -> o.getMetadata().getName().equals(objectName)).findFirst()
                    .orElseThrow(() -> new AssertionError(name + ": no " + type.getSimpleName() + " " + objectName));
        }

        Deployment deployment(String role) {
            return named(Deployment.class, "gh-gatehouse-" + role);
        }

        /** The gatehouse.yaml a role's pods read, loaded by ConfigLoader with the pod's environment. */
        GatehouseConfig config(Deployment deployment) {
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            Container container = onlyContainer(pod);
            VolumeMount mount = container.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/etc/gatehouse"))
                    .findFirst().orElseThrow();
            Volume volume = pod.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
            VolumeProjection source = volume.getProjected().getSources().stream().filter(s -> s.getConfigMap() != null)
                    .findFirst().orElseThrow();
            String key = source.getConfigMap().getItems().stream().filter(i -> i.getPath().equals("gatehouse.yaml"))
                    .findFirst().orElseThrow().getKey();
            String yaml = named(ConfigMap.class, source.getConfigMap().getName()).getData().get(key);
            assertThat(yaml).as("%s: ConfigMap key %s", name, key).isNotNull();
            String role = deployment.getMetadata().getLabels().get("app.kubernetes.io/component");
            return ConfigLoader.parse(yaml, envOf(container, role), name + ":" + key);
        }
    }
}
