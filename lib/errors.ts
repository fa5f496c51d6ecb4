/**
 * One MoleculerClientError subclass per failure the shop reports to a caller.
 *
 * Every error carries a stable `type` (the contract: callers compare `err.type` or `err.code`, never
 * `instanceof`, because the class does not survive a hop between nodes) and an HTTP-style `code` that
 * moleculer-web turns into the response status. `data` holds only what a client may see.
 */
import { Errors } from "moleculer";

const { MoleculerClientError } = Errors;

/** The stable `type` of every shop error, by name. */
export const ErrorTypes = {
	PRODUCT_NOT_FOUND: "PRODUCT_NOT_FOUND",
	ORDER_NOT_FOUND: "ORDER_NOT_FOUND",
	CUSTOMER_NOT_FOUND: "CUSTOMER_NOT_FOUND",
	CART_ITEM_NOT_FOUND: "CART_ITEM_NOT_FOUND",
	EMAIL_TAKEN: "EMAIL_TAKEN",
	SKU_TAKEN: "SKU_TAKEN",
	INSUFFICIENT_STOCK: "INSUFFICIENT_STOCK",
	CURRENCY_MISMATCH: "CURRENCY_MISMATCH",
	ORDER_NOT_CANCELLABLE: "ORDER_NOT_CANCELLABLE",
	INVALID_CREDENTIALS: "INVALID_CREDENTIALS",
	AUTH_REQUIRED: "AUTH_REQUIRED",
	INVALID_TOKEN: "INVALID_TOKEN",
	FORBIDDEN: "FORBIDDEN",
	PAYMENT_DECLINED: "PAYMENT_DECLINED",
	EMPTY_CART: "EMPTY_CART",
	INVALID_PAYMENT_TOKEN: "INVALID_PAYMENT_TOKEN",
	LINE_QUANTITY_LIMIT: "LINE_QUANTITY_LIMIT",
	PAYMENT_NOT_FOUND: "PAYMENT_NOT_FOUND",
	PAYMENT_NOT_REFUNDABLE: "PAYMENT_NOT_REFUNDABLE",
	IDEMPOTENCY_KEY_REUSED: "IDEMPOTENCY_KEY_REUSED",
	CHECKOUT_IN_PROGRESS: "CHECKOUT_IN_PROGRESS",
	TOO_MANY_LOGIN_ATTEMPTS: "TOO_MANY_LOGIN_ATTEMPTS",
	CART_FULL: "CART_FULL",
	CART_BUSY: "CART_BUSY",
	STOCK_BUSY: "STOCK_BUSY",
	STOCK_BELOW_RESERVED: "STOCK_BELOW_RESERVED",
	/** The load generator: a run is already going (start), or none is (adjust). */
	LOAD_RUN_IN_PROGRESS: "LOAD_RUN_IN_PROGRESS",
	NO_LOAD_RUN: "NO_LOAD_RUN",
	/** The load generator: a run's options are out of its bounds (LOADGEN_MAX_*). */
	INVALID_LOAD_OPTIONS: "INVALID_LOAD_OPTIONS",
	/** The gateway's answer while no node offers the service a route calls (a restart, a scale-down). */
	SERVICE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
	/** Moleculer's own params-validation failure (fastest-validator), HTTP 422. */
	VALIDATION_ERROR: "VALIDATION_ERROR"
} as const;

export type ErrorType = (typeof ErrorTypes)[keyof typeof ErrorTypes];

/** The HTTP status of each error type (the `code` its class sets; a test checks that they agree). */
export const ERROR_STATUS: Record<ErrorType, number> = {
	PRODUCT_NOT_FOUND: 404,
	ORDER_NOT_FOUND: 404,
	CUSTOMER_NOT_FOUND: 404,
	CART_ITEM_NOT_FOUND: 404,
	PAYMENT_NOT_FOUND: 404,
	EMAIL_TAKEN: 409,
	SKU_TAKEN: 409,
	INSUFFICIENT_STOCK: 409,
	CURRENCY_MISMATCH: 409,
	ORDER_NOT_CANCELLABLE: 409,
	PAYMENT_NOT_REFUNDABLE: 409,
	CHECKOUT_IN_PROGRESS: 409,
	CART_BUSY: 409,
	STOCK_BUSY: 409,
	STOCK_BELOW_RESERVED: 409,
	LOAD_RUN_IN_PROGRESS: 409,
	NO_LOAD_RUN: 409,
	INVALID_CREDENTIALS: 401,
	AUTH_REQUIRED: 401,
	INVALID_TOKEN: 401,
	FORBIDDEN: 403,
	PAYMENT_DECLINED: 402,
	EMPTY_CART: 422,
	INVALID_PAYMENT_TOKEN: 422,
	LINE_QUANTITY_LIMIT: 422,
	IDEMPOTENCY_KEY_REUSED: 422,
	CART_FULL: 422,
	VALIDATION_ERROR: 422,
	INVALID_LOAD_OPTIONS: 422,
	TOO_MANY_LOGIN_ATTEMPTS: 429,
	SERVICE_UNAVAILABLE: 503
};

/** 404 PRODUCT_NOT_FOUND: no product with that id (or sku). `data: { productId }`. */
export class ProductNotFoundError extends MoleculerClientError {
	constructor(productId: string) {
		super("Product not found", 404, ErrorTypes.PRODUCT_NOT_FOUND, { productId });
	}
}

/** 404 ORDER_NOT_FOUND: no order with that id that the caller may see (another customer's order too). */
export class OrderNotFoundError extends MoleculerClientError {
	constructor(orderId: string) {
		super("Order not found", 404, ErrorTypes.ORDER_NOT_FOUND, { orderId });
	}
}

/** 404 CUSTOMER_NOT_FOUND: the token names a customer that no longer exists. */
export class CustomerNotFoundError extends MoleculerClientError {
	constructor() {
		super("Customer not found", 404, ErrorTypes.CUSTOMER_NOT_FOUND);
	}
}

/** 404 CART_ITEM_NOT_FOUND: the cart has no line item for that product. `data: { productId }`. */
export class CartItemNotFoundError extends MoleculerClientError {
	constructor(productId: string) {
		super("The cart has no line item for this product", 404, ErrorTypes.CART_ITEM_NOT_FOUND, {
			productId
		});
	}
}

/** 409 EMAIL_TAKEN: an account with this email exists (emails compare case-insensitively). */
export class EmailTakenError extends MoleculerClientError {
	constructor() {
		super("An account with this email already exists", 409, ErrorTypes.EMAIL_TAKEN);
	}
}

/** 409 SKU_TAKEN: another product has this SKU. `data: { sku }`. */
export class SkuTakenError extends MoleculerClientError {
	constructor(sku: string) {
		super("A product with this SKU already exists", 409, ErrorTypes.SKU_TAKEN, { sku });
	}
}

/**
 * 409 INSUFFICIENT_STOCK: some line asks for more units than are in stock.
 * `data: { productIds }` lists every product that is short.
 */
export class InsufficientStockError extends MoleculerClientError {
	constructor(productIds: string[]) {
		super("Not enough stock", 409, ErrorTypes.INSUFFICIENT_STOCK, { productIds });
	}
}

/** 409 CURRENCY_MISMATCH: a cart holds one currency only. `data: { expected, actual }` (ISO 4217). */
export class CurrencyMismatchError extends MoleculerClientError {
	constructor(expected: string, actual: string) {
		super("A cart holds products of one currency only", 409, ErrorTypes.CURRENCY_MISMATCH, {
			expected,
			actual
		});
	}
}

/** 409 ORDER_NOT_CANCELLABLE: only a `paid` order can be cancelled. `data: { orderId, status }`. */
export class OrderNotCancellableError extends MoleculerClientError {
	constructor(orderId: string, status: string) {
		super("Only a paid order can be cancelled", 409, ErrorTypes.ORDER_NOT_CANCELLABLE, {
			orderId,
			status
		});
	}
}

/** 401 INVALID_CREDENTIALS: unknown email or wrong password, deliberately indistinguishable. */
export class InvalidCredentialsError extends MoleculerClientError {
	constructor() {
		super("Invalid email or password", 401, ErrorTypes.INVALID_CREDENTIALS);
	}
}

/** 401 AUTH_REQUIRED: the route needs a bearer token and none was sent. */
export class AuthRequiredError extends MoleculerClientError {
	constructor() {
		super("Authentication required", 401, ErrorTypes.AUTH_REQUIRED);
	}
}

/** 401 INVALID_TOKEN: the bearer token is malformed, expired, or not signed by us. */
export class InvalidTokenError extends MoleculerClientError {
	constructor() {
		super("Invalid or expired token", 401, ErrorTypes.INVALID_TOKEN);
	}
}

/** 403 FORBIDDEN: authenticated, but the route needs a role the caller lacks. */
export class ForbiddenError extends MoleculerClientError {
	constructor() {
		super("Forbidden", 403, ErrorTypes.FORBIDDEN);
	}
}

/**
 * 402 PAYMENT_DECLINED: the payment provider declined the charge.
 * `data: { orderId, declineCode }`: the order is left in status `payment_failed`.
 */
export class PaymentDeclinedError extends MoleculerClientError {
	constructor(orderId: string, declineCode: string) {
		super("Payment declined", 402, ErrorTypes.PAYMENT_DECLINED, { orderId, declineCode });
	}
}

/** 422 EMPTY_CART: checkout of a cart without line items. */
export class EmptyCartError extends MoleculerClientError {
	constructor() {
		super("The cart is empty", 422, ErrorTypes.EMPTY_CART);
	}
}

/** 422 INVALID_PAYMENT_TOKEN: the token does not match `^tok_[A-Za-z0-9_]{1,64}$`. */
export class InvalidPaymentTokenError extends MoleculerClientError {
	constructor() {
		super("Malformed payment token", 422, ErrorTypes.INVALID_PAYMENT_TOKEN);
	}
}

/** 422 LINE_QUANTITY_LIMIT: a line item would hold more than 100 units. `data: { productId, max }`. */
export class LineQuantityLimitError extends MoleculerClientError {
	constructor(productId: string, max: number) {
		super(`A line item holds at most ${max} units`, 422, ErrorTypes.LINE_QUANTITY_LIMIT, { productId, max });
	}
}

/** 404 PAYMENT_NOT_FOUND: no payment was ever attempted for the order. `data: { orderId }`. */
export class PaymentNotFoundError extends MoleculerClientError {
	constructor(orderId: string) {
		super("No payment for this order", 404, ErrorTypes.PAYMENT_NOT_FOUND, { orderId });
	}
}

/** 409 PAYMENT_NOT_REFUNDABLE: only a captured payment can be refunded. `data: { orderId, status }`. */
export class PaymentNotRefundableError extends MoleculerClientError {
	constructor(orderId: string, status: string) {
		super("Only a captured payment can be refunded", 409, ErrorTypes.PAYMENT_NOT_REFUNDABLE, { orderId, status });
	}
}

/** 422 IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was first used with a different request body. */
export class IdempotencyKeyReusedError extends MoleculerClientError {
	constructor() {
		super("This Idempotency-Key was used with a different request", 422, ErrorTypes.IDEMPOTENCY_KEY_REUSED);
	}
}

/**
 * 409 CHECKOUT_IN_PROGRESS: another checkout of this cart (or the first request with this Idempotency-Key)
 * has not finished yet; retry later. `data: { orderId }` names the running checkout's order.
 */
export class CheckoutInProgressError extends MoleculerClientError {
	constructor(orderId: string) {
		super("Another checkout of this cart is still in progress", 409, ErrorTypes.CHECKOUT_IN_PROGRESS, { orderId });
	}
}

/** 409 LOAD_RUN_IN_PROGRESS: the load generator is already running a run; stop it (or adjust it) first. */
export class LoadRunInProgressError extends MoleculerClientError {
	constructor() {
		super("A load run is already in progress; stop it first", 409, ErrorTypes.LOAD_RUN_IN_PROGRESS);
	}
}

/** 409 NO_LOAD_RUN: there is no running load run to adjust. */
export class NoLoadRunError extends MoleculerClientError {
	constructor() {
		super("No load run is in progress", 409, ErrorTypes.NO_LOAD_RUN);
	}
}

/** 422 INVALID_LOAD_OPTIONS: a load run option is out of bounds; `data: { field }` names it. */
export class InvalidLoadOptionsError extends MoleculerClientError {
	constructor(field: string, message: string) {
		super(message, 422, ErrorTypes.INVALID_LOAD_OPTIONS, { field });
	}
}

/** 429 TOO_MANY_LOGIN_ATTEMPTS: too many failed logins for this email; `data: { retryAfter }` in seconds. */
export class TooManyLoginAttemptsError extends MoleculerClientError {
	constructor(retryAfter: number) {
		super("Too many failed logins; try again later", 429, ErrorTypes.TOO_MANY_LOGIN_ATTEMPTS, { retryAfter });
	}
}

/** 422 CART_FULL: a cart holds at most `max` line items. `data: { max }`. */
export class CartFullError extends MoleculerClientError {
	constructor(max: number) {
		super(`A cart holds at most ${max} line items`, 422, ErrorTypes.CART_FULL, { max });
	}
}

/**
 * 409 CART_BUSY: a checkout of the cart is running (`data: { orderId }`; the cart can change again once it
 * ends), or the cart changed under this request too many times in a row; retry.
 */
export class CartBusyError extends MoleculerClientError {
	constructor(orderId?: string) {
		super(orderId ? "The cart is being checked out; retry when the checkout ends" : "The cart is being changed by other requests; retry", 409, ErrorTypes.CART_BUSY, orderId ? { orderId } : undefined);
	}
}

/**
 * 409 STOCK_BUSY (retryable): another change of the same order line's stock is in flight; internal
 * (`products.*Stock`), retried by the caller's retry policy. `data: { orderId, productId }`.
 */
export class StockBusyError extends MoleculerClientError {
	constructor(orderId: string, productId: string) {
		super("Another stock change of this order line is in flight; retry", 409, ErrorTypes.STOCK_BUSY, { orderId, productId });
		this.retryable = true;
	}
}

/**
 * 409 STOCK_BELOW_RESERVED: an admin set `onHand` below the units reserved by checkouts in flight, which
 * would leave less than nothing to sell. `data: { productId, reserved }`.
 */
export class StockBelowReservedError extends MoleculerClientError {
	constructor(productId: string, reserved: number) {
		super(`onHand cannot be below the ${reserved} units reserved by checkouts in flight`, 409, ErrorTypes.STOCK_BELOW_RESERVED, { productId, reserved });
	}
}

/**
 * 503 SERVICE_UNAVAILABLE: the gateway found no node for the service a route calls (Moleculer's
 * SERVICE_NOT_FOUND / SERVICE_NOT_AVAILABLE, which it codes 404 — wrong for a client: the resource exists,
 * the service is away for now). Retryable; the gateway adds `Retry-After: 1`. Nothing was changed.
 * `data: { service }` (the service name, no node id).
 */
export class ServiceUnavailableError extends Errors.MoleculerRetryableError {
	constructor(service: string) {
		super("The service is not available right now; retry shortly", 503, ErrorTypes.SERVICE_UNAVAILABLE, { service });
		this.name = "ServiceUnavailableError";
	}
}

const SHOP_TYPES: ReadonlySet<string> = new Set(Object.values(ErrorTypes));

/**
 * Restores the shop's client errors that come back from another node as MoleculerClientError instances
 * (same name, message, code, type, data and `retryable`), instead of Moleculer's default plain Error.
 * Callers still compare by `type`/`code`; this keeps `instanceof MoleculerClientError` and the 4xx status
 * true across a hop. Other errors use Moleculer's own regeneration.
 */
export class ShopErrorRegenerator extends Errors.Regenerator {
	override restoreCustomError(plain: { name: string; message: string; code: number; type: string; data?: unknown; retryable?: boolean }): Error {
		// Returning undefined hands the error to Moleculer's own regeneration (its .d.ts says Error).
		if (!SHOP_TYPES.has(plain.type) || plain.type === ErrorTypes.VALIDATION_ERROR) return undefined as unknown as Error;
		const err = new MoleculerClientError(plain.message, plain.code, plain.type, plain.data);
		err.name = plain.name;
		err.retryable = Boolean(plain.retryable);
		return err;
	}
}
