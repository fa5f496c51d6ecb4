/**
 * The fake payment provider's decision rule, named after the best-known payment API's test tokens:
 * any token matching `^tok_[A-Za-z0-9_]{1,64}$` is captured, except those starting with
 * `tok_chargeDeclined`, which are declined with declineCode `card_declined`.
 */
import { randomUUID } from "node:crypto";

/** A well-formed test payment token. */
export const PAYMENT_TOKEN_PATTERN = /^tok_[A-Za-z0-9_]{1,64}$/;
const DECLINED_PREFIX = "tok_chargeDeclined";

export type ChargeDecision =
	| { status: "captured"; transactionId: string }
	| { status: "declined"; declineCode: "card_declined" };

/** True when `token` is well formed (it may still be declined). */
export function isPaymentToken(token: string): boolean {
	return PAYMENT_TOKEN_PATTERN.test(token);
}

/**
 * Decides a charge for a well-formed `token`: captured with a fresh transaction id (`txn_<uuid>`), or
 * declined. Callers check `isPaymentToken` first.
 */
export function decideCharge(token: string): ChargeDecision {
	if (token.startsWith(DECLINED_PREFIX)) return { status: "declined", declineCode: "card_declined" };
	return { status: "captured", transactionId: `txn_${randomUUID()}` };
}
