package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.roles.Role;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How the gateway's roles are spread over processes in a load run. Every layout runs every role
 * (a role added to {@link Role} later lands with the rest), so only the process boundaries differ.
 */
public enum Layout {
    /** One process with every role, as {@code gatehouse dev} runs them. */
    ALL_IN_ONE("all-in-one", List.of(EnumSet.allOf(Role.class))),
    /** The data path (edge, policy, with admin and approval) in one process, the indexer in another. */
    SPLIT("split", List.of(EnumSet.complementOf(EnumSet.of(Role.INDEXER)), EnumSet.of(Role.INDEXER))),
    /** Edge, policy and indexer each in a process of its own; the remaining roles (admin, approval) together. */
    PER_ROLE("per-role", List.of(EnumSet.of(Role.EDGE), EnumSet.of(Role.POLICY), EnumSet.of(Role.INDEXER),
            EnumSet.complementOf(EnumSet.of(Role.EDGE, Role.POLICY, Role.INDEXER))));

    private final String label;
    private final List<Set<Role>> processes;

    Layout(String label, List<Set<Role>> processes) {
        this.label = label;
        this.processes = processes.stream().map(Set::copyOf).toList();
    }

    public String label() {
        return label;
    }

    /** The role sets, one per process, the edge's first. */
    public List<Set<Role>> processes() {
        return processes;
    }

    /** A process's name in reports: its roles joined by "+" in {@link Role} order ("edge+policy+admin+approval"). */
    public static String name(Set<Role> roles) {
        return roles.stream().sorted().map(Role::label).collect(Collectors.joining("+"));
    }

    /** What each process runs, for report headers: "edge+policy+admin+approval | indexer". */
    public String describe() {
        return processes.stream().map(Layout::name).collect(Collectors.joining(" | "));
    }

    public static Layout of(String label) {
        for (Layout l : values()) if (l.label.equals(label)) return l;
        throw new IllegalArgumentException("unknown layout '" + label + "'; known: all-in-one, split, per-role");
    }
}
