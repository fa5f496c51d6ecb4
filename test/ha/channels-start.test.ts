/**
 * A node that starts while a NATS server dies (lib/channels.ts `ShopNatsAdapter`): on a 3-server cluster
 * (streams R3), a broker connects to JetStream and subscribes five channels; the server its channel adapter
 * is connected to is SIGKILLed at a given moment of that start, and started again 2 s later. JetStream's API
 * then answers nothing for a few seconds; the start must wait that out rather than fail (a failed start made
 * the node exit, and its consumer groups got nothing), and each channel must deliver afterwards.
 */
import { ServiceBroker } from "moleculer";
import type { NatsAdapter } from "@moleculer/channels";
import { startNatsCluster, type NatsCluster } from "../../scripts/ha";
import { deleteStreams, uniqueNamespace, waitFor } from "../../scripts/harness";
import { createChannelsMiddleware } from "../../lib/channels";
import type { ShopConfig } from "../../lib/config";

const CHANNELS = ["start.one", "start.two", "start.three", "start.four", "start.five"];

let nats: NatsCluster;
beforeAll(async () => {
	nats = await startNatsCluster(3);
});
afterAll(async () => {
	await nats?.stop();
});

/** Resolves once `reached` holds, checked at every turn of the event loop (the broker starts in this process); throws if `over` holds first. */
async function moment(reached: () => boolean, over: () => boolean, what: string): Promise<void> {
	const deadline = Date.now() + 10_000;
	while (!reached()) {
		if (over() || Date.now() > deadline) throw new Error(`The start ended before ${what}`);
		await new Promise(resolve => setImmediate(resolve));
	}
}

const MOMENTS: [string, (adapter: NatsAdapter) => boolean][] = [
	["its NATS connection is open (JetStream's manager asks the API next)", adapter => adapter.connection != null],
	["its first channel is subscribed (four to go)", adapter => adapter.subscriptions?.size >= 1]
];

it.each(MOMENTS)("starts, and every channel delivers, when the server its channels talk to dies once %s", async (what, reached) => {
	const namespace = uniqueNamespace("start");
	const received = new Set<string>();
	const config = { transporter: nats.url, natsStreamReplicas: 3 } as ShopConfig;
	const broker = new ServiceBroker({ namespace, nodeID: `${namespace}-node`, transporter: { type: "NATS", options: { servers: nats.url.split(",") } }, logLevel: "fatal", middlewares: [createChannelsMiddleware(config)] });
	broker.createService({
		name: "subscriber",
		channels: Object.fromEntries(CHANNELS.map(name => [name, { group: "subscriber", handler: async (payload: { channel: string }) => void received.add(payload.channel) }]))
	} as never);
	const adapter = () => (broker as unknown as { channelAdapter: NatsAdapter }).channelAdapter;
	let settled = false;
	let restarted: Promise<void> = Promise.resolve();
	try {
		const starting = broker.start().then(
			() => "started",
			(err: Error) => `start failed: ${err.message}`
		);
		void starting.then(() => (settled = true));
		await moment(() => reached(adapter()), () => settled, what);
		const port = Number(adapter().connection!.getServer().split(":").pop());
		const victim = nats.servers.find(server => server.port === port)!;
		await victim.kill();
		restarted = new Promise(resolve => setTimeout(resolve, 2000)).then(() => victim.start());
		expect(await starting).toBe("started");
		await restarted;
		const send = broker as unknown as { sendToChannel(name: string, payload: object): Promise<void> };
		for (const channel of CHANNELS) await send.sendToChannel(channel, { channel });
		await waitFor(() => received.size === CHANNELS.length, `a message on each of ${CHANNELS.join(", ")}`, 20_000);
		expect([...received].sort()).toEqual([...CHANNELS].sort());
	} finally {
		await restarted.catch(() => undefined);
		await broker.stop().catch(() => undefined);
		await deleteStreams(namespace, nats.url).catch(() => undefined);
	}
});
