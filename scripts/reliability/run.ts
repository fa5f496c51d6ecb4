/**
 * `npm run reliability`: runs every reliability scenario against real NATS, Redis and MongoDB (MONGO_URI,
 * or the Mongo-wire test server) and prints a Markdown table of what the stores held afterwards. With
 * `--write` it also rewrites the table in RELIABILITY.md. Exits 1 if any invariant is broken (a double
 * charge, a capture without a paid order, a stuck order, stock drift or a stock hold left behind).
 */
import os from "node:os";
import path from "node:path";
import { NATS_URL, REDIS_URL, reachable } from "../harness";
import { startMongoWire } from "../mongo-wire";
import { replaceBetweenMarkers } from "../bench/markdown";
import { crashDuringCheckout } from "./crash";
import { consumerDown, multiLineRace, raceForLastUnits, redisOutageUnderLoad, sameKeyTwenty, type Outcome } from "./scenarios";
import { doubleSubmit, lateReservations } from "./duplicates";
import { natsServerLoss, redisFailover } from "./ha";

const COLUMNS: [keyof Outcome, string][] = [
	["paid", "paid orders"],
	["failed", "payment_failed"],
	["refused", "409 refused"],
	["serverErrors", "5xx / other errors"],
	["captured", "captured charges"],
	["doubleCharges", "double charges"],
	["capturedWithoutPaidOrder", "charges without a paid order"],
	["pending", "stuck (pending) orders"],
	["stockDrift", "stock drift (units)"],
	["holdsLeft", "stock still held"]
];

/** The Markdown table of `outcomes`. */
export function table(outcomes: Outcome[]): string {
	const head = `| scenario | load | faults injected | ${COLUMNS.map(([, title]) => title).join(" | ")} |`;
	const rule = `|${"---|".repeat(3 + COLUMNS.length)}`;
	const rows = outcomes.map(o => `| ${o.scenario} | ${o.load} | ${o.faults} | ${COLUMNS.map(([key]) => String(o[key])).join(" | ")} |`);
	return [head, rule, ...rows].join("\n");
}

/** True when no invariant is broken in `o`. */
export function holds(o: Outcome): boolean {
	return o.doubleCharges === 0 && o.capturedWithoutPaidOrder === 0 && o.pending === 0 && o.stockDrift === 0 && o.holdsLeft === 0;
}

async function main(): Promise<number> {
	for (const [name, url] of [["NATS", NATS_URL], ["Redis", REDIS_URL]]) {
		if (!(await reachable(url))) {
			console.error(`${name} is not reachable at ${url}: start it first (see the README).`);
			return 1;
		}
	}
	const mongo = process.env.MONGO_URI ? null : await startMongoWire();
	if (mongo) process.env.MONGO_URI = mongo.uri;
	const started = Date.now();
	const outcomes: Outcome[] = [];
	const run = async (label: string, scenario: () => Promise<Outcome>) => {
		process.stdout.write(`- ${label}… `);
		const t = Date.now();
		outcomes.push(await scenario());
		process.stdout.write(`${((Date.now() - t) / 1000).toFixed(1)} s\n`);
	};
	try {
		await run("race for the last units", () => raceForLastUnits(200, 50));
		await run("two-product race", () => multiLineRace(10, 5));
		await run("same Idempotency-Key ×20", () => sameKeyTwenty(20));
		await run("double submit ×20 without a key", () => doubleSubmit(20));
		await run("reservations landing late", () => lateReservations(5));
		await run("Redis down during load", () => redisOutageUnderLoad(15));
		await run("notifications node down", async () => {
			const outcome = await consumerDown(10);
			return { ...outcome, faults: `${outcome.faults}; ${outcome.confirmations} of ${outcome.paid} orders got exactly one confirmation` };
		});
		await run("orders killed after the reservation", () => crashDuringCheckout("after_reserve", 3));
		await run("orders killed after the charge", () => crashDuringCheckout("after_charge", 3));
		await run("a NATS server of three killed during checkouts", () => natsServerLoss(24));
		await run("Redis primary killed (Sentinels)", () => redisFailover(10));
	} finally {
		await mongo?.stop();
	}
	const setup = `${os.cpus().length} cores, Node ${process.version}, NATS ${NATS_URL}, Redis ${REDIS_URL}, ${mongo ? "the Mongo-wire test server (jongodb)" : "MongoDB at MONGO_URI"}`;
	const report = `Run on ${new Date().toISOString()} (${((Date.now() - started) / 1000).toFixed(0)} s; ${setup}).\n\n${table(outcomes)}\n`;
	console.log(`\n${report}`);
	if (process.argv.includes("--write")) {
		const file = path.resolve(__dirname, "../../..", "RELIABILITY.md");
		replaceBetweenMarkers(file, "figures", report);
		console.log(`Wrote the table into ${file}.`);
	}
	const broken = outcomes.filter(o => !holds(o));
	if (broken.length > 0) console.error(`Invariants broken in: ${broken.map(o => o.scenario).join("; ")}`);
	return broken.length > 0 ? 1 : 0;
}

if (require.main === module) {
	main().then(code => process.exit(code), err => {
		console.error(err);
		process.exit(1);
	});
}
