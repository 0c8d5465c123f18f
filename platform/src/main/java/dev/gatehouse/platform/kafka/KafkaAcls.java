package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.SecurityUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Kafka ACLs each Gatehouse role needs, and no more: a pure matrix ({@link #MATRIX}, read off
 * the clients each role starts) turned into {@link AclBinding}s for the principals of
 * {@code kafka.acl-principals}, and {@link #ensure} to create the missing ones.
 *
 * <p>Every binding is an ALLOW on a LITERAL resource, from any host. READ and WRITE imply DESCRIBE,
 * which metadata, {@code partitionsFor} and offset look-ups need. Idempotent producers need no
 * cluster {@code IDEMPOTENT_WRITE} (Kafka 3+: WRITE on a topic allows InitProducerId); Gatehouse
 * uses no transactions, so no transactional-id ACL; group ACLs are for the four consumer groups;
 * every other consumer assigns partitions itself and commits nothing (no group).
 *
 * <p>What the ACLs guarantee: only the policy and approval (final decisions of commands held while
 * humans vote) principals can write {@link Topics#DECISIONS}; only the
 * edge principal can write {@link Topics#CONTROL} (cancels, kills); only admin and policy can write
 * {@link Topics#POLICIES}; only admin {@link Topics#REVOCATIONS}; only edge {@link Topics#SESSIONS};
 * only policy and approval {@link Topics#APPROVALS}; only the indexer {@link Topics#AUDIT_OCSF} and
 * {@link Topics#AUDIT_DLQ}; only policy and indexer read {@link Topics#AUDIT}. What they do not: every role writes {@link Topics#AUDIT} (each process's
 * audit sink; the indexer its seals), so a topic ACL cannot tell a {@code CommandReceived} written
 * by an edge from one forged by another role's credential: readers must not trust an audit event's
 * kind for who wrote it.
 */
public final class KafkaAcls {

    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaAcls.class);

    /** The roles {@code kafka.acl-principals} may name. */
    public static final List<String> ROLES = List.of("edge", "policy", "approval", "indexer", "admin");

    /** The consumer groups (the defaults of the services' settings). */
    public static final String POLICY_GROUP = "gatehouse-policy";
    public static final String APPROVAL_GROUP = "gatehouse-approval";
    public static final String INDEXER_GROUP = "gatehouse-indexer";
    public static final String OCSF_GROUP = "gatehouse-ocsf";

    /** One right of one role. */
    public record Grant(String role, ResourceType type, String name, AclOperation operation) {
        public Grant {
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(operation, "operation");
        }
    }

    /**
     * Who needs what, with the client that needs it. Kept in step with the code by
     * {@code KafkaSecurityIT}, which runs each role with only these rights.
     */
    public static final List<Grant> MATRIX = List.of(
            // edge: the audit sink; its reply partition of decisions (KafkaDecisionPort, no group); the control
            // channel (publishes cancels and kills, reads all partitions, no group); the revocation reader; the
            // sessions heartbeat
            topic("edge", Topics.AUDIT, AclOperation.WRITE),
            topic("edge", Topics.DECISIONS, AclOperation.READ),
            topic("edge", Topics.CONTROL, AclOperation.READ),
            topic("edge", Topics.CONTROL, AclOperation.WRITE),
            topic("edge", Topics.REVOCATIONS, AclOperation.READ),
            topic("edge", Topics.SESSIONS, AclOperation.WRITE),
            // policy: DecisionService (reads audit in group gatehouse-policy, writes DecisionMade to audit and
            // decisions); the policy log follower and the first-start publish of policy.file; the approvals fold
            // and requests (KafkaApprovalLog)
            topic("policy", Topics.AUDIT, AclOperation.READ),
            topic("policy", Topics.AUDIT, AclOperation.WRITE),
            topic("policy", Topics.DECISIONS, AclOperation.WRITE),
            topic("policy", Topics.POLICIES, AclOperation.READ),
            topic("policy", Topics.POLICIES, AclOperation.WRITE),
            topic("policy", Topics.APPROVALS, AclOperation.READ),
            topic("policy", Topics.APPROVALS, AclOperation.WRITE),
            group("policy", POLICY_GROUP),
            // approval: the audit sink and ApprovalEvents (votes, outcomes, final DecisionMade to audit); the
            // approval log (fold) and its writes; the arbiter's group; the final decision of a command held in
            // psql (hold mode) to the waiting edge's reply partition (ApprovalEvents.decide)
            topic("approval", Topics.AUDIT, AclOperation.WRITE),
            topic("approval", Topics.DECISIONS, AclOperation.WRITE),
            topic("approval", Topics.APPROVALS, AclOperation.READ),
            topic("approval", Topics.APPROVALS, AclOperation.WRITE),
            group("approval", APPROVAL_GROUP),
            // indexer: the projector (reads audit in gatehouse-indexer, writes SessionSealed to audit, dead letters);
            // the OCSF exporter (reads audit in gatehouse-ocsf, writes audit.ocsf); the sessions directory
            topic("indexer", Topics.AUDIT, AclOperation.READ),
            topic("indexer", Topics.AUDIT, AclOperation.WRITE),
            topic("indexer", Topics.AUDIT_DLQ, AclOperation.WRITE),
            topic("indexer", Topics.AUDIT_OCSF, AclOperation.WRITE),
            topic("indexer", Topics.SESSIONS, AclOperation.READ),
            group("indexer", INDEXER_GROUP),
            group("indexer", OCSF_GROUP),
            // admin: the audit sink (AccessRevoked); revocations (reader and publisher); the sessions directory;
            // the policy log (apply, unstage, history)
            topic("admin", Topics.AUDIT, AclOperation.WRITE),
            topic("admin", Topics.REVOCATIONS, AclOperation.READ),
            topic("admin", Topics.REVOCATIONS, AclOperation.WRITE),
            topic("admin", Topics.SESSIONS, AclOperation.READ),
            topic("admin", Topics.POLICIES, AclOperation.READ),
            topic("admin", Topics.POLICIES, AclOperation.WRITE));

    private KafkaAcls() {
    }

    private static Grant topic(String role, String topic, AclOperation operation) {
        return new Grant(role, ResourceType.TOPIC, topic, operation);
    }

    private static Grant group(String role, String group) {
        return new Grant(role, ResourceType.GROUP, group, AclOperation.READ);
    }

    /**
     * Checks {@code kafka.acl-principals}: roles from {@link #ROLES}, principals as Kafka writes
     * them ({@code User:name}).
     *
     * @throws IllegalArgumentException naming the offending entry
     */
    public static Map<String, String> checkPrincipals(Map<String, String> principals) {
        Objects.requireNonNull(principals, "principals");
        Map<String, String> checked = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : principals.entrySet()) {
            if (!ROLES.contains(e.getKey())) {
                throw new IllegalArgumentException("kafka.acl-principals." + e.getKey() + ": unknown role; roles are " + ROLES);
            }
            String principal = e.getValue() == null ? "" : e.getValue().strip();
            try {
                var parsed = SecurityUtils.parseKafkaPrincipal(principal);
                if (parsed.getName().isBlank()) throw new IllegalArgumentException("empty name");
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("kafka.acl-principals." + e.getKey() + ": '" + principal
                        + "' is not a Kafka principal; write it as TYPE:NAME, e.g. User:gatehouse-" + e.getKey(), ex);
            }
            checked.put(e.getKey(), principal);
        }
        return Map.copyOf(checked);
    }

    /** The bindings for the roles in {@code principals} (role -> principal), in matrix order. */
    public static List<AclBinding> bindings(Map<String, String> principals) {
        Map<String, String> checked = checkPrincipals(principals);
        List<AclBinding> bindings = new ArrayList<>();
        for (Grant g : MATRIX) {
            String principal = checked.get(g.role());
            if (principal == null) continue;
            bindings.add(new AclBinding(new ResourcePattern(g.type(), g.name(), PatternType.LITERAL),
                    new AccessControlEntry(principal, "*", g.operation(), AclPermissionType.ALLOW)));
        }
        return bindings;
    }

    /** One line per binding, e.g. {@code ALLOW User:gatehouse-edge WRITE TOPIC gatehouse.audit}. */
    public static String describe(AclBinding b) {
        return b.entry().permissionType() + " " + b.entry().principal() + " " + b.entry().operation() + " "
                + b.pattern().resourceType() + " " + b.pattern().name()
                + (b.pattern().patternType() == PatternType.LITERAL ? "" : " (" + b.pattern().patternType() + ")");
    }

    /** What {@link #ensure} did, or would do on a dry run. */
    public record Report(List<AclBinding> created, List<AclBinding> existing) {
        public Report {
            created = List.copyOf(created);
            existing = List.copyOf(existing);
        }
    }

    /**
     * Creates the bindings the cluster does not have yet (all of them are compared with the
     * cluster's ACLs first, so a second run creates nothing). Needs a principal allowed to describe
     * and alter the cluster's ACLs (a super user).
     *
     * @param dryRun only compare; create nothing
     * @throws IllegalStateException when the cluster refuses or does not answer
     */
    public static Report ensure(Admin admin, Collection<AclBinding> bindings, boolean dryRun, Duration timeout) {
        Set<AclBinding> present = present(admin, timeout);
        List<AclBinding> missing = new ArrayList<>();
        List<AclBinding> existing = new ArrayList<>();
        for (AclBinding b : bindings) {
            if (present.contains(b)) existing.add(b);
            else if (!missing.contains(b)) missing.add(b);
        }
        if (!dryRun && !missing.isEmpty()) {
            try {
                admin.createAcls(missing).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException("cannot create ACLs: " + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new IllegalStateException("Kafka did not answer within " + timeout + " while creating ACLs", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating ACLs", e);
            }
            missing.forEach(b -> LOGGER.info("Created ACL {}", describe(b)));
            awaitVisible(admin, missing, timeout);
        }
        return new Report(missing, existing);
    }

    /**
     * Waits until the broker answering describes the new bindings: the controller commits them
     * first and brokers apply its metadata a moment later, so a run right after this one (or a
     * client of a role) would otherwise not see them yet.
     */
    private static void awaitVisible(Admin admin, List<AclBinding> created, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!present(admin, timeout).containsAll(created)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("created ACLs are not visible on the brokers after " + timeout);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for ACLs to be visible", e);
            }
        }
    }

    private static Set<AclBinding> present(Admin admin, Duration timeout) {
        try {
            return new HashSet<>(admin.describeAcls(AclBindingFilter.ANY).values().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot list the cluster's ACLs (is an authorizer configured, and may this "
                    + "principal describe ACLs?): " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer within " + timeout + " while listing ACLs", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while listing ACLs", e);
        }
    }
}
