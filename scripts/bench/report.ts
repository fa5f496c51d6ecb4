/**
 * The Markdown report of `npm run bench`: the tables, and every target of the issue "Fast" checked against
 * the figures of the same run.
 */
import os from "node:os";
import type { LoadResult } from "./load";
import { CHECKOUT_WARMUP } from "./workloads";

/** Everything one bench run measured. Latencies in ms, memory in MB. */
export interface Figures {
	/** The median round of each read (by req/s); `rounds`: every round's req/s; non2xx and errors: of all rounds. */
	reads: ({ path: string; setup: string; rounds: number[] } & LoadResult)[];
	/** Paid orders: `customers` customers, two lines each, 32 at a time. */
	checkout: ({ setup: string; customers: number } & LoadResult)[];
	uncached: { products: number; list: Latency; sort: Latency; search: Latency }[];
	readyMs: number[];
	rss: { setup: string; node: string; mb: number }[];
}
interface Latency {
	p50: number;
	p99: number;
	failed: number;
}

const n = (x: number, digits = 0) => x.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A target: what it says, and whether the figures meet it. */
export interface Target {
	goal: string;
	measured: string;
	met: boolean;
}

/** The median of `values` by `key` (the upper one of an even count). */
export function median<T>(values: readonly T[], key: (value: T) => number): T {
	return [...values].sort((a, b) => key(a) - key(b))[Math.floor(values.length / 2)];
}

/**
 * How many times `a`'s req/s is `b`'s: the median, over the rounds, of the ratio of the two reads' i-th
 * rounds. For reads measured side by side that pairs figures taken minutes apart at most; the cluster's
 * reads against bare come from two phases of the run, so there it pairs rounds of each phase in order.
 */
export function roundRatio(a: { rounds: number[] }, b: { rounds: number[] }): number {
	return median(a.rounds.map((rps, i) => rps / b.rounds[i]), ratio => ratio);
}

/** Checks the issue's targets against `f`. */
export function targets(f: Figures): Target[] {
	const read = (setup: string, path: string) => f.reads.find(r => r.setup.startsWith(setup) && r.path.startsWith(path))!;
	const bare = read("bare", "one product");
	const one = read("shop, one process", "cached product");
	const list = read("shop, one process", "cached list");
	const cluster = read("shop, cluster", "cached product");
	const peer = read("template peer, one", "cached product");
	const peerCluster = read("template peer, api", "cached product");
	const [oneBare, onePeer, listBare] = [roundRatio(one, bare), roundRatio(one, peer), roundRatio(list, bare)];
	const [clusterBare, clusterPeer] = [roundRatio(cluster, bare), roundRatio(cluster, peerCluster)];
	const checkoutOne = f.checkout.find(c => c.setup.includes("one process"))!;
	const checkoutCluster = f.checkout.find(c => c.setup.includes("per node"))!;
	const checkoutMongo = f.checkout.find(c => c.setup.includes("Mongo-wire"))!;
	const ready = [...f.readyMs].sort((a, b) => a - b)[1];
	const maxRss = Math.max(...f.rss.filter(r => !r.setup.includes("MongoDB")).map(r => r.mb));
	const maxMongoRss = Math.max(...f.rss.filter(r => r.setup.includes("MongoDB")).map(r => r.mb));
	const big = f.uncached.find(u => u.products === 100_000)!;
	const worst = Math.max(big.list.p50, big.sort.p50, big.search.p50);
	return [
		{ goal: "cached product read, one process ≥ 0.45× bare and ≥ 1.4× the peer", measured: `${n(oneBare, 2)}× bare, ${n(onePeer, 2)}× peer`, met: oneBare >= 0.45 && onePeer >= 1.4 },
		{ goal: "cached list, one process ≥ 0.35× bare", measured: `${n(listBare, 2)}× bare`, met: listBare >= 0.35 },
		{ goal: "cached product read, cluster ≥ 0.35× bare, p99 < 10 ms, ≥ 3× the peer across NATS", measured: `${n(clusterBare, 2)}× bare, p99 ${n(cluster.p99, 1)} ms, ${n(clusterPeer, 1)}× peer`, met: clusterBare >= 0.35 && cluster.p99 < 10 && clusterPeer >= 3 },
		{ goal: "checkout, one process ≥ 400 paid orders/s, p99 < 150 ms", measured: `${n(checkoutOne.rps)}/s, p99 ${n(checkoutOne.p99)} ms`, met: checkoutOne.rps >= 400 && checkoutOne.p99 < 150 },
		{ goal: "checkout, cluster ≥ 250 paid orders/s, p99 < 150 ms (a store per node)", measured: `${n(checkoutCluster.rps)}/s, p99 ${n(checkoutCluster.p99)} ms`, met: checkoutCluster.rps >= 250 && checkoutCluster.p99 < 150 },
		{ goal: "the same, on the Mongo-wire test server (see below: its updates, not the shop, set this figure)", measured: `${n(checkoutMongo.rps)}/s, p99 ${n(checkoutMongo.p99)} ms`, met: checkoutMongo.rps >= 250 && checkoutMongo.p99 < 150 },
		{ goal: "one process ready < 1.5 s after spawn", measured: `${n(ready / 1000, 2)} s`, met: ready < 1500 },
		{ goal: "idle RSS < 90 MB per node: one process, and cluster nodes on NeDB", measured: `at most ${n(maxRss, 1)} MB`, met: maxRss < 90 },
		{ goal: "the same, cluster nodes on MongoDB (they load the mongodb 3.7 driver that moleculer-db-adapter-mongo pins)", measured: `at most ${n(maxMongoRss, 1)} MB`, met: maxMongoRss < 90 },
		{ goal: "uncached list, sort and search at 100,000 products: p50 < 60 ms", measured: `at most ${n(worst, 1)} ms`, met: worst < 60 }
	];
}

/** The report: setup, tables, targets. */
export function report(f: Figures, run: { date: string; seconds: number }): string {
	const bare = f.reads.find(r => r.setup.startsWith("bare"))!;
	const lines = [
		`Run on ${run.date} (${run.seconds} s): ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, NATS and Redis on 127.0.0.1; reads by wrk (1 thread, 50 connections, a 4 s warm-up, then ${f.reads[0]?.rounds.length ?? 0} rounds of 8 s after 2 s more, the setups compared running side by side and taking turns: each row is its median round, and a ratio the median of the same round's ratios), checkout by autocannon after ${CHECKOUT_WARMUP} untimed checkouts. Every non-2xx answer is counted, in every round.`,
		"",
		"| path | setup | req/s | × bare | p50 (ms) | p99 (ms) | req/s of each round | non-2xx / errors |",
		"|---|---|---|---|---|---|---|---|",
		...f.reads.map(r => `| ${r.path} | ${r.setup} | ${n(r.rps)} | ${n(roundRatio(r, bare), 2)} | ${n(r.p50, 2)} | ${n(r.p99, 2)} | ${r.rounds.map(x => n(x)).join(" / ")} | ${r.non2xx} / ${r.errors} |`),
		"",
		"| checkout (2 lines per cart, 32 at a time) | customers | paid orders/s | p50 (ms) | p99 (ms) | non-2xx / errors |",
		"|---|---|---|---|---|---|",
		...f.checkout.map(c => `| ${c.setup} | ${n(c.customers)} | ${n(c.rps)} | ${n(c.p50)} | ${n(c.p99)} | ${c.non2xx} / ${c.errors} |`),
		"",
		"| uncached, embedded default | list p50 / p99 (ms) | sort by price p50 / p99 | search p50 / p99 | failed |",
		"|---|---|---|---|---|",
		...f.uncached.map(u => `| ${n(u.products)} products | ${n(u.list.p50, 1)} / ${n(u.list.p99, 1)} | ${n(u.sort.p50, 1)} / ${n(u.sort.p99, 1)} | ${n(u.search.p50, 1)} / ${n(u.search.p99, 1)} | ${u.list.failed + u.sort.failed + u.search.failed} |`),
		"",
		`Spawn → ready (one process, built): ${f.readyMs.map(ms => `${n(ms / 1000, 2)} s`).join(", ")}. Idle RSS, 2 s after ready: ${f.rss.filter(r => r.setup.includes("one")).map(r => `${n(r.mb, 1)} MB`).join("")} in one process; cluster nodes on MongoDB ${f.rss.filter(r => r.setup.includes("MongoDB")).map(r => n(r.mb, 1)).join(", ")} MB; cluster nodes on NeDB ${f.rss.filter(r => r.setup.includes("NeDB")).map(r => n(r.mb, 1)).join(", ")} MB (node order: ${"products, customers, payments, carts, notifications, orders, api"}; the MongoDB cluster runs products twice).`,
		"",
		"| target | measured | met |",
		"|---|---|---|",
		...targets(f).map(t => `| ${t.goal} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`),
		""
	];
	return lines.join("\n");
}
