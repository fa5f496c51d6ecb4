/**
 * How a catalog import is cut into requests of `POST /api/products/import`: at most BATCH_SIZE entries and
 * BATCH_BYTES of JSON each, under the gateway's 64 KB body limit. Shared by the import script
 * (scripts/import.ts) and the storefront's admin page (web/src/views/admin.ts); no Node or DOM dependency.
 */

/** Most entries per request (the action accepts at most 500). */
export const BATCH_SIZE = 50;
/** Most JSON bytes per request (UTF-8), under the gateway's 64 KB body limit. */
export const BATCH_BYTES = 48 * 1024;

const encoder = new TextEncoder();

/** The UTF-8 size in bytes of `value` as JSON. */
function jsonBytes(value: unknown): number {
	return encoder.encode(JSON.stringify(value)).length;
}

/**
 * Splits `entries` into requests of at most BATCH_SIZE entries and BATCH_BYTES of JSON (at least one entry
 * each: a single larger entry goes alone, and the gateway answers it 413). `start` is the index of a batch's
 * first entry in `entries`.
 */
export function* batches<T>(entries: readonly T[]): Generator<{ start: number; batch: T[] }> {
	let start = 0;
	while (start < entries.length) {
		let end = start + 1;
		let bytes = jsonBytes(entries[start]);
		while (end < entries.length && end - start < BATCH_SIZE) {
			bytes += jsonBytes(entries[end]) + 1;
			if (bytes > BATCH_BYTES) break;
			end += 1;
		}
		yield { start, batch: entries.slice(start, end) };
		start = end;
	}
}
