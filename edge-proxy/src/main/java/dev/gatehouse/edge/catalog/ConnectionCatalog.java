package dev.gatehouse.edge.catalog;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The connections clients may select by name. Immutable. */
public final class ConnectionCatalog {
    private final Map<String, TargetConnection> byName;

    public ConnectionCatalog(Collection<TargetConnection> connections) {
        Map<String, TargetConnection> map = new LinkedHashMap<>();
        for (TargetConnection c : connections) {
            if (map.putIfAbsent(c.name(), c) != null) {
                throw new IllegalArgumentException("connection '" + c.name() + "' is defined twice");
            }
        }
        this.byName = Map.copyOf(map);
    }

    public Optional<TargetConnection> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The connection named {@code name} if a client of {@code protocol} may select it. */
    public Optional<TargetConnection> find(String name, String protocol) {
        return find(name).filter(c -> c.protocol().equals(protocol));
    }

    /** The names a client of {@code protocol} may select, in catalog order. */
    public java.util.List<String> names(String protocol) {
        return byName.values().stream().filter(c -> c.protocol().equals(protocol)).map(TargetConnection::name).sorted().toList();
    }

    public Collection<TargetConnection> all() {
        return byName.values();
    }
}
