// Prompt → token ids by the bundle's templates (docs/bundle-spec.md, "Prompt templates"). The
// tokenizer.json is read from the bundle folder; @huggingface/tokenizers runs in-process, no network.
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import type { BundleManifest } from '../bundle/manifest';
import { quoteSignWords } from './sign-words';

export interface EncodedPrompt {
  ids: number[];
  /** Prompt tokens before truncation. */
  promptTokens: number;
  truncated: boolean;
  warnings: string[];
}

export class PromptEncoder {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly m: BundleManifest,
  ) {}

  static async load(tokenizerFile: string, m: BundleManifest): Promise<PromptEncoder> {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(tokenizerFile, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read the tokenizer (${tokenizerFile}): ${(e as Error).message}`);
    }
    return new PromptEncoder(new Tokenizer(json as object, {}), m);
  }

  /** Ids of a plain piece of text, without added special tokens. */
  encodeText(text: string): number[] {
    if (text === '') return [];
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: false });
  }

  /**
   * Fills a template: literal pieces tokenized on their own, the prompt's tokens (truncated to
   * max_prompt_tokens with a warning) and, for `{ref}`, the reference codes as ids (offset + code).
   * A bundle with `tokenizer.quote_sign_words` first gets bare capital words quoted and quoted words in
   * capitals (with a warning).
   */
  encodeTemplate(kind: 'generate' | 'edit', prompt: string, refCodes?: ArrayLike<number | bigint>): EncodedPrompt {
    const template = this.m.tokenizer.templates[kind];
    const max = this.m.tokenizer.max_prompt_tokens;
    const warnings: string[] = [];
    if (this.m.tokenizer.quote_sign_words) {
      const quoted = quoteSignWords(prompt);
      if (quoted !== prompt) warnings.push(`read as: ${quoted} (this model writes sign text in capitals, given in double quotes)`);
      prompt = quoted;
    }
    let promptIds = this.encodeText(prompt);
    const promptTokens = promptIds.length;
    const truncated = promptTokens > max;
    if (truncated) {
      promptIds = promptIds.slice(0, max);
      warnings.push(`prompt truncated from ${promptTokens} to ${max} tokens (the model reads at most ${max})`);
    }
    const ids: number[] = [];
    for (const piece of template.split(/(\{prompt\}|\{ref\})/)) {
      if (piece === '{prompt}') ids.push(...promptIds);
      else if (piece === '{ref}') {
        if (!refCodes) throw new Error(`template '${kind}' needs reference image codes`);
        const offset = this.m.vocab.image_code_offset;
        for (let i = 0; i < refCodes.length; i++) ids.push(offset + Number(refCodes[i]));
      } else ids.push(...this.encodeText(piece));
    }
    if (ids[ids.length - 1] !== this.m.special_tokens.img_start) {
      throw new Error(`template '${kind}' must end with <|img_start|> (id ${this.m.special_tokens.img_start})`);
    }
    return { ids, promptTokens, truncated, warnings };
  }
}
