// The prompt panel's LoRAs: pick from the available ones (finished runs, files in <dataDir>/loras/),
// a weight slider per LoRA (−1…2, step 0.05), remove. The choice lives in the prompt draft, so it is
// kept across retries, saved with the desk and filled by "reuse parameters".
import './lora.css';
import { memo } from 'react';
import type { AvailableLora } from '../../src-shared/contract';
import type { DraftLora } from '../studio/draft';
import { LORA_WEIGHT, MAX_LORAS, roundLoraWeight } from '../studio/draft';

interface LoraPickerProps {
  available: AvailableLora[];
  folder: string | null;
  chosen: DraftLora[];
  onChange(loras: DraftLora[]): void;
  /** Asks for the list again (a file dropped in the folder, a run that just finished). */
  onRefresh(): void;
  error: string | null;
}

/** A LoRA's name from the list, or from its key when it is gone (a deleted file or run). */
function nameOf(key: string, available: AvailableLora[]): string {
  return available.find((l) => l.key === key)?.name ?? key.replace(/^(run|file):/, '');
}

export const LoraPicker = memo(function LoraPicker({ available, folder, chosen, onChange, onRefresh, error }: LoraPickerProps) {
  const free = available.filter((l) => !chosen.some((c) => c.key === l.key));
  const setWeight = (key: string, weight: number) => onChange(chosen.map((c) => (c.key === key ? { ...c, weight: roundLoraWeight(weight) } : c)));
  return (
    <div className="lora-picker">
      <div className="lora-picker-head">
        <span>LoRAs</span>
        <select
          aria-label="Add a LoRA"
          value=""
          disabled={chosen.length >= MAX_LORAS}
          onFocus={onRefresh}
          onMouseDown={onRefresh}
          onChange={(e) => {
            if (e.target.value) onChange([...chosen, { key: e.target.value, weight: 1 }]);
          }}
        >
          <option value="">{free.length > 0 ? 'add a LoRA…' : available.length > 0 ? 'all LoRAs added' : 'no LoRAs yet'}</option>
          {free.map((l) => (
            <option key={l.key} value={l.key}>{l.name}{l.source === 'trained' ? ' (trained)' : ''}</option>
          ))}
        </select>
      </div>
      {chosen.length === 0 && available.length === 0 && (
        <p className="muted">Train one (Train a LoRA) or put a .safetensors file in {folder ?? 'the data folder’s loras folder'}.</p>
      )}
      <ul className="lora-chosen">
        {chosen.map((c) => {
          const missing = !available.some((l) => l.key === c.key);
          const name = nameOf(c.key, available);
          return (
            <li key={c.key} data-testid="lora-chosen" data-key={c.key} className={missing ? 'missing' : undefined}>
              <span className="lora-name" title={missing ? 'not found any more: remove it or restore the file' : c.key}>{name}{missing ? ' (missing)' : ''}</span>
              <input
                type="range"
                aria-label={`weight of ${name}`}
                min={LORA_WEIGHT.min} max={LORA_WEIGHT.max} step={LORA_WEIGHT.step}
                value={c.weight}
                onChange={(e) => setWeight(c.key, Number(e.target.value))}
              />
              <output className="lora-weight" aria-label={`weight value of ${name}`}>{c.weight.toFixed(2)}</output>
              <button type="button" className="link" aria-label={`remove ${name}`} onClick={() => onChange(chosen.filter((x) => x.key !== c.key))}>✕</button>
            </li>
          );
        })}
      </ul>
      {error && <p className="error">{error}</p>}
    </div>
  );
});
