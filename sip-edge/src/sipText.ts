/** Text as a SIP quoted-string may hold it (RFC 3261 §25.1): no quotes, backslashes or controls, at most `max` characters. */
export function quotable(text: string, max: number): string {
  return text.replace(/["\\\p{Cc}]/gu, '').slice(0, max);
}
