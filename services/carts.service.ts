/**
 * The carts service: one cart per customer, persisted, priced at read time with the products' current prices.
 * Every action acts on the calling customer (`ctx.meta.customer`), so no customer can name another's cart.
 * Writes use optimistic concurrency (a `version` field): two requests changing one cart at once never lose
 * a line.
 */
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin, type DbServiceThis } from "../mixins/db.mixin";
import { requireCustomer } from "../lib/auth";
import { CartBusyError, CartFullError, CartItemNotFoundError, CurrencyMismatchError, InsufficientStockError, LineQuantityLimitError } from "../lib/errors";
import {
	MAX_CART_LINES,
	MAX_LINE_QUANTITY,
	cartCurrencies,
	checkLineQuantity,
	lineQuantity,
	priceCart,
	setLineQuantity,
	type CartLine,
	type PricedCart
} from "./domain/cart";
import { RESERVATION_ID_PATTERN } from "./domain/stock";
import type { Product } from "./products.service";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import { CHANNELS, ChannelsMixin } from "../lib/channels";
import type { Meta } from "../types/meta";

const PRODUCT_ID_RULE = { type: "string", min: 1, max: 64 } as const;
/** Attempts of one optimistic write before giving up (each retry re-reads the cart). */
const MAX_WRITE_ATTEMPTS = 10;

const addItemParams = {
	$$strict: true,
	productId: PRODUCT_ID_RULE,
	quantity: { type: "number", integer: true, min: 1, max: MAX_LINE_QUANTITY, convert: false }
} as const;
interface AddItemParams {
	productId: string;
	/** Units to add to the line (1..100). */
	quantity: number;
}

const updateItemParams = {
	$$strict: true,
	productId: PRODUCT_ID_RULE,
	quantity: { type: "number", integer: true, min: 0, max: MAX_LINE_QUANTITY, convert: false }
} as const;
interface UpdateItemParams {
	productId: string;
	/** The line's new quantity (0..100; 0 removes the line). */
	quantity: number;
}

const productParams = { $$strict: true, productId: PRODUCT_ID_RULE } as const;
interface ProductParams {
	productId: string;
}

const removeOrderedParams = {
	$$strict: true,
	customerId: { type: "string", min: 1, max: 64 },
	orderId: { type: "string", pattern: RESERVATION_ID_PATTERN },
	items: { type: "array", max: 100, items: { type: "object", props: { productId: PRODUCT_ID_RULE, quantity: { type: "number", integer: true, min: 1 } } } }
} as const;
interface RemoveOrderedParams {
	customerId: string;
	orderId: string;
	items: CartLine[];
}

interface StoredCart {
	_id: string;
	customerId: string;
	items: CartLine[];
	version: number;
}

interface CartsMethods {
	loadLines(customerId: string): Promise<CartLine[]>;
	mutate(customerId: string, change: (lines: CartLine[]) => Promise<CartLine[]> | CartLine[], once?: string): Promise<CartLine[]>;
	priced(ctx: Context<unknown, Meta>, lines: CartLine[]): Promise<PricedCart>;
	checkLine(ctx: Context<unknown, Meta>, lines: CartLine[], productId: string, quantity: number): Promise<void>;
}
type CartsThis = DbServiceThis & CartsMethods;

/** The value at a dotted `path` of `doc` (e.g. "orders.<id>"). */
function getPath(doc: object, path: string): unknown {
	return path.split(".").reduce<any>((value, key) => (value == null ? undefined : value[key]), doc);
}

/** `{ a: { b: true } }` for "a.b": a dotted marker as a nested object, for an insert. */
function nest(path: string): Record<string, unknown> {
	return path.split(".").reduceRight<any>((value, key) => ({ [key]: value }), true);
}

const CartsService: ServiceSchema<object, CartsMethods, object, CartsThis> = {
	name: "carts",
	mixins: [
		DbMixin("carts", ["customerId", "items", "updatedAt"], [{ fields: { customerId: 1 }, unique: true }]),
		ChannelsMixin<CartsThis>({
			/** A paid order's units leave its customer's cart (once per order, whatever the delivery count). */
			async [CHANNELS.ORDER_PAID](payload: RemoveOrderedParams) {
				const { customerId, orderId, items } = payload;
				await this.actions.removeOrdered({ customerId, orderId, items });
			}
		})
	],
	dependencies: ["products"],

	actions: {
		/** The caller's cart (empty when none). @throws AuthRequiredError 401. */
		get: {
			params: { $$strict: true },
			async handler(ctx: Context<Record<string, never>, Meta>): Promise<PricedCart> {
				return this.priced(ctx, await this.loadLines(requireCustomer(ctx).id));
			}
		},

		/**
		 * Adds `quantity` units of a product (to its line, if any).
		 * @throws ProductNotFoundError 404; InsufficientStockError 409 when the line would exceed the stock;
		 *   CurrencyMismatchError 409; LineQuantityLimitError 422 past 100 units; AuthRequiredError 401.
		 */
		addItem: {
			params: addItemParams,
			async handler(ctx: Context<AddItemParams, Meta>): Promise<PricedCart> {
				const { productId, quantity } = ctx.params;
				const lines = await this.mutate(requireCustomer(ctx).id, async current => {
					if (lineQuantity(current, productId) === 0 && current.length >= MAX_CART_LINES) throw new CartFullError(MAX_CART_LINES);
					const next = lineQuantity(current, productId) + quantity;
					await this.checkLine(ctx, current, productId, next);
					return setLineQuantity(current, productId, next);
				});
				return this.priced(ctx, lines);
			}
		},

		/**
		 * Sets a line's quantity; 0 removes it.
		 * @throws CartItemNotFoundError 404 when the product is not in the cart; InsufficientStockError 409.
		 */
		updateItem: {
			params: updateItemParams,
			async handler(ctx: Context<UpdateItemParams, Meta>): Promise<PricedCart> {
				const { productId, quantity } = ctx.params;
				const lines = await this.mutate(requireCustomer(ctx).id, async current => {
					if (lineQuantity(current, productId) === 0) throw new CartItemNotFoundError(productId);
					if (quantity > 0) await this.checkLine(ctx, current, productId, quantity);
					return setLineQuantity(current, productId, quantity);
				});
				return this.priced(ctx, lines);
			}
		},

		/** Removes a line (a missing line is not an error). @throws AuthRequiredError 401. */
		removeItem: {
			params: productParams,
			async handler(ctx: Context<ProductParams, Meta>): Promise<PricedCart> {
				const lines = await this.mutate(requireCustomer(ctx).id, current => setLineQuantity(current, ctx.params.productId, 0));
				return this.priced(ctx, lines);
			}
		},

		/**
		 * Takes a paid order's units out of its customer's cart, once per order (internal: the order.paid
		 * handler). Lines added after the checkout stay. Answers whether this call changed the cart.
		 */
		removeOrdered: {
			visibility: "public",
			params: removeOrderedParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<RemoveOrderedParams, Meta>): Promise<{ applied: boolean }> {
				const { customerId, orderId, items } = ctx.params;
				let applied = false;
				await this.mutate(
					customerId,
					current => {
						applied = true;
						return items.reduce((lines, item) => setLineQuantity(lines, item.productId, lineQuantity(lines, item.productId) - item.quantity), current);
					},
					`orders.${orderId}`
				);
				return { applied };
			}
		},

		/** Empties the caller's cart. @throws AuthRequiredError 401. */
		clear: {
			params: { $$strict: true },
			async handler(ctx: Context<Record<string, never>, Meta>): Promise<PricedCart> {
				await this.mutate(requireCustomer(ctx).id, () => []);
				return this.priced(ctx, []);
			}
		}
	},

	methods: {
		async loadLines(customerId: string): Promise<CartLine[]> {
			const doc = (await this.adapter.findOne({ customerId })) as StoredCart | null;
			return doc?.items ?? [];
		},

		/**
		 * Applies `change` to the customer's lines and stores the result if nobody wrote in between (compare
		 * and set on `version`); otherwise re-reads and tries again. With `once` (a field name), the change is
		 * applied only if the cart does not carry that marker yet, and sets it.
		 */
		async mutate(customerId: string, change: (lines: CartLine[]) => Promise<CartLine[]> | CartLine[], once?: string): Promise<CartLine[]> {
			for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
				const doc = (await this.adapter.findOne({ customerId })) as StoredCart | null;
				if (once && doc && getPath(doc, once) != null) return doc.items;
				const items = await change(doc?.items ?? []);
				const updatedAt = new Date().toISOString();
				const marker = once ? { [once]: true } : {};
				if (!doc) {
					try {
						await this.adapter.insert({ _id: this.newId(), customerId, items, version: 1, updatedAt, ...(once ? nest(once) : {}) });
						return items;
					} catch (err) {
						if (!this.isDuplicateKeyError(err)) throw err;
						continue;
					}
				}
				const written = await this.adapter.updateMany(
					{ _id: doc._id, version: doc.version },
					{ $set: { items, version: doc.version + 1, updatedAt, ...marker } }
				);
				if (written === 1) return items;
			}
			throw new CartBusyError();
		},

		async priced(ctx: Context<unknown, Meta>, lines: CartLine[]): Promise<PricedCart> {
			const products: Product[] = lines.length === 0 ? [] : await ctx.call("products.getMany", { ids: lines.map(line => line.productId) });
			// Adding a line checks its currency, but a product's currency can change afterwards; a total over
			// two currencies means nothing, so such a cart is refused until the customer removes a line.
			const currencies = cartCurrencies(lines, products);
			if (currencies.length > 1) throw new CurrencyMismatchError(currencies[0], currencies[1]);
			return priceCart(lines, products);
		},

		/** Checks that the line of `productId` may hold `quantity` units (limit, stock, one currency per cart). */
		async checkLine(ctx: Context<unknown, Meta>, lines: CartLine[], productId: string, quantity: number): Promise<void> {
			const product: Product = await ctx.call("products.get", { id: productId });
			const check = checkLineQuantity(quantity, product.stock);
			if (!check.ok && check.reason === "too_many") throw new LineQuantityLimitError(productId, MAX_LINE_QUANTITY);
			if (!check.ok) throw new InsufficientStockError([productId]);
			const others = lines.filter(line => line.productId !== productId);
			if (others.length > 0) {
				const cart = await this.priced(ctx, others);
				if (cart.items.length > 0 && cart.currency !== product.currency) throw new CurrencyMismatchError(cart.currency, product.currency);
			}
		}
	}
};

export default CartsService;
