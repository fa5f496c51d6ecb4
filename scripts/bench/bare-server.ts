/**
 * The limit for Node on this machine, for `npm run bench`: `node:http` answering one product as JSON, as
 * small a server as Node allows. Env: PORT. Prints `READY` once listening.
 */
import http from "node:http";

const body = JSON.stringify({
	id: "0194f3b2-0000-7000-8000-000000000001",
	sku: "DEMO-001",
	name: "Highland Espresso Beans 1 kg",
	description: "A dark, chocolatey espresso blend roasted for milk drinks.",
	category: "Coffee",
	brand: "Ridgeline Roasters",
	price: 2450,
	currency: "USD",
	stock: 40,
	onHand: 40,
	reserved: 0,
	sold: 0,
	createdAt: "2026-11-22T00:00:00.000Z",
	updatedAt: "2026-11-22T00:00:00.000Z"
});

http
	.createServer((_req, res) => {
		res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(body) });
		res.end(body);
	})
	.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => process.stdout.write("READY\n"));
