/** Stops the Mongo-wire test server the global setup started, if any. */
export default async function globalTeardown(): Promise<void> {
	await globalThis.shopMongoWire?.stop();
}
