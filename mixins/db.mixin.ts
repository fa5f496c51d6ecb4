/**
 * The store mixin: moleculer-db with the adapter the environment asks for, string ids, and indexes created
 * on connect. One concern only: where entities live.
 *
 * - MONGO_URI set → moleculer-db-adapter-mongo, one collection per service.
 * - otherwise → moleculer-db's MemoryAdapter (NeDB), persisted to `${DATA_DIR}/<collection>.db`
 *   (DATA_DIR=":memory:" keeps nothing on disk, as the tests do).
 *
 * The generic moleculer-db actions (find, list, create, update…) are switched off: they accept raw query
 * objects and write every param they get. Services expose their own actions with strict params instead.
 */
import path from "node:path";
import fs from "node:fs";
import { v7 as uuidv7 } from "uuid";
import DbService from "moleculer-db";
import MongoAdapter from "moleculer-db-adapter-mongo";
import type { Context, Service, ServiceSchema } from "moleculer";
import { loadConfig } from "../lib/config";
import { pageWindow, toPage, type Page, type PageParams } from "../lib/paging";

/** An index the store must have. `fields` maps field → 1 (ascending) or -1 (descending). */
export interface IndexSpec {
	fields: Record<string, 1 | -1>;
	unique?: boolean;
}

/** The part of a moleculer-db adapter the services use (both adapters implement it). */
export interface StoreAdapter {
	findOne(query: object): Promise<Record<string, any> | null>;
	findById(id: string): Promise<Record<string, any> | null>;
	findByIds(ids: string[]): Promise<Record<string, any>[]>;
	find(filters: { query?: object; sort?: string[]; limit?: number; offset?: number }): Promise<Record<string, any>[]>;
	count(filters?: { query?: object }): Promise<number>;
	insert(entity: object): Promise<Record<string, any>>;
	/** Applies `update` to every match; resolves to the number of documents changed. */
	updateMany(query: object, update: object): Promise<number>;
	/** Applies `update` and resolves to the updated document (null when there is none). */
	updateById(id: string, update: object): Promise<Record<string, any> | null>;
	removeMany(query: object): Promise<unknown>;
	clear(): Promise<unknown>;
}

/** `this` inside a service that uses DbMixin. */
export interface DbServiceThis extends Service {
	adapter: StoreAdapter;
	/** Strips the internal fields (moleculer-db `settings.fields`) and maps `_id` → `id`. */
	transformDocuments(ctx: Context | undefined, params: object, docs: any): Promise<any>;
	/** Cleans this service's cache on every node (moleculer-db broadcasts `cache.clean.<service>`). */
	entityChanged(type: "created" | "updated" | "removed", doc: unknown, ctx?: Context): Promise<void>;
	newId(): string;
	isDuplicateKeyError(err: unknown): boolean;
	/** One page of the entities matching `query`, in `sort` order, transformed for callers. */
	findPage<T>(ctx: Context, query: object, sort: string[], paging: PageParams): Promise<Page<T>>;
}

function createAdapter(collection: string) {
	const config = loadConfig();
	// The unified topology reconnects after a MongoDB restart; the legacy one ends in "server instance
	// pool was destroyed" once its reconnect attempts run out.
	// A call fails after 5 s without a server instead of hanging 30 s, and a restarted server is seen within 2 s.
	if (config.mongoUri) {
		return new MongoAdapter(config.mongoUri, { useUnifiedTopology: true, useNewUrlParser: true, serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 2000 });
	}
	if (config.dataDir === ":memory:") return new DbService.MemoryAdapter();
	fs.mkdirSync(config.dataDir, { recursive: true });
	return new DbService.MemoryAdapter({ filename: path.join(config.dataDir, `${collection}.db`) } as any);
}

async function ensureIndexes(this: DbServiceThis, indexes: readonly IndexSpec[]): Promise<void> {
	const adapter = this.adapter as any;
	for (const index of indexes) {
		const options = { unique: Boolean(index.unique) };
		if (adapter.collection) {
			await adapter.collection.createIndex(index.fields, options);
		} else {
			// NeDB indexes one field each; compound indexes only speed MongoDB up, so NeDB skips them.
			const names = Object.keys(index.fields);
			if (names.length === 1) await adapter.db.ensureIndex({ fieldName: names[0], ...options });
		}
	}
}

/**
 * Builds the store mixin for `collection` with `indexes` (created on every connect, idempotently).
 * @param fields the entity fields callers may see (moleculer-db `settings.fields`); `id` is always shown.
 */
export function DbMixin(collection: string, fields: readonly string[], indexes: readonly IndexSpec[] = []): Partial<ServiceSchema> {
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
				const [docs, total] = await Promise.all([
					this.adapter.find({ query, sort, ...pageWindow(paging) }),
					this.adapter.count({ query })
				]);
				return toPage(await this.transformDocuments(ctx, {}, docs), total, paging);
			},
			isDuplicateKeyError(err: unknown): boolean {
				const e = err as { code?: unknown; errorType?: unknown } | null;
				return e?.code === 11000 || e?.errorType === "uniqueViolated";
			}
		},
		created(this: DbServiceThis) {
			// A fresh adapter per service instance (moleculer-db's own `created` ran first, as a mixin), so
			// several brokers in one process never share a store connection.
			this.adapter = createAdapter(collection) as unknown as StoreAdapter;
			(this.adapter as any).init(this.broker, this);
		},
		async afterConnected(this: DbServiceThis) {
			await ensureIndexes.call(this, indexes);
		}
	} as unknown as Partial<ServiceSchema>;
}
