import { useEffect, useState } from 'react';
import type { AppInfo, ModelBundleInfo } from '../src-shared/contract';
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

  const latest = jobs.jobs.find((job) => job.preview);
  const usable = models.filter((model) => model.problem === null);

  return (
    <div className="studio">
      <header className="topbar">
        <h1>Atelier</h1>
        <span className="muted model-name">
          {usable.length > 0 ? `Model: ${usable[0]?.name}` : 'No model bundle installed'}
        </span>
        <nav className="tabs" aria-label="Side panel">
          <button type="button" className={side === 'jobs' ? 'tab active' : 'tab'} onClick={() => setSide('jobs')}>Jobs</button>
          <button type="button" className={side === 'settings' ? 'tab active' : 'tab'} onClick={() => setSide('settings')}>Settings</button>
        </nav>
      </header>
      {error && <p className="error banner" role="alert">{error}</p>}
      <main className="layout">
        <aside className="left">
          <PromptPanel settings={settings.settings} jobs={jobs} />
        </aside>
        <section className="stage" aria-label="Canvas">
          {latest?.preview ? (
            <img className="stage-image" src={latest.preview} alt="latest preview" />
          ) : (
            <div className="stage-empty">
              <p>Write a prompt and press Generate.</p>
              <p className="muted">The canvas arrives in a later version.</p>
            </div>
          )}
        </section>
        <aside className="right">
          {side === 'jobs' ? <JobsPanel jobs={jobs} /> : <SettingsPanel state={settings} jobs={jobs} />}
          <HistoryList jobs={jobs} />
        </aside>
      </main>
      <footer className="statusbar muted">
        {info ? `Atelier ${info.version} · data in ${info.dataDir}` : 'connecting…'}
      </footer>
    </div>
  );
}
