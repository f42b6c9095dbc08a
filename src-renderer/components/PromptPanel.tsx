import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import type { ModelBundleInfo, Settings } from '../../src-shared/contract';
import { describeError } from '../api/client';
import type { JobsState } from '../hooks/useJobs';

const MAX_SEED = 0xffff_ffff;

interface PromptPanelProps {
  settings: Settings | null;
  jobs: JobsState;
  models: ModelBundleInfo[];
}

export function PromptPanel({ settings, jobs, models }: PromptPanelProps) {
  const usable = models.filter((model) => model.problem === null);
  const [model, setModel] = useState<string>('');
  const [prompt, setPrompt] = useState('');
  const [negativePrompt, setNegativePrompt] = useState('');
  const [seed, setSeed] = useState(0);
  const [steps, setSteps] = useState(20);
  const [cfg, setCfg] = useState(4.5);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // The defaults follow the settings until the person changes the fields.
  useEffect(() => {
    if (!settings) return;
    setSteps(settings.defaultSteps);
    setCfg(settings.defaultCfg);
  }, [settings]);

  const seedMode = settings?.seedMode ?? 'random';
  // The person's choice while it exists, else the shipped default, else the first usable bundle.
  const chosenModel = usable.find((m) => m.id === model)?.id ?? usable.find((m) => m.id === 'atelier-nano')?.id ?? usable[0]?.id;

  async function generate(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await jobs.submit({
        kind: 'image.generate',
        params: {
          prompt,
          ...(negativePrompt.trim() ? { negativePrompt } : {}),
          seed: seedMode === 'random' ? null : seed,
          steps,
          cfg,
          ...(chosenModel ? { model: chosenModel } : {}),
        },
      });
      if (seedMode === 'increment') setSeed((s) => (s + 1) % (MAX_SEED + 1));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel prompt-panel" onSubmit={generate} aria-label="Prompt">
      <h2>Prompt</h2>
      <label>
        <span>Model</span>
        <select name="model" value={chosenModel ?? ''} onChange={(e) => setModel(e.target.value)} disabled={usable.length === 0}>
          {usable.length === 0 && <option value="">no model installed</option>}
          {usable.map((m) => <option key={m.id} value={m.id}>{m.name}{m.variant ? ` (${m.variant})` : ''}</option>)}
        </select>
      </label>
      <label>
        <span>Prompt</span>
        <textarea name="prompt" rows={5} value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="a red fox in the snow, watercolour" />
      </label>
      <label>
        <span>Negative prompt</span>
        <textarea name="negativePrompt" rows={2} value={negativePrompt} onChange={(e) => setNegativePrompt(e.target.value)} />
      </label>
      <div className="row">
        <label>
          <span>Seed {seedMode === 'random' ? '(random)' : `(${seedMode})`}</span>
          <input
            name="seed" type="number" min={0} max={MAX_SEED} step={1} value={seed} disabled={seedMode === 'random'}
            onChange={(e) => setSeed(Math.max(0, Math.min(MAX_SEED, Math.trunc(Number(e.target.value) || 0))))}
          />
        </label>
      </div>
      <div className="row">
        <label>
          <span>Steps</span>
          <input name="steps" type="number" min={1} max={200} value={steps} onChange={(e) => setSteps(Math.trunc(Number(e.target.value) || 1))} />
        </label>
        <label>
          <span>CFG</span>
          <input name="cfg" type="number" min={0} max={30} step={0.5} value={cfg} onChange={(e) => setCfg(Number(e.target.value) || 0)} />
        </label>
      </div>
      <button type="submit" className="primary" disabled={busy || prompt.trim() === ''}>
        Generate
      </button>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
