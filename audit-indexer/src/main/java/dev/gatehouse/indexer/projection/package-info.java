/** Audit indexer: projection. */
package dev.gatehouse.indexer.projection;
