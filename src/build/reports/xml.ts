import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ReportParseError } from './parsed-report.js';
import { stripBom } from './values.js';

export interface XmlElement {
  name: string;
  attributes: Record<string, string | undefined>;
  children: XmlElement[];
  /** The element's own text (CDATA included), trimmed. */
  text: string;
}

const xmlParser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Without it numeric references such as pytest's `&#10;` in messages stay undecoded.
  htmlEntities: true,
});

/** The root element of a report; `kind` names the expected format in the error. */
export function parseXml(text: string, kind: string): XmlElement {
  const xml = stripBom(text);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    const column = col === undefined ? '' : `, column ${col}`;
    throw new ReportParseError(`malformed XML at line ${line}${column}: ${msg}`);
  }
  const parsed: unknown = xmlParser.parse(xml);
  const root = toElements(parsed)[0];
  if (root === undefined) throw new ReportParseError(`not ${kind}: the document has no element`);
  return root;
}

/** Turns fast-xml-parser's ordered output into plain elements; declarations are dropped. */
function toElements(nodes: unknown): XmlElement[] {
  if (!Array.isArray(nodes)) return [];
  const elements: XmlElement[] = [];
  for (const node of nodes) {
    if (!isRecord(node)) continue;
    const name = Object.keys(node).find((key) => key !== ':@');
    if (name === undefined || name === '#text' || name.startsWith('?')) continue;
    const content: unknown = node[name];
    const attributes: Record<string, string> = {};
    const rawAttributes = node[':@'];
    if (isRecord(rawAttributes)) {
      for (const [key, value] of Object.entries(rawAttributes)) attributes[key] = String(value);
    }
    elements.push({ name, attributes, children: toElements(content), text: textOf(content) });
  }
  return elements;
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const node of content) {
    if (isRecord(node) && '#text' in node) text += String(node['#text']);
  }
  return text.trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

export function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}

export function descendantsNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) =>
    child.name === name ? [child] : descendantsNamed(child, name),
  );
}
