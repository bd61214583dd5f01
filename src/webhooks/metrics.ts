import { Counter, Histogram } from "prom-client";
import { registry } from "../ops/metrics.js";

/** Deliveries by provider and how they were answered: the status they were stored with, or why refused. */
export const webhookDeliveriesTotal = new Counter({
  name: "reckon_webhook_deliveries_total",
  help: "Webhook deliveries received, by provider and outcome (processed, ignored, parked, failed, duplicate, or the refusal)",
  labelNames: ["provider", "outcome"] as const,
  registers: [registry],
});

/** From the request's arrival at ingest to its durable commit: what the provider waits for. */
export const webhookAckSeconds = new Histogram({
  name: "reckon_webhook_ack_seconds",
  help: "Time from receiving a signed delivery to its durable store and apply, in seconds",
  labelNames: ["provider"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

/** The SQLite webhook writer thread ended without being closed (docs/decisions/sqlite-writer-thread.md). */
export const webhookWriterExitsTotal = new Counter({
  name: "reckon_webhook_writer_exits_total",
  help: "Times the SQLite webhook writer thread ended unexpectedly; its unanswered deliveries got 503 and are sent again",
  registers: [registry],
});
