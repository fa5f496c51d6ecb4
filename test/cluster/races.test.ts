/**
 * The reliability scenarios of `npm run reliability`, asserted: checkouts racing for the last units, two-
 * product orders racing single-product ones, one Idempotency-Key sent 20 times at once, and Redis going down
 * under load, on nodes over the real NATS and Redis with MongoDB. Every count is read from the stores.
 */
import { consumerDown, multiLineRace, raceForLastUnits, redisOutageUnderLoad, sameKeyTwenty } from "../../scripts/reliability/scenarios";
import { doubleSubmit, lateReservations } from "../../scripts/reliability/duplicates";

describe("reliability scenarios", () => {
	it("sells exactly 50 units to 200 concurrent checkouts and charges exactly 50 times", async () => {
		const outcome = await raceForLastUnits(200, 50);
		expect(outcome).toMatchObject({ paid: 50, refused: 150, serverErrors: 0, pending: 0, captured: 50, capturedWithoutPaidOrder: 0, doubleCharges: 0, stockDrift: 0, holdsLeft: 0 });
	}, 120_000);

	it("lets no partial reservation survive when two-product orders race single-product ones", async () => {
		const outcome = await multiLineRace(10, 5);
		expect(outcome).toMatchObject({ serverErrors: 0, pending: 0, capturedWithoutPaidOrder: 0, doubleCharges: 0, stockDrift: 0, holdsLeft: 0 });
		expect(outcome.paid).toBeGreaterThan(0);
		expect(outcome.paid + outcome.refused).toBe(30);
	}, 120_000);

	it("makes one order and one charge of the same Idempotency-Key sent 20 times at once", async () => {
		const outcome = await sameKeyTwenty(20);
		expect(outcome).toMatchObject({ distinctOrders: 1, paid: 1, captured: 1, doubleCharges: 0, serverErrors: 0, stockDrift: 0 });
	}, 60_000);

	it("makes one order and one charge of one cart checked out 20 times at once without a key, across two orders nodes", async () => {
		const outcome = await doubleSubmit(20);
		expect(outcome).toMatchObject({ distinctOrders: 1, paid: 1, captured: 1, doubleCharges: 0, serverErrors: 0, pending: 0, stockDrift: 0, holdsLeft: 0 });
		expect(outcome.inProgress + outcome.emptyCart).toBe(19);
	}, 60_000);

	it("strands no unit when reservations land after the checkout gave up, or after their order was lost", async () => {
		const outcome = await lateReservations(3);
		expect(outcome.lateAttempts).toBeGreaterThanOrEqual(3);
		expect(outcome).toMatchObject({ paid: 0, failed: 3, pending: 0, captured: 0, capturedWithoutPaidOrder: 0, doubleCharges: 0, stockDrift: 0, holdsLeft: 0 });
	}, 90_000);

	it("answers every read and checkout while Redis is down, and caches again afterwards", async () => {
		const outcome = await redisOutageUnderLoad(9);
		expect(outcome).toMatchObject({ readErrors: 0, serverErrors: 0, refused: 0, paid: 45, pending: 0, stockDrift: 0, doubleCharges: 0 });
	}, 120_000);

	it("records exactly one confirmation per order once the notifications node is back", async () => {
		const outcome = await consumerDown(5);
		expect(outcome).toMatchObject({ paid: 5, confirmations: 5, serverErrors: 0, pending: 0, stockDrift: 0 });
	}, 60_000);
});
