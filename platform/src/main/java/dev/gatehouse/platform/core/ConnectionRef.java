package dev.gatehouse.platform.core;

import java.util.Map;

/**
 * The target a session is connected to, as policy sees it (never its credentials).
 *
 * @param name     the catalog name the client selected ("demo")
 * @param protocol "postgres", "mysql", "http"
 * @param target   host:port/database of the target, for the record
 * @param labels   free-form labels from the catalog (env=prod, team=payments)
 */
public record ConnectionRef(String name, String protocol, String target, Map<String, String> labels) {
    public ConnectionRef {
        labels = Map.copyOf(labels);
    }
}
