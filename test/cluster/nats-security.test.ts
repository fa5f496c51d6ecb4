/**
 * A NATS server that requires a user and password and TLS, as a production NATS may: with TRANSPORTER's
 * credentials and NATS_TLS_CA, both of a node's NATS connections get in, the broker's (actions between
 * nodes) and the durable events' own (lib/channels.ts), and an event published on one node reaches a
 * consumer on another; a wrong password or CA stops a node at start with one line naming the setting
 * (lib/preflight.ts). The certificates are made for the test with openssl.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { NATS_URL, startNats, uniqueNamespace, waitFor, type ServerProcess } from "./support";
import { createBrokerOptions } from "../../lib/broker-options";
import { loadConfig } from "../../lib/config";
import { CHANNELS, sendToChannel } from "../../lib/channels";
import { checkDependencies } from "../../lib/preflight";

/**
 * A CA, and a server and a client certificate signed by it, in `dir`: ca.pem, server.pem, server.key,
 * client.pem, client.key. The server certificate names
 * localhost as well as 127.0.0.1: nats.js upgrades its socket to TLS without a host name for an IP address,
 * and Node then checks the certificate against "localhost".
 */
function makeCertificates(dir: string): void {
	const openssl = (...args: string[]) => {
		try {
			execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
		} catch (err) {
			throw new Error(`openssl ${args[0]} failed (install openssl from Debian's packages): ${(err as Error).message}`);
		}
	};
	const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
	openssl("req", "-x509", ...key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=shop test CA");
	openssl("req", ...key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
	fs.writeFileSync(path.join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
	openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.cnf");
	openssl("req", ...key, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=shop node");
	openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.pem", "-days", "1");
}

describe("a NATS server that requires credentials and TLS", () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shop-nats-tls-"));
	const namespace = uniqueNamespace("nats-security");
	const brokers: ServiceBroker[] = [];
	let nats: ServerProcess;

	/** A broker with the production options for TRANSPORTER `transporter` and NATS_TLS_CA, not started. */
	const broker = (nodeID: string, transporter: string) => {
		const config = loadConfig({ ...process.env, HEALTH_PORT: "0", METRICS_PORT: "0", NAMESPACE: namespace, TRANSPORTER: transporter, CACHER: "Memory", NATS_TLS_CA: path.join(dir, "ca.pem") });
		const created = new ServiceBroker({ ...createBrokerOptions(config, nodeID), logger: false } as never);
		brokers.push(created);
		return created;
	};

	beforeAll(async () => {
		makeCertificates(dir);
		nats = await startNats(undefined, ["--user", "shop", "--pass", "s3cret-pass", "--tls", "--tlscert", path.join(dir, "server.pem"), "--tlskey", path.join(dir, "server.key")]);
	});
	afterAll(async () => {
		await Promise.all(brokers.map(b => b.stop().catch(() => undefined)));
		await nats?.kill();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it("connects both of a node's connections, and delivers calls and durable events between nodes", async () => {
		const url = `nats://shop:s3cret-pass@127.0.0.1:${nats.port}`;
		const received: unknown[] = [];
		const consumer = broker(`${namespace}-consumer`, url);
		consumer.createService({
			name: "probe",
			actions: { ping: () => "pong" },
			channels: { [CHANNELS.ORDER_PAID]: { handler: (payload: unknown) => void received.push(payload) } }
		} as never);
		await consumer.start();

		const publisher = broker(`${namespace}-publisher`, url);
		await publisher.start();
		await publisher.waitForServices(["probe"], 10_000);
		expect(await publisher.call("probe.ping")).toBe("pong");

		const payload = { orderId: "order-over-tls" } as never;
		await sendToChannel(publisher, CHANNELS.ORDER_PAID, payload);
		await waitFor(() => received.length > 0, "the event to reach the consumer node", 10_000);
		expect(received).toEqual([payload]);
	});

	it("stops a node at start, naming the setting, when its password or its CA is wrong", async () => {
		const settings = (env: NodeJS.ProcessEnv) => loadConfig({ START_TIMEOUT: "5", TRANSPORTER: `nats://shop:s3cret-pass@127.0.0.1:${nats.port}`, NATS_TLS_CA: path.join(dir, "ca.pem"), ...env });
		const check = (env: NodeJS.ProcessEnv) => checkDependencies(settings(env), { transporter: true, cacher: false, mongo: false });
		const address = `127.0.0.1:${nats.port}`;
		await expect(check({})).resolves.toBeUndefined();
		await expect(check({ TRANSPORTER: `nats://shop:wrong@${address}` })).rejects.toThrow(
			`TRANSPORTER: the NATS server at ${address} refused the user and password in TRANSPORTER (Authorization Violation); set the right ones (nats://user:password@host:4222), or set TRANSPORTER.`
		);
		await expect(check({ NATS_TLS_CA: "" })).rejects.toThrow(
			`NATS_TLS_CA: TLS with the NATS server at ${address} failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate); set NATS_TLS_CA (and NATS_TLS_CERT, NATS_TLS_KEY) to the files its certificate needs.`
		);
		await expect(check({ NATS_TLS_CA: path.join(dir, "missing.pem") })).rejects.toThrow(/^NATS_TLS_CA: TLS with the NATS server at .* failed \(TLS: .*missing\.pem doesn't exist\)/);

		// A server without TLS, given TLS files: one that asks for nothing (the shared test server), then one that
		// asks for a password only.
		await expect(check({ TRANSPORTER: NATS_URL })).rejects.toThrow(
			`NATS_TLS_CA: the NATS server at ${new URL(NATS_URL).host} offers no TLS, but NATS_TLS_* are set; unset them, or start the server with TLS.`
		);
		const plain = await startNats(undefined, ["--user", "shop", "--pass", "s3cret-pass"]);
		try {
			const plainUrl = `nats://shop:s3cret-pass@127.0.0.1:${plain.port}`;
			await expect(check({ TRANSPORTER: plainUrl, NATS_TLS_CA: "" })).resolves.toBeUndefined();
			await expect(check({ TRANSPORTER: plainUrl })).rejects.toThrow(
				`NATS_TLS_CA: the NATS server at 127.0.0.1:${plain.port} offers no TLS, but NATS_TLS_* are set; unset them, or start the server with TLS.`
			);
		} finally {
			await plain.kill();
		}

		// A server that asks for a client certificate.
		const verifying = await startNats(undefined, ["--tlsverify", "--tlscacert", path.join(dir, "ca.pem"), "--tlscert", path.join(dir, "server.pem"), "--tlskey", path.join(dir, "server.key")]);
		try {
			const verifyingUrl = `nats://127.0.0.1:${verifying.port}`;
			await expect(check({ TRANSPORTER: verifyingUrl })).rejects.toThrow(
				`NATS_TLS_CERT: the NATS server at 127.0.0.1:${verifying.port} asks for a client certificate and refused the connection; set NATS_TLS_CERT and NATS_TLS_KEY to a certificate its CA signed.`
			);
			await expect(check({ TRANSPORTER: verifyingUrl, NATS_TLS_CERT: path.join(dir, "client.pem"), NATS_TLS_KEY: path.join(dir, "client.key") })).resolves.toBeUndefined();
		} finally {
			await verifying.kill();
		}
	});
});
