/**
 * The carts service: one cart per customer, persisted, priced at read time with the products' current prices.
 * Every public action acts on the calling customer (`ctx.meta.customer`), so no customer can name another's
 * cart. Writes use optimistic concurrency (a `version` field): two requests changing one cart at once never
 * lose a line.
 *
 * Checkout claims the cart (`claimCheckout`: one compare-and-set, before the order exists): while a checkout
 * runs, a second checkout gets 409 CHECKOUT_IN_PROGRESS and any edit 409 CART_BUSY. The checkout ends the
 * claim: a paid order empties the cart (`completeCheckout`, also on `order.paid`), a refusal or a decline
 * keeps it (`releaseCheckout`). `mixins/claim-sweep.mixin.ts` settles a claim whose checkout was lost.
 */
import type { Context, ServiceSchema } from "moleculer";
import { DbMixin, type DbServiceThis } from "../mixins/db.mixin";
import { ClaimSweepMixin } from "../mixins/claim-sweep.mixin";
import { requireCustomer } from "../lib/auth";
import { configOf, type ShopConfig } from "../lib/config";
import {
	CartBusyError,
	CartFullError,
	CartItemNotFoundError,
	CheckoutInProgressError,
	CurrencyMismatchError,
	EmptyCartError,
	InsufficientStockError,
	LineQuantityLimitError
} from "../lib/errors";
import {
	MAX_CART_LINES,
	MAX_LINE_QUANTITY,
	cartCurrencies,
	checkLineQuantity,
	lineQuantity,
	priceCart,
	setLineQuantity,
	type CartClaim,
	type CartLine,
	type PricedCart,
	type StoredCart
} from "../domain/cart";
import { RESERVATION_ID_PATTERN } from "../domain/stock";
import type { Product } from "../domain/catalog";
import { CHANNELS } from "../domain/events";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import { ChannelsMixin } from "../lib/channels";
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

const ORDER_ID_RULE = { type: "string", pattern: RESERVATION_ID_PATTERN } as const;

const claimParams = { $$strict: true, orderId: ORDER_ID_RULE } as const;
interface ClaimParams {
	/** The order the checkout will create. */
	orderId: string;
}

const endClaimParams = { $$strict: true, customerId: { type: "string", min: 1, max: 64 }, orderId: ORDER_ID_RULE } as const;
/** Ends the claim of `orderId` on the cart of `customerId` (internal: the orders service, the sweep). */
export interface EndClaimParams {
	customerId: string;
	orderId: string;
}

interface CartsMethods {
	loadLines(customerId: string): Promise<CartLine[]>;
	mutate(customerId: string, change: (lines: CartLine[]) => Promise<CartLine[]> | CartLine[]): Promise<CartLine[]>;
	endClaim(params: EndClaimParams, set: Partial<StoredCart>): Promise<boolean>;
	priced(ctx: Context<unknown, Meta>, lines: CartLine[]): Promise<PricedCart>;
	checkLine(ctx: Context<unknown, Meta>, lines: CartLine[], productId: string, quantity: number): Promise<void>;
}
type CartsThis = DbServiceThis & CartsMethods & { config: ShopConfig };

const CartsService: ServiceSchema<object, CartsMethods, object, CartsThis> = {
	name: "carts",
	mixins: [
		DbMixin({
			collection: "carts",
			fields: ["customerId", "items", "updatedAt"],
			indexes: [{ fields: { customerId: 1 }, unique: true }, { fields: { "checkout.at": 1 }, mongoOnly: true }]
		}),
		ChannelsMixin<CartsThis>({
			/** A paid order ends its checkout's claim, emptying the cart (a no-op once the checkout did it). */
			async [CHANNELS.ORDER_PAID]({ customerId, orderId }) {
				await this.actions.completeCheckout({ customerId, orderId });
			}
		}),
		ClaimSweepMixin
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
		 * Claims the caller's cart for the checkout of `orderId` (internal: `orders.checkout`), in one
		 * compare-and-set on the cart as priced, and answers it. Until the claim ends, a second checkout gets
		 * CHECKOUT_IN_PROGRESS and edits get CART_BUSY.
		 * @throws EmptyCartError 422; CheckoutInProgressError 409 (`data.orderId`: the running checkout);
		 *   CurrencyMismatchError 409; CartBusyError 409 (the cart kept changing); AuthRequiredError 401.
		 */
		claimCheckout: {
			visibility: "public",
			params: claimParams,
			async handler(ctx: Context<ClaimParams, Meta>): Promise<PricedCart> {
				const customerId = requireCustomer(ctx).id;
				for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
					const doc = (await this.adapter.findOne({ customerId })) as StoredCart | null;
					if (doc?.checkout) throw new CheckoutInProgressError(doc.checkout.orderId);
					const cart = await this.priced(ctx, doc?.items ?? []);
					if (!doc || cart.items.length === 0) throw new EmptyCartError();
					const checkout: CartClaim = { orderId: ctx.params.orderId, at: new Date().toISOString() };
					const claimed = await this.adapter.updateMany(
						{ _id: doc._id, version: doc.version, checkout: { $exists: false } },
						{ $set: { checkout, version: doc.version + 1, updatedAt: checkout.at } }
					);
					if (claimed === 1) return cart;
				}
				throw new CartBusyError();
			}
		},

		/**
		 * Ends the claim of a paid order: the cart is emptied (its lines are the order's; nobody could change
		 * them meanwhile). Answers `{ ended }`: false when the claim is not this order's (already ended, or never
		 * made), so a repeat or a late `order.paid` changes nothing. @throws ValidationError 422.
		 */
		completeCheckout: {
			visibility: "public",
			params: endClaimParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<EndClaimParams, Meta>): Promise<{ ended: boolean }> {
				return { ended: await this.endClaim(ctx.params, { items: [] }) };
			}
		},

		/** Ends the claim of a refused, declined or lost checkout: the cart stays as it was. Answers as `completeCheckout`. @throws ValidationError 422. */
		releaseCheckout: {
			visibility: "public",
			params: endClaimParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<EndClaimParams, Meta>): Promise<{ ended: boolean }> {
				return { ended: await this.endClaim(ctx.params, {}) };
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
		 * and set on `version`); otherwise re-reads and tries again.
		 * @throws CartBusyError 409 while a checkout holds the cart, or after MAX_WRITE_ATTEMPTS collisions.
		 */
		async mutate(customerId: string, change: (lines: CartLine[]) => Promise<CartLine[]> | CartLine[]): Promise<CartLine[]> {
			for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
				const doc = (await this.adapter.findOne({ customerId })) as StoredCart | null;
				if (doc?.checkout) throw new CartBusyError(doc.checkout.orderId);
				const items = await change(doc?.items ?? []);
				const updatedAt = new Date().toISOString();
				if (!doc) {
					if ((await this.insertOnce({ _id: this.newId(), customerId, items, version: 1, updatedAt }, { customerId })).inserted) return items;
					continue;
				}
				const written = await this.adapter.updateMany(
					{ _id: doc._id, version: doc.version, checkout: { $exists: false } },
					{ $set: { items, version: doc.version + 1, updatedAt } }
				);
				if (written === 1) return items;
			}
			throw new CartBusyError();
		},

		/** Ends the claim of `orderId` on the cart of `customerId`, setting `set`; true when this call ended it. */
		async endClaim({ customerId, orderId }: EndClaimParams, set: Partial<StoredCart>): Promise<boolean> {
			const ended = await this.adapter.updateMany(
				{ customerId, "checkout.orderId": orderId },
				{ $set: { ...set, updatedAt: new Date().toISOString() }, $unset: { checkout: true }, $inc: { version: 1 } }
			);
			return ended === 1;
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
	},

	created() {
		this.config = configOf(this.broker);
	},

	/** Carts stored by an earlier version carry per-order markers (`orders.<id>`); they mean nothing now. */
	async started() {
		await this.adapter.updateMany({ orders: { $exists: true } }, { $unset: { orders: true } });
	}
};

export default CartsService;
