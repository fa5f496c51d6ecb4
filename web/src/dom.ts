/**
 * A tiny DOM builder: `h("p", { class: "x" }, "text", child)` creates elements with text set through text
 * nodes only (never innerHTML), so product names and server messages cannot inject markup.
 */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** An element `tag` with `attrs` (`on<event>` functions become listeners; false/null attributes are left out). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
	const element = document.createElement(tag);
	for (const [name, value] of Object.entries(attrs)) {
		if (typeof value === "function") element.addEventListener(name.slice(2).toLowerCase(), value);
		else if (value === true) element.setAttribute(name, "");
		else if (value !== false && value != null) element.setAttribute(name, String(value));
	}
	element.append(...nodes(children));
	return element;
}

/** `children` as DOM children: numbers as text, null, undefined and false left out. */
function nodes(children: Child[]): (Node | string)[] {
	return children.filter((child): child is Node | string | number => child !== null && child !== undefined && child !== false).map(child => (typeof child === "number" ? String(child) : child));
}

/** Replaces the children of `parent` with `children`. */
export function mount(parent: Element, ...children: Child[]): void {
	parent.replaceChildren(...nodes(children));
}

/** A labelled form field: `<label>` wrapping the caption and `control`. */
export function field(caption: string, control: HTMLElement): HTMLLabelElement {
	return h("label", { class: "field" }, h("span", {}, caption), control);
}

/** The values of a form's named controls, as strings. */
export function formValues(form: HTMLFormElement): Record<string, string> {
	const values: Record<string, string> = {};
	for (const [name, value] of new FormData(form)) if (typeof value === "string") values[name] = value;
	return values;
}
