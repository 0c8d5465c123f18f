package dev.gatehouse.edge.masking;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A column selector of a profile: {@code schema.table.column}, {@code table.column} (any schema)
 * or {@code column} (any table), each part a name or a glob with {@code *}. Matching ignores case,
 * as PostgreSQL folds unquoted identifiers. Examples: {@code public.users.email}, {@code *.ssn},
 * {@code *.*.card_number}, {@code crm.*.phone_*}.
 */
public record ColumnPattern(String text, Pattern schema, Pattern table, Pattern column) {

    /**
     * Parses a selector.
     *
     * @throws MaskingException when it has no part, more than three, or an empty one
     */
    public static ColumnPattern parse(String text) {
        if (text == null || text.isBlank()) throw new MaskingException("a column pattern is empty");
        String[] parts = text.strip().split("\\.", -1);
        if (parts.length > 3) {
            throw new MaskingException("column pattern \"" + text + "\" has " + parts.length
                    + " parts; write schema.table.column, table.column or column");
        }
        for (String p : parts) {
            if (p.isEmpty()) throw new MaskingException("column pattern \"" + text + "\" has an empty part");
        }
        Pattern any = glob("*");
        return switch (parts.length) {
            case 1 -> new ColumnPattern(text, any, any, glob(parts[0]));
            case 2 -> new ColumnPattern(text, any, glob(parts[0]), glob(parts[1]));
            default -> new ColumnPattern(text, glob(parts[0]), glob(parts[1]), glob(parts[2]));
        };
    }

    /** Whether the column {@code schema.table.column} is selected. */
    public boolean matches(String schemaName, String tableName, String columnName) {
        return schema.matcher(schemaName).matches() && table.matcher(tableName).matches()
                && column.matcher(columnName).matches();
    }

    private static Pattern glob(String part) {
        StringBuilder regex = new StringBuilder();
        for (String literal : part.toLowerCase(Locale.ROOT).split("\\*", -1)) {
            regex.append(Pattern.quote(literal)).append(".*");
        }
        regex.setLength(regex.length() - 2); // the last literal is not followed by a '*'
        return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.DOTALL);
    }

    @Override
    public String toString() {
        return text;
    }
}
