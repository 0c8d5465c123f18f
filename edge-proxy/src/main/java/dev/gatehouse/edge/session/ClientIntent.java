package dev.gatehouse.edge.session;

import dev.gatehouse.platform.core.DeclaredIntent;

/**
 * The run and plan step a client declares itself, outside its token: the client's word, so always
 * {@linkplain DeclaredIntent#verified() unverified}. A protocol adapter reads the two values from
 * its connection parameters (PostgreSQL: the settings {@value #PG_RUN} and {@value #PG_STEP}, as a
 * startup parameter or {@code -c} in {@code options}; MySQL: the connection attributes
 * {@value #MYSQL_RUN} and {@value #MYSQL_STEP}). An intent the token's issuer signed wins over it.
 */
public final class ClientIntent {

    public static final String PG_RUN = "gatehouse.run_id";
    public static final String PG_STEP = "gatehouse.step_id";
    public static final String MYSQL_RUN = "gatehouse_run_id";
    public static final String MYSQL_STEP = "gatehouse_step_id";
    /** The longest run or step id accepted. */
    public static final int MAX_LENGTH = 200;
    /**
     * The characters a declared id may have: those of ids (UUIDs, {@code run-17}, {@code wf:plan/3}),
     * and no space, bracket or quote, so that a client's id cannot pose as the text around it where
     * the record shows it ({@code run x (signed by the issuer)}).
     */
    private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile("[A-Za-z0-9._:/@+=-]{1," + MAX_LENGTH + "}");

    private ClientIntent() {
    }

    /**
     * The declared intent of a run and a step value (either may be null), or null when neither is given.
     *
     * @throws IllegalArgumentException naming the parameter, when a value is empty, too long or has other characters than {@link #ID}
     */
    public static DeclaredIntent of(String runParameter, String run, String stepParameter, String step) {
        String r = check(runParameter, run);
        String s = check(stepParameter, step);
        return r == null && s == null ? null : new DeclaredIntent(r, s, false, DeclaredIntent.CONNECTION_PARAMETER);
    }

    private static String check(String parameter, String value) {
        if (value == null) return null;
        if (!ID.matcher(value).matches()) {
            throw new IllegalArgumentException("the connection parameter " + parameter + " must be 1 to " + MAX_LENGTH
                    + " letters, digits or . _ : / @ + = -");
        }
        return value;
    }
}
