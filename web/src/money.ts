/**
 * Money on the page. The API sends integer minor units plus an ISO 4217 code (`price: 10999, currency:
 * "USD"`); these helpers only format them for display and parse what an admin types, with integers: no
 * float ever holds an amount.
 */

/** The number of minor-unit digits of `currency` (2 for USD, 0 for JPY), as Intl knows it. */
export function minorDigits(currency: string): number {
	return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** `amount` minor units of `currency` as text: `formatMoney(10999, "USD")` is "$109.99". */
export function formatMoney(amount: number, currency: string): string {
	const digits = minorDigits(currency);
	const sign = amount < 0 ? "-" : "";
	const units = String(Math.abs(amount)).padStart(digits + 1, "0");
	const major = digits === 0 ? units : `${units.slice(0, -digits)}.${units.slice(-digits)}`;
	// Intl parses the decimal string itself (a string argument is exact, unlike a float).
	return new Intl.NumberFormat("en", { style: "currency", currency }).format(`${sign}${major}` as unknown as number);
}

/**
 * What an admin types as a price ("109.99", "110", "0.5") as integer minor units of `currency`, or null when
 * it is not a non-negative amount with at most the currency's digits.
 */
export function parseMoney(text: string, currency: string): number | null {
	const digits = minorDigits(currency);
	const match = /^\s*(\d{1,9})(?:\.(\d*))?\s*$/.exec(text);
	if (!match || (match[2] ?? "").length > digits) return null;
	return Number(match[1]) * 10 ** digits + Number((match[2] ?? "").padEnd(digits, "0") || "0");
}

/** `amount` minor units as the text an admin would type back ("109.99"). */
export function moneyInput(amount: number, currency: string): string {
	const digits = minorDigits(currency);
	const units = String(amount).padStart(digits + 1, "0");
	return digits === 0 ? units : `${units.slice(0, -digits)}.${units.slice(-digits)}`;
}
