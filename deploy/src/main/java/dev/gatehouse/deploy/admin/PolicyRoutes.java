package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.kafka.PolicyLog;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyException;
import dev.gatehouse.policy.service.PolicyActivator;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The policy lifecycle over the admin API, so that every version names the administrator who
 * applied it (the token's subject):
 * <ul>
 *   <li>{@code POST /policies} {@code {"document": "...", "dryRun": false}}: validate, then publish
 *       to {@code gatehouse.policies} as the enforced (or, with dryRun, the staged) version. 201
 *       with the version; 200 {@code "unchanged"} when it is already in force (or staged); 400
 *       with every error when it does not load; 409 when its version was applied before with
 *       other content.</li>
 *   <li>{@code POST /policies/unstage}: withdraw the staged version.</li>
 *   <li>{@code GET /policies}: every version in the log, marked active, staged or refused.</li>
 *   <li>{@code GET /policies/:version} ({@code active}, {@code staged} or a version): one document.</li>
 * </ul>
 * Changes run one at a time on a thread of their own (Kafka calls block), so two administrators
 * applying at once are ordered, and the version check of the second sees the first.
 */
public final class PolicyRoutes implements AdminRoutes, AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyRoutes.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    private final String bootstrapServers;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("gatehouse-admin-policies").daemon().factory());

    public PolicyRoutes(String bootstrapServers) {
        this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
    }

    @Override
    public void register(Registrar registrar) {
        registrar.route(HttpMethod.POST, "/policies", this::apply);
        registrar.route(HttpMethod.POST, "/policies/unstage", this::unstage);
        registrar.route(HttpMethod.GET, "/policies", this::history);
        registrar.route(HttpMethod.GET, "/policies/:version", this::show);
    }

    private CompletionStage<AdminResponse> apply(AdminRequest request) {
        JsonObject body = request.json();
        String document = body.getString("document");
        if (document == null || document.isBlank()) throw AdminException.badRequest("'document' (the policy YAML) is required");
        boolean dryRun = Boolean.TRUE.equals(body.getBoolean("dryRun", false));
        String source = Objects.requireNonNullElse(body.getString("source"), "the request");
        String admin = request.admin().subject();
        return CompletableFuture.supplyAsync(() -> apply(document, dryRun, source, admin), worker);
    }

    private AdminResponse apply(String document, boolean dryRun, String source, String admin) {
        Policy policy;
        try {
            policy = Policy.parse(document, source);
        } catch (PolicyException e) {
            throw AdminException.badRequest(e.source() + " rejected, nothing applied; " + e.errors().size()
                    + (e.errors().size() == 1 ? " error:\n" : " errors:\n") + String.join("\n", e.errors()));
        }
        PolicyLog.State state = read();
        String sha = PolicyLog.sha256(document);
        Optional<PolicyLog.Entry> conflict = state.entries().stream()
                .filter(e -> e.kind() != PolicyLog.Kind.UNSTAGED && e.policyId().equals(policy.id())
                        && e.version().equals(policy.version()) && !e.sha256().equals(sha))
                .findFirst();
        if (conflict.isPresent()) {
            throw new AdminException(409, "policy " + policy.id() + " version " + policy.version()
                    + " was applied before (by " + conflict.get().appliedBy() + " at " + conflict.get().appliedAt()
                    + ") with different content; nothing applied. Change 'version:' in " + source
                    + " or remove it (the content hash is then the version).");
        }
        PolicyLog.Entry active = state.active().orElse(null);
        boolean isActive = active != null && active.sha256().equals(sha);
        if (dryRun && isActive) {
            throw AdminException.badRequest("policy " + policy.id() + " version " + policy.version()
                    + " is already in force; there is nothing to stage");
        }
        if (isActive || (dryRun && state.staged().map(s -> s.sha256().equals(sha)).orElse(false))) {
            PolicyLog.Entry current = isActive ? active : state.staged().get();
            return AdminResponse.ok(entry(current, isActive ? "active" : "staged").put("status", "unchanged"));
        }
        PolicyLog.Kind kind = dryRun ? PolicyLog.Kind.STAGED : PolicyLog.Kind.ACTIVE;
        PolicyLog.Entry written = PolicyLog.publish(bootstrapServers,
                PolicyLog.Entry.of(kind, policy.id(), policy.version(), document, admin), TIMEOUT);
        LOGGER.info("Policy {} version {} {} by {} offset={}", policy.id(), policy.version(), dryRun ? "staged" : "applied",
                admin, written.offset());
        JsonObject answer = entry(written, dryRun ? "staged" : "active").put("status", dryRun ? "staged" : "applied")
                .put("rules", policy.rules().size());
        if (active != null) answer.put("previousVersion", active.version());
        return AdminResponse.created(answer);
    }

    private CompletionStage<AdminResponse> unstage(AdminRequest request) {
        String admin = request.admin().subject();
        return CompletableFuture.supplyAsync(() -> {
            PolicyLog.State state = read();
            if (state.staged().isEmpty()) {
                return AdminResponse.ok(new JsonObject().put("status", "unchanged"));
            }
            PolicyLog.publish(bootstrapServers, PolicyLog.Entry.unstage(admin), TIMEOUT);
            LOGGER.info("Staged policy version {} withdrawn by {}", state.staged().get().version(), admin);
            return AdminResponse.ok(entry(state.staged().get(), "withdrawn").put("status", "withdrawn"));
        }, worker);
    }

    private CompletionStage<AdminResponse> history(AdminRequest request) {
        return CompletableFuture.supplyAsync(() -> {
            PolicyLog.State state = read();
            JsonArray versions = new JsonArray();
            for (PolicyLog.Entry e : state.entries()) {
                String mark = state.active().filter(a -> a == e).isPresent() ? "active"
                        : state.staged().filter(s -> s == e).isPresent() ? "staged"
                        : state.refused().contains(e.offset()) ? "refused" : "";
                versions.add(entry(e, mark));
            }
            return AdminResponse.ok(new JsonObject().put("versions", versions));
        }, worker);
    }

    private CompletionStage<AdminResponse> show(AdminRequest request) {
        String ref = request.pathParam("version");
        return CompletableFuture.supplyAsync(() -> {
            PolicyLog.State state = read();
            Optional<PolicyLog.Entry> found = switch (ref) {
                case "active" -> state.active();
                case "staged" -> state.staged();
                default -> state.version(ref);
            };
            PolicyLog.Entry e = found.orElseThrow(() -> AdminException.notFound("no policy version '" + ref + "' in the log"));
            return AdminResponse.ok(entry(e, "").put("document", e.document()));
        }, worker);
    }

    private PolicyLog.State read() {
        return PolicyActivator.fold(PolicyLog.read(bootstrapServers, TIMEOUT).entries());
    }

    private static JsonObject entry(PolicyLog.Entry e, String state) {
        JsonObject json = new JsonObject()
                .put("offset", e.offset())
                .put("kind", e.kind().name().toLowerCase(java.util.Locale.ROOT))
                .put("appliedBy", e.appliedBy())
                .put("appliedAt", e.appliedAt().toString());
        if (e.policyId() != null) json.put("policyId", e.policyId()).put("version", e.version()).put("sha256", e.sha256());
        if (!state.isEmpty()) json.put("state", state);
        return json;
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
