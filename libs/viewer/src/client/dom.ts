type Child = Node | string | undefined;

/** Creates an element with a class, attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: { class?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.class !== undefined) element.className = options.class;
  for (const [name, value] of Object.entries(options.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) if (child !== undefined) element.append(child);
  return element;
}

/** Sets text only when it changed (avoids needless layout work at 2 Hz per tile). */
export function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}
