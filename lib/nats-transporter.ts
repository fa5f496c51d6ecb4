/**
 * The transporter every node uses with a `nats://` TRANSPORTER: Moleculer's NATS transporter, except that
 * the packets a node sends during one turn of the event loop reach the NATS server in one socket write.
 *
 * Why: the `nats` client (2.x) writes what was published once the current microtasks have run, so a node
 * answering requests one by one made one write per packet, and on loopback each write also runs the
 * kernel's delivery to the server. On the NeDB cluster's checkout the nodes publish 17 NATS messages per
 * checkout (both connections: this one and the durable events'); the carts node made 4.0 socket writes per
 * checkout for its 4 and the orders node 4.6 for its 7, and the writes were 15–25 % of the busy time of the
 * products, carts and orders nodes (`--cpu-prof`, 2026-12-07). With the transporter's packets held to the
 * end of the turn (`setImmediate`: after every I/O callback of the turn), they made 1.2 and 0.4 writes per
 * checkout, and the CPU per checkout of all processes together fell by 10–26 % (BENCHMARKS.md, "Each
 * turn's NATS packets in one write"). The original node `nats` client flushed on `setImmediate` as well
 * (nats-io/nats.deno#566). A packet waits at most for the rest of its turn.
 */
import { Transporters } from "moleculer";
import type { ErrorCode } from "nats";
import type { ShopConfig } from "./config";

/**
 * The `nats` client's own error for `code`. The client is loaded here, on first use, as Moleculer's transporter
 * loads it when it connects: a node without a transporter never loads it (54 modules).
 */
function natsError(code: `${ErrorCode.ConnectionClosed}` | `${ErrorCode.MaxPayloadExceeded}`): Error {
	const { NatsError } = require("nats") as typeof import("nats");
	return NatsError.errorForCode(code as ErrorCode);
}

/**
 * Moleculer's NATS transporter publishing each turn's packets together, in the order they were sent.
 * `send` refuses at once what the NATS client would refuse, throwing as the stock `send` does (its
 * `publish` throws): NatsError CONNECTION_CLOSED when the connection is closed, MAX_PAYLOAD_EXCEEDED for a
 * packet over the server's `max_payload` (transit then sends the caller that error instead of leaving it to
 * its request timeout). A packet whose connection closes later in its turn is dropped with a warning.
 * `disconnect` publishes what waits first.
 */
export class TurnBatchedNatsTransporter extends Transporters.NATS {
	/** Topics and packets waiting for the end of the turn, interleaved: topic, data, topic, data… */
	private outgoing: (string | Buffer)[] = [];

	/**
	 * Queues `data` for `topic` until the end of this turn; resolves at once, as the stock `send` does.
	 * Without a client (not connected yet, or disconnected) the packet is dropped, as there.
	 * @throws NatsError CONNECTION_CLOSED, MAX_PAYLOAD_EXCEEDED (above).
	 */
	override send(topic: string, data: Buffer): Promise<void> {
		const client = this.client;
		if (!client) return Promise.resolve();
		if (client.isClosed()) throw natsError("CONNECTION_CLOSED");
		const maxPayload: number | undefined = client.info?.max_payload;
		if (maxPayload !== undefined && data.length > maxPayload) throw natsError("MAX_PAYLOAD_EXCEEDED");
		if (this.outgoing.length === 0) setImmediate(this.publishOutgoing);
		this.outgoing.push(topic, data);
		return Promise.resolve();
	}

	/** Publishes every waiting packet, in order; the client writes them together once this returns. */
	readonly publishOutgoing = (): void => {
		const batch = this.outgoing;
		this.outgoing = [];
		for (let i = 0; i < batch.length; i += 2) {
			try {
				this.client.publish(batch[i] as string, batch[i + 1] as Buffer);
			} catch (err) {
				this.logger?.warn(`A packet to ${String(batch[i])} was dropped: the NATS connection closed before the end of its turn.`, err);
			}
		}
	};

	/** Publishes what waits, then disconnects as the stock transporter does (flush, close). */
	override disconnect(): Promise<void> {
		this.publishOutgoing();
		return super.disconnect();
	}
}

/**
 * The transporter option for TRANSPORTER `url` with the NATS TLS files `tls`: a TurnBatchedNatsTransporter
 * for `nats://` URLs; anything else is left to Moleculer to resolve as before (a URL string, or the NATS
 * options object when TLS files are set; Moleculer refuses an unknown scheme at start).
 */
export function transporterFor(url: string | null, tls: ShopConfig["natsTls"]): TurnBatchedNatsTransporter | { type: string; options: object } | string | undefined {
	if (!url) return undefined;
	if (url.startsWith("nats://")) return new TurnBatchedNatsTransporter(tls ? { url, tls } : url);
	return tls ? { type: "NATS", options: { url, tls } } : url;
}
