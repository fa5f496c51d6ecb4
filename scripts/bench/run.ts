/**
 * `npm run bench`: the shop side by side with bare Node and the stock Moleculer template, in one run on one
 * machine, with the targets checked. Needs NATS and Redis (like the tests); wrk is installed when
 * missing. Prints progress and a Markdown report; `--write` puts the report into BENCHMARKS.md.
 *
 * Reads: wrk, 1 thread, 50 connections, 8 s after a 2 s warm-up. Checkout: 1,500 customers with two lines
 * each, 32 at a time (autocannon); 500 on the cluster with the Mongo-wire test server, whose updates slow
 * down as collections grow (BENCHMARKS.md), and 1,500 on the cluster with a NeDB store per node. Uncached list / sort / search: 30 requests each, every one with other
 * params, at 1k / 10k / 100k products on the embedded default. Ready: spawn → first 200 of /api/health, the
 * median of three. Idle RSS: every node, 2 s after ready.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NATS_URL, REDIS_URL, reachable } from "../harness";
import { ensureWrk, readLoad, type LoadResult } from "./load";
import { SHOP_ENV, rssMb, startBare, startPeer, startShop, startShopCluster, type Target } from "./targets";
import { checkoutLoad, uncachedLatencies, writeCatalog } from "./workloads";
import { replaceBetweenMarkers } from "./markdown";
import { report, type Figures } from "./report";

const log = (line: string) => process.stdout.write(`${line}\n`);
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

/** Runs every measurement; answers the figures. */
export async function runBench(): Promise<Figures> {
	const reads: Figures["reads"] = [];
	const read = async (path: string, setup: string, target: Target, url: string) => reads.push({ path, setup, ...(await measure(`${setup}: ${path}`, () => readLoad(url))) });
	const figures: Figures = { reads, checkout: [], uncached: [], readyMs: [], rss: [] };

	const bare = await startBare();
	await read("one product as JSON", "bare node:http", bare, `${bare.url}/`);
	await bare.stop();

	const peer = await startPeer("one");
	await read("cached product read", "template peer, one process", peer, `${peer.url}/products/${await firstProductId(peer)}`);
	await peer.stop();

	const shop = await startShop();
	await idle();
	figures.rss.push({ setup: "shop, one process", node: "all", mb: rssMb(shop.pids[0]) });
	await read("cached product read", "shop, one process", shop, `${shop.url}/products/${await firstProductId(shop)}`);
	await read("cached list (pageSize=20)", "shop, one process", shop, `${shop.url}/products?pageSize=20`);
	figures.checkout.push({ setup: "shop, one process", customers: 1500, ...(await measure("checkout, one process", () => checkoutLoad(shop.url, SHOP_ENV.JWT_SECRET, 1500))) });
	await shop.stop();

	const peerCluster = await startPeer("cluster");
	await read("cached product read", "template peer, api + products nodes over NATS/Redis", peerCluster, `${peerCluster.url}/products/${await firstProductId(peerCluster)}`);
	await peerCluster.stop();

	const cluster = await startShopCluster("mongo");
	await idle();
	for (const pid of cluster.pids) figures.rss.push({ setup: "shop, cluster on MongoDB", node: String(pid), mb: rssMb(pid) });
	await read("cached product read", "shop, cluster (8 nodes, NATS, Redis)", cluster, `${cluster.url}/products/${await firstProductId(cluster)}`);
	await read("cached list (pageSize=20)", "shop, cluster (8 nodes, NATS, Redis)", cluster, `${cluster.url}/products?pageSize=20`);
	figures.checkout.push({ setup: "shop, cluster, Mongo-wire test server", customers: 500, ...(await measure("checkout, cluster on the Mongo-wire test server", () => checkoutLoad(cluster.url, SHOP_ENV.JWT_SECRET, 500))) });
	await cluster.stop();

	const nedbCluster = await startShopCluster("nedb");
	await idle();
	for (const pid of nedbCluster.pids) figures.rss.push({ setup: "shop, cluster with NeDB per node", node: String(pid), mb: rssMb(pid) });
	figures.checkout.push({ setup: "shop, cluster, NeDB per node (--store=nedb)", customers: 1500, ...(await measure("checkout, cluster with a store per node", () => checkoutLoad(nedbCluster.url, SHOP_ENV.JWT_SECRET, 1500))) });
	await nedbCluster.stop();

	for (const size of [1_000, 10_000, 100_000]) {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `shop-bench-${size}-`));
		writeCatalog(dataDir, size);
		const big = await startShop({ DATA_DIR: dataDir });
		figures.uncached.push({ products: size, ...(await measure(`uncached list / sort / search at ${size} products`, () => uncachedLatencies(big.url))) });
		await big.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	}

	for (let i = 0; i < 3; i++) {
		const fresh = await startShop();
		figures.readyMs.push(fresh.readyMs);
		await fresh.stop();
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
