/**
 * Where entities live: a moleculer-db adapter per collection, chosen by the configuration, its indexes, and
 * the one "insert once, or answer the winner" helper every idempotent insert uses.
 *
 * - MONGO_URI set → moleculer-db-adapter-mongo, one collection per name.
 * - otherwise → moleculer-db's MemoryAdapter (NeDB), persisted to `${DATA_DIR}/<collection>.db`
 *   (DATA_DIR=":memory:" keeps nothing on disk, as the tests do).
 */
import path from "node:path";
import fs from "node:fs";
import DbService from "moleculer-db";
import type { Logger, ServiceBroker } from "moleculer";
import type { ShopConfig } from "./config";

/**
 * An index the store must have. `fields` maps field → 1 (ascending) or -1 (descending). `mongoOnly` marks an
 * index that serves only an occasional scan (a sweep, recovery): NeDB keeps every index in memory and updates
 * each on every write, so it skips those and scans instead.
 */
export interface IndexSpec {
	fields: Record<string, 1 | -1>;
	unique?: boolean;
	mongoOnly?: boolean;
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
	connect(): Promise<unknown>;
	disconnect(): Promise<unknown> | unknown;
}

interface NedbPersistence {
	inMemoryOnly: boolean;
	filename: string;
	persistNewStateAsync(docs: object[]): Promise<void>;
	persistCachedDatabaseAsync(): Promise<void>;
	afterSerialization(line: string): string;
}

/** A NeDB cursor: the result of a query, run by `execAsync`. */
interface NedbCursor {
	execAsync(): Promise<any>;
}

/** A document replaced by an update: the version before and the one after. */
interface UpdatedPair {
	oldDoc: object;
	newDoc: object;
}

/** A NeDB index: the field it keys on and its tree (`search` answers the node's own array of documents). */
interface NedbIndex {
	fieldName: string;
	tree: { search(key: unknown): object[] };
	update(pairs: UpdatedPair[]): void;
	revertUpdate(pairs: UpdatedPair[]): void;
}

/** The part of NeDB's promise API the adapter calls, and the index upkeep it replaces. */
interface NedbDatastore {
	findAsync(query: object): NedbCursor;
	findOneAsync(query: object): NedbCursor;
	insertAsync(doc: object | object[]): Promise<any>;
	updateAsync(query: object, update: object, options: object): Promise<{ numAffected: number; affectedDocuments: any }>;
	removeAsync(query: object, options?: object): Promise<number>;
	persistence: NedbPersistence;
	indexes: Record<string, NedbIndex>;
	_updateIndexes(pairs: UpdatedPair[] | object, newDoc?: object): void;
}

/** Whether `value` holds, at any depth, an object with a `getTime` method: what NeDB writes as `{ $$date }`. */
function holdsDate(value: unknown): boolean {
	if (value === null || typeof value !== "object") return false;
	if (typeof (value as { getTime?: unknown }).getTime === "function") return true;
	if (Array.isArray(value)) return value.some(holdsDate);
	for (const key in value) if (holdsDate((value as Record<string, unknown>)[key])) return true;
	return false;
}

/**
 * One document as a line of a NeDB data file: the same string as NeDB's `model.serialize(doc)`, faster, for
 * what NeDB persists (documents it has copied with `deepCopy`, so plain data, and checked with `checkObject`
 * on insert and update; its tombstones and index lines). NeDB runs `JSON.stringify` with a replacer that
 * checks every key again and writes a Date as `{ $$date: ms }`. A document without a Date comes out the same
 * from `JSON.stringify` alone, which took 4.3 µs instead of 9.7 µs for a 3.3 KB product under checkout
 * (2026-12-07, `BENCHMARKS.md`); a document with one goes through `serialize`.
 */
export function serializeDocument(doc: object, serialize: (doc: object) => string): string {
	return holdsDate(doc) ? serialize(doc) : JSON.stringify(doc);
}

/**
 * NeDB's index upkeep on update, without the work that changes nothing. NeDB moves every updated document in
 * every index of its collection by a removal and an insertion (each rebalancing an AVL tree), even where the
 * indexed field kept its value, which is almost every update here: a stock move changes a product's counters,
 * never its `_id`, `sku` or `category`; an order's step changes, never its `_id` or `idempotencyScope`. Where
 * an index keys every updated document on the same string or number before and after, the new version takes
 * the old one's place in the index's node; any other index (a key that changed, an array, a missing field) is
 * updated the library's way, before the swaps, so that its unique-key error leaves every index as it was.
 * The one difference: in a non-unique index an updated document keeps its place among those of the same key,
 * where NeDB would move it last (no query here relies on that order; lists are sorted).
 */
export function swapUnchangedIndexKeys(store: NedbDatastore): void {
	const { getDotValue } = require("@seald-io/nedb/lib/model") as { getDotValue(doc: object, field: string): unknown };
	const updateIndexes = store._updateIndexes.bind(store);
	store._updateIndexes = (pairs: UpdatedPair[] | object, newDoc?: object) => {
		if (!Array.isArray(pairs)) return updateIndexes(pairs, newDoc);
		const swaps: { nodes: object[]; at: number; doc: object }[] = [];
		const moved: NedbIndex[] = [];
		for (const index of Object.values(store.indexes)) {
			const found = index.fieldName.includes(",") ? null : pairs.map(({ oldDoc, newDoc: doc }) => {
				const key = getDotValue(oldDoc, index.fieldName);
				if ((typeof key !== "string" && typeof key !== "number") || getDotValue(doc, index.fieldName) !== key) return null;
				const nodes = index.tree.search(key);
				const at = nodes.indexOf(oldDoc);
				return at < 0 ? null : { nodes, at, doc };
			});
			if (found && found.every(swap => swap !== null)) swaps.push(...(found as typeof swaps));
			else moved.push(index);
		}
		moved.forEach((index, i) => {
			try {
				index.update(pairs);
			} catch (err) {
				for (const done of moved.slice(0, i)) done.revertUpdate(pairs);
				throw err;
			}
		});
		for (const { nodes, at, doc } of swaps) nodes[at] = doc;
	};
}

/**
 * moleculer-db's NeDB adapter, with three things changed:
 * - its reads, inserts, updates and removeMany call NeDB's promise API (`findOneAsync`, `updateAsync`, a cursor's `execAsync`…)
 *   directly. The library promisifies NeDB's callback API, which NeDB itself implements by `callbackify`-ing
 *   its promise API: two wrappers per operation, ~2 % of a checkout's CPU, and its `update` wrapper made
 *   Node print a DEP0174 warning on every update;
 * - NeDB appends each changed document with `fs.appendFile`, which opens and closes the file every time and
 *   goes through libuv's thread pool, while the store runs its operations one after the other: every write
 *   left the process idle for a round trip. This adapter keeps the file open and appends with one
 *   synchronous `write` (tens of µs into the page cache; the bytes reach the file before the operation
 *   answers, as before, and NeDB never fsyncs either way), reopening it after NeDB rewrites the file
 *   (compaction at load);
 * - it writes each line with `serializeDocument` (above), NeDB's format without NeDB's per-key replacer.
 */
class ShopMemoryAdapter extends DbService.MemoryAdapter {
	private fd: number | null = null;

	/** The NeDB datastore (set by `connect`). */
	private get store(): NedbDatastore {
		return (this as unknown as { db: NedbDatastore }).db;
	}

	override find(filters: object) {
		return (this.createCursor(filters as never) as unknown as NedbCursor).execAsync() as Promise<object[]>;
	}

	override findOne(query: object) {
		return this.store.findOneAsync(query).execAsync();
	}

	override findById(_id: unknown) {
		return this.store.findOneAsync({ _id }).execAsync();
	}

	override findByIds(ids: unknown[]) {
		return this.store.findAsync({ _id: { $in: ids } }).execAsync();
	}

	override count(filters: object = {}) {
		return this.find(filters).then((docs: object[]) => docs.length);
	}

	override insert(entity: object) {
		return this.store.insertAsync(entity);
	}

	override insertMany(entities: object[]) {
		return this.store.insertAsync(entities);
	}

	override updateMany(query: object, update: object) {
		return this.store.updateAsync(query, update, { multi: true }).then(r => r.numAffected);
	}

	override updateById(_id: unknown, update: object) {
		return this.store.updateAsync({ _id }, update, { returnUpdatedDocs: true }).then(r => r.affectedDocuments);
	}

	override removeMany(query: object) {
		return this.store.removeAsync(query, { multi: true });
	}

	override async connect(): Promise<void> {
		// moleculer-db's connect also wraps `db.update` in a way that prints DEP0174 on each call: nothing here
		// calls `db.update` (updateMany and updateById above call updateAsync); keep it that way.
		await super.connect();
		swapUnchangedIndexKeys(this.store);
		const persistence = this.store.persistence;
		if (persistence.inMemoryOnly) return;
		const { serialize } = require("@seald-io/nedb/lib/model") as { serialize(doc: object): string };
		const open = () => (this.fd = fs.openSync(persistence.filename, "a"));
		const close = () => {
			if (this.fd != null) fs.closeSync(this.fd);
			this.fd = null;
		};
		open();
		persistence.persistNewStateAsync = async docs => {
			const lines = docs.map(doc => `${persistence.afterSerialization(serializeDocument(doc, serialize))}\n`).join("");
			if (lines) fs.writeSync(this.fd!, lines);
		};
		const rewrite = persistence.persistCachedDatabaseAsync.bind(persistence);
		persistence.persistCachedDatabaseAsync = async () => {
			close();
			await rewrite();
			open();
		};
		this.closeFile = close;
	}

	/** Closes the data file (set once connected to one). */
	private closeFile: () => void = () => undefined;

	override async disconnect(): Promise<void> {
		this.closeFile();
		return super.disconnect();
	}
}

/** A connection state of MongoDB, as the shop logs it: one line per change, not per retry. */
type MongoState = "up" | "down";

/**
 * moleculer-db-adapter-mongo, without its deprecated calls (listeners on the Db class, findOneAndUpdate's
 * `returnOriginal`), which made the driver print deprecation warnings. A lost or regained connection is
 * logged once per change, from the driver's server heartbeats.
 */
function shopMongoAdapter() {
	// Loaded only where MONGO_URI is set: the driver is a tenth of an idle node's memory otherwise.
	const MongoAdapter: typeof import("moleculer-db-adapter-mongo").default = require("moleculer-db-adapter-mongo");
	return class ShopMongoAdapter extends MongoAdapter {
		override connect(): Promise<void> {
			const self = this as unknown as { uri: string; opts: object; dbName?: string; client: any; db: any; collection: any; service: { schema: { collection: string }; logger: Logger } };
			const { MongoClient } = require("mongodb") as { MongoClient: new (uri: string, opts: object) => any };
			self.client = new MongoClient(self.uri, self.opts);
			return self.client.connect().then(() => {
				self.db = self.client.db(self.dbName);
				self.collection = self.db.collection(self.service.schema.collection);
				let state: MongoState = "up";
				const change = (next: MongoState, message: string) => {
					if (state === next) return;
					state = next;
					self.service.logger[next === "up" ? "info" : "warn"](message);
				};
				self.client.on("serverHeartbeatFailed", (e: { failure?: Error }) => change("down", `MongoDB unreachable (${e.failure?.message ?? "heartbeat failed"}); the driver keeps trying.`));
				self.client.on("serverHeartbeatSucceeded", () => change("up", "MongoDB reachable again."));
			});
		}

		override updateById(id: string | number, update: object): Promise<object> {
			const self = this as unknown as { collection: any; stringToObjectID(id: string | number): unknown };
			return self.collection.findOneAndUpdate({ _id: self.stringToObjectID(id) }, update, { returnDocument: "after" }).then((r: { value: object }) => r.value);
		}
	}
}

/**
 * A new, unconnected adapter for `collection` under `config` (call `init` and `connect` before use, as
 * moleculer-db does for a service's main adapter; `openStore` does both for extra collections).
 */
export function createAdapter(config: ShopConfig, collection: string): StoreAdapter {
	// The unified topology reconnects after a MongoDB restart; the legacy one ends in "server instance
	// pool was destroyed" once its reconnect attempts run out. A call fails after 5 s without a server
	// instead of hanging 30 s, and a restarted server is seen within 2 s.
	// Write concern "majority" (w: "majority", journaled) for every collection, orders, payments and stock
	// movements included: on a replica set a write is acknowledged only once most members have it, so a
	// primary that dies right after answering cannot take a paid order, a capture or a stock move with it
	// (a rollback would undo a charge the customer was told about). On a single server it is the same as w: 1.
	if (config.mongoUri) {
		const ShopMongoAdapter = shopMongoAdapter();
		return new ShopMongoAdapter(config.mongoUri, { useUnifiedTopology: true, useNewUrlParser: true, serverSelectionTimeoutMS: 5000, heartbeatFrequencyMS: 2000, writeConcern: { w: "majority", j: true } }) as unknown as StoreAdapter;
	}
	if (config.dataDir === ":memory:") return new ShopMemoryAdapter() as unknown as StoreAdapter;
	fs.mkdirSync(config.dataDir, { recursive: true });
	return new ShopMemoryAdapter({ filename: path.join(config.dataDir, `${collection}.db`) } as any) as unknown as StoreAdapter;
}

/**
 * Creates `indexes` on a connected adapter (idempotent). NeDB indexes one field each, so it skips compound
 * ones, and the `mongoOnly` ones.
 */
export async function ensureIndexes(adapter: StoreAdapter, indexes: readonly IndexSpec[]): Promise<void> {
	const raw = adapter as any;
	for (const index of indexes) {
		const options = { unique: Boolean(index.unique) };
		if (raw.collection) {
			await raw.collection.createIndex(index.fields, options);
		} else {
			const names = Object.keys(index.fields);
			if (names.length === 1 && !index.mongoOnly) await raw.db.ensureIndex({ fieldName: names[0], ...options });
		}
	}
}

/** Opens an extra collection beside a service's own: a connected adapter with its indexes. */
export async function openStore(config: ShopConfig, broker: ServiceBroker, logger: Logger, collection: string, indexes: readonly IndexSpec[]): Promise<StoreAdapter> {
	const adapter = createAdapter(config, collection) as StoreAdapter & { init(broker: ServiceBroker, service: object): void };
	// The adapters read the collection name and the logger from the service they are given.
	adapter.init(broker, { schema: { collection }, logger, broker });
	await adapter.connect();
	await ensureIndexes(adapter, indexes);
	return adapter;
}

/** True for a unique-index violation of either store (MongoDB code 11000, NeDB `uniqueViolated`). */
export function isDuplicateKeyError(err: unknown): boolean {
	const e = err as { code?: unknown; errorType?: unknown } | null;
	return e?.code === 11000 || e?.errorType === "uniqueViolated";
}

/** What `insertOnce` did: `inserted` true with our document, or false with the winner (null if it is gone). */
export interface InsertOnce {
	inserted: boolean;
	doc: Record<string, any> | null;
}

/**
 * Inserts `doc` unless a unique index already holds an equal key; then answers the document that won,
 * found by `winner` (default: the same `_id`). Concurrent callers thus agree on one document, decided by
 * the store, never by a read-then-write. Other store errors are thrown.
 */
export async function insertOnce(adapter: StoreAdapter, doc: Record<string, unknown>, winner: object = { _id: doc._id }): Promise<InsertOnce> {
	try {
		return { inserted: true, doc: await adapter.insert(doc) };
	} catch (err) {
		if (!isDuplicateKeyError(err)) throw err;
		return { inserted: false, doc: await adapter.findOne(winner) };
	}
}
