/**
 * A text field, list or editable element has the key, so a shortcut must not
 * take it. Tested by tag name, not instanceof: the detached dock's elements
 * belong to its window's own HTMLElement.
 */
export function typing(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return typeof el?.tagName === 'string' && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}
