// Turns what a person types into an FTS5 query that cannot be a syntax error: the words are
// quoted (so AND, NEAR, quotes or stars in a prompt are just text), all must match, and the last
// one matches as a prefix so results follow the typing.
export function ftsQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}_]+/gu);
  if (!words || words.length === 0) return null;
  return words.map((word, i) => `"${word}"${i === words.length - 1 ? '*' : ''}`).join(' ');
}
