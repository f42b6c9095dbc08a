// The LoRA wizard (issue 7): base model → dataset folder → captions → settings → train (live loss,
// samples, ETA, cancel) → try it (a weight slider, the same seed with and without the LoRA).
// Everything goes through the `lora.*` routes (src-shared/contract/lora.ts); a run keeps going in
// the job worker when the wizard is closed, and reopening it picks the run up from the list.
import './lora.css';
import { useCallback, useEffect, useState } from 'react';
import type { DragEvent } from 'react';
import type { LoraDatasetItemInfo, LoraRunDetail, LoraRunInfo, LoraSettingsInput, ModelBundleInfo } from '../../src-shared/contract';
import { atelier, describeError, unwrap } from '../api/client';
import { eta, lossPlot } from './loss-plot';

type Step = 'model' | 'dataset' | 'captions' | 'settings' | 'train' | 'try';
const STEPS: [Step, string][] = [['model', 'Base model'], ['dataset', 'Dataset'], ['captions', 'Captions'], ['settings', 'Settings'], ['train', 'Train'], ['try', 'Try it']];

const DEFAULTS: Required<Pick<LoraSettingsInput, 'rank' | 'alpha' | 'steps' | 'batch' | 'learningRate' | 'warmupSteps' | 'schedule' | 'seed' | 'sampleEvery'>> = {
  rank: 8,
  alpha: 8,
  steps: 500,
  batch: 2,
  learningRate: 0.001,
  warmupSteps: 20,
  schedule: 'cosine',
  seed: 0,
  sampleEvery: 100,
};

const HELP: Record<keyof typeof DEFAULTS, string> = {
  rank: 'Capacity of the LoRA. 4–16 is plenty for one subject or style; higher learns more detail and overfits sooner.',
  alpha: 'The update is scaled by alpha / rank. Keep it equal to the rank unless you know why not.',
  steps: 'Optimizer updates. About 20–40 per image is a good start; watch the samples.',
  batch: 'Images per update. Larger is smoother but slower per step.',
  learningRate: '1e-3 suits LoRA; lower it if the loss jumps or samples fall apart.',
  warmupSteps: 'The learning rate ramps up over these first updates.',
  schedule: 'Cosine lowers the learning rate to zero by the end; constant keeps it.',
  seed: 'The same seed, data and settings give the same LoRA.',
  sampleEvery: 'A sample image at step 0, every N steps and at the end.',
};

function pathOfDrop(e: DragEvent): string | null {
  const file = e.dataTransfer.files[0] as (File & { path?: string }) | undefined;
  return file?.path || null; // Electron exposes the dropped folder's path; a browser does not
}

export function LoraWizard({ onClose }: { onClose: () => void }) {
  const api = atelier();
  const [step, setStep] = useState<Step>('model');
  const [error, setError] = useState<string | null>(null);
  const [models, setModels] = useState<ModelBundleInfo[]>([]);
  const [model, setModel] = useState<string>('');
  const [name, setName] = useState('my-lora');
  const [folder, setFolder] = useState('');
  const [trigger, setTrigger] = useState('');
  const [items, setItems] = useState<LoraDatasetItemInfo[]>([]);
  const [problems, setProblems] = useState<string[]>([]);
  const [settings, setSettings] = useState({ ...DEFAULTS });
  const [samplePrompt, setSamplePrompt] = useState('');
  const [condition, setCondition] = useState<'own-codes' | 'sampled'>('sampled'); // the trainer's default (src-main/trainer/settings.ts)
  const [runs, setRuns] = useState<LoraRunInfo[]>([]);
  const [runId, setRunId] = useState<string | null>(null);
  const [detail, setDetail] = useState<LoraRunDetail | null>(null);
  const [tryPrompt, setTryPrompt] = useState('');
  const [trySeed, setTrySeed] = useState(1);
  const [weight, setWeight] = useState(1);
  const [tried, setTried] = useState<{ withLora: string; without: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const guard = useCallback(async (what: string, fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(`${what}: ${describeError(e)}`);
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void guard('Could not list the models', async () => {
      const { models: list } = await unwrap(api.models.list());
      const usable = list.filter((m) => !m.problem);
      setModels(usable);
      if (usable[0]) setModel((m) => m || usable[0]!.id);
    });
    void unwrap(api.lora.runs()).then(({ runs: r }) => setRuns(r), () => undefined);
  }, [api, guard]);

  // Follow the selected run: once a second while it runs.
  useEffect(() => {
    if (!runId) return;
    let stop = false;
    const poll = async () => {
      try {
        const d = await unwrap(api.lora.run({ runId }));
        if (stop) return;
        setDetail(d);
        if (d.run.status === 'running' || d.run.status === 'pending') setTimeout(() => void poll(), 1000);
      } catch (e) {
        if (!stop) setError(`Could not read the run: ${describeError(e)}`);
      }
    };
    void poll();
    return () => {
      stop = true;
    };
  }, [api, runId]);

  const inspect = (dir = folder) =>
    guard('Could not read the folder', async () => {
      const r = await unwrap(api.lora.inspect({ datasetDir: dir, trigger: trigger || undefined }));
      setItems(r.items);
      setProblems(r.problems);
    });

  const saveCaption = (item: LoraDatasetItemInfo, caption: string) =>
    guard(`Could not save the caption of ${item.name}`, async () => {
      await unwrap(api.lora.setCaption({ datasetDir: folder, name: item.name, caption }));
      setItems((list) => list.map((x) => (x.name === item.name ? { ...x, caption } : x)));
    });

  const start = () =>
    guard('Could not start training', async () => {
      const { run } = await unwrap(
        api.lora.start({
          name,
          datasetDir: folder,
          model: model || undefined,
          settings: { ...settings, condition, trigger: trigger || undefined, samplePrompts: samplePrompt ? [samplePrompt] : [], checkpointEvery: Math.max(1, Math.min(50, settings.steps)) },
        }),
      );
      setRunId(run.id);
      setRuns((r) => [run, ...r.filter((x) => x.id !== run.id)]);
      setStep('train');
    });

  const run = detail?.run;
  const plot = detail ? lossPlot(detail.losses, run?.totalSteps ?? 1, 480, 140) : null;
  const latestSamples = detail ? detail.samples.slice(-8) : [];

  return (
    <div className="lora-overlay" role="dialog" aria-label="LoRA training" data-testid="lora-wizard">
      <div className="lora-wizard panel">
        <header className="lora-head">
          <h2>Train a LoRA</h2>
          <nav className="tabs" aria-label="Wizard steps">
            {STEPS.map(([id, label]) => (
              <button key={id} type="button" className={step === id ? 'tab active' : 'tab'} onClick={() => setStep(id)}>
                {label}
              </button>
            ))}
          </nav>
          <button type="button" className="link" aria-label="close" onClick={onClose}>✕</button>
        </header>
        {error && <div className="error banner" role="alert">{error}</div>}

        {step === 'model' && (
          <section>
            <p className="muted">The LoRA learns on top of this model and only works with it. The model needs its LoRA graphs (added by <code>python -m modeling.lora.export</code>).</p>
            <select value={model} onChange={(e) => setModel(e.target.value)} aria-label="base model">
              {models.map((m) => <option key={m.id} value={m.id}>{m.name} ({m.id})</option>)}
            </select>
            {runs.length > 0 && (
              <>
                <h2>Earlier runs</h2>
                <ul className="lora-runs">
                  {runs.map((r) => (
                    <li key={r.id}>
                      <button type="button" className="link" onClick={() => { setRunId(r.id); setStep('train'); }}>{r.name}</button> {r.status}, step {r.step}/{r.totalSteps}
                    </li>
                  ))}
                </ul>
              </>
            )}
            <button type="button" className="primary" onClick={() => setStep('dataset')}>Next</button>
          </section>
        )}

        {step === 'dataset' && (
          <section onDragOver={(e) => e.preventDefault()} onDrop={(e) => { e.preventDefault(); const p = pathOfDrop(e); if (p) { setFolder(p); void inspect(p); } }}>
            <p className="muted">A folder of 10–30 images (png, jpg, webp) of one subject or style, each with a same-name .txt caption. Drop the folder here or type its path.</p>
            <label>Name <input value={name} onChange={(e) => setName(e.target.value)} /></label>
            <label>Folder <input value={folder} onChange={(e) => setFolder(e.target.value)} placeholder="/home/me/pictures/my-mug" aria-label="dataset folder" /></label>
            <label>Trigger word <input value={trigger} onChange={(e) => setTrigger(e.target.value)} placeholder="e.g. mugzz" /></label>
            <button type="button" disabled={!folder || busy} onClick={() => void inspect()}>Look at the folder</button>
            {problems.length > 0 && <ul className="lora-problems" role="alert">{problems.map((p) => <li key={p}>{p}</li>)}</ul>}
            {items.length > 0 && <p>{items.length} usable images. {problems.length === 0 ? 'Ready.' : 'Fix the problems above (missing captions can be written on the next page).'}</p>}
            <button type="button" className="primary" disabled={items.length === 0} onClick={() => setStep('captions')}>Next</button>
          </section>
        )}

        {step === 'captions' && (
          <section>
            <p className="muted">Describe what changes between images (pose, background, colour); the trigger word{trigger ? ` "${trigger}"` : ''} is added in front for you. Saved to the .txt files when you leave a field.</p>
            <div className="lora-items">
              {items.map((it) => (
                <figure key={it.name}>
                  <img src={it.thumb} alt={it.name} width={96} height={96} />
                  <textarea defaultValue={it.caption} aria-label={`caption of ${it.name}`} onBlur={(e) => e.target.value !== it.caption && void saveCaption(it, e.target.value)} />
                </figure>
              ))}
            </div>
            <button type="button" className="primary" onClick={() => { void inspect(); setStep('settings'); }}>Next</button>
          </section>
        )}

        {step === 'settings' && (
          <section className="lora-settings">
            {(Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]).map((key) => (
              <label key={key} title={HELP[key]}>
                {key}
                {key === 'schedule' ? (
                  <select value={settings.schedule} onChange={(e) => setSettings({ ...settings, schedule: e.target.value as 'cosine' | 'constant' })}>
                    <option value="cosine">cosine</option>
                    <option value="constant">constant</option>
                  </select>
                ) : (
                  <input type="number" step="any" value={settings[key] as number} onChange={(e) => setSettings({ ...settings, [key]: Number(e.target.value) })} />
                )}
                <small className="muted">{HELP[key]}</small>
              </label>
            ))}
            <label title="How each caption becomes what the painter (DiT) is conditioned on.">
              condition
              <select value={condition} onChange={(e) => setCondition(e.target.value as 'own-codes' | 'sampled')} aria-label="condition">
                <option value="sampled">sampled: what the model writes for the caption (default)</option>
                <option value="own-codes">own codes: the image's own tokens, teacher-forced</option>
              </select>
              <small className="muted">For a subject the model has never seen, "sampled" teaches it far better (measured in docs/lora.md): the LoRA learns from what the model actually writes for your trigger word.</small>
            </label>
            <label>Sample prompt <input value={samplePrompt} onChange={(e) => setSamplePrompt(e.target.value)} placeholder={trigger ? `${trigger} on a table` : 'a prompt with your trigger word'} /></label>
            <button type="button" className="primary" disabled={busy || problems.length > 0 || !folder} onClick={() => void start()}>Start training</button>
            {problems.length > 0 && <p className="muted">The dataset still has problems: see the Dataset page.</p>}
          </section>
        )}

        {step === 'train' && (
          <section>
            {!run && <p className="muted">No run yet: start one from Settings, or pick an earlier run on the first page.</p>}
            {run && (
              <>
                <p>
                  <strong>{run.name}</strong> — {run.status}, step {run.step}/{run.totalSteps}
                  {detail?.stepsPerSecond ? `, ${detail.stepsPerSecond.toFixed(1)} steps/s` : ''}
                  {run.status === 'running' && eta(run.totalSteps - run.step, detail?.stepsPerSecond ?? null) ? `, about ${eta(run.totalSteps - run.step, detail?.stepsPerSecond ?? null)} left` : ''}
                  {run.error ? ` — ${run.error}` : ''}
                </p>
                {plot && plot.raw && (
                  <svg className="lora-plot" viewBox="0 0 480 140" width={480} height={140} role="img" aria-label={`loss from ${plot.max.toFixed(3)} to ${plot.min.toFixed(3)}`}>
                    <polyline points={plot.raw} fill="none" stroke="var(--muted)" strokeWidth={1} />
                    <polyline points={plot.smooth} fill="none" stroke="var(--accent)" strokeWidth={2} />
                  </svg>
                )}
                <div className="lora-samples">
                  {latestSamples.map((s) => (
                    <figure key={`${s.step}-${s.index}`}>
                      <img src={s.png} alt={`sample at step ${s.step}`} width={96} height={96} />
                      <figcaption>step {s.step}</figcaption>
                    </figure>
                  ))}
                </div>
                {(run.status === 'running' || run.status === 'pending') && (
                  <button type="button" onClick={() => void guard('Could not cancel', async () => void (await unwrap(api.lora.cancel({ runId: run.id }))))}>Stop (keeps a checkpoint)</button>
                )}
                {run.status === 'cancelled' && <p className="muted">Stopped. Start it again with the same name, folder and settings to resume from its last checkpoint.</p>}
                {run.status === 'done' && <button type="button" className="primary" onClick={() => setStep('try')}>Try it</button>}
              </>
            )}
          </section>
        )}

        {step === 'try' && (
          <section>
            {!run || run.status !== 'done' ? (
              <p className="muted">Finish a run first.</p>
            ) : (
              <>
                <p className="muted">The same prompt and seed with the LoRA at the chosen weight, and without it. Moving the weight reuses the loaded model.</p>
                <label>Prompt <input value={tryPrompt} onChange={(e) => setTryPrompt(e.target.value)} placeholder={trigger ? `${trigger} on a beach` : ''} /></label>
                <label>Seed <input type="number" value={trySeed} onChange={(e) => setTrySeed(Math.max(0, Math.floor(Number(e.target.value))))} /></label>
                <label>Weight {weight.toFixed(2)} <input type="range" min={-1} max={2} step={0.05} value={weight} onChange={(e) => setWeight(Number(e.target.value))} aria-label="LoRA weight" /></label>
                <button type="button" className="primary" disabled={busy || !tryPrompt.trim()} onClick={() => void guard('Could not try the LoRA', async () => setTried(await unwrap(api.lora.try({ runId: run.id, prompt: tryPrompt, seed: trySeed, weight }))))}>Generate</button>
                {tried && (
                  <div className="lora-compare">
                    <figure><img src={tried.withLora} alt="with the LoRA" width={192} height={192} /><figcaption>weight {weight.toFixed(2)}</figcaption></figure>
                    <figure><img src={tried.without} alt="without the LoRA" width={192} height={192} /><figcaption>without</figcaption></figure>
                  </div>
                )}
                {run.output && <p className="muted">File: <code>{run.output}</code> (use it with <code>--lora</code>).</p>}
              </>
            )}
          </section>
        )}
      </div>
    </div>
  );
}
