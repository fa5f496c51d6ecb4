import { decideCharge, isPaymentToken } from "../../domain/payment-provider";

describe("fake payment provider", () => {
	it.each(["tok_visa", "tok_a", `tok_${"x".repeat(64)}`, "tok_chargeDeclined"])("accepts %s as a token", token => {
		expect(isPaymentToken(token)).toBe(true);
	});

	it.each(["", "tok_", "visa", "tok_has space", `tok_${"x".repeat(65)}`, "tok_$ne", "TOK_visa"])("rejects %p as a token", token => {
		expect(isPaymentToken(token)).toBe(false);
	});

	it("captures ordinary tokens with a fresh transaction id", () => {
		const first = decideCharge("tok_visa");
		const second = decideCharge("tok_visa");
		expect(first.status).toBe("captured");
		expect(first.status === "captured" && first.transactionId).toMatch(/^txn_/);
		expect(first).not.toEqual(second);
	});

	it("declines tokens starting with tok_chargeDeclined", () => {
		expect(decideCharge("tok_chargeDeclinedInsufficientFunds")).toEqual({ status: "declined", declineCode: "card_declined" });
	});
});
