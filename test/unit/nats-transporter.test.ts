/**
 * TurnBatchedNatsTransporter (lib/nats-transporter.ts) with a stand-in for the `nats` client: packets sent in
 * one turn of the event loop reach the client together at the end of the turn, in order; what the client
 * would refuse is refused at once by `send`, as the stock transporter's `send` throws; a packet whose
 * connection closes later in its turn is dropped with a warning; `disconnect` publishes what waits before
 * the stock disconnect. Over a real NATS server: test/cluster/nats-transporter.test.ts, and every cluster test.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { TurnBatchedNatsTransporter } from "../../lib/nats-transporter";

/** A stand-in for the connected `nats` client: records each publish; `closed` makes it refuse as the client does. */
function fakeClient() {
	const log: string[] = [];
	const client = {
		log,
		closed: false,
		info: { max_payload: 16 },
		isClosed: () => client.closed,
		publish: jest.fn((topic: string, data: Buffer) => {
			if (client.closed) throw Object.assign(new Error("CONNECTION_CLOSED"), { code: "CONNECTION_CLOSED" });
			log.push(`${topic}:${data.toString()}`);
		}),
		flush: jest.fn(async () => log.push("flush")),
		close: jest.fn(async () => log.push("close"))
	};
	return client;
}

function connected() {
	const transporter = new TurnBatchedNatsTransporter("nats://127.0.0.1:4222");
	const client = fakeClient();
	const warn = jest.fn();
	transporter.client = client;
	transporter.logger = { warn } as unknown as TurnBatchedNatsTransporter["logger"];
	return { transporter, client, warn };
}

describe("TurnBatchedNatsTransporter", () => {
	it("hands every packet of a turn to the client at the end of that turn, in the order sent", async () => {
		const { transporter, client } = connected();
		await transporter.send("MOL.RES.a", Buffer.from("1"));
		await transporter.send("MOL.REQB.b", Buffer.from("2"));
		void transporter.send("MOL.EVENT.c", Buffer.from("3"));
		expect(client.publish).not.toHaveBeenCalled();

		await nextTurn();
		expect(client.log).toEqual(["MOL.RES.a:1", "MOL.REQB.b:2", "MOL.EVENT.c:3"]);

		// The next turn's packets form the next batch.
		void transporter.send("MOL.RES.d", Buffer.from("4"));
		expect(client.publish).toHaveBeenCalledTimes(3);
		await nextTurn();
		expect(client.log.at(-1)).toBe("MOL.RES.d:4");
	});

	it("publishes once per turn however many packets the turn sent", async () => {
		const { transporter, client } = connected();
		const turns = jest.spyOn(transporter, "publishOutgoing");
		for (let i = 0; i < 50; i++) void transporter.send(`MOL.RES.${i}`, Buffer.from("x"));
		await nextTurn();
		await nextTurn();
		expect(client.publish).toHaveBeenCalledTimes(50);
		expect(turns).toHaveBeenCalledTimes(1);
	});

	it("refuses at once, by throwing, a packet over the server's max_payload or on a closed connection", async () => {
		const { transporter, client } = connected();
		expect(() => transporter.send("MOL.RES.big", Buffer.alloc(17))).toThrow(expect.objectContaining({ code: "MAX_PAYLOAD_EXCEEDED" }));
		void transporter.send("MOL.RES.fits", Buffer.alloc(16, "a"));
		client.closed = true;
		expect(() => transporter.send("MOL.RES.late", Buffer.from("1"))).toThrow(expect.objectContaining({ code: "CONNECTION_CLOSED" }));
		client.closed = false;
		await nextTurn();
		expect(client.log).toEqual([`MOL.RES.fits:${"a".repeat(16)}`]);
	});

	it("drops, with a warning, a packet whose connection closed later in its turn, and publishes the rest", async () => {
		const { transporter, client, warn } = connected();
		void transporter.send("MOL.RES.a", Buffer.from("1"));
		client.closed = true;
		await nextTurn();
		expect(client.log).toEqual([]);
		expect(warn).toHaveBeenCalledWith(expect.stringContaining("MOL.RES.a"), expect.objectContaining({ code: "CONNECTION_CLOSED" }));

		client.closed = false;
		void transporter.send("MOL.RES.b", Buffer.from("2"));
		await nextTurn();
		expect(client.log).toEqual(["MOL.RES.b:2"]);
	});

	it("publishes what waits before it disconnects", async () => {
		const { transporter, client } = connected();
		void transporter.send("MOL.DISCONNECT", Buffer.from("bye"));
		await transporter.disconnect();
		expect(client.log).toEqual(["MOL.DISCONNECT:bye", "flush", "close"]);
		expect(transporter.client).toBeNull();
		await nextTurn();
		expect(client.publish).toHaveBeenCalledTimes(1);
	});

	it("leaves the nats client unloaded: a node without a transporter never loads it, a node with one at connect", () => {
		jest.isolateModules(() => {
			jest.doMock("nats", () => {
				throw new Error("the nats client was loaded");
			});
			const { createBrokerOptions } = require("../../lib/broker-options") as typeof import("../../lib/broker-options");
			const { loadConfig } = require("../../lib/config") as typeof import("../../lib/config");
			expect(createBrokerOptions(loadConfig({})).transporter).toBeUndefined();
			expect(createBrokerOptions(loadConfig({ TRANSPORTER: "nats://127.0.0.1:4222" })).transporter).toBeDefined();
		});
	});

	it("drops a packet sent with no client, as the stock transporter does", async () => {
		const transporter = new TurnBatchedNatsTransporter("nats://127.0.0.1:4222");
		await expect(transporter.send("MOL.RES.a", Buffer.from("1"))).resolves.toBeUndefined();
		const client = fakeClient();
		transporter.client = client;
		await nextTurn();
		expect(client.publish).not.toHaveBeenCalled();
	});
});
