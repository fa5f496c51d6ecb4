/**
 * Product field rules, shared by the products service's params and the catalog import. The import format
 * is the one of `../shared/data/README.md`: `{ sku, name, description, category, brand, price, currency, stock }`
 * with `price` in minor units and `currency` an ISO 4217 code.
 */
import Validator from "fastest-validator";
import { CURRENCY_PATTERN } from "./money";

/** Highest accepted price, in minor units (10 million units of the currency). */
export const MAX_PRICE = 1_000_000_000;
/** Highest accepted stock, in units. */
export const MAX_STOCK = 1_000_000;

/** The fastest-validator rule of each product field (the params schemas reuse these). */
export const productFieldRules = {
	sku: { type: "string", min: 1, max: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ },
	name: { type: "string", min: 1, max: 200, trim: true },
	description: { type: "string", max: 5000, optional: true },
	category: { type: "string", min: 1, max: 100, trim: true },
	brand: { type: "string", max: 100, optional: true },
	price: { type: "number", integer: true, min: 0, max: MAX_PRICE, convert: false },
	currency: { type: "string", pattern: CURRENCY_PATTERN, optional: true },
	stock: { type: "number", integer: true, min: 0, max: MAX_STOCK, convert: false }
} as const;

/**
 * A product as imported or created. `price` in minor units of `currency` (default USD); `stock` is the units
 * on hand at creation (an existing product keeps its counters on a re-import).
 */
export interface ProductInput {
	sku: string;
	name: string;
	description?: string;
	category: string;
	brand?: string;
	price: number;
	currency?: string;
	stock: number;
}

/**
 * A catalog product as every action returns it. `price` in minor units of `currency`; dates ISO 8601. Stock
 * counters in units, as `domain/stock.ts` defines them: `stock` (available to sell) = `onHand` − `reserved`;
 * `sold` counts paid orders net of cancellations.
 */
export interface Product {
	id: string;
	sku: string;
	name: string;
	description: string;
	category: string;
	brand: string;
	price: number;
	currency: string;
	stock: number;
	onHand: number;
	reserved: number;
	sold: number;
	createdAt: string;
	updatedAt: string;
}

/** The admin's shelf count in a product update (units; replaces `stock` there, see `domain/stock.ts`). */
export const onHandRule = { type: "number", integer: true, min: 0, max: MAX_STOCK, convert: false } as const;

/** One problem found in an import file: the entry's index, the field, and what is wrong. */
export interface CatalogProblem {
	index: number;
	field: string;
	message: string;
}

const checkEntry = new Validator().compile({ $$root: true, type: "object", strict: true, props: productFieldRules });

/**
 * Validates a whole import file before anything is written. Returns every problem (empty when the file is
 * good): each entry against `productFieldRules`, and duplicate SKUs inside the file.
 */
export function validateCatalog(entries: unknown): CatalogProblem[] {
	if (!Array.isArray(entries)) return [{ index: -1, field: "(file)", message: "The file must hold a JSON array of products" }];
	const problems: CatalogProblem[] = [];
	const seen = new Map<string, number>();
	entries.forEach((entry, index) => {
		const result = checkEntry(entry);
		if (result !== true) {
			for (const e of result as { type: string; field?: string; actual?: unknown; message?: string }[]) {
				// A strict-object failure names the unknown fields in `actual`, not in `field`.
				const field = e.type === "objectStrict" ? String(e.actual) : (e.field ?? "(entry)");
				problems.push({ index, field, message: e.message ?? "invalid" });
			}
			return;
		}
		const sku = (entry as ProductInput).sku;
		const first = seen.get(sku);
		if (first != null) problems.push({ index, field: "sku", message: `Duplicate SKU ${sku} (also at index ${first})` });
		else seen.set(sku, index);
	});
	return problems;
}
