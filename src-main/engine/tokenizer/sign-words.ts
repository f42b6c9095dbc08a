// Sign text as the nano model was trained to read it. Its captions always write a sign's word in
// capitals inside double quotes (a sign that says "OPEN"), and its tokenizer spells capitals letter by
// letter; a prompt typed as `a sign that says OPEN` gives the AR a phrasing it never saw, and the sign
// comes out as noise. Bundles that declare `tokenizer.quote_sign_words` get bare capital words quoted, and
// a quoted word typed in lower or mixed case (`"open"`) written in capitals, the only letters it has learned.
// The same rule is modeling/prompting.py's quote_sign_words; tests/cases/sign-word-quoting.json
// holds the cases both must pass.

/** A letter, digit, apostrophe or double quote next to a capital run means it is not a bare word. */
const BARE_CAPITALS = /(?<![\p{L}\p{N}'"])[A-Z]{2,}(?: [A-Z]{2,})*(?![\p{L}\p{N}'"])/gu;
const SINGLE_QUOTED = /(?<![\p{L}\p{N}])'([A-Z]{2,}(?: [A-Z]{2,})*)'(?![\p{L}\p{N}])/gu;
/** What a quoted sign may hold to be written in capitals: words of ASCII letters, one space apart. */
const LETTER_WORDS = /^[A-Za-z]{2,}(?: [A-Za-z]{2,})*$/;

/**
 * The prompt with curly double quotes made straight, bare (or single-quoted) capital words double-quoted, and
 * double-quoted words of letters in capitals.
 */
export function quoteSignWords(prompt: string): string {
  const pieces = prompt.replace(/[\u201c\u201d\u201e]/g, '"').split('"');
  // Odd pieces are inside double quotes; the last one after an unmatched quote is left as typed.
  return pieces
    .map((piece, i) => {
      if (i % 2 === 0) return piece.replace(SINGLE_QUOTED, '"$1"').replace(BARE_CAPITALS, '"$&"');
      return i < pieces.length - 1 && LETTER_WORDS.test(piece) ? piece.toUpperCase() : piece;
    })
    .join('"');
}
