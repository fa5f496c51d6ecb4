/** Writing measured figures into the project's Markdown documents. */
import fs from "node:fs";

/**
 * Replaces what stands between `<!-- <name>:begin -->` and `<!-- <name>:end -->` in `file` with `text`.
 * @throws Error when the file lacks either marker.
 */
export function replaceBetweenMarkers(file: string, name: string, text: string): void {
	const doc = fs.readFileSync(file, "utf8");
	const begin = `<!-- ${name}:begin -->`;
	const end = `<!-- ${name}:end -->`;
	const from = doc.indexOf(begin);
	const to = doc.indexOf(end);
	if (from < 0 || to < from) throw new Error(`${file} has no ${begin} … ${end} markers`);
	fs.writeFileSync(file, `${doc.slice(0, from + begin.length)}\n${text}${doc.slice(to)}`);
}
