/**
 * Once per `npm test`: fails the run with instructions when NATS or Redis is missing (never a silent skip),
 * and starts the Mongo-wire test server unless MONGO_URI names a MongoDB to use instead.
 */
import { startMongoWire, type MongoWireServer } from "../../scripts/mongo-wire";
import { buildDist } from "../cluster/support";
import { NATS_URL, REDIS_URL, reachable } from "./servers";

declare global {
	// eslint-disable-next-line no-var
	var shopMongoWire: MongoWireServer | undefined;
}

export default async function globalSetup(): Promise<void> {
	const missing: string[] = [];
	if (!(await reachable(NATS_URL))) {
		missing.push(`NATS is not reachable at ${NATS_URL}. Start it with JetStream: nats-server -a 127.0.0.1 -p 4222 -js -sd /tmp/nats (Debian: apt-get install nats-server).`);
	}
	if (!(await reachable(REDIS_URL))) {
		missing.push(`Redis is not reachable at ${REDIS_URL}. Start it: redis-server --daemonize yes --port 6379 (Debian: apt-get install redis-server).`);
	}
	if (missing.length > 0) throw new Error(`The test suite needs real servers:\n- ${missing.join("\n- ")}\n(.ci/run starts both.)`);
	// The cluster and process tests run the compiled project.
	buildDist();

	if (process.env.MONGO_URI) {
		process.env.SHOP_TEST_MONGO_URI = process.env.MONGO_URI;
	} else {
		globalThis.shopMongoWire = await startMongoWire();
		process.env.SHOP_TEST_MONGO_URI = globalThis.shopMongoWire.uri;
		process.env.SHOP_TEST_MONGO_THROWAWAY = "1";
	}
}
