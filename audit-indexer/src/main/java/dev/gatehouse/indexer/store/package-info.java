/** Audit indexer: store. */
package dev.gatehouse.indexer.store;
