/**
 * The products service: the catalog and its stock. Reads (`list`, `get`) are cached; every write cleans the
 * cache on every node. Stock counts onHand, reserved and available units (`domain/stock.ts`); it changes
 * only through the idempotent, atomic stock movements of `mixins/stock-movements.mixin.ts` (checkout) and the
 * admin's compare-and-set of `onHand`, never by read-then-write. `mixins/stock-sweep.mixin.ts` releases what
 * a lost order left held.
 */
import { StockOperatorMixin } from "../mixins/operator.mixin";
import { Errors, type Context, type ServiceSchema } from "moleculer";
import { DbMixin } from "../mixins/db.mixin";
import { CacheCleanerMixin, type CacheCleanerMethods } from "../mixins/cache-cleaner.mixin";
import { StockMovementsMixin, MOVEMENTS_STORE, type StockThis } from "../mixins/stock-movements.mixin";
import { StockSweepMixin } from "../mixins/stock-sweep.mixin";
import { CatalogIndexMixin, type CatalogIndexThis } from "../mixins/catalog-index.mixin";
import { onHandRule, productFieldRules, type Product, type ProductInput } from "../domain/catalog";
import { DEFAULT_CURRENCY } from "../domain/money";
import { initialStock } from "../domain/stock";
import { PRODUCT_SORTS, type ProductSort } from "../domain/product-query";
import { DEMO_CATALOG } from "../lib/demo-catalog";
import { bumpCatalogVersion } from "../lib/catalog-cache";
import { configOf, type ShopConfig } from "../lib/config";
import { ProductNotFoundError, SkuTakenError } from "../lib/errors";
import { IDEMPOTENT_RETRY } from "../lib/resilience";
import { pageParamRules, type Page, type PageParams } from "../lib/paging";
import type { Meta } from "../types/meta";

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

const PRODUCT_FIELDS = ["sku", "name", "description", "category", "brand", "price", "currency", "stock", "onHand", "reserved", "sold", "createdAt", "updatedAt"];
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
const { stock: _stockRule, ...catalogFieldRules } = productFieldRules;
/** Any subset of the catalog fields, and `onHand` (the shelf count) instead of `stock`. */
const updateParams = {
	$$strict: true,
	id: ID_RULE,
	...Object.fromEntries(Object.entries(catalogFieldRules).map(([field, rule]) => [field, optional(rule)])),
	onHand: optional(onHandRule)
};
type UpdateParams = Partial<Omit<ProductInput, "stock">> & IdParams & { onHand?: number };

const importParams = {
	$$strict: true,
	products: { type: "array", min: 1, max: 500, items: { type: "object", strict: true, props: productFieldRules } }
} as const;
interface ImportParams {
	products: ProductInput[];
}

interface ProductsMethods extends CacheCleanerMethods {
	clearCache(): Promise<void>;
	toProduct(ctx: Context | undefined, doc: unknown): Promise<Product>;
	findProduct(id: string): Promise<Record<string, any>>;
	upsertProducts(inputs: readonly ProductInput[], ctx?: Context): Promise<ImportResult>;
	upsertOne(input: ProductInput): Promise<keyof ImportResult>;
}
type ProductsThis = StockThis & CatalogIndexThis & ProductsMethods & { settings: ProductsSettings; config: ShopConfig };

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

/** The document of a new product: `input.stock` units on hand, nothing reserved or sold. */
function newProduct(_id: string, input: ProductInput): Record<string, unknown> {
	const now = new Date().toISOString();
	const { stock, ...fields } = withDefaults(input);
	return { _id, ...fields, ...initialStock(stock), createdAt: now, updatedAt: now };
}

const ProductsService: ServiceSchema<ProductsSettings, ProductsMethods, object, ProductsThis> = {
	name: "products",
	mixins: [
		DbMixin({
			collection: "products",
			fields: PRODUCT_FIELDS,
			indexes: [{ fields: { sku: 1 }, unique: true }, { fields: { category: 1 } }, { fields: { inFlight: 1 }, mongoOnly: true }],
			stores: { movements: MOVEMENTS_STORE }
		}),
		CacheCleanerMixin(["products"]),
		StockMovementsMixin,
		StockSweepMixin,
		CatalogIndexMixin,
		StockOperatorMixin
	],
	settings: { seedDemoCatalog: true },

	actions: {
		/** One page of the catalog. Params: ListParams. Cached per every param. @throws ValidationError 422. */
		list: {
			params: listParams,
			retryPolicy: IDEMPOTENT_RETRY,
			cache: { keys: ["page", "pageSize", "category", "q", "sort"] },
			async handler(ctx: Context<ListParams, Meta>): Promise<ProductPage> {
				return this.listCatalog(ctx, ctx.params) as Promise<ProductPage>;
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

		/**
		 * Creates a product (admin) with `stock` units on hand. Answers 201.
		 * @throws SkuTakenError 409 SKU_TAKEN; ValidationError 422.
		 */
		create: {
			params: createParams,
			async handler(ctx: Context<CreateParams, Meta>): Promise<Product> {
				assertNoNulls(ctx.params);
				const { inserted, doc } = await this.insertOnce(newProduct(this.newId(), ctx.params), { sku: ctx.params.sku });
				if (!inserted) throw new SkuTakenError(ctx.params.sku);
				this.indexProducts([doc!]);
				await this.entityChanged("created", doc, ctx);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/products/${doc!._id}`;
				return this.toProduct(ctx, doc);
			}
		},

		/**
		 * Changes the given fields of a product (admin). `onHand` sets the shelf count: available `stock`
		 * becomes onHand − reserved in the same atomic update, so a checkout holding units meanwhile neither adds
		 * to nor takes from it. @throws ProductNotFoundError 404; SkuTakenError 409; StockBelowReservedError 409
		 * STOCK_BELOW_RESERVED (onHand below the reserved units); ValidationError 422.
		 */
		update: {
			params: updateParams,
			async handler(ctx: Context<UpdateParams, Meta>): Promise<Product> {
				assertNoNulls(ctx.params);
				const { id, onHand, ...fields } = ctx.params;
				const set = { ...fields, updatedAt: new Date().toISOString() };
				try {
					const doc = onHand == null ? await this.adapter.updateById(id, { $set: set }) : await this.setOnHand(id, onHand, set);
					if (!doc) throw new ProductNotFoundError(id);
					this.indexProducts([doc]);
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
				this.unindexProduct(ctx.params.id);
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
		/**
		 * moleculer-db's cache clean after every product write (catalog edits and stock moves), done on every node
		 * (`cleanEverywhere`, mixins/cache-cleaner.mixin.ts), plus a new catalog version, so that the gateways'
		 * response caches drop their answers before this write answers.
		 */
		async clearCache(): Promise<void> {
			await Promise.all([this.cleanEverywhere("products"), bumpCatalogVersion(this.broker)]);
		},

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
			let existing = await this.adapter.findOne({ sku: input.sku });
			if (!existing) {
				const { inserted, doc } = await this.insertOnce(newProduct(this.newId(), input), { sku: input.sku });
				if (inserted) {
					this.indexProducts([doc!]);
					return "created";
				}
				existing = doc; // another node inserted the same SKU first: update it like any existing product
			}
			// An existing product keeps its stock counters: sales and reservations change them, and a re-import
			// must neither put sold units back nor overwrite a reservation. The file's stock seeds new products only.
			const { stock: _stock, ...catalogFields } = withDefaults(input);
			const changed = (Object.keys(catalogFields) as (keyof typeof catalogFields)[]).some(key => existing?.[key] !== catalogFields[key]);
			if (!changed) return "unchanged";
			await this.adapter.updateMany({ sku: input.sku }, { $set: { ...catalogFields, updatedAt: new Date().toISOString() } });
			if (this.catalogIndex) this.indexProducts([(await this.adapter.findOne({ sku: input.sku }))!]);
			return "updated";
		}
	},

	created() {
		this.config = configOf(this.broker);
	},

	async started() {
		await this.migrateLegacyStock();
		if (this.settings.seedDemoCatalog && (await this.adapter.count({})) === 0) {
			const result = await this.upsertProducts(DEMO_CATALOG);
			this.logger.info(`Seeded the demo catalog: ${result.created} products.`);
		}
		await this.buildCatalogIndex();
	}
};

export default ProductsService;
