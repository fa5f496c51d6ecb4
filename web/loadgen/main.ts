/**
 * The load generator's live page (`/loadgen/` on the loadgen node): a rate control form, two live charts
 * (uPlot: throughput and latency percentiles, one point per second) and a table by journey step, refreshed
 * every second from `GET /loadgen/api/status` (lib/loadgen/http.ts).
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import type { LoadgenStatus } from "../../services/loadgen.service";
import { h } from "../src/dom";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>("control");
const message = $("message");

function ms(value: number | null | undefined): string {
	return value == null ? "–" : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
}

/** A live chart of the last 60 s (one point per second) into `element`, resized with it. */
function chart(element: HTMLElement, series: uPlot.Series[]): uPlot {
	const width = () => Math.max(280, element.clientWidth);
	const plot = new uPlot({ width: width(), height: 220, series: [{}, ...series], axes: [{}, { size: 50 }], scales: { x: { time: true, range: (_plot, _min, max) => (max == null ? [Date.now() / 1000 - 60, Date.now() / 1000] : [max - 60, max]) } }, legend: { live: false } }, [[], ...series.map(() => [])], element);
	new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(element);
	return plot;
}

const throughput = chart($("throughput-chart"), [
	{ label: "requests/s", stroke: "#2450c8", width: 2 },
	{ label: "errors/s", stroke: "#c0392b", width: 2 }
]);
const latency = chart($("latency-chart"), [
	{ label: "p50", stroke: "#17663a", width: 2 },
	{ label: "p95", stroke: "#d68910", width: 2 },
	{ label: "p99", stroke: "#c0392b", width: 2 }
]);

async function call(path: string, body?: object): Promise<LoadgenStatus> {
	const response = await fetch(`/loadgen/api/${path}`, body ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) } : {});
	const json = await response.json();
	if (!response.ok) throw new Error(`${json.message ?? response.statusText} (${response.status} ${json.type ?? ""})`.trim());
	return json as LoadgenStatus;
}

function draw(status: LoadgenStatus): void {
	$("target").textContent = `Target: ${status.target} · at most ${status.limits.maxRate} journeys/s, ${status.limits.maxUsers} users, ${status.limits.maxDurationSeconds} s`;
	const run = status.run;
	const running = status.state === "running";
	$("state").textContent = !run
		? "Idle: no run yet"
		: running
			? `Running: ${run.currentRate.toFixed(1)} of ${run.options.ratePerSecond} journeys/s, ${run.activeUsers} of ${run.options.users} users busy, ${Math.max(0, Math.round((run.endsAt - Date.now()) / 1000))} s left`
			: `${status.state === "stopping" ? "Stopping" : "Stopped"} (${run.stopReason === "duration" ? "duration reached" : "stopped"}) after ${Math.round(run.elapsedSeconds)} s`;
	(form.elements.namedItem("start") as HTMLButtonElement).disabled = status.state === "running" || status.state === "stopping";
	$<HTMLButtonElement>("adjust").disabled = !running;
	$<HTMLButtonElement>("stop").disabled = !running;
	for (const name of ["rate", "users", "durationSeconds"]) {
		const input = form.elements.namedItem(name) as HTMLInputElement;
		input.max = String(name === "rate" ? status.limits.maxRate : name === "users" ? status.limits.maxUsers : status.limits.maxDurationSeconds);
	}
	if (!run) return;
	const now = run.stats.totals.lastSecond;
	$("rps").textContent = `${now.rps.toFixed(1)} req/s`;
	$("p50").textContent = ms(now.p50);
	$("p95").textContent = ms(now.p95);
	$("p99").textContent = ms(now.p99);
	$("errors").textContent = `${run.stats.totals.total.errors} (${now.errors}/s)`;
	$("journeys").textContent = `${run.totals.completed} done, ${run.totals.dropped} dropped`;
	const points = run.series;
	const t = points.map(point => point.t);
	throughput.setData([t, points.map(point => point.rps), points.map(point => point.errorsPerSecond)]);
	latency.setData([t, points.map(point => point.p50), points.map(point => point.p95), points.map(point => point.p99)]);
	const last = points[points.length - 1];
	const peak = points.reduce((max, point) => Math.max(max, point.rps), 0);
	$("throughput-caption").textContent = last ? `now ${last.rps.toFixed(1)}, peak ${peak.toFixed(1)} over ${points.length} s` : "no data yet";
	$("latency-caption").textContent = last ? `now p50 ${ms(last.p50)}, p95 ${ms(last.p95)}, p99 ${ms(last.p99)}` : "no data yet";
	const rows = Object.entries(run.stats.steps).map(([step, stats]) => {
		const statuses = Object.entries(stats.total.errorStatuses).map(([code, count]) => `${count}× ${code === "0" ? "no answer" : code}`).join(", ");
		const figures = [stats.lastSecond.rps.toFixed(1), String(stats.total.count), ms(stats.total.p50), ms(stats.total.p95), ms(stats.total.p99), stats.total.errors ? `${stats.total.errors} (${statuses})` : "0"];
		return h("tr", {}, h("th", { scope: "row" }, step), ...figures.map(text => h("td", {}, text.replace(/ ms$/, ""))));
	});
	$("steps").querySelector("tbody")!.replaceChildren(...rows);
}

async function act(path: string, body?: object): Promise<void> {
	message.textContent = "";
	try {
		draw(await call(path, body));
	} catch (err) {
		message.textContent = (err as Error).message;
	}
}

function values(): Record<string, number> {
	return Object.fromEntries([...new FormData(form)].map(([name, value]) => [name, Number(value)]));
}

form.addEventListener("submit", event => {
	event.preventDefault();
	void act("start", values());
});
$("adjust").addEventListener("click", () => {
	const { rate, users } = values();
	void act("adjust", { rate, users });
});
$("stop").addEventListener("click", () => void act("stop", {}));

async function refresh(): Promise<void> {
	try {
		draw(await call("status"));
	} catch (err) {
		$("state").textContent = `The load generator does not answer: ${(err as Error).message}`;
	}
	setTimeout(() => void refresh(), 1000);
}
void refresh();
