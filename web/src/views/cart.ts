/**
 * The cart (`#/cart`): line items with quantity edits (`PATCH /api/cart/items/:productId`) and removal, and
 * checkout (`POST /api/orders` with a test payment token and an Idempotency-Key, so a double click or a
 * retry never charges twice). A declined card (402) keeps the cart; 409 and 422 say what to change.
 */
import { ApiError, api, type Order, type PricedCart } from "../api";
import { field, formValues, h, mount } from "../dom";
import { flash, showError } from "../flash";
import { formatMoney } from "../money";
import { MAX_LINE_QUANTITY } from "../../../domain/cart";
import { requireSession } from "../guard";

/** The test payment tokens of the shop's payment provider (domain/payment-provider.ts). */
const TOKENS: [string, string][] = [
	["tok_visa", "Test card, paid (tok_visa)"],
	["tok_chargeDeclined", "Test card, declined (tok_chargeDeclined)"],
	["custom", "Another token…"]
];

/** Cart changes, one at a time: each waits for the one before, so answers are drawn in the order they were asked. */
let queue: Promise<unknown> = Promise.resolve();
/** One key per checkout attempt of this cart: a retry of the same attempt (double click, lost answer) is the same order. */
let idempotencyKey = crypto.randomUUID();

/** `#/cart`: the signed-in customer's cart, quantity edits, checkout. @throws ApiError when the cart cannot be read. */
export async function cartView(main: HTMLElement): Promise<void> {
	if (!requireSession("#/cart")) return;
	draw(main, await api<PricedCart>("GET", "/cart"));
}

/**
 * Sends one cart change after the ones before it, redraws the cart from its answer (or, after an error, from
 * `GET /cart`), and puts the keyboard focus back on the control with the same `data-focus` key.
 */
function update(main: HTMLElement, call: () => Promise<PricedCart>, done: string, focusKey: string): Promise<void> {
	const next = queue.then(async () => {
		try {
			draw(main, await call());
			flash(done);
		} catch (err) {
			showError(err);
			try {
				draw(main, await api<PricedCart>("GET", "/cart"));
			} catch {
				// The message above says what went wrong; the cart on screen stays as it was.
			}
		}
		const again = main.querySelector<HTMLElement>(`[data-focus="${CSS.escape(focusKey)}"]`) ?? main.querySelector<HTMLElement>("h1");
		again?.focus();
	});
	queue = next;
	return next;
}

function draw(main: HTMLElement, cart: PricedCart): void {
	// A changed cart is a new checkout attempt.
	idempotencyKey = crypto.randomUUID();
	if (cart.items.length === 0) {
		mount(main, h("h1", { tabindex: -1 }, "Your cart"), h("p", {}, "Your cart is empty. ", h("a", { href: "#/" }, "Browse the catalog")));
		return;
	}
	const rows = cart.items.map(item => {
		const quantity = h("input", { type: "number", min: 1, max: MAX_LINE_QUANTITY, value: item.quantity, "aria-label": `Quantity of ${item.name}`, class: "qty", "data-focus": `qty-${item.productId}` });
		quantity.addEventListener("change", () => {
			const value = Number(quantity.value);
			if (Number.isInteger(value) && value >= 1) {
				void update(main, () => api("PATCH", `/cart/items/${encodeURIComponent(item.productId)}`, { quantity: value }), `${item.name}: quantity ${value}.`, `qty-${item.productId}`);
			}
		});
		return h(
			"tr",
			{},
			h("th", { scope: "row" }, h("a", { href: `#/product/${encodeURIComponent(item.productId)}` }, item.name)),
			h("td", { class: "num" }, formatMoney(item.price, cart.currency)),
			h("td", {}, quantity),
			h("td", { class: "num" }, formatMoney(item.lineTotal, cart.currency)),
			h("td", {}, h("button", { type: "button", class: "link", onclick: () => void update(main, () => api("DELETE", `/cart/items/${encodeURIComponent(item.productId)}`), `${item.name} removed.`, "remove") }, "Remove"))
		);
	});
	const custom = h("input", { type: "text", name: "customToken", placeholder: "tok_…", maxlength: 100, "aria-label": "Payment token", hidden: true });
	const select = h("select", { name: "token" }, ...TOKENS.map(([value, text]) => h("option", { value }, text)));
	select.addEventListener("change", () => (custom.hidden = select.value !== "custom"));
	const pay = h("button", { type: "submit" }, `Pay ${formatMoney(cart.total, cart.currency)}`);
	const form = h(
		"form",
		{
			class: "checkout",
			onsubmit: async (event: Event) => {
				event.preventDefault();
				const values = formValues(form);
				const paymentToken = values.token === "custom" ? values.customToken.trim() : values.token;
				pay.disabled = true;
				try {
					const order = await api<Order>("POST", "/orders", { paymentToken }, { "Idempotency-Key": idempotencyKey });
					flash(`Thank you! Order ${order.id} is ${order.status}: ${formatMoney(order.total, order.currency)}.`);
					location.hash = "#/orders";
				} catch (err) {
					// A final answer (declined, invalid token, stock) makes the next try a new attempt; no answer, a 5xx or
					// a checkout still running keep the key, so trying again cannot place a second order.
					const final = err instanceof ApiError && err.status >= 400 && err.status < 500 && err.type !== "CHECKOUT_IN_PROGRESS";
					if (final) idempotencyKey = crypto.randomUUID();
					showError(err);
					pay.disabled = false;
				}
			}
		},
		h("h2", {}, "Checkout"),
		field("Payment", select),
		custom,
		pay
	);
	mount(
		main,
		h("h1", { tabindex: -1 }, "Your cart"),
		h(
			"table",
			{ class: "lines" },
			h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col" }, "Quantity"), h("th", { scope: "col", class: "num" }, "Total"), h("td", {}))),
			h("tbody", {}, ...rows),
			h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 3 }, `${cart.itemCount} item${cart.itemCount === 1 ? "" : "s"}`), h("td", { class: "num total" }, formatMoney(cart.total, cart.currency)), h("td", {})))
		),
		h("p", {}, h("button", { type: "button", class: "link", onclick: () => void update(main, () => api("DELETE", "/cart"), "Cart emptied.", "empty") }, "Empty the cart")),
		form
	);
}
