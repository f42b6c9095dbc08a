// Sign text as the nano model was trained to read it. Its captions always write a sign's word in
// capitals inside double quotes (a sign that says "OPEN"), and its tokenizer spells capitals letter by
// letter; a prompt typed as `a sign that says OPEN` gives the AR a phrasing it never saw, and the sign
// comes out as noise. Bundles that declare `tokenizer.quote_sign_words` get bare capital words quoted.
// The same rule is modeling/prompting.py's quote_sign_words; tests/cases/sign-word-quoting.json
// holds the cases both must pass.

/** A letter, digit, apostrophe or double quote next to a capital run means it is not a bare word. */
const BARE_CAPITALS = /(?<![\p{L}\p{N}'"])[A-Z]{2,}(?: [A-Z]{2,})*(?![\p{L}\p{N}'"])/gu;
const SINGLE_QUOTED = /(?<![\p{L}\p{N}])'([A-Z]{2,}(?: [A-Z]{2,})*)'(?![\p{L}\p{N}])/gu;

/** The prompt with curly double quotes made straight and bare (or single-quoted) capital words double-quoted. */
export function quoteSignWords(prompt: string): string {
  const straight = prompt.replace(/[\u201c\u201d\u201e]/g, '"');
  // Odd pieces are inside double quotes (an unmatched quote leaves the rest inside) and stay as typed.
  return straight
    .split('"')
    .map((piece, i) => (i % 2 === 1 ? piece : piece.replace(SINGLE_QUOTED, '"$1"').replace(BARE_CAPITALS, '"$&"')))
    .join('"');
}
