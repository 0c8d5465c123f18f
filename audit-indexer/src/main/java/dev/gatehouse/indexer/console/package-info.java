/**
 * The web console: static pages (classpath {@code console/}) served by the indexer's HTTP server,
 * and a same-origin proxy of the approval service's REST API for the approvals page.
 */
package dev.gatehouse.indexer.console;
