/**
 * SIGKILL of the orders process in the middle of a checkout, at the two worst moments: after the stock
 * reservation before the charge, and after the charge before the order is marked paid (the crash is
 * injected with SHOP_CRASH_AT, lib/fault-points.ts). The restarted node recovers every order to a terminal
 * state; stock and payments agree and nothing is charged without a paid order.
 */
import { crashDuringCheckout } from "../../scripts/reliability/crash";

describe("orders node killed mid-checkout", () => {
	it("fails orders whose node died after the reservation: stock back, nothing charged", async () => {
		const outcome = await crashDuringCheckout("after_reserve", 2);
		expect(outcome).toMatchObject({ paid: 0, failed: 2, pending: 0, captured: 0, capturedWithoutPaidOrder: 0, stockDrift: 0, holdsLeft: 0, doubleCharges: 0 });
	}, 120_000);

	it("pays orders whose node died after the charge: stock sold, one capture each", async () => {
		const outcome = await crashDuringCheckout("after_charge", 2);
		expect(outcome).toMatchObject({ paid: 2, failed: 0, pending: 0, captured: 2, capturedWithoutPaidOrder: 0, stockDrift: 0, holdsLeft: 0, doubleCharges: 0 });
	}, 120_000);
});
