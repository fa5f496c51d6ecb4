/**
 * The shop-specific workloads of `npm run bench`: a catalog of n products written straight into a NeDB
 * file (what the embedded default loads at start), uncached list / sort / search requests on it, and a
 * checkout burst by many customers at once.
 */
import fs from "node:fs";
import path from "node:path";
import { v7 as uuidv7 } from "uuid";
import { issueToken } from "../../lib/jwt";
import { initialStock } from "../../domain/stock";
import { postLoad, type LoadResult } from "./load";

const ADJECTIVES = ["Alpine", "Rugged", "Compact", "Classic", "Trail", "Summit", "Coastal", "Urban", "Polar", "Desert"];
const NOUNS = ["Lantern", "Backpack", "Tent", "Jacket", "Stove", "Bottle", "Boots", "Gloves", "Compass", "Hammock"];
const CATEGORIES = ["Camping", "Hiking", "Climbing", "Clothing", "Footwear", "Cooking", "Navigation", "Accessories"];

/** Writes a NeDB products file of `n` products into `dataDir` (the shop indexes it when it starts). */
export function writeCatalog(dataDir: string, n: number): void {
	fs.mkdirSync(dataDir, { recursive: true });
	const now = Date.now();
	const lines: string[] = [];
	for (let i = 0; i < n; i++) {
		const at = new Date(now - (n - i) * 1000).toISOString();
		lines.push(
			JSON.stringify({
				_id: uuidv7(),
				sku: `BENCH-${i}`,
				name: `${ADJECTIVES[i % 10]} ${NOUNS[Math.floor(i / 10) % 10]} ${i}`,
				description: `A ${NOUNS[Math.floor(i / 10) % 10].toLowerCase()} for the outdoors, model ${i}.`,
				category: CATEGORIES[i % CATEGORIES.length],
				brand: `Brand ${i % 50}`,
				price: 500 + ((i * 7919) % 100_000),
				currency: "USD",
				...initialStock(100),
				createdAt: at,
				updatedAt: at
			})
		);
	}
	fs.writeFileSync(path.join(dataDir, "products.db"), `${lines.join("\n")}\n`);
}

/** Latencies (ms) of uncached list, sort and search requests: `count` each, every one with other params. */
export async function uncachedLatencies(url: string, count = 30): Promise<Record<"list" | "sort" | "search", { p50: number; p99: number; failed: number }>> {
	const kinds = {
		list: (i: number) => `/products?page=${i + 1}&pageSize=20`,
		sort: (i: number) => `/products?sort=-price&page=${i + 1}&pageSize=20`,
		search: (i: number) => `/products?q=${NOUNS[i % 10].toLowerCase()}&page=${Math.floor(i / 10) + 1}&pageSize=20`
	};
	const result = {} as Record<keyof typeof kinds, { p50: number; p99: number; failed: number }>;
	for (const [kind, path] of Object.entries(kinds) as [keyof typeof kinds, (i: number) => string][]) {
		const times: number[] = [];
		let failed = 0;
		for (let i = 0; i < count; i++) {
			const started = performance.now();
			const res = await fetch(`${url}${path(i)}`);
			await res.arrayBuffer();
			if (res.status !== 200) failed += 1;
			times.push(performance.now() - started);
		}
		times.sort((a, b) => a - b);
		result[kind] = { p50: times[Math.floor(times.length / 2)], p99: times[Math.min(times.length - 1, Math.ceil(times.length * 0.99) - 1)], failed };
	}
	return result;
}

/** Runs `work` over `items` with at most `concurrency` at once. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	await Promise.all(Array.from({ length: concurrency }, async () => {
		while (next < items.length) await work(items[next++]);
	}));
}

/**
 * Checkouts each setup serves before its measured checkouts, untimed, like the reads' warm-up: the nodes'
 * checkout code is still being compiled by V8 at first. On the NeDB cluster, the first 1,500 checkouts after
 * start answered 253 paid orders/s with a p99 of 283 ms, the next 1,500 318/s and 165 ms (2026-12-07). Their
 * non-2xx answers and errors are counted with the measured run's.
 */
export const CHECKOUT_WARMUP = 200;

/**
 * `customers` customers (tokens signed with `secret`, as the gateway checks them) each put two products
 * in their cart; then all check out, `concurrency` at a time. Answers the checkout load (rps = paid orders/s).
 */
export async function checkoutLoad(url: string, secret: string, customers: number, concurrency = 32): Promise<LoadResult> {
	const admin = await issueToken({ id: "bench-admin", email: "admin@bench.test", role: "admin" }, secret, 3600);
	const create = async (sku: string) => {
		const res = await fetch(`${url}/products`, {
			method: "POST",
			headers: { "Content-Type": "application/json", Authorization: `Bearer ${admin}` },
			body: JSON.stringify({ sku: `${sku}-${Date.now()}`, name: sku, category: "Bench", price: 1500, stock: 1_000_000 })
		});
		if (res.status !== 201) throw new Error(`creating ${sku}: ${res.status} ${await res.text()}`);
		return ((await res.json()) as { id: string }).id;
	};
	const products = [await create("CHECKOUT-A"), await create("CHECKOUT-B")];
	const tokens = await Promise.all(Array.from({ length: customers }, (_, i) => issueToken({ id: `bench-customer-${i}-${Date.now()}`, email: `c${i}@bench.test`, role: "customer" }, secret, 3600)));
	await pool(tokens, concurrency, async token => {
		for (const productId of products) {
			const res = await fetch(`${url}/cart/items`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` }, body: JSON.stringify({ productId, quantity: 1 }) });
			if (res.status !== 200) throw new Error(`filling a cart: ${res.status} ${await res.text()}`);
		}
	});
	return postLoad(`${url}/orders`, customers, concurrency, { paymentToken: "tok_visa" }, i => ({ Authorization: `Bearer ${tokens[i]}` }));
}
