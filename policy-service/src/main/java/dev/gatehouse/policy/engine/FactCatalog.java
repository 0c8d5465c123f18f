package dev.gatehouse.policy.engine;

import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import com.google.common.collect.ImmutableSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The one table of the facts a rule condition may use: every CEL variable and field with its
 * type and a one-line description. {@link Conditions} declares the CEL types from it and
 * {@link FactsReference} renders the reference page from it, so a field cannot be declared
 * without being documented. {@link Facts} fills exactly these fields.
 */
final class FactCatalog {

    private static final CelType STRING_LIST = ListType.create(SimpleType.STRING);
    private static final CelType STRING_MAP = MapType.create(SimpleType.STRING, SimpleType.STRING);

    /** One field of a fact variable. */
    record Field(String name, CelType type, String description) {
        Field {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            if (description == null || description.isBlank()) {
                throw new IllegalArgumentException("fact field '" + name + "' needs a description");
            }
        }
    }

    /** One statement of {@code command.statements}: how and what the target runs. */
    static final Variable STATEMENT = new Variable("gatehouse.Statement", "One statement of `command.statements`, as the "
            + "target receives and runs it. A missing name or `via` is `\"\"`.", List.of(
            new Field("step", SimpleType.STRING, "How it reaches the target: `QUERY` (a statement of a simple Query), "
                    + "`BIND`, `EXECUTE` (an Execute of a portal), `FUNCTION_CALL`, or `UNKNOWN`."),
            new Field("sql", SimpleType.STRING, "Its text exactly as the target runs it: the statement cut from a simple "
                    + "Query, the text a portal was bound to, the prepared statement an SQL-level `EXECUTE` runs, "
                    + "the query of the cursor a `FETCH` reads."),
            new Field("statement_name", SimpleType.STRING,
                    "The prepared statement it runs; `\"\"` for the unnamed one or none."),
            new Field("portal_name", SimpleType.STRING, "The portal or cursor; `\"\"` for the unnamed portal or none."),
            new Field("via", SimpleType.STRING, "The SQL-level statement that led here, e.g. `\"EXECUTE p(1)\"` or "
                    + "`\"FETCH 10 FROM c\"`; `\"\"` when none."),
            new Field("continued", SimpleType.BOOL,
                    "True when it continues a portal that already ran (a suspended portal, a `FETCH` from an open cursor).")));

    /** {@code identity.originator}: the person a delegated session's actor acts for. */
    static final Variable ORIGINATOR = new Variable("gatehouse.Originator", "`identity.originator`: the person the "
            + "current actor acts for in a delegated session (RFC 8693: the token's `sub`), as the token names them. "
            + "Their groups and roles are not the session's: `identity.groups` and `identity.roles` are the actor's. "
            + "In a session that is not delegated every field is empty (`\"\"`, `[]`).", List.of(
            new Field("subject", SimpleType.STRING, "The originator's subject, e.g. "
                    + "`identity.originator.subject == \"alice\"`; `\"\"` when not delegated."),
            new Field("issuer", SimpleType.STRING, "The issuer that vouched for the originator (the token's `iss`)."),
            new Field("groups", STRING_LIST, "The originator's groups, e.g. "
                    + "`identity.delegated && !(\"agent-users\" in identity.originator.groups)`."),
            new Field("roles", STRING_LIST, "The originator's roles."),
            new Field("claims", MapType.create(SimpleType.STRING, SimpleType.DYN), "The token's top-level claims, which "
                    + "describe the originator (`sub` is theirs), e.g. `identity.originator.claims[\"email\"]`; `{}` when "
                    + "not delegated.")));

    /** {@code identity.intent}: the run and plan step an agent declared. */
    static final Variable INTENT = new Variable("gatehouse.Intent", "`identity.intent`: the run and plan step the "
            + "caller declared. Only a `verified` intent was signed by the token's issuer; an unverified one is the "
            + "client's word (a connection parameter): do not grant anything on it.", List.of(
            new Field("run_id", SimpleType.STRING, "The declared run; `\"\"` when none."),
            new Field("step_id", SimpleType.STRING, "The declared plan step within the run; `\"\"` when none."),
            new Field("verified", SimpleType.BOOL, "True when the intent is a claim of the signed token, e.g. "
                    + "`identity.intent.declared && !identity.intent.verified`."),
            new Field("declared", SimpleType.BOOL, "True when the caller declared any intent (verified or not).")));

    /**
     * The struct types fields of the variables use (the elements of {@code command.statements},
     * {@code identity.originator}, {@code identity.intent}), in the order the reference lists them:
     * declared and documented like a variable, at run time a map with exactly these keys.
     */
    static final List<Variable> STRUCTS = List.of(ORIGINATOR, INTENT, STATEMENT);

    /** One CEL variable, or struct type ({@link #STRUCTS}), and its fields, in declaration order. */
    record Variable(String name, String description, List<Field> fields) {
        Variable {
            Objects.requireNonNull(name, "name");
            if (description == null || description.isBlank()) {
                throw new IllegalArgumentException("fact variable '" + name + "' needs a description");
            }
            fields = List.copyOf(fields);
        }

        /** As a CEL struct type, named {@link #name}, for the checker. */
        StructType structType() {
            Map<String, CelType> types = new LinkedHashMap<>();
            fields.forEach(f -> types.put(f.name(), f.type()));
            return StructType.create(name, ImmutableSet.copyOf(types.keySet()), f -> Optional.ofNullable(types.get(f)));
        }
    }

    /** Every fact variable, in the order the reference lists them. */
    static final List<Variable> VARIABLES = List.of(
            new Variable(Facts.IDENTITY, "Who sent the command, from the validated token. In a delegated session "
                    + "(an RFC 8693 token whose `act` names an agent acting for the token's subject) the identity is "
                    + "the ACTING subject, the agent: `subject`, `groups` and `roles` are the agent's, so a rule on "
                    + "them never gives an agent the rights of the person it acts for. That person is "
                    + "`identity.originator`.", List.of(
                    new Field("subject", SimpleType.STRING, "Who acts: the token's `sub` claim, or in a delegated "
                            + "session the current actor (the agent the token's `act` names)."),
                    new Field("issuer", SimpleType.STRING, "The token's issuer (its `iss` claim)."),
                    new Field("groups", STRING_LIST, "The acting caller's groups (in a delegated session the agent's), "
                            + "e.g. `\"ci\" in identity.groups`."),
                    new Field("roles", STRING_LIST, "The acting caller's roles (in a delegated session the agent's)."),
                    new Field("claims", MapType.create(SimpleType.STRING, SimpleType.DYN),
                            "Every token claim; integers as int, dates as epoch seconds, e.g. "
                                    + "`identity.claims[\"email\"].endsWith(\"@corp.example\")`. In a delegated "
                                    + "session, the claims of the current actor only (the members of the token's "
                                    + "`act`, or just `sub` when the actor was read from a claim such as `azp`): "
                                    + "the token's own claims describe the originator and are "
                                    + "`identity.originator.claims`."),
                    new Field("ci", STRING_MAP,
                            "CI provenance, empty when the caller is not a CI job: system, repository, repository_id, "
                                    + "commit_sha, ref, workflow, run_id, job, workflow_ref, workflow_sha, job_workflow_ref, "
                                    + "job_workflow_sha, run_attempt, actor, actor_id, environment, event, ref_protected, "
                                    + "runner_environment (only those the CI system provided; "
                                    + "test with `has(identity.ci.ref)` first)."),
                    new Field("delegated", SimpleType.BOOL, "True when the caller acts for someone else (a delegation "
                            + "token): `identity.originator` names that person."),
                    new Field("originator", ORIGINATOR.structType(), "Who the actor acts for (see "
                            + "`gatehouse.Originator` below); empty fields when not delegated."),
                    new Field("earlier_actors", STRING_LIST, "Actors before the current one in a chain (a nested "
                            + "`act`), nearest first. Recorded in the audit log but, as RFC 8693 says, not meant for "
                            + "access decisions: decide on `identity.subject` (the current actor) and "
                            + "`identity.originator`. `[]` when none."),
                    new Field("delegation_via", SimpleType.STRING, "Where the actor was read: `\"act\"` (RFC 8693), "
                            + "the claim configured for the issuer (e.g. `\"azp\"`, Keycloak's token exchange), or "
                            + "`\"\"` when not delegated."),
                    new Field("intent", INTENT.structType(), "The run and plan step the caller declared (see "
                            + "`gatehouse.Intent` below).")
            )),
            new Variable(Facts.CONNECTION, "The catalog connection (the database name) the client connected to.", List.of(
                    new Field("name", SimpleType.STRING, "The connection's name in the catalog, e.g. `\"demo\"`."),
                    new Field("protocol", SimpleType.STRING, "The wire protocol: `\"postgres\"`, `\"mysql\"` or `\"http\"`."),
                    new Field("target", SimpleType.STRING, "Where the connection leads, `host:port/database`."),
                    new Field("labels", STRING_MAP,
                            "The connection's labels from the catalog, e.g. `connection.labels[\"env\"] == \"prod\"`.")
            )),
            new Variable(Facts.COMMAND, "The command being decided: one simple Query, one extended-protocol batch up to "
                    + "Sync, or one FunctionCall, possibly holding several statements.", List.of(
                    new Field("text", SimpleType.STRING, "The SQL text as the client sent it."),
                    new Field("form", SimpleType.STRING,
                            "How it was sent: `SIMPLE_QUERY`, `EXTENDED`, `FUNCTION_CALL` or `COPY`."),
                    new Field("fingerprint", SimpleType.STRING,
                            "The SQL with literals removed, the same for every run of one query shape (`\"\"` when unparseable)."),
                    new Field("parseable", SimpleType.BOOL,
                            "False when the SQL could not be parsed; the analysis fields below are empty then."),
                    new Field("kinds", STRING_LIST,
                            "The statements' kinds: `read`, `write`, `ddl`, `dcl`, `transaction`, `utility`, "
                                    + "`procedural`, `unknown`."),
                    new Field("tags", STRING_LIST,
                            "One command tag per statement, as PostgreSQL names them: `SELECT`, `CREATE TABLE`, "
                                    + "`DROP DATABASE`, `TRUNCATE TABLE`, ..."),
                    new Field("object_types", STRING_LIST,
                            "For DDL, the distinct object types: `DATABASE`, `TABLE`, `INDEX`, ..."),
                    new Field("tables_read", STRING_LIST, "Relations read (through CTEs and views too): at the edge each as the target"
                            + " resolves it (`public.payouts`, whatever the SQL wrote: `payouts`, `\"payouts\"`, `demo.public.payouts`)"
                            + " and also by its bare name (`payouts`); offline as the SQL writes them."),
                    new Field("tables_written", STRING_LIST, "Relations inserted into, updated, deleted from, created, or whose definition"
                            + " changes, also through views, rules and triggers; named like `tables_read`."),
                    new Field("functions", STRING_LIST, "Functions called."),
                    new Field("missing_where", SimpleType.BOOL,
                            "True when some UPDATE or DELETE in the command has no WHERE clause."),
                    new Field("statement_count", SimpleType.INT, "How many statements the command holds."),
                    new Field("parameters", STRING_LIST,
                            "The bound parameters as text (extended protocol), every statement's in order; a SQL NULL "
                                    + "parameter is CEL `null`."),
                    new Field("protocol", SimpleType.STRING,
                            "The wire protocol the command was sent in: `\"postgres\"` (later `\"mysql\"`)."),
                    new Field("runs_code", SimpleType.BOOL,
                            "True when some statement runs code the analysis cannot see through: a `DO` block, a "
                                    + "procedure or user-defined function, a trigger or rule."),
                    new Field("uncertain", SimpleType.BOOL,
                            "True when the analysis of some statement is not certain (an unknown statement type, dynamic "
                                    + "SQL, a relation it cannot resolve, ...), e.g. "
                                    + "`\"ci\" in identity.groups && command.uncertain`."),
                    new Field("uncertainty", STRING_LIST, "Why: one short reason each, of every uncertain statement."),
                    new Field("settings", STRING_LIST,
                            "Session settings the statements change, lower case (`\"search_path\"`); `\"*\"` when "
                                    + "a statement may change settings the analysis cannot name (`RESET ALL`, "
                                    + "`set_config` with a computed name)."),
                    new Field("filter_columns", STRING_LIST,
                            "Columns that filter, join, group or sort (WHERE, ON, GROUP BY, HAVING, ORDER BY, window "
                                    + "clauses), as written (`ssn`) and qualified where the relation is known "
                                    + "(`customers.ssn`, `public.customers.ssn`): what a masked column still reveals."),
                    new Field("statements", ListType.create(STATEMENT.structType()),
                            "Each statement as the target runs it, in order (see `gatehouse.Statement` below), e.g. "
                                    + "`command.statements.exists(s, s.via.startsWith(\"EXECUTE\"))`; empty for "
                                    + "commands recorded as one text.")
            )),
            new Variable(Facts.SESSION, "The client session the command belongs to.", List.of(
                    new Field("id", SimpleType.STRING, "The session id, as written in the audit log."),
                    new Field("started_at", SimpleType.TIMESTAMP,
                            "When the session began (the gateway accepted the connection); the Unix epoch when the "
                                    + "edge did not record it. E.g. `time.now - session.started_at > duration(\"8h\")`."),
                    new Field("client_address", SimpleType.STRING,
                            "The client's IP address, without the port, e.g. `session.client_address.startsWith(\"10.\")`;"
                                    + " `\"\"` when the edge did not record it.")
            )),
            new Variable(Facts.TIME, "When the command was received (the time recorded in the audit log, so a "
                    + "redelivered command is decided the same), read in the policy service's time zone "
                    + "(`policy.time-zone`, default UTC).", List.of(
                    new Field("now", SimpleType.TIMESTAMP, "The instant the command was received."),
                    new Field("zone", SimpleType.STRING, "The time zone the fields below are read in, e.g. `\"Europe/Berlin\"`."),
                    new Field("hour", SimpleType.INT, "The hour of the day, 0 to 23, e.g. `time.hour < 8 || time.hour >= 18`."),
                    new Field("minute", SimpleType.INT, "The minute of the hour, 0 to 59."),
                    new Field("day_of_week", SimpleType.STRING,
                            "The day, lowercase: `\"monday\"` to `\"sunday\"`, e.g. "
                                    + "`time.day_of_week in [\"saturday\", \"sunday\"]`."),
                    new Field("date", SimpleType.STRING, "The date, ISO-8601, e.g. `time.date == \"2026-12-24\"`.")
            )),
            new Variable(Facts.REQUEST, "What is being decided: a connection attempt (decided by `on: connect` rules, "
                    + "before anything reaches the target; the `command` fields are empty then: `\"\"`, `[]`, "
                    + "`false`, `0`) or a command (decided by `on: command` rules, the default).", List.of(
                    new Field("type", SimpleType.STRING, "`\"connect\"` or `\"command\"`.")
            ))
    );

    private FactCatalog() {
    }
}
