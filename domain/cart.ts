/**
 * Cart rules, free of any broker: line-item quantity limits and the priced view of a cart.
 * A stored cart holds only `{ productId, quantity }` per line; prices are always the product's current
 * price, joined in by `priceCart`.
 */
import { DEFAULT_CURRENCY, lineTotal, sum } from "./money";

/** Most units of one product per line item (the API's `quantity` range is 1..100). */
export const MAX_LINE_QUANTITY = 100;

/** Most line items in one cart: an order reserves at most this many lines at once. */
export const MAX_CART_LINES = 100;

/** A stored line: which product, how many units. */
export interface CartLine {
	productId: string;
	quantity: number;
}

/** A checkout's claim on a cart: the order it creates and when it claimed (ISO 8601). */
export interface CartClaim {
	orderId: string;
	at: string;
}

/**
 * A cart as stored (one per customer): its lines, a `version` for compare-and-set writes, and the claim of
 * the checkout running on it, if any. Its size is bounded by its lines, whatever the customer's history.
 */
export interface StoredCart {
	_id: string;
	customerId: string;
	items: CartLine[];
	version: number;
	checkout?: CartClaim;
	updatedAt: string;
}

/** The product fields a priced line needs. `price` in minor units of `currency`. */
export interface PricedProduct {
	id: string;
	sku: string;
	name: string;
	price: number;
	currency: string;
	stock: number;
}

/** A line as the API shows it: current unit price and `lineTotal`, both in minor units. */
export interface CartItem {
	productId: string;
	sku: string;
	name: string;
	price: number;
	quantity: number;
	lineTotal: number;
}

/** The API's cart (the Cart entity as callers see it): `total` in minor units of `currency`; `itemCount` is the number of units. */
export interface PricedCart {
	items: CartItem[];
	itemCount: number;
	total: number;
	currency: string;
}

/** Outcome of a quantity rule check. */
export type LineCheck = { ok: true } | { ok: false; reason: "too_many" | "out_of_stock" };

/**
 * Checks that `quantity` units may sit in one line for a product with `stock` units on hand.
 * Rule: 1..MAX_LINE_QUANTITY units (the API contract), and never more than the stock (issue "The shop end
 * to end", `POST /api/cart/items` → 409).
 */
export function checkLineQuantity(quantity: number, stock: number): LineCheck {
	if (quantity > MAX_LINE_QUANTITY) return { ok: false, reason: "too_many" };
	if (quantity > stock) return { ok: false, reason: "out_of_stock" };
	return { ok: true };
}

/** Returns `lines` with `productId` set to `quantity` units (0 removes the line; a new id is appended). */
export function setLineQuantity(lines: readonly CartLine[], productId: string, quantity: number): CartLine[] {
	const rest = lines.filter(line => line.productId !== productId);
	if (quantity <= 0) return rest;
	const index = lines.findIndex(line => line.productId === productId);
	const next = [...rest];
	next.splice(index === -1 ? next.length : index, 0, { productId, quantity });
	return next;
}

/** The quantity of `productId` in `lines`, 0 when absent. */
export function lineQuantity(lines: readonly CartLine[], productId: string): number {
	return lines.find(line => line.productId === productId)?.quantity ?? 0;
}

/** The distinct currencies of the products of `lines`, in line order (a cart must have at most one). */
export function cartCurrencies(lines: readonly CartLine[], products: readonly PricedProduct[]): string[] {
	const byId = new Map(products.map(p => [p.id, p.currency]));
	return [...new Set(lines.map(line => byId.get(line.productId)).filter((c): c is string => c != null))];
}

/**
 * Prices `lines` with `products` (current prices). Lines whose product no longer exists are dropped.
 * The cart's currency is its products' currency, DEFAULT_CURRENCY when empty.
 */
export function priceCart(lines: readonly CartLine[], products: readonly PricedProduct[]): PricedCart {
	const byId = new Map(products.map(p => [p.id, p]));
	const items: CartItem[] = [];
	for (const line of lines) {
		const product = byId.get(line.productId);
		if (!product) continue;
		items.push({
			productId: product.id,
			sku: product.sku,
			name: product.name,
			price: product.price,
			quantity: line.quantity,
			lineTotal: lineTotal(product.price, line.quantity)
		});
	}
	const currency = items.length > 0 ? byId.get(items[0].productId)!.currency : DEFAULT_CURRENCY;
	return {
		items,
		itemCount: items.reduce((n, item) => n + item.quantity, 0),
		total: sum(items.map(item => item.lineTotal)),
		currency
	};
}
