/**
 * The shop's NATS transporter (lib/nats-transporter.ts) between two brokers over the real NATS server: a
 * burst of concurrent calls, whose requests and answers travel in batches, each gets its own answer; and an
 * answer over the server's max_payload fails the call at once with the client's error, as with Moleculer's
 * own NATS transporter, instead of leaving the caller to its request timeout.
 */
import { ServiceBroker } from "moleculer";
import { NATS_URL, uniqueNamespace } from "./support";
import { TurnBatchedNatsTransporter } from "../../lib/nats-transporter";

const REQUEST_TIMEOUT_MS = 20_000;

describe("TurnBatchedNatsTransporter over NATS", () => {
	const namespace = uniqueNamespace("nats-transporter");
	const broker = (nodeID: string) =>
		new ServiceBroker({ namespace, nodeID, logger: false, transporter: new TurnBatchedNatsTransporter(NATS_URL), requestTimeout: REQUEST_TIMEOUT_MS });
	const caller = broker("caller");
	const echo = broker("echo");

	beforeAll(async () => {
		echo.createService({
			name: "echo",
			actions: {
				say: (ctx: { params: { n: number } }) => ({ n: ctx.params.n, doubled: ctx.params.n * 2 }),
				huge: () => "x".repeat(2 * 1024 * 1024)
			}
		});
		await Promise.all([echo.start(), caller.start()]);
		await caller.waitForServices(["echo"], 10_000);
	});
	afterAll(() => Promise.all([caller.stop(), echo.stop()]));

	it("answers each call of a concurrent burst with its own answer", async () => {
		const answers = await Promise.all(Array.from({ length: 300 }, (_, n) => caller.call<{ n: number; doubled: number }, { n: number }>("echo.say", { n })));
		expect(answers.map(a => a.n)).toEqual(Array.from({ length: 300 }, (_, n) => n));
		expect(answers.every(a => a.doubled === a.n * 2)).toBe(true);
	});

	it("fails a call whose answer is over the server's max_payload at once, with the client's error", async () => {
		const started = Date.now();
		const err = await caller.call("echo.huge").then(() => null, (e: Error & { code?: unknown }) => e);
		expect(err).not.toBeNull();
		expect(err!.name).not.toBe("RequestTimeoutError");
		expect(`${err!.message} ${String(err!.code)}`).toMatch(/MAX_PAYLOAD_EXCEEDED/);
		expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS / 2);
	});
});
