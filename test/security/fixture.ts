/**
 * A shop behind its gateway for the security tests: customers A and B, an admin, one paid order of A's,
 * and a snapshot of every store so a test can show that hostile input changed nothing.
 */
import type { ServiceBroker } from "moleculer";
import { gatewayUrl, startBroker } from "../helpers";
import { client } from "../http/client";
import { createApiService } from "../../services/api.service";
import { loadConfig, type ShopConfig } from "../../lib/config";

export interface SecurityShop {
	broker: ServiceBroker;
	http: ReturnType<typeof client>;
	base: string;
	tokens: { a: string; b: string; admin: string };
	ids: { productId: string; orderOfA: string; customerA: string };
	/** Counts and sums of every store: equal snapshots mean nothing changed. */
	snapshot(): Promise<Record<string, unknown>>;
}

/** Starts the whole shop with a gateway built from the environment's config plus `overrides`. */
export async function startSecurityShop(overrides: Partial<ShopConfig> = {}): Promise<SecurityShop> {
	process.env.ADMIN_EMAIL = "admin@security.test";
	process.env.ADMIN_PASSWORD = "admin-password-123";
	const broker = await startBroker(["customers", "products", "carts", "orders", "payments", "notifications"], { seed: true });
	delete process.env.ADMIN_EMAIL;
	delete process.env.ADMIN_PASSWORD;
	broker.createService(createApiService({ ...loadConfig(), ...overrides }));
	await broker.waitForServices(["api"]);
	const base = gatewayUrl(broker);
	const http = client(base);
	const register = async (email: string) => (await http("POST", "/auth/register", { body: { email, password: "password-123", name: email } })).body;
	const a = await register("a@security.test");
	const b = await register("b@security.test");
	const admin = (await http("POST", "/auth/login", { body: { email: "admin@security.test", password: "admin-password-123" } })).body.token;
	const product = (await http("GET", "/products?pageSize=1&sort=-price")).body.rows[0];
	await http("POST", "/cart/items", { token: a.token, body: { productId: product.id, quantity: 1 } });
	const order = (await http("POST", "/orders", { token: a.token, body: { paymentToken: "tok_visa" } })).body;
	await http("POST", "/cart/items", { token: a.token, body: { productId: product.id, quantity: 2 } });

	const store = (service: string) => (broker.getLocalService(service) as any).adapter;
	const snapshot = async () => {
		const products = await store("products").find({});
		const carts = await store("carts").find({});
		return {
			products: products.length,
			stock: products.map((p: any) => `${p.stock}/${p.onHand}/${p.reserved}/${p.sold}`).sort().join("|"),
			movements: (await (broker.getLocalService("products") as any).stores.movements.find({})).map((m: any) => `${m._id}:${m.state}`).sort().join("|"),
			claims: carts.filter((c: any) => c.checkout).length,
			prices: products.reduce((n: number, p: any) => n + p.price, 0),
			names: products.map((p: any) => p.name).sort().join("|"),
			cartLines: carts.map((c: any) => c.items.map((i: any) => `${i.productId}:${i.quantity}`).join(",")).sort().join("|"),
			orders: (await store("orders").find({})).map((o: any) => `${o._id}:${o.status}`).sort().join("|"),
			customers: (await store("customers").find({})).map((c: any) => `${c.email}:${c.name}:${c.role}`).sort().join("|"),
			payments: (await store("payments").find({})).map((p: any) => `${p.orderId}:${p.status}`).sort().join("|")
		};
	};
	return {
		broker,
		http,
		base,
		tokens: { a: a.token, b: b.token, admin },
		ids: { productId: product.id, orderOfA: order.id, customerA: a.customer.id },
		snapshot
	};
}
