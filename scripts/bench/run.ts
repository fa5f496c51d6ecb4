/**
 * `npm run bench`: the shop side by side with bare Node and the stock Moleculer template, in one run on one
 * machine, with the targets checked. Needs NATS and Redis (like the tests); wrk is installed when
 * missing. Prints progress and a Markdown report; `--write` puts the report into BENCHMARKS.md.
 *
 * Reads: wrk, 1 thread, 50 connections: 4 s of warm-up, then READ_ROUNDS rounds of 8 s after 2 s more per
 * path, the setups that are compared taking turns while all of them run (see `readRounds`); a ratio is the
 * median of the same round's ratios (`roundRatio`). Checkout: 1,500 customers with two
 * lines each, 32 at a time (autocannon), after CHECKOUT_WARMUP checkouts that are not timed; 500 on the cluster with the Mongo-wire test server, whose updates
 * slow down as collections grow (BENCHMARKS.md), and 1,500 on the cluster with a NeDB store per node.
 * Uncached list / sort / search: 30 requests each, every one with other params, at 1k / 10k / 100k products
 * on the embedded default. Ready: spawn → first 200 of /api/health, the median of three. Idle RSS: every
 * node, 2 s after ready.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NATS_URL, REDIS_URL, reachable } from "../harness";
import { ensureWrk, readLoad, type LoadResult } from "./load";
import { SHOP_ENV, rssMb, startBare, startPeer, startShop, startShopCluster, type Target } from "./targets";
import { CHECKOUT_WARMUP, checkoutLoad, uncachedLatencies, writeCatalog } from "./workloads";
import { replaceBetweenMarkers } from "./markdown";
import { median, report, type Figures } from "./report";

const log = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Each read is measured this many times. This VM's speed drifts by ±30 % over minutes, so a ratio of two
 * figures taken minutes apart says more about the drift than about the code: the setups compared with each
 * other (bare, peer and shop in one process; peer and shop across NATS) run side by side and take turns,
 * round after round, and each one's median round is reported.
 */
export const READ_ROUNDS = 3;
/** Load on each read before its first round (s): the peer across NATS was still speeding up after 2 s. */
const WARMUP_SECONDS = 4;

const idle = () => new Promise(resolve => setTimeout(resolve, 2000));

/** The id of the first product the target lists (the shop's `id`, the peer's `_id`). */
async function firstProductId(target: Target): Promise<string> {
	const page = (await (await fetch(`${target.url}/products?pageSize=1`)).json()) as { rows: { id?: string; _id?: string }[] };
	return page.rows[0].id ?? page.rows[0]._id!;
}

async function measure<T>(label: string, run: () => Promise<T>): Promise<T> {
	const started = Date.now();
	log(`- ${label}…`);
	const value = await run();
	log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	return value;
}

/** `customers` checkouts on the shop at `url`, after CHECKOUT_WARMUP untimed ones (see there). */
async function warmedCheckout(url: string, customers: number): Promise<LoadResult> {
	const warmup = await checkoutLoad(url, SHOP_ENV.JWT_SECRET, CHECKOUT_WARMUP);
	const run = await checkoutLoad(url, SHOP_ENV.JWT_SECRET, customers);
	return { ...run, non2xx: run.non2xx + warmup.non2xx, errors: run.errors + warmup.errors };
}

/** A read to measure: what is read, on which setup, at which URL. */
interface ReadPath {
	path: string;
	setup: string;
	url: string;
}

/**
 * Measures every read of `paths` READ_ROUNDS times, in turns (all of round 1, then round 2…), after one
 * warm-up of WARMUP_SECONDS each; each round starts one path later than the one before, so no setup is
 * always first. Answers, per path, its round with the median req/s (its latencies with it), every round's
 * req/s, and the non-2xx answers and errors of all rounds.
 */
async function readRounds(paths: readonly ReadPath[]): Promise<Figures["reads"]> {
	await measure(`warming up ${paths.length} reads, ${WARMUP_SECONDS} s each`, async () => {
		for (const p of paths) await readLoad(p.url, { warmup: 0, seconds: WARMUP_SECONDS });
	});
	const runs = paths.map(() => [] as LoadResult[]);
	for (let round = 1; round <= READ_ROUNDS; round++) {
		for (let k = 0; k < paths.length; k++) {
			const i = (k + round - 1) % paths.length;
			const p = paths[i];
			runs[i].push(await measure(`${p.setup}: ${p.path} (round ${round} of ${READ_ROUNDS})`, () => readLoad(p.url)));
		}
	}
	return paths.map((p, i) => {
		const sum = (key: "non2xx" | "errors") => runs[i].reduce((total, run) => total + run[key], 0);
		return { path: p.path, setup: p.setup, ...median(runs[i], run => run.rps), rounds: runs[i].map(run => run.rps), non2xx: sum("non2xx"), errors: sum("errors") };
	});
}

/** Runs every measurement; answers the figures. Whatever it started is stopped, also when a step fails. */
export async function runBench(): Promise<Figures> {
	const running = new Set<Target>();
	try {
		return await measureAll(
			async <T extends Target>(target: Promise<T>) => {
				const value = await target;
				running.add(value);
				return value;
			},
			async target => (running.delete(target), target.stop())
		);
	} finally {
		await Promise.allSettled([...running].map(target => target.stop()));
	}
}

/** Every measurement of runBench; `started` registers what it starts, `stop` stops it. */
async function measureAll(started: <T extends Target>(target: Promise<T>) => Promise<T>, stop: (target: Target) => Promise<void>): Promise<Figures> {
	const reads: Figures["reads"] = [];
	const figures: Figures = { reads, checkout: [], uncached: [], readyMs: [], rss: [] };

	const shop = await started(startShop());
	await idle();
	figures.rss.push({ setup: "shop, one process", node: "all", mb: rssMb(shop.pids[0]) });
	const bare = await started(startBare());
	const peer = await started(startPeer("one"));
	reads.push(
		...(await readRounds([
			{ path: "one product as JSON", setup: "bare node:http", url: `${bare.url}/` },
			{ path: "cached product read", setup: "template peer, one process", url: `${peer.url}/products/${await firstProductId(peer)}` },
			{ path: "cached product read", setup: "shop, one process", url: `${shop.url}/products/${await firstProductId(shop)}` },
			{ path: "cached list (pageSize=20)", setup: "shop, one process", url: `${shop.url}/products?pageSize=20` }
		]))
	);
	await stop(bare);
	await stop(peer);
	figures.checkout.push({ setup: "shop, one process", customers: 1500, ...(await measure("checkout, one process", () => warmedCheckout(shop.url, 1500))) });
	await stop(shop);

	const cluster = await started(startShopCluster("mongo"));
	await idle();
	for (const pid of cluster.pids) figures.rss.push({ setup: "shop, cluster on MongoDB", node: String(pid), mb: rssMb(pid) });
	const peerCluster = await started(startPeer("cluster"));
	reads.push(
		...(await readRounds([
			{ path: "cached product read", setup: "template peer, api + products nodes over NATS/Redis", url: `${peerCluster.url}/products/${await firstProductId(peerCluster)}` },
			{ path: "cached product read", setup: "shop, cluster (8 nodes, NATS, Redis)", url: `${cluster.url}/products/${await firstProductId(cluster)}` },
			{ path: "cached list (pageSize=20)", setup: "shop, cluster (8 nodes, NATS, Redis)", url: `${cluster.url}/products?pageSize=20` }
		]))
	);
	await stop(peerCluster);
	figures.checkout.push({ setup: "shop, cluster, Mongo-wire test server", customers: 500, ...(await measure("checkout, cluster on the Mongo-wire test server", () => warmedCheckout(cluster.url, 500))) });
	await stop(cluster);

	const nedbCluster = await started(startShopCluster("nedb"));
	await idle();
	for (const pid of nedbCluster.pids) figures.rss.push({ setup: "shop, cluster with NeDB per node", node: String(pid), mb: rssMb(pid) });
	figures.checkout.push({ setup: "shop, cluster, NeDB per node (--store=nedb)", customers: 1500, ...(await measure("checkout, cluster with a store per node", () => warmedCheckout(nedbCluster.url, 1500))) });
	await stop(nedbCluster);

	for (const size of [1_000, 10_000, 100_000]) {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `shop-bench-${size}-`));
		writeCatalog(dataDir, size);
		const big = await started(startShop({ DATA_DIR: dataDir }));
		figures.uncached.push({ products: size, ...(await measure(`uncached list / sort / search at ${size} products`, () => uncachedLatencies(big.url))) });
		await stop(big);
		fs.rmSync(dataDir, { recursive: true, force: true });
	}

	for (let i = 0; i < 3; i++) {
		const fresh = await started(startShop());
		figures.readyMs.push(fresh.readyMs);
		await stop(fresh);
	}
	return figures;
}

async function main(): Promise<number> {
	for (const [name, url] of [["NATS", NATS_URL], ["Redis", REDIS_URL]]) {
		if (!(await reachable(url))) {
			console.error(`${name} is not reachable at ${url}: start it first (see the README's Tests section).`);
			return 1;
		}
	}
	ensureWrk(log);
	const started = Date.now();
	log(`Benchmarking on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), Node ${process.version}:`);
	const figures = await runBench();
	const text = report(figures, { date: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) });
	log(`\n${text}`);
	if (process.argv.includes("--write")) {
		const file = path.resolve(__dirname, "../../..", "BENCHMARKS.md");
		replaceBetweenMarkers(file, "bench", text);
		log(`Wrote the report into ${file}.`);
	}
	return 0;
}

if (require.main === module) {
	main().then(code => process.exit(code), err => {
		console.error(err);
		process.exit(1);
	});
}

export type { LoadResult };
