/**
 * The catalog listing of the products service: on the embedded store (NeDB), from the in-memory index of
 * `domain/catalog-index.ts`, which this mixin builds at start and keeps in step with every catalog write
 * (`indexProducts` / `unindexProduct`, called by the service after each); on MongoDB, from the database
 * (its indexes do the sorting). Either way the page is the same: the same filter, order and total.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { DbServiceThis } from "./db.mixin";
import { CatalogIndex, catalogEntry } from "../domain/catalog-index";
import { buildProductQuery, buildProductSort, type ProductSort } from "../domain/product-query";
import { toPage, type Page, type PageParams } from "../lib/paging";

/** What a listing filters on, and in which order. */
export interface CatalogQuery extends PageParams {
	category?: string;
	q?: string;
	sort?: ProductSort;
}

/** `this` of a service with the catalog index. */
export interface CatalogIndexThis extends DbServiceThis {
	/** The index; null on MongoDB. */
	catalogIndex: CatalogIndex | null;
	/** One page of the catalog for `query`, transformed for callers. */
	listCatalog(ctx: Context, query: CatalogQuery): Promise<Page<unknown>>;
	/** Builds the index from the store (NeDB only). */
	buildCatalogIndex(): Promise<void>;
	/** Puts the stored documents in the index (after a create, an update, an import). */
	indexProducts(docs: readonly Record<string, any>[]): void;
	/** Takes product `id` out of the index (after a remove). */
	unindexProduct(id: string): void;
}

export const CatalogIndexMixin: Partial<ServiceSchema> = {
	methods: {
		async listCatalog(this: CatalogIndexThis, ctx: Context, query: CatalogQuery) {
			if (!this.catalogIndex) return this.findPage(ctx, buildProductQuery(query), buildProductSort(query.sort), query);
			const { ids, total } = this.catalogIndex.page(query, query.sort, query.page, query.pageSize);
			const docs = new Map((await this.adapter.findByIds(ids)).map(doc => [doc._id, doc]));
			const rows = await this.transformDocuments(ctx, {}, ids.map(id => docs.get(id)).filter(Boolean));
			return toPage(rows, total, query);
		},

		async buildCatalogIndex(this: CatalogIndexThis) {
			const onNedb = Boolean((this.adapter as unknown as { db?: { persistence?: unknown } }).db?.persistence);
			this.catalogIndex = onNedb ? new CatalogIndex((await this.adapter.find({})).map(catalogEntry)) : null;
		},

		indexProducts(this: CatalogIndexThis, docs: readonly Record<string, any>[]) {
			for (const doc of docs) this.catalogIndex?.upsert(catalogEntry(doc));
		},

		unindexProduct(this: CatalogIndexThis, id: string) {
			this.catalogIndex?.remove(id);
		}
	},

	created(this: CatalogIndexThis) {
		this.catalogIndex = null;
	}
} as unknown as Partial<ServiceSchema>;
