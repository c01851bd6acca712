// Text that came from containers (label keys and values) printed where a terminal, a log viewer or a
// browser will show it: control characters (ESC sequences can clear a screen or retitle a window) and
// bidirectional overrides become visible escapes instead of acting.

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** "a\u001b[2Jb" -> "a\\u001b[2Jb": same text, nothing a terminal acts on. */
export function printable(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
