package dev.gatehouse.indexer.store;

import dev.gatehouse.platform.core.Verdict;

import java.time.Instant;
import java.util.Locale;
import java.util.Set;

/**
 * The filters of a session or command search (every one optional) with a page size and the cursor
 * of the page to continue from. String filters are exact except: {@code commit} matches a prefix,
 * {@code object} matches "name" or "schema.name" case-insensitively, {@code text} is a
 * case-insensitive substring of the SQL (the command's text or the text of one of its statements,
 * e.g. the prepared statement an {@code EXECUTE} runs).
 *
 * @param subject    the session's subject (in a delegated session: its current actor)
 * @param originator only delegated sessions acting for this person (the delegation's originator)
 * @param actor      only delegated sessions with this actor in their chain: the current actor or
 *                   any earlier one
 * @param verdict allow, deny, mask or require_approval
 * @param kind    a statement kind as the timeline names it ("CREATE_DATABASE", "SELECT")
 * @param status  open, closed, aborted or rejected
 * @param before  the {@code next} cursor of the previous page, or null
 */
public record SearchQuery(String subject, String originator, String actor, String group, String issuer, String repository, String commit,
                          String connection, String verdict, Instant from, Instant to, String object, String kind,
                          String text, String status, int limit, String before) {

    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 500;
    private static final Set<String> STATUSES = Set.of("open", "closed", "aborted", "rejected");

    public SearchQuery {
        subject = blankToNull(subject);
        originator = blankToNull(originator);
        actor = blankToNull(actor);
        group = blankToNull(group);
        issuer = blankToNull(issuer);
        repository = blankToNull(repository);
        commit = blankToNull(commit);
        connection = blankToNull(connection);
        object = blankToNull(object);
        text = blankToNull(text);
        before = blankToNull(before);
        verdict = blankToNull(verdict);
        if (verdict != null) {
            try {
                verdict = Verdict.parse(verdict).label();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("verdict must be one of allow, deny, mask, require_approval, was " + verdict);
            }
        }
        kind = blankToNull(kind);
        if (kind != null) kind = kind.trim().toUpperCase(Locale.ROOT).replace(' ', '_');
        status = blankToNull(status);
        if (status != null) {
            status = status.toLowerCase(Locale.ROOT);
            if (!STATUSES.contains(status)) {
                throw new IllegalArgumentException("status must be one of open, closed, aborted, rejected, was " + status);
            }
        }
        if (limit <= 0) limit = DEFAULT_LIMIT;
        if (limit > MAX_LIMIT) throw new IllegalArgumentException("limit must be at most " + MAX_LIMIT + ", was " + limit);
        if (from != null && to != null && to.isBefore(from)) {
            throw new IllegalArgumentException("to (" + to + ") is before from (" + from + ")");
        }
    }

    /** No filter, the default page size. */
    public static SearchQuery all() {
        return new SearchQuery(null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, 0,
                null);
    }

    public SearchQuery withStatus(String newStatus) {
        return new SearchQuery(subject, originator, actor, group, issuer, repository, commit, connection, verdict, from,
                to, object, kind, text, newStatus, limit, before);
    }

    public SearchQuery withBefore(String cursor) {
        return new SearchQuery(subject, originator, actor, group, issuer, repository, commit, connection, verdict, from,
                to, object, kind, text, status, limit, cursor);
    }

    /** Whether any filter on a session's commands is set. */
    boolean filtersCommands() {
        return verdict != null || object != null || kind != null || text != null;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
