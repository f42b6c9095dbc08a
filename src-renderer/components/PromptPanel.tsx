// The prompt panel: what to make and how. Enter generates (Shift+Enter is a new line). The mode says
// what the job starts from: nothing (generate), the current image and an instruction (edit), the
// current image and the painted mask (inpaint), or the image grown to the outpaint box (outpaint).
import { memo } from 'react';
import type { KeyboardEvent } from 'react';
import type { AvailableLora, ExecutionProvider, ModelBundleInfo } from '../../src-shared/contract';
import { ExecutionProvider as ExecutionProviderSchema } from '../../src-shared/contract';
import type { Margins } from './CanvasView';
import type { DraftLora, Mode, PromptDraft } from '../studio/draft';
import { LoraPicker } from '../lora/LoraPicker';
import { MAX_SEED } from '../studio/draft';

interface PromptPanelProps {
  draft: PromptDraft;
  onChange(patch: Partial<PromptDraft>): void;
  onSubmit(): void;
  models: ModelBundleInfo[];
  chosenModel: ModelBundleInfo | null;
  executionProvider: ExecutionProvider | null;
  onExecutionProvider(ep: ExecutionProvider): void;
  hasImage: boolean;
  maskedPixels: number;
  outpaint: Margins;
  onOutpaint(margins: Margins): void;
  busy: boolean;
  error: string | null;
  /** lora.available's answer (useAvailableLoras). */
  loras: { loras: AvailableLora[]; folder: string | null; error: string | null; refresh(): void };
}

const modes: { mode: Mode; label: string; hint: string }[] = [
  { mode: 'generate', label: 'Generate', hint: 'a new image from the prompt' },
  { mode: 'edit', label: 'Edit', hint: 'change the current image by an instruction ("make it night")' },
  { mode: 'inpaint', label: 'Inpaint', hint: 'repaint the masked area of the current image' },
  { mode: 'outpaint', label: 'Outpaint', hint: 'grow the current image into the yellow box' },
];

const submitLabel: Record<Mode, string> = { generate: 'Generate', edit: 'Edit image', inpaint: 'Inpaint', outpaint: 'Outpaint' };

/** Memoised: re-renders when its own props change, not on every job event. */
export const PromptPanel = memo(function PromptPanel(props: PromptPanelProps) {
  const { draft, onChange } = props;
  const usable = props.models.filter((m) => m.problem === null);
  const needsImage = draft.mode !== 'generate';
  const blocked =
    draft.prompt.trim() === ''
      ? 'Write a prompt first.'
      : needsImage && !props.hasImage
        ? 'Open or generate an image first: this mode starts from the current image.'
        : draft.mode === 'inpaint' && props.maskedPixels === 0
          ? 'Paint the area to repaint on the canvas first (brush: B).'
          : draft.mode === 'outpaint' && props.outpaint.left + props.outpaint.top + props.outpaint.right + props.outpaint.bottom === 0
            ? 'Give the outpaint box at least one margin.'
            : null;

  function onPromptKey(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      props.onSubmit();
    }
  }

  const size = props.chosenModel?.image;
  return (
    <form
      className="panel prompt-panel"
      aria-label="Prompt"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      <h2>Prompt</h2>
      <div className="mode-tabs" role="radiogroup" aria-label="Mode">
        {modes.map((m) => (
          <button
            key={m.mode}
            type="button"
            role="radio"
            aria-checked={draft.mode === m.mode}
            className={draft.mode === m.mode ? 'tab active' : 'tab'}
            title={m.hint}
            onClick={() => onChange({ mode: m.mode })}
          >
            {m.label}
          </button>
        ))}
      </div>
      <label>
        <span>{draft.mode === 'edit' ? 'Instruction' : 'Prompt'}</span>
        <textarea
          name="prompt"
          rows={4}
          value={draft.prompt}
          onChange={(e) => onChange({ prompt: e.target.value })}
          onKeyDown={onPromptKey}
          placeholder={draft.mode === 'edit' ? 'make it night' : 'a red fox in the snow, watercolour'}
        />
      </label>
      <label>
        <span>Negative prompt</span>
        <textarea name="negativePrompt" rows={1} value={draft.negativePrompt} onChange={(e) => onChange({ negativePrompt: e.target.value })} />
      </label>
      <div className="row seed-row">
        <label>
          <span>Seed</span>
          <input
            name="seed" type="number" min={0} max={MAX_SEED} step={1} value={draft.seed}
            onChange={(e) => onChange({ seed: Math.max(0, Math.min(MAX_SEED, Math.trunc(Number(e.target.value) || 0))), seedLocked: true })}
          />
        </label>
        <button
          type="button"
          className={draft.seedLocked ? 'icon-button on' : 'icon-button'}
          aria-pressed={draft.seedLocked}
          aria-label="lock seed"
          title={draft.seedLocked ? 'Seed locked: every job uses this seed' : 'Seed unlocked: a new random seed per job'}
          onClick={() => onChange({ seedLocked: !draft.seedLocked })}
        >
          {draft.seedLocked ? 'Locked' : 'Random'}
        </button>
        <button type="button" className="icon-button" aria-label="new seed" title="Pick a new random seed and lock it" onClick={() => onChange({ seed: Math.floor(Math.random() * MAX_SEED), seedLocked: true })}>
          New
        </button>
      </div>
      <div className="row">
        <label>
          <span>Steps</span>
          <input name="steps" type="number" min={1} max={200} value={draft.steps} onChange={(e) => onChange({ steps: Math.max(1, Math.min(200, Math.trunc(Number(e.target.value) || 1))) })} />
        </label>
        <label>
          <span>CFG</span>
          <input name="cfg" type="number" min={0} max={30} step={0.5} value={draft.cfg} onChange={(e) => onChange({ cfg: Math.max(0, Math.min(30, Number(e.target.value) || 0)) })} />
        </label>
        {(draft.mode === 'edit' || draft.mode === 'inpaint') && (
          <label>
            <span>Strength</span>
            <input name="strength" type="number" min={0.05} max={1} step={0.05} value={draft.strength} onChange={(e) => onChange({ strength: Math.max(0.05, Math.min(1, Number(e.target.value) || 1)) })} />
          </label>
        )}
      </div>
      {draft.mode === 'edit' && (
        <label className="inline keep-toggle" title="Where the model keeps the image's tokens, the edit copies the source's pixels exactly">
          <input name="keepUnchanged" type="checkbox" checked={draft.keepUnchanged} onChange={(e) => onChange({ keepUnchanged: e.target.checked })} />
          <span>Keep untouched areas</span>
        </label>
      )}
      {draft.mode === 'outpaint' && (
        <fieldset className="outpaint-margins">
          <legend>Outpaint margins (px)</legend>
          {(['left', 'top', 'right', 'bottom'] as const).map((side) => (
            <label key={side}>
              <span>{side}</span>
              <input
                name={`outpaint-${side}`} type="number" min={0} max={4096} step={8} value={props.outpaint[side]}
                onChange={(e) => props.onOutpaint({ ...props.outpaint, [side]: Math.max(0, Math.min(4096, Math.trunc(Number(e.target.value) || 0))) })}
              />
            </label>
          ))}
        </fieldset>
      )}
      <label>
        <span>Model</span>
        <select name="model" value={props.chosenModel?.id ?? ''} onChange={(e) => onChange({ model: e.target.value })} disabled={usable.length === 0}>
          {usable.length === 0 && <option value="">no model installed</option>}
          {usable.map((m) => <option key={m.id} value={m.id}>{m.name}{m.variant ? ` (${m.variant})` : ''}</option>)}
        </select>
      </label>
      <div className="row">
        <label>
          <span>Size</span>
          <input name="size" readOnly value={size ? `${size.width} × ${size.height}` : '—'} title="This model makes images of one size; edits keep the size of their source" />
        </label>
        <label>
          <span>Runs on</span>
          <select
            name="executionProvider"
            value={props.executionProvider ?? 'auto'}
            onChange={(e) => props.onExecutionProvider(ExecutionProviderSchema.parse(e.target.value))}
            disabled={props.executionProvider === null}
          >
            {ExecutionProviderSchema.options.map((ep) => <option key={ep} value={ep}>{ep}</option>)}
          </select>
        </label>
      </div>
      <section className="lora-slot" data-slot="loras" aria-label="LoRAs">
        <LoraPicker
          available={props.loras.loras}
          folder={props.loras.folder}
          chosen={draft.loras}
          onChange={(loras: DraftLora[]) => onChange({ loras })}
          onRefresh={props.loras.refresh}
          error={props.loras.error}
        />
      </section>
      <button type="submit" className="primary" disabled={props.busy || blocked !== null} title={blocked ?? 'Enter'}>
        {submitLabel[draft.mode]}
      </button>
      {blocked && draft.prompt.trim() !== '' && <p className="muted hint" data-testid="prompt-hint">{blocked}</p>}
      {props.error && <p className="error" role="alert">{props.error}</p>}
    </form>
  );
});
