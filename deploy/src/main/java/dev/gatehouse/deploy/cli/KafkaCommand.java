package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.config.ConfigLoader;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.platform.kafka.KafkaAcls;
import dev.gatehouse.platform.kafka.KafkaClients;
import dev.gatehouse.platform.kafka.TopicInitializer;
import dev.gatehouse.platform.kafka.TopicSettings;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AclBinding;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code gatehouse kafka}: set up the Kafka cluster Gatehouse runs on. */
@Command(name = "kafka", mixinStandardHelpOptions = true,
        description = "Set up the Kafka cluster Gatehouse runs on.",
        subcommands = KafkaCommand.Provision.class)
final class KafkaCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    @Command(name = "provision", mixinStandardHelpOptions = true,
            description = {"Create the missing topics (kafka.partitions, kafka.replication-factor, kafka.audit-retention) "
                    + "and, when kafka.acl-principals is set, the ACLs each role needs (see docs/architecture.md, "
                    + "\"Kafka security\"). Idempotent: what exists is left as it is. Connects with kafka.properties "
                    + "of the file, which must be a principal allowed to create topics and ACLs (a super user).",
                    "  gatehouse kafka provision --config provision.yaml --dry-run"})
    static final class Provision implements Callable<Integer> {
        static final Duration TIMEOUT = Duration.ofSeconds(30);

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = {"-c", "--config"}, required = true, description = "Configuration file (YAML); its kafka section is used.")
        Path config;

        @Option(names = "--dry-run", description = "Print what would be created; change nothing.")
        boolean dryRun;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            GatehouseConfig.Kafka kafka = ConfigLoader.load(config).kafka();
            List<TopicSettings> topics = GatehouseRuntime.topics(kafka);
            List<AclBinding> acls = KafkaAcls.bindings(kafka.aclPrincipals());
            String verb = dryRun ? "would create" : "created";
            try (KafkaClients.Registration ignored = KafkaClients.register(kafka.bootstrapServers(), kafka.properties());
                 Admin admin = Admin.create(KafkaClients.admin(kafka.bootstrapServers(), "gatehouse-provision", TIMEOUT))) {
                List<String> createdTopics;
                if (dryRun) {
                    createdTopics = TopicInitializer.missing(admin, topics, TIMEOUT);
                } else {
                    TopicInitializer.Report report = TopicInitializer.ensure(admin, topics, TIMEOUT);
                    report.warnings().forEach(w -> out.println("warning: " + w));
                    createdTopics = report.created();
                }
                for (TopicSettings t : topics) {
                    if (createdTopics.contains(t.name())) {
                        out.printf("topic %s %s (partitions %d, replication factor %d, %s)%n", verb, t.name(),
                                t.partitions(), t.replicationFactor(),
                                t.compacted() ? "compacted" : t.retention() == null ? "kept forever" : "kept " + t.retention());
                    }
                }
                int aclsCreated = 0;
                int aclsExisting = 0;
                if (!acls.isEmpty()) {
                    KafkaAcls.Report report = KafkaAcls.ensure(admin, acls, dryRun, TIMEOUT);
                    report.created().forEach(b -> out.println("acl " + verb + " " + KafkaAcls.describe(b)));
                    aclsCreated = report.created().size();
                    aclsExisting = report.existing().size();
                }
                out.printf("%s: %d of %d topics %s, %d present; %s%n", dryRun ? "dry run" : "done", createdTopics.size(),
                        topics.size(), verb, topics.size() - createdTopics.size(),
                        acls.isEmpty() ? "no ACLs (kafka.acl-principals is not set)"
                                : aclsCreated + " of " + acls.size() + " ACLs " + verb + ", " + aclsExisting + " present");
                out.flush();
            }
            return 0;
        }
    }
}
