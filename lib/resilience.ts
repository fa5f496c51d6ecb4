/**
 * Per-action fault-tolerance settings. Retries are on only for actions that are idempotent (reads, and writes
 * keyed by an order or reservation id): retrying anything else could repeat a side effect.
 */
import type { ServiceBroker } from "moleculer";

type RetryPolicyOptions = NonNullable<ServiceBroker["options"]["retryPolicy"]>;

/**
 * Retry an idempotent action up to 2 more times, 100 ms then 200 ms later (ms), on errors Moleculer marks
 * retryable (timeouts, a node that went away, a full queue), never on a client error.
 */
export const IDEMPOTENT_RETRY: RetryPolicyOptions = {
	enabled: true,
	retries: 2,
	delay: 100,
	maxDelay: 1000,
	factor: 2,
	check: err => Boolean(err && (err as { retryable?: boolean }).retryable)
};
