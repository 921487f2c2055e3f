/** Quoting for POSIX shells. */

/** `text` as one shell word: single quotes keep everything literal but a quote, which closes, adds an escaped quote, and reopens. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
