package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.Identity;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * The JSON form of an approval in the REST API (and the CLI and console that read it). What is to be
 * approved: {@code sql} and {@code parameters} (the command as one text, every statement's
 * parameters in order), {@code protocol}, and for a command recorded statement by statement
 * {@code statements}, each with its own {@code sql} and {@code parameters} (what the approval binds
 * to), {@code step}, {@code statementName}, {@code portalName}, {@code parametersDigest},
 * {@code rowLimit}, {@code continued} and {@code via}.
 */
public final class ApprovalJson {

    private ApprovalJson() {
    }

    public static JsonObject toJson(Approval a) {
        JsonObject json = new JsonObject()
                .put("id", a.id())
                .put("state", a.state().label())
                .put("mode", a.mode())
                .put("sessionId", a.sessionId().value())
                .put("commandId", a.commandId() == null ? null : a.commandId().value())
                .put("fingerprint", a.fingerprint())
                .put("approverFrom", a.fromOriginator() ? AuditEvent.ApprovalRequested.FROM_ORIGINATOR
                        : AuditEvent.ApprovalRequested.FROM_GROUP)
                .put("approverGroup", a.approverGroup())
                .put("approvalsRequired", a.approvalsRequired())
                .put("approvedBy", new JsonArray(a.approvedBy()))
                .put("requestedAt", text(a.requestedAt()))
                .put("expiresAt", text(a.expiresAt()))
                .put("validUntil", text(a.validUntil()))
                .put("ruleId", a.ruleId())
                .put("reason", a.reason())
                .put("channel", a.channel());
        Identity who = a.requester();
        if (who != null) {
            JsonObject requester = new JsonObject().put("subject", who.subject()).put("issuer", who.issuer())
                    .put("groups", new JsonArray(who.groups()));
            if (who.ci() != null) requester.put("ci", JsonObject.mapFrom(who.ci()));
            if (who.delegated()) {
                requester.put("originator", who.delegation().originator())
                        .put("originatorIssuer", who.delegation().originatorIssuer())
                        .put("chain", who.delegation().chain(who.subject()));
            }
            json.put("requester", requester);
        }
        if (a.connection() != null) json.put("connection", a.connection().name());
        if (a.command() != null) {
            json.put("sql", a.command().sql());
            json.put("parameters", new JsonArray(new java.util.ArrayList<>(a.command().parameters())));
            json.put("protocol", a.command().protocol());
            if (!a.command().statements().isEmpty()) {
                JsonArray statements = new JsonArray();
                a.command().statements().forEach(s -> statements.add(statement(s)));
                json.put("statements", statements);
            }
        }
        JsonArray votes = new JsonArray();
        for (Approval.Vote v : a.votes()) {
            votes.add(new JsonObject().put("approver", v.approver()).put("approve", v.approve())
                    .put("reason", v.reason()).put("channel", v.channel()).put("at", text(v.at()))
                    .put("counted", v.counted()).put("refusal", v.refusal()));
        }
        json.put("votes", votes);
        if (a.outcome() != null) {
            json.put("outcome", new JsonObject().put("state", a.outcome().state().label())
                    .put("by", new JsonArray(a.outcome().by())).put("at", text(a.outcome().at()))
                    .put("reason", a.outcome().reason()));
        }
        a.executedBy().ifPresent(c -> json.put("executedBy", c.value()));
        json.put("notifications", a.notifications().size());
        return json;
    }

    private static JsonObject statement(CommandStatement s) {
        return new JsonObject()
                .put("step", s.step().name())
                .put("sql", s.sql())
                .put("statementName", s.statementName())
                .put("portalName", s.portalName())
                .put("parameters", new JsonArray(new java.util.ArrayList<>(s.parameters())))
                .put("parametersDigest", s.parametersDigest())
                .put("rowLimit", s.rowLimit())
                .put("continued", s.continued())
                .put("via", s.via());
    }

    private static String text(Instant t) {
        return t == null ? null : t.toString();
    }
}
