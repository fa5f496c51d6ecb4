/**
 * The store mixin: moleculer-db with the adapter the configuration asks for (`lib/store.ts`), string ids,
 * indexes created on connect, and extra collections a service may keep beside its own (the products
 * service keeps its stock movements so). One concern only: where entities live.
 *
 * The generic moleculer-db actions (find, list, create, update…) are switched off: they accept raw query
 * objects and write every param they get. Services expose their own actions with strict params instead.
 */
import { tracedStore } from "../lib/traced-store";
import { v7 as uuidv7 } from "uuid";
import DbService from "moleculer-db";
import type { Context, Service, ServiceSchema } from "moleculer";
import { configOf } from "../lib/config";
import { createAdapter, ensureIndexes, insertOnce, isDuplicateKeyError, openStore, type IndexSpec, type InsertOnce, type StoreAdapter } from "../lib/store";
import { pageWindow, toPage, type Page, type PageParams } from "../lib/paging";

export type { IndexSpec, StoreAdapter };

/** An extra collection of a service: its name and indexes. */
export interface ExtraStore {
	collection: string;
	indexes?: readonly IndexSpec[];
}

/** What DbMixin builds: the service's own collection and any extra ones, by the name `this.stores` uses. */
export interface DbMixinOptions {
	collection: string;
	/** The entity fields callers may see (moleculer-db `settings.fields`); `id` is always shown. */
	fields: readonly string[];
	/** Indexes of the service's collection, created on every connect (idempotently). */
	indexes?: readonly IndexSpec[];
	stores?: Record<string, ExtraStore>;
}

/** `this` inside a service that uses DbMixin. */
export interface DbServiceThis extends Service {
	adapter: StoreAdapter;
	/** The extra collections, by name, connected once the service's own store is. */
	stores: Record<string, StoreAdapter>;
	/** Strips the internal fields (moleculer-db `settings.fields`) and maps `_id` → `id`. */
	transformDocuments(ctx: Context | undefined, params: object, docs: any): Promise<any>;
	/** Cleans this service's cache on every node (moleculer-db's `clearCache`; the products service's own: mixins/cache-cleaner.mixin.ts). */
	entityChanged(type: "created" | "updated" | "removed", doc: unknown, ctx?: Context): Promise<void>;
	newId(): string;
	isDuplicateKeyError(err: unknown): boolean;
	/** Inserts `doc` into the service's collection unless a unique key holds it; see `lib/store.ts`. */
	insertOnce(doc: Record<string, unknown>, winner?: object): Promise<InsertOnce>;
	/** One page of the entities matching `query`, in `sort` order, transformed for callers. */
	findPage<T>(ctx: Context, query: object, sort: string[], paging: PageParams): Promise<Page<T>>;
}

/** Builds the store mixin (see DbMixinOptions). */
export function DbMixin(options: DbMixinOptions): Partial<ServiceSchema> {
	const { collection, fields, indexes = [], stores = {} } = options;
	return {
		mixins: [DbService as unknown as Partial<ServiceSchema>],
		collection,
		settings: { idField: "id", fields: ["id", ...fields] },
		actions: {
			find: false,
			count: false,
			list: false,
			create: false,
			insert: false,
			get: false,
			update: false,
			remove: false
		},
		methods: {
			/** A new entity id: a UUIDv7 (RFC 9562), so ids sort in creation order (monotonic within a process). */
			newId(): string {
				return uuidv7();
			},
			async findPage(this: DbServiceThis, ctx: Context, query: object, sort: string[], paging: PageParams) {
				const [docs, total] = await Promise.all([this.adapter.find({ query, sort, ...pageWindow(paging) }), this.adapter.count({ query })]);
				return toPage(await this.transformDocuments(ctx, {}, docs), total, paging);
			},
			isDuplicateKeyError,
			insertOnce(this: DbServiceThis, doc: Record<string, unknown>, winner?: object) {
				return insertOnce(this.adapter, doc, winner);
			}
		},
		created(this: DbServiceThis) {
			// A fresh adapter per service instance (moleculer-db's own `created` ran first, as a mixin), so
			// several brokers in one process never share a store connection.
			this.adapter = createAdapter(configOf(this.broker), collection);
			if (this.broker.isTracingEnabled()) this.adapter = tracedStore(this.adapter, collection);
			(this.adapter as any).init(this.broker, this);
			this.stores = {};
		},
		async afterConnected(this: DbServiceThis) {
			await ensureIndexes(this.adapter, indexes);
			const config = configOf(this.broker);
			for (const [name, store] of Object.entries(stores)) {
				this.stores[name] ??= await openStore(config, this.broker, this.logger, store.collection, store.indexes ?? []);
			}
		},
		async stopped(this: DbServiceThis) {
			await Promise.all(Object.values(this.stores).map(store => store.disconnect()));
			this.stores = {};
		}
	} as unknown as Partial<ServiceSchema>;
}
