/**
 * Money: an integer count of minor units (cents for USD) plus an ISO 4217 currency code.
 * No floats anywhere: every amount is checked to be a safe integer, and arithmetic that would leave
 * the safe-integer range throws instead of rounding.
 */

/** An ISO 4217 alphabetic code: three upper-case letters, e.g. "USD". */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

/** The currency of products that name none, and of an empty cart. */
export const DEFAULT_CURRENCY = "USD";

/** A sum of money in minor units of `currency`. */
export interface Money {
	/** Integer count of minor units (cents), >= 0 for prices and totals. */
	amount: number;
	/** ISO 4217 code. */
	currency: string;
}

/** Raised when an amount is not a safe non-negative integer (a programming error, never client input). */
export class MoneyError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "MoneyError";
	}
}

/** Throws MoneyError unless `amount` is a non-negative safe integer count of minor units. */
export function assertMinorUnits(amount: number): number {
	if (!Number.isSafeInteger(amount) || amount < 0) {
		throw new MoneyError(`An amount must be a non-negative integer of minor units, got ${amount}`);
	}
	return amount;
}

/** `unitPrice` (minor units) times `quantity` (integer units); throws MoneyError past the safe range. */
export function lineTotal(unitPrice: number, quantity: number): number {
	assertMinorUnits(unitPrice);
	if (!Number.isSafeInteger(quantity) || quantity < 0) throw new MoneyError(`Bad quantity ${quantity}`);
	return assertMinorUnits(unitPrice * quantity);
}

/** Sum of minor-unit amounts; throws MoneyError past the safe range. */
export function sum(amounts: readonly number[]): number {
	return amounts.reduce((acc, amount) => assertMinorUnits(acc + assertMinorUnits(amount)), 0);
}
