/**
 * The message line under the header (an ARIA live region, so screen readers announce it): outcomes of
 * actions and the API's errors, worded for a shopper from the error's stable `type` and HTTP status.
 */
import { ApiError } from "./api";
import { h, mount } from "./dom";

let keep = false;

/** Shows `text` (kind "ok" or "error") until the next message or the next page but one (see `clearFlash`). */
export function flash(text: string, kind: "ok" | "error" = "ok"): void {
	keep = true;
	mount(document.getElementById("flash")!, h("p", { class: `flash ${kind}` }, text));
}

/** On navigation: a message shown just before it (e.g. "Thank you…" then the orders page) stays; an older one goes. */
export function clearFlash(): void {
	if (!keep) mount(document.getElementById("flash")!);
	keep = false;
}

/** What a shopper reads for an API failure: by type where the shop has a specific one, else the API's message. */
export function describeError(err: unknown): string {
	if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
	switch (err.type) {
		case "PAYMENT_DECLINED":
			return "Payment declined: your card was declined. Your cart is kept; try another card.";
		case "INSUFFICIENT_STOCK":
			return `Not enough stock: ${err.message}. Lower the quantity and try again.`;
		case "CHECKOUT_IN_PROGRESS":
			return "A checkout of this cart is already in progress; wait a moment and look at your orders.";
		case "INVALID_PAYMENT_TOKEN":
			return `Invalid card: ${err.message}.`;
		case "EMPTY_CART":
			return "Your cart is empty.";
		case "INVALID_CREDENTIALS":
			return "Wrong email or password.";
		case "EMAIL_TAKEN":
			return "An account with this email already exists. Sign in instead.";
		case "INVALID_TOKEN":
		case "AUTH_REQUIRED":
			return "Your session has ended. Please sign in again.";
		case "VALIDATION_ERROR":
			return `Please check the form: ${validationText(err.data) || err.message}.`;
		case "TOO_MANY_LOGIN_ATTEMPTS":
			return "Too many failed sign-ins for this email. Wait a few minutes and try again.";
		case "RATE_LIMIT_EXCEEDED":
			return "Too many requests. Wait a minute and try again.";
		default:
			return err.status >= 500 ? `The shop is having trouble (${err.status}). Try again in a moment.` : err.message;
	}
}

function validationText(data: unknown): string {
	if (!Array.isArray(data)) return "";
	return data.map(item => (item && typeof item === "object" && "message" in item ? String((item as { message: unknown }).message) : "")).filter(Boolean).join("; ");
}

/** Flashes the shopper's wording of `err` as an error. */
export function showError(err: unknown): void {
	flash(describeError(err), "error");
}
