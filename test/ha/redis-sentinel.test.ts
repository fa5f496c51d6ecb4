/**
 * No single Redis (scripts/reliability/ha.ts `redisFailover`): `npm run cluster`'s nodes with
 * CACHER=redis+sentinel:// (a primary, a replica, three Sentinels). The primary is SIGKILLed during catalog
 * reads and checkouts: no read fails (served from the store while the cacher is away), a price changed during
 * the failover is what the next read shows, every checkout ends paid once, and the login throttle counts in
 * the new primary again (the scenario waits for that, up to 30 s).
 */
import { redisFailover } from "../../scripts/reliability/ha";

it("keeps serving, shows no stale read, pays every checkout once and throttles logins again after the primary dies", async () => {
	const outcome = await redisFailover(10);
	process.stdout.write(`[ha] ${outcome.faults}\n`);
	expect(outcome.notes).toContain("stale false");
	expect({ serverErrors: outcome.serverErrors, paid: outcome.paid, pending: outcome.pending, captured: outcome.captured, doubleCharges: outcome.doubleCharges, stockDrift: outcome.stockDrift, holdsLeft: outcome.holdsLeft }).toEqual({
		serverErrors: 0,
		paid: 10,
		pending: 0,
		captured: 10,
		doubleCharges: 0,
		stockDrift: 0,
		holdsLeft: 0
	});
}, 300_000);
