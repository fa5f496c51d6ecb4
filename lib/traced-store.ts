/**
 * A store adapter whose operations are spans (`store.<operation> <collection>`) of the action or event that
 * runs them (the context in lib/logging.ts's request scope). Used by DbMixin only when tracing is on, so an
 * untraced node pays nothing.
 */
import { requestScope } from "./logging";
import { withSpan } from "./tracing";

/** The operations that reach the database. */
const OPERATIONS = new Set(["find", "findOne", "findById", "findByIds", "count", "insert", "insertMany", "updateMany", "updateById", "removeMany", "removeById", "findOneAndUpdate", "updateOne"]);

/** `adapter`, with a span around each database operation on `collection`. */
export function tracedStore<T extends object>(adapter: T, collection: string): T {
	return new Proxy(adapter, {
		get(target, property, receiver) {
			const value = Reflect.get(target, property, receiver);
			if (typeof value !== "function" || typeof property !== "string" || !OPERATIONS.has(property)) return value;
			return (...args: unknown[]) => withSpan(requestScope.getStore()?.ctx, `store.${property} ${collection}`, { collection }, () => value.apply(target, args));
		}
	});
}
