/**
 * Coalescing per turn of the event loop: calls made while one turn's requests are being handled are sent
 * together once they all are (`setImmediate`), as one call to the store. Every caller's call is sent after
 * the caller asked, so what it learns is never older than its own request (the gateway's cache relies on
 * that to stay exact).
 */

interface Waiter<T> {
	resolve(value: T): void;
	reject(err: unknown): void;
}

/** Coalesces calls of `fetch` made in one turn into one call; every caller gets its answer. */
export function coalesce<T>(fetch: () => Promise<T>): () => Promise<T> {
	let waiters: Waiter<T>[] | null = null;
	return () =>
		new Promise<T>((resolve, reject) => {
			if (!waiters) {
				const batch: Waiter<T>[] = (waiters = []);
				setImmediate(() => {
					waiters = null;
					fetch().then(value => batch.forEach(w => w.resolve(value)), err => batch.forEach(w => w.reject(err)));
				});
			}
			waiters.push({ resolve, reject });
		});
}

/**
 * Coalesces counting calls per key made in one turn into one `count(key, n)` that adds `n` and answers the
 * new total; the i-th caller of the turn gets the total as it stood after its own unit.
 */
export function coalesceCounts(count: (key: string, n: number) => Promise<number>): (key: string) => Promise<number> {
	const turns = new Map<string, Waiter<number>[]>();
	return key =>
		new Promise<number>((resolve, reject) => {
			let batch = turns.get(key);
			if (!batch) {
				const waiting: Waiter<number>[] = (batch = []);
				turns.set(key, waiting);
				setImmediate(() => {
					turns.delete(key);
					count(key, waiting.length).then(
						total => waiting.forEach((w, i) => w.resolve(total - waiting.length + 1 + i)),
						err => waiting.forEach(w => w.reject(err))
					);
				});
			}
			batch.push({ resolve, reject });
		});
}
