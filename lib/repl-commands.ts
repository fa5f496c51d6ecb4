/**
 * moleculer-repl commands for operators (`npm run repl`, README "REPL"). Each asks the cluster through an
 * action and prints a table (the `table` package moleculer-repl uses):
 *
 *   orders [--status pending] [--limit 20]   every customer's orders, newest first (orders.listAll)
 *   stock <sku>                              on hand, reserved, available, sold, and the holds (products.stockOf)
 *   recover                                  the saga's recovery, now (orders.recover)
 *   deadletters [--limit 20]                 the newest dead-lettered durable events (notifications.deadLetters)
 *
 * The text of each is built by a plain function of its answer (tested without a REPL).
 */
import type { ServiceBroker } from "moleculer";
import { table } from "table";
import type { OrderRow, StockReport } from "../mixins/operator.mixin";
import { oneLine } from "./repl";

type Row = readonly (string | number)[];
const render = (header: Row, rows: readonly Row[]) => table([header, ...rows].map(row => row.map(String)));

/** The `orders` table. */
export function ordersTable(rows: readonly OrderRow[]): string {
	if (rows.length === 0) return "No orders.\n";
	return render(["id", "customer", "status", "step", "total (minor units)", "created"], rows.map(o => [o.id, o.customerId, o.status, o.step, `${o.total} ${o.currency}`, o.createdAt]));
}

/** The `stock` report: one table of units, one of holds. */
export function stockTable(report: StockReport): string {
	const units = render(["sku", "on hand", "reserved", "available", "sold"], [[report.sku, report.onHand, report.reserved, report.stock, report.sold]]);
	if (report.holds.length === 0) return `${units}No holds.\n`;
	return units + render(["held for order", "units", "since"], report.holds.map(h => [h.orderId, h.quantity, h.since]));
}

/** The `deadletters` table. */
export function deadLettersTable(letters: readonly { seq: number; channel: string; group: string; payload: unknown }[]): string {
	if (letters.length === 0) return "No dead letters.\n";
	return render(["seq", "channel", "group", "order"], letters.map(l => [l.seq, l.channel, l.group, String((l.payload as { orderId?: string } | null)?.orderId ?? "")]));
}

/** Prints what `work` resolves to, or one line for its error. */
async function print(work: () => Promise<string>): Promise<void> {
	try {
		process.stdout.write(await work());
	} catch (err) {
		console.error(`>> ERROR: ${oneLine(err)}`);
	}
}

type Args = { options: Record<string, string | undefined>; sku?: string };

/** The commands, as moleculer-repl's `customCommands`. */
export const REPL_COMMANDS = [
	{
		command: "orders",
		description: "Every customer's orders, newest first",
		options: [
			{ option: "--status <status>", description: "only this status: pending, paid, payment_failed, cancelled" },
			{ option: "--limit <n>", description: "at most n orders (default 20)" }
		],
		action: (broker: ServiceBroker, args: Args) =>
			print(async () => ordersTable(await broker.call("orders.listAll", { ...(args.options.status && { status: args.options.status }), ...(args.options.limit && { limit: args.options.limit }) })))
	},
	{
		command: "stock <sku>",
		description: "On hand, reserved, available and sold units of a product, and its holds",
		action: (broker: ServiceBroker, args: Args) => print(async () => stockTable(await broker.call("products.stockOf", { sku: args.sku })))
	},
	{
		command: "recover",
		description: "Run the saga's recovery of unfinished orders now",
		action: (broker: ServiceBroker) => print(async () => `Settled ${((await broker.call("orders.recover")) as { settled: number }).settled} orders.\n`)
	},
	{
		command: "deadletters",
		description: "The newest dead-lettered durable events",
		options: [{ option: "--limit <n>", description: "at most n (default 20)" }],
		action: (broker: ServiceBroker, args: Args) => print(async () => deadLettersTable(await broker.call("notifications.deadLetters", args.options.limit ? { limit: args.options.limit } : {})))
	}
];
