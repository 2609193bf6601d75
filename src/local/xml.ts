/**
 * The little XML the local AWS services speak: documents written from a tree of elements (S3's REST answers, the
 * Query protocol's of IAM and STS), and the request bodies S3 accepts (CreateBucketConfiguration,
 * ObjectLockConfiguration, Delete) read into one. The reader takes elements, attributes, text, CDATA, comments, the
 * five predefined entities and character references, and refuses a DOCTYPE (so no entity of a request's own is
 * ever expanded) and anything not well formed.
 */

export interface XmlElement {
  /** The local name (a namespace prefix dropped). */
  name: string;
  children: XmlElement[];
  /** The element's own text, its children's not included. */
  text: string;
}

/** A child element: a name, then either text or children (undefined members are left out). */
export type XmlNode = [name: string, content: string | number | boolean | XmlNode[] | undefined];

/**
 * Text as XML character data. A carriage return and the C0 controls XML 1.0 cannot carry are written as
 * character references (a strict XML 1.0 parser still refuses the controls: list such keys with
 * encoding-type=url).
 */
export function escapeXml(value: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters XML 1.0 cannot carry are what it looks for
  return value.replace(/[&<>"'\r]|[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.codePointAt(0)!.toString(16).toUpperCase()};`;
    }
  });
}

function writeNodes(nodes: XmlNode[]): string {
  return nodes
    .filter(([, content]) => content !== undefined)
    .map(([name, content]) => `<${name}>${Array.isArray(content) ? writeNodes(content) : escapeXml(String(content))}</${name}>`)
    .join('');
}

/** A whole response document: the declaration, then `root`, in `namespace` if given (S3's errors have none). */
export function xmlDocument(root: string, nodes: XmlNode[], namespace?: string): string {
  const open = namespace ? `<${root} xmlns="${namespace}">` : `<${root}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${open}${writeNodes(nodes)}</${root}>`;
}

export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

const NAME = /[A-Za-z_][\w.:-]*/y;
const ATTRIBUTE = /\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*')/y;
const SPACE = /\s*/y;
const END_TAG_CLOSE = /\s*>/y;
/** Request documents are a few levels deep; a deeper one is refused before it can exhaust the stack. */
const MAX_DEPTH = 32;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeText(text: string): string {
  return text.replace(/&([^;&]*);?/g, (match, body: string) => {
    if (!match.endsWith(';')) throw new XmlSyntaxError('an unterminated entity reference');
    if (Object.hasOwn(ENTITIES, body)) return ENTITIES[body]!;
    const m = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(body);
    const code = m ? parseInt(m[1] ?? m[2]!, m[1] ? 16 : 10) : NaN;
    if (!Number.isInteger(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new XmlSyntaxError(`an unknown entity &${body};`);
    return String.fromCodePoint(code);
  });
}

/** The document's root element; XmlSyntaxError if it is not well formed. */
export function parseXml(text: string): XmlElement {
  const document = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let at = 0;
  /** What a sticky pattern matches at the cursor, if anything. */
  const match = (pattern: RegExp): string | undefined => {
    pattern.lastIndex = at;
    return pattern.exec(document)?.[0];
  };
  const skipPast = (terminator: string, what: string) => {
    const end = document.indexOf(terminator, at);
    if (end < 0) throw new XmlSyntaxError(`an unterminated ${what}`);
    at = end + terminator.length;
  };
  const skipMisc = () => {
    for (;;) {
      at += match(SPACE)?.length ?? 0;
      if (document.startsWith('<?', at)) skipPast('?>', 'processing instruction');
      else if (document.startsWith('<!--', at)) skipPast('-->', 'comment');
      else if (document.startsWith('<!', at)) throw new XmlSyntaxError('a DOCTYPE or other declaration (not accepted)');
      else return;
    }
  };

  const element = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) throw new XmlSyntaxError(`elements nested deeper than ${MAX_DEPTH}`);
    if (document[at] !== '<') throw new XmlSyntaxError(`expected an element at offset ${at}`);
    at += 1;
    const qname = match(NAME);
    if (!qname) throw new XmlSyntaxError(`expected an element name at offset ${at}`);
    at += qname.length;
    // attributes are only checked for form (xmlns is the one clients send)
    for (let attribute = match(ATTRIBUTE); attribute; attribute = match(ATTRIBUTE)) at += attribute.length;
    at += match(SPACE)?.length ?? 0;
    const node: XmlElement = { name: qname.includes(':') ? qname.slice(qname.indexOf(':') + 1) : qname, children: [], text: '' };
    if (document.startsWith('/>', at)) {
      at += 2;
      return node;
    }
    if (document[at] !== '>') throw new XmlSyntaxError(`a malformed start tag <${qname}>`);
    at += 1;
    for (;;) {
      const lt = document.indexOf('<', at);
      if (lt < 0) throw new XmlSyntaxError(`<${qname}> is not closed`);
      node.text += decodeText(document.slice(at, lt));
      at = lt;
      if (document.startsWith('</', at)) {
        at += 2;
        if (match(NAME) !== qname) throw new XmlSyntaxError(`<${qname}> is closed by another tag`);
        at += qname.length;
        const close = match(END_TAG_CLOSE);
        if (!close) throw new XmlSyntaxError(`a malformed end tag </${qname}>`);
        at += close.length;
        return node;
      }
      if (document.startsWith('<![CDATA[', at)) {
        const end = document.indexOf(']]>', at);
        if (end < 0) throw new XmlSyntaxError('an unterminated CDATA section');
        node.text += document.slice(at + 9, end);
        at = end + 3;
      } else if (document.startsWith('<!--', at)) skipPast('-->', 'comment');
      else if (document.startsWith('<?', at) || document.startsWith('<!', at)) throw new XmlSyntaxError('a declaration inside an element');
      else node.children.push(element(depth + 1));
    }
  };

  skipMisc();
  const root = element(1);
  skipMisc();
  if (at !== document.length) throw new XmlSyntaxError('content after the root element');
  return root;
}

/** The children of `element` named `name`. */
export const childrenNamed = (element: XmlElement, name: string): XmlElement[] => element.children.filter((c) => c.name === name);
