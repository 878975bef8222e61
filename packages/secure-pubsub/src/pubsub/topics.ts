import { ProtocolError } from "@zg/core/pure";

/** Longest topic or pattern, in UTF-8 bytes. */
export const MAX_TOPIC_BYTES = 255;

/**
 * A topic pattern: `"a/b"` matches exactly that topic; `"a/*"` matches every
 * topic starting with `"a/"` (a prefix); `"*"` matches every topic.
 */
export interface TopicPattern {
  /** The pattern text. */
  text: string;
  /** True for a prefix pattern (ends in `*`). */
  prefix: boolean;
  /** The exact topic, or the prefix without `*`. */
  stem: string;
}

/**
 * Parses a topic pattern: 1–255 bytes of printable text, `*` allowed only as
 * the last character.
 *
 * @throws {@link ProtocolError} otherwise.
 */
export function parsePattern(text: string): TopicPattern {
  if (typeof text !== "string" || text.length === 0 || Buffer.byteLength(text) > MAX_TOPIC_BYTES) {
    throw new ProtocolError(`topic pattern must be 1-${MAX_TOPIC_BYTES} bytes`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text))
    throw new ProtocolError("topic pattern has control characters");
  const star = text.indexOf("*");
  if (star !== -1 && star !== text.length - 1)
    throw new ProtocolError("`*` is allowed only at the end");
  return star === -1
    ? { text, prefix: false, stem: text }
    : { text, prefix: true, stem: text.slice(0, -1) };
}

/** Parses a topic a message is published on (a pattern without `*`). @throws {@link ProtocolError} */
export function parseTopic(text: string): string {
  const p = parsePattern(text);
  if (p.prefix) throw new ProtocolError("a published topic cannot contain `*`");
  return p.stem;
}

/** True when `pattern` matches `topic`. */
export function matches(pattern: TopicPattern, topic: string): boolean {
  return pattern.prefix ? topic.startsWith(pattern.stem) : topic === pattern.stem;
}

/** True when every topic `inner` matches is also matched by `outer` (an entitlement covers a subscription). */
export function covers(outer: TopicPattern, inner: TopicPattern): boolean {
  if (!outer.prefix) return !inner.prefix && inner.stem === outer.stem;
  return inner.stem.startsWith(outer.stem);
}
