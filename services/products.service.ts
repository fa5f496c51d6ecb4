/**
 * The products service: the catalog. Reads (`list`, `get`) are cached; every write cleans the cache on every
 * node. Stock is changed only by the idempotent, atomic conditional updates of the stock reservation mixin
 * (`reserveStock`, `releaseStock`, `commitStock`, `restock`), never by read-then-write.
 */
import { Errors, type Context, type ServiceSchema } from "moleculer";
import { DbMixin, type DbServiceThis } from "../mixins/db.mixin";
import { CacheCleanerMixin } from "../mixins/cache-cleaner.mixin";
import { productFieldRules, type ProductInput } from "./domain/catalog";
import { DEFAULT_CURRENCY } from "./domain/money";
import { PRODUCT_SORTS, buildProductQuery, buildProductSort, type ProductSort } from "./domain/product-query";
import { DEMO_CATALOG } from "../lib/demo-catalog";
import { ProductNotFoundError, SkuTakenError } from "../lib/errors";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import { StockReservationMixin } from "../mixins/stock-reservation.mixin";
import { CHANNELS, ChannelsMixin } from "../lib/channels";
import { pageParamRules, type Page, type PageParams } from "../lib/paging";
import type { Meta } from "../types/meta";

/** A catalog product as every action returns it. `price` in minor units of `currency`; dates ISO 8601. */
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
	/** Units sold in paid orders (counted from order.paid events); absent until the first sale. */
	sold?: number;
	createdAt: string;
	updatedAt: string;
}

/** One page of `products.list`. */
export type ProductPage = Page<Product>;

/** Counts of an upsert by SKU (`products.import`, the demo seed). */
export interface ImportResult {
	created: number;
	updated: number;
	unchanged: number;
}

export interface ProductsSettings {
	/** Seed the demo catalog when the catalog is empty at start (default true). */
	seedDemoCatalog: boolean;
}

const PRODUCT_FIELDS = ["sku", "name", "description", "category", "brand", "price", "currency", "stock", "sold", "createdAt", "updatedAt"];
const ID_RULE = { type: "string", min: 1, max: 64 } as const;

const listParams = {
	$$strict: true,
	...pageParamRules,
	category: { type: "string", max: 100, optional: true },
	q: { type: "string", max: 200, optional: true },
	sort: { type: "enum", values: [...PRODUCT_SORTS], optional: true }
} as const;
interface ListParams extends PageParams {
	category?: string;
	q?: string;
	sort?: ProductSort;
}

const idParams = { $$strict: true, id: ID_RULE } as const;
interface IdParams {
	id: string;
}

const getManyParams = { $$strict: true, ids: { type: "array", items: ID_RULE, max: 200 } } as const;
interface GetManyParams {
	ids: string[];
}

const createParams = { $$strict: true, ...productFieldRules } as const;
type CreateParams = ProductInput;

const optional = <T extends object>(rule: T) => ({ ...rule, optional: true });
const updateParams = {
	$$strict: true,
	id: ID_RULE,
	...Object.fromEntries(Object.entries(productFieldRules).map(([field, rule]) => [field, optional(rule)]))
};
type UpdateParams = Partial<ProductInput> & IdParams;

const importParams = {
	$$strict: true,
	products: { type: "array", min: 1, max: 500, items: { type: "object", strict: true, props: productFieldRules } }
} as const;
interface ImportParams {
	products: ProductInput[];
}

interface ProductsMethods {
	toProduct(ctx: Context | undefined, doc: unknown): Promise<Product>;
	findProduct(id: string): Promise<Record<string, any>>;
	upsertProducts(inputs: readonly ProductInput[], ctx?: Context): Promise<ImportResult>;
	upsertOne(input: ProductInput): Promise<keyof ImportResult>;
}
type ProductsThis = DbServiceThis & ProductsMethods & { settings: ProductsSettings };

/**
 * Refuses `null` for any field: fastest-validator lets an optional field be null, and a product field must
 * never be stored as null. @throws ValidationError 422 naming the fields.
 */
function assertNoNulls(params: object): void {
	const fields = Object.entries(params).filter(([, value]) => value === null).map(([field]) => field);
	if (fields.length > 0) {
		throw new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", fields.map(field => ({ type: "required", field, message: `The '${field}' field must not be null.` })) as never);
	}
}

/** Fills the optional fields of `input` with their defaults. */
function withDefaults(input: ProductInput): Required<ProductInput> {
	return { description: "", brand: "", currency: DEFAULT_CURRENCY, ...input };
}

const ProductsService: ServiceSchema<ProductsSettings, ProductsMethods, object, ProductsThis> = {
	name: "products",
	mixins: [
		DbMixin("products", PRODUCT_FIELDS, [
			{ fields: { sku: 1 }, unique: true },
			{ fields: { category: 1 } }
		]),
		CacheCleanerMixin(["products"]),
		StockReservationMixin,
		ChannelsMixin<ProductsThis>({
			/**
			 * Records a paid order's units as sold (`sold`, in units), once per order: the same update marks the
			 * product with the order id. The marker map grows with the orders of each product.
			 */
			async [CHANNELS.ORDER_PAID](payload: { orderId: string; items: { productId: string; quantity: number }[] }) {
				let changed = 0;
				for (const { productId, quantity } of payload.items) {
					changed += await this.adapter.updateMany(
						{ _id: productId, [`sales.${payload.orderId}`]: { $exists: false } },
						{ $inc: { sold: quantity }, $set: { [`sales.${payload.orderId}`]: quantity } }
					);
				}
				if (changed > 0) await this.entityChanged("updated", null);
			}
		})
	],
	settings: { seedDemoCatalog: true },

	actions: {
		/** One page of the catalog. Params: ListParams. Cached per every param. @throws ValidationError 422. */
		list: {
			params: listParams,
			retryPolicy: IDEMPOTENT_RETRY,
			cache: { keys: ["page", "pageSize", "category", "q", "sort"] },
			async handler(ctx: Context<ListParams, Meta>): Promise<ProductPage> {
				return this.findPage(ctx, buildProductQuery(ctx.params), buildProductSort(ctx.params.sort), ctx.params);
			}
		},

		/** One product by id. Cached. @throws ProductNotFoundError 404 PRODUCT_NOT_FOUND. */
		get: {
			params: idParams,
			retryPolicy: IDEMPOTENT_RETRY,
			cache: { keys: ["id"] },
			async handler(ctx: Context<IdParams, Meta>): Promise<Product> {
				return this.toProduct(ctx, await this.findProduct(ctx.params.id));
			}
		},

		/** The products among `ids` that exist (internal: carts and orders price lines with it). */
		getMany: {
			visibility: "public",
			params: getManyParams,
			retryPolicy: IDEMPOTENT_RETRY,
			async handler(ctx: Context<GetManyParams, Meta>): Promise<Product[]> {
				if (ctx.params.ids.length === 0) return [];
				return this.transformDocuments(ctx, {}, await this.adapter.findByIds([...new Set(ctx.params.ids)]));
			}
		},

		/** Creates a product (admin). Answers 201. @throws SkuTakenError 409 SKU_TAKEN; ValidationError 422. */
		create: {
			params: createParams,
			async handler(ctx: Context<CreateParams, Meta>): Promise<Product> {
				assertNoNulls(ctx.params);
				const now = new Date().toISOString();
				try {
					const doc = await this.adapter.insert({ _id: this.newId(), ...withDefaults(ctx.params), createdAt: now, updatedAt: now });
					await this.entityChanged("created", doc, ctx);
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = `/api/products/${doc._id}`;
					return this.toProduct(ctx, doc);
				} catch (err) {
					if (this.isDuplicateKeyError(err)) throw new SkuTakenError(ctx.params.sku);
					throw err;
				}
			}
		},

		/** Changes the given fields of a product (admin). @throws ProductNotFoundError 404; SkuTakenError 409. */
		update: {
			params: updateParams,
			async handler(ctx: Context<UpdateParams, Meta>): Promise<Product> {
				assertNoNulls(ctx.params);
				const { id, ...fields } = ctx.params;
				await this.findProduct(id);
				try {
					const doc = await this.adapter.updateById(id, { $set: { ...fields, updatedAt: new Date().toISOString() } });
					if (!doc) throw new ProductNotFoundError(id);
					await this.entityChanged("updated", doc, ctx);
					return this.toProduct(ctx, doc);
				} catch (err) {
					if (this.isDuplicateKeyError(err)) throw new SkuTakenError(String(fields.sku));
					throw err;
				}
			}
		},

		/** Deletes a product (admin) and returns it. @throws ProductNotFoundError 404 PRODUCT_NOT_FOUND. */
		remove: {
			params: idParams,
			async handler(ctx: Context<IdParams, Meta>): Promise<Product> {
				const doc = await this.findProduct(ctx.params.id);
				await this.adapter.removeMany({ _id: ctx.params.id });
				await this.entityChanged("removed", doc, ctx);
				return this.toProduct(ctx, doc);
			}
		},

		/**
		 * Upserts up to 500 products by SKU (admin; the catalog import). A product whose fields already equal
		 * the entry is left alone, so importing a file twice changes nothing; an existing product keeps its
		 * stock (the file's stock seeds new products). @throws ValidationError 422.
		 */
		import: {
			params: importParams,
			async handler(ctx: Context<ImportParams, Meta>): Promise<ImportResult> {
				ctx.params.products.forEach(assertNoNulls);
				return this.upsertProducts(ctx.params.products, ctx);
			}
		}
	},

	methods: {
		toProduct(ctx: Context | undefined, doc: unknown): Promise<Product> {
			return this.transformDocuments(ctx, {}, doc);
		},

		async findProduct(id: string): Promise<Record<string, any>> {
			const doc = await this.adapter.findById(id);
			if (!doc) throw new ProductNotFoundError(id);
			return doc;
		},

		async upsertProducts(inputs: readonly ProductInput[], ctx?: Context): Promise<ImportResult> {
			const result: ImportResult = { created: 0, updated: 0, unchanged: 0 };
			for (const input of inputs) result[await this.upsertOne(input)] += 1;
			if (result.created + result.updated > 0) await this.entityChanged("updated", null, ctx);
			return result;
		},

		async upsertOne(input: ProductInput): Promise<keyof ImportResult> {
			const fields = withDefaults(input);
			const now = new Date().toISOString();
			const existing = await this.adapter.findOne({ sku: fields.sku });
			if (!existing) {
				try {
					await this.adapter.insert({ _id: this.newId(), ...fields, createdAt: now, updatedAt: now });
					return "created";
				} catch (err) {
					// Another node inserted the same SKU first: fall through to the update.
					if (!this.isDuplicateKeyError(err)) throw err;
				}
			}
			// An existing product keeps its stock: sales and reservations change it, and a re-import must neither
			// put sold units back nor overwrite a concurrent reservation. The file's stock seeds new products only.
			const { stock: _stock, ...catalogFields } = fields;
			const changed = (Object.keys(catalogFields) as (keyof typeof catalogFields)[]).some(key => existing?.[key] !== catalogFields[key]);
			if (!changed) return "unchanged";
			await this.adapter.updateMany({ sku: fields.sku }, { $set: { ...catalogFields, updatedAt: now } });
			return "updated";
		}
	},

	async started() {
		if (this.settings.seedDemoCatalog && (await this.adapter.count({})) === 0) {
			const result = await this.upsertProducts(DEMO_CATALOG);
			this.logger.info(`Seeded the demo catalog: ${result.created} products.`);
		}
	}
};

export default ProductsService;
