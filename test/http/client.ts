/** A tiny JSON client for the gateway under test (global fetch). */
export interface Reply {
	status: number;
	body: any;
	headers: Headers;
}

export function client(base: string) {
	return async function request(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Reply> {
		const headers: Record<string, string> = { ...options.headers };
		if (options.token) headers.Authorization = `Bearer ${options.token}`;
		if (options.body !== undefined) headers["Content-Type"] = "application/json";
		const res = await fetch(`${base}${path}`, {
			method,
			headers,
			body: options.body === undefined ? undefined : JSON.stringify(options.body),
			signal: AbortSignal.timeout(options.timeoutMs ?? 30_000)
		});
		const text = await res.text();
		let body: unknown = text;
		try {
			body = JSON.parse(text);
		} catch {
			// not JSON: keep the text
		}
		return { status: res.status, body, headers: res.headers };
	};
}
