import type { ServiceBroker } from "moleculer";
import { startBroker, failure } from "../helpers";
import { ErrorTypes } from "../../lib/errors";

describe("payments service", () => {
	let broker: ServiceBroker;
	beforeAll(async () => (broker = await startBroker(["payments"])));
	afterAll(() => broker.stop());

	const charge = (orderId: string, paymentToken: string, amount = 1000) => broker.call("payments.charge", { orderId, amount, currency: "USD", paymentToken });

	it("captures a charge once per order, however often it is asked", async () => {
		const results: any[] = await Promise.all([charge("o-1", "tok_visa"), charge("o-1", "tok_visa"), charge("o-1", "tok_mastercard")]);
		expect(results[0]).toMatchObject({ orderId: "o-1", status: "captured", amount: 1000, currency: "USD" });
		expect(new Set(results.map(r => r.transactionId)).size).toBe(1);
		expect(await broker.call("payments.getByOrder", { orderId: "o-1" })).toMatchObject({ transactionId: results[0].transactionId });
	});

	it("declines tok_chargeDeclined tokens and keeps the first answer", async () => {
		expect(await charge("o-2", "tok_chargeDeclined")).toMatchObject({ status: "declined", declineCode: "card_declined" });
		expect(await charge("o-2", "tok_visa")).toMatchObject({ status: "declined" });
	});

	it("rejects a malformed token with 422 and records nothing", async () => {
		await expect(charge("o-3", "card_4242")).rejects.toEqual(failure(422, ErrorTypes.INVALID_PAYMENT_TOKEN));
		expect(await broker.call("payments.getByOrder", { orderId: "o-3" })).toBeNull();
	});

	it("rejects a fractional amount as a validation error", async () => {
		await expect(charge("o-4", "tok_visa", 10.5)).rejects.toEqual(failure(422, ErrorTypes.VALIDATION_ERROR));
	});

	it("refunds a captured payment idempotently", async () => {
		await charge("o-5", "tok_visa");
		expect(await broker.call("payments.refund", { orderId: "o-5" })).toMatchObject({ status: "refunded" });
		expect(await broker.call("payments.refund", { orderId: "o-5" })).toMatchObject({ status: "refunded" });
	});

	it("refuses to refund a declined or missing payment", async () => {
		await expect(broker.call("payments.refund", { orderId: "o-2" })).rejects.toEqual(failure(409, ErrorTypes.PAYMENT_NOT_REFUNDABLE));
		await expect(broker.call("payments.refund", { orderId: "nope" })).rejects.toEqual(failure(404, ErrorTypes.PAYMENT_NOT_FOUND));
	});
});
