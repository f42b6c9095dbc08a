import { useEffect, useState } from 'react';
import type { AppInfo, HistoryItem, ModelBundleInfo } from '../src-shared/contract';
import { AtelierEvent } from '../src-shared/contract';
import { atelier, describeError, unwrap } from './api/client';
import { HistoryList } from './components/HistoryList';
import { JobsPanel } from './components/JobsPanel';
import { PromptPanel } from './components/PromptPanel';
import { SettingsPanel } from './components/SettingsPanel';
import { useJobs } from './hooks/useJobs';
import { useSettings } from './hooks/useSettings';

type SidePanel = 'jobs' | 'settings';

export function App() {
  const settings = useSettings();
  const jobs = useJobs();
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [models, setModels] = useState<ModelBundleInfo[]>([]);
  const [side, setSide] = useState<SidePanel>('jobs');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    unwrap(atelier().app.info()).then(setInfo, (e: unknown) => setError(describeError(e)));
    unwrap(atelier().models.list()).then(({ models: list }) => setModels(list), (e: unknown) => setError(describeError(e)));
  }, []);

  const theme = settings.settings?.theme ?? 'system';
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  // The stage shows the newest finished image, or a running job's preview when that is newer.
  const [result, setResult] = useState<{ url: string; prompt: string; at: number } | null>(null);
  useEffect(
    () =>
      jobs.onResult((job) => {
        const ids = (job.result as { generationIds?: unknown } | undefined)?.generationIds;
        const id = Array.isArray(ids) && typeof ids[0] === 'string' ? ids[0] : null;
        if (!id) return;
        unwrap(atelier().history.get({ id })).then((item) => {
          const image = item.images.find((i) => i.role === 'output');
          if (image) setResult({ url: image.url, prompt: item.prompt, at: job.createdAt });
        }, (e: unknown) => setError(describeError(e)));
      }),
    [jobs],
  );
  // Only image jobs paint the stage (diagnostics previews stay in their job card).
  const imageJobs = jobs.jobs.filter((job) => job.kind.startsWith('image.') && job.preview);
  // An image opened through the host (desktop File menu) goes on the stage until the canvas takes it.
  useEffect(
    () =>
      atelier().events.on((raw) => {
        const event = AtelierEvent.safeParse(raw);
        if (event.success && event.data.name === 'app.imageOpened') {
          setResult({ url: event.data.data.png, prompt: event.data.data.name, at: Date.now() });
        }
      }),
    [],
  );
  const showHistoryItem = (item: HistoryItem) => {
    const image = item.images.find((i) => i.role === 'output');
    if (image) setResult({ url: image.url, prompt: item.prompt, at: Date.now() });
  };
  const previewing = imageJobs.find((job) => job.state === 'running' || job.state === 'queued') ?? imageJobs[0];
  const stageImage = result && (!previewing || previewing.state !== 'running' || result.at >= previewing.createdAt)
    ? { src: result.url, alt: result.prompt }
    : previewing?.preview ? { src: previewing.preview, alt: 'latest preview' } : null;
  const usable = models.filter((model) => model.problem === null);

  return (
    <div className="studio">
      <header className="topbar">
        <h1>Atelier</h1>
        <span className="muted model-name">
          {usable.length > 0 ? `${usable.length} model${usable.length === 1 ? '' : 's'} installed` : 'No model bundle installed'}
        </span>
        <nav className="tabs" aria-label="Side panel">
          <button type="button" className={side === 'jobs' ? 'tab active' : 'tab'} onClick={() => setSide('jobs')}>Jobs</button>
          <button type="button" className={side === 'settings' ? 'tab active' : 'tab'} onClick={() => setSide('settings')}>Settings</button>
        </nav>
      </header>
      {error && <p className="error banner" role="alert">{error}</p>}
      <main className="layout">
        <aside className="left">
          <PromptPanel settings={settings.settings} jobs={jobs} models={models} />
        </aside>
        <section className="stage" aria-label="Canvas">
          {stageImage ? (
            <img className="stage-image" src={stageImage.src} alt={stageImage.alt} data-testid="stage-image" />
          ) : (
            <div className="stage-empty">
              <p>Write a prompt and press Generate.</p>
              <p className="muted">The canvas arrives in a later version.</p>
            </div>
          )}
        </section>
        <aside className="right">
          {side === 'jobs' ? <JobsPanel jobs={jobs} /> : <SettingsPanel state={settings} jobs={jobs} />}
          <HistoryList jobs={jobs} onSelect={showHistoryItem} />
        </aside>
      </main>
      <footer className="statusbar muted">
        {info ? `Atelier ${info.version} · data in ${info.dataDir}` : 'connecting…'}
      </footer>
    </div>
  );
}
