/**
 * A node that starts while a NATS server dies (lib/channels.ts `ShopNatsAdapter`): on a 3-server cluster
 * (streams R3), a broker connects to JetStream and subscribes five channels; 100–300 ms into its start the
 * server it talks to is SIGKILLed, and started again 2 s later. JetStream's API then answers nothing for a
 * few seconds; the start must wait that out rather than fail (a failed start made the node exit, and its
 * consumer groups got nothing), and each channel must deliver afterwards. Before the retries, 6 of 16 such
 * rounds failed (measured with a throwaway copy of this scenario, 2026-12-07).
 */
import { ServiceBroker } from "moleculer";
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

it.each([100, 200, 300])("starts, and every channel delivers, when the NATS server it talks to dies %i ms into its start", async killAfterMs => {
	const namespace = uniqueNamespace("start");
	const received = new Set<string>();
	const config = { transporter: nats.url, natsStreamReplicas: 3 } as ShopConfig;
	const broker = new ServiceBroker({ namespace, nodeID: `${namespace}-node`, transporter: { type: "NATS", options: { servers: nats.url.split(",") } }, logLevel: "fatal", middlewares: [createChannelsMiddleware(config)] });
	broker.createService({
		name: "subscriber",
		channels: Object.fromEntries(CHANNELS.map(name => [name, { group: "subscriber", handler: async (payload: { channel: string }) => void received.add(payload.channel) }]))
	} as never);
	try {
		const starting = broker.start().then(
			() => "started",
			(err: Error) => `start failed: ${err.message}`
		);
		await new Promise(resolve => setTimeout(resolve, killAfterMs));
		const connections = await nats.connections();
		const victim = nats.servers[connections.indexOf(Math.max(...connections))];
		await victim.kill();
		const restarted = new Promise(resolve => setTimeout(resolve, 2000)).then(() => victim.start());
		expect(await starting).toBe("started");
		await restarted;
		const send = broker as unknown as { sendToChannel(name: string, payload: object): Promise<void> };
		for (const channel of CHANNELS) await send.sendToChannel(channel, { channel });
		await waitFor(() => received.size === CHANNELS.length, `a message on each of ${CHANNELS.join(", ")}`, 20_000);
		expect([...received].sort()).toEqual([...CHANNELS].sort());
	} finally {
		await broker.stop().catch(() => undefined);
		await deleteStreams(namespace, nats.url).catch(() => undefined);
	}
});
