package dev.gatehouse.edge.masking;

import java.util.Objects;

/** A table column by name, as column rules select it. */
public record ColumnName(String schema, String table, String column) {
    public ColumnName {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(column, "column");
    }

    /** {@code schema.table.column}, the key of masking statistics. */
    public String qualified() {
        return schema + "." + table + "." + column;
    }
}
