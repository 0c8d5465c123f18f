/** The indexer's HTTP query API (Vert.x web, OIDC bearer tokens, read group). */
package dev.gatehouse.indexer.api;
