/**
 * No single NATS (scripts/reliability/ha.ts `natsServerLoss`): `npm run cluster`'s nodes on a 3-server NATS
 * cluster (streams R3); checkouts at a steady rate while the server holding most connections is SIGKILLed,
 * then started again. Every checkout ends paid, once, with one capture; none stuck; every `order.paid` took
 * effect once (one confirmation per order, every cart emptied); no unit lost or invented.
 */
import { natsServerLoss } from "../../scripts/reliability/ha";

it("ends every checkout paid, once, with its events delivered, while a NATS server dies and comes back", async () => {
	const outcome = await natsServerLoss(24);
	process.stdout.write(`[ha] ${outcome.faults}\n`);
	expect({ paid: outcome.paid, failed: outcome.failed, pending: outcome.pending, captured: outcome.captured, doubleCharges: outcome.doubleCharges, capturedWithoutPaidOrder: outcome.capturedWithoutPaidOrder, stockDrift: outcome.stockDrift, holdsLeft: outcome.holdsLeft }).toEqual({
		paid: 24,
		failed: 0,
		pending: 0,
		captured: 24,
		doubleCharges: 0,
		capturedWithoutPaidOrder: 0,
		stockDrift: 0,
		holdsLeft: 0
	});
	// On a shortfall, where the events stopped: still in the orders' outboxes, or in JetStream (its consumers' state).
	if (outcome.diagnosis) process.stdout.write(`[ha] diagnosis:\n${outcome.diagnosis}\n`);
	expect({ confirmations: outcome.confirmations, outboxPending: outcome.outboxPending, cartsLeft: outcome.cartsLeft }).toEqual({ confirmations: 24, outboxPending: 0, cartsLeft: 0 });
}, 300_000);
