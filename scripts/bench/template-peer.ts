/**
 * The peer of `npm run bench`: what the official Moleculer project template gives out of the box, not a
 * shop service. A moleculer-web gateway with the template's route defaults (`mappingPolicy: "all"`,
 * auto-aliases, no auth) in front of a moleculer-db service on the NeDB memory adapter, whose `list` and
 * `get` are cached (moleculer-db's default cache keys), with the Memory cacher and Prometheus metrics on.
 *
 * `node template-peer.js <role>`: `all` (one process), `api` or `products` (two processes over
 * TRANSPORTER, with CACHER for the cacher). Env: PORT (gateway), METRICS_PORT, TRANSPORTER, CACHER,
 * NAMESPACE. Prints `READY` once started; SIGTERM stops it.
 */
import { ServiceBroker, type BrokerOptions, type ServiceSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import DbService from "moleculer-db";

const role = process.argv[2] ?? "all";
const broker = new ServiceBroker({
	nodeID: `peer-${role}-${process.pid}`,
	namespace: process.env.NAMESPACE ?? "",
	transporter: process.env.TRANSPORTER || undefined,
	cacher: process.env.CACHER || "Memory",
	logger: false,
	metrics: { enabled: true, reporter: [{ type: "Prometheus", options: { port: Number(process.env.METRICS_PORT ?? 0) } }] }
} as BrokerOptions);

const products: ServiceSchema = {
	name: "products",
	mixins: [DbService as unknown as ServiceSchema],
	adapter: new DbService.MemoryAdapter(),
	settings: { fields: ["_id", "sku", "name", "description", "category", "brand", "price", "currency", "stock", "createdAt", "updatedAt"] },
	async afterConnected(this: any) {
		const now = new Date().toISOString();
		await this.adapter.insertMany(
			Array.from({ length: 15 }, (_, i) => ({ sku: `PEER-${i}`, name: `Product ${i}`, description: "A product of the peer", category: "Gear", brand: "Peer", price: 1000 + i, currency: "USD", stock: 50, createdAt: now, updatedAt: now }))
		);
	}
} as ServiceSchema;

const api: ServiceSchema = {
	name: "api",
	mixins: [ApiGateway as unknown as ServiceSchema],
	settings: {
		port: Number(process.env.PORT ?? 3000),
		ip: "127.0.0.1",
		routes: [{ path: "/api", whitelist: ["**"], mergeParams: true, autoAliases: true, mappingPolicy: "all", bodyParsers: { json: { strict: false, limit: "1MB" } }, aliases: { "GET products/:id": "products.get", "GET products": "products.list" } }]
	}
} as ServiceSchema;

if (role === "all" || role === "products") broker.createService(products);
if (role === "all" || role === "api") broker.createService(api);
broker.start().then(
	async () => {
		if (role === "api") await broker.waitForServices(["products"]);
		process.stdout.write("READY\n");
	},
	err => {
		process.stderr.write(`${err}\n`);
		process.exit(1);
	}
);
process.once("SIGTERM", () => broker.stop().then(() => process.exit(0)));
