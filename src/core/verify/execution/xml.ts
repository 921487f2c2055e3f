/** A small, forgiving XML reader for test reports: elements, attributes, text, CDATA and entities. */

/** One element with its attributes, its child elements and its text (CDATA included). */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Parses `xml` into a tree under a synthetic `#document` root. Reports written by a process that was killed
 * mid-write are cut off; unclosed elements are closed at the end instead of failing, so what was written counts.
 */
export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      top.text += decodeEntities(xml.slice(i));
      break;
    }
    if (lt > i) top.text += decodeEntities(xml.slice(i, lt));
    i = readMarkup(xml, lt, stack);
  }
  return root;
}

/** Reads the markup starting at `lt`, updating the element stack; returns the index after it. */
function readMarkup(xml: string, lt: number, stack: XmlElement[]): number {
  const top = stack[stack.length - 1];
  if (xml.startsWith('<!--', lt)) return skipPast(xml, lt, '-->');
  if (xml.startsWith('<![CDATA[', lt)) {
    const end = xml.indexOf(']]>', lt);
    top.text += xml.slice(lt + 9, end < 0 ? undefined : end);
    return end < 0 ? xml.length : end + 3;
  }
  if (xml.startsWith('<?', lt)) return skipPast(xml, lt, '?>');
  if (xml.startsWith('<!', lt)) return skipPast(xml, lt, '>');
  const gt = tagEnd(xml, lt);
  const body = xml.slice(lt + 1, gt < 0 ? undefined : gt);
  if (body.startsWith('/')) {
    const name = body.slice(1).trim();
    const at = stack.map((e) => e.name).lastIndexOf(name);
    // A stray closing tag is ignored; one that closes an outer element also closes the unclosed inner ones.
    if (at > 0) stack.length = at;
  } else {
    const selfClosing = body.endsWith('/');
    const inner = selfClosing ? body.slice(0, -1) : body;
    const name = /^[^\s/>]+/.exec(inner)?.[0] ?? '';
    const attributes: Record<string, string> = {};
    for (const match of inner.slice(name.length).matchAll(ATTRIBUTE)) {
      attributes[match[1]] = decodeEntities(match[2] ?? match[3] ?? '');
    }
    const element: XmlElement = { name, attributes, children: [], text: '' };
    top.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  return gt < 0 ? xml.length : gt + 1;
}

/** The `>` that ends the tag at `lt`, skipping any inside quoted attribute values. */
function tagEnd(xml: string, lt: number): number {
  let quote: string | null = null;
  for (let j = lt + 1; j < xml.length; j++) {
    const ch = xml[j];
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '>') return j;
  }
  return -1;
}

function skipPast(xml: string, from: number, terminator: string): number {
  const end = xml.indexOf(terminator, from);
  return end < 0 ? xml.length : end + terminator.length;
}

/** Decodes the five named entities and numeric character references; unknown entities are kept as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return safeCodePoint(parseInt(entity.slice(2), 16), whole);
    if (entity.startsWith('#')) return safeCodePoint(parseInt(entity.slice(1), 10), whole);
    return NAMED_ENTITIES[entity] ?? whole;
  });
}

function safeCodePoint(code: number, fallback: string): string {
  return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback;
}

/** Every descendant of `element` (depth first) named `name`. */
export function descendants(element: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (e: XmlElement): void => {
    for (const child of e.children) {
      if (child.name === name) found.push(child);
      visit(child);
    }
  };
  visit(element);
  return found;
}
