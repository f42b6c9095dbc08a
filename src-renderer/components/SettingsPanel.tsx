import { useEffect, useState } from 'react';
import type { FormEvent } from 'react';
import type { Settings } from '../../src-shared/contract';
import { ExecutionProvider, SeedMode, Theme } from '../../src-shared/contract';
import { describeError } from '../api/client';
import type { JobsState } from '../hooks/useJobs';
import type { SettingsState } from '../hooks/useSettings';

export function SettingsPanel({ state, jobs }: { state: SettingsState; jobs: JobsState }) {
  const [draft, setDraft] = useState<Settings | null>(state.settings);
  const [saved, setSaved] = useState(false);
  const [diagnosticsError, setDiagnosticsError] = useState<string | null>(null);
  useEffect(() => setDraft(state.settings), [state.settings]);

  if (!draft) return <section className="panel settings-panel"><h2>Settings</h2><p className="muted">Loading…</p>{state.error && <p className="error">{state.error}</p>}</section>;

  const change = <K extends keyof Settings>(key: K, value: Settings[K]) => {
    setDraft({ ...draft, [key]: value });
    setSaved(false);
  };

  async function save(event: FormEvent) {
    event.preventDefault();
    if (draft) setSaved(await state.save(draft));
  }

  async function runSelfTest() {
    setDiagnosticsError(null);
    try {
      await jobs.submit({ kind: 'diagnostics.count', params: { n: 100, delayMs: 100, preview: true } });
    } catch (e) {
      setDiagnosticsError(describeError(e));
    }
  }

  return (
    <section className="panel settings-panel" aria-label="Settings">
      <h2>Settings</h2>
      <form onSubmit={save}>
        <label>
          <span>Execution provider</span>
          <select name="executionProvider" value={draft.executionProvider} onChange={(e) => change('executionProvider', ExecutionProvider.parse(e.target.value))}>
            {ExecutionProvider.options.map((option) => <option key={option} value={option}>{option}</option>)}
          </select>
        </label>
        <label>
          <span>Threads (0 = automatic)</span>
          <input name="threads" type="number" min={0} max={256} value={draft.threads} onChange={(e) => change('threads', Math.trunc(Number(e.target.value) || 0))} />
        </label>
        <div className="row">
          <label>
            <span>Default steps</span>
            <input name="defaultSteps" type="number" min={1} max={200} value={draft.defaultSteps} onChange={(e) => change('defaultSteps', Math.trunc(Number(e.target.value) || 1))} />
          </label>
          <label>
            <span>Default CFG</span>
            <input name="defaultCfg" type="number" min={0} max={30} step={0.5} value={draft.defaultCfg} onChange={(e) => change('defaultCfg', Number(e.target.value) || 0)} />
          </label>
        </div>
        <label>
          <span>Seed</span>
          <select name="seedMode" value={draft.seedMode} onChange={(e) => change('seedMode', SeedMode.parse(e.target.value))}>
            {SeedMode.options.map((option) => <option key={option} value={option}>{option}</option>)}
          </select>
        </label>
        <label>
          <span>Theme</span>
          <select name="theme" value={draft.theme} onChange={(e) => change('theme', Theme.parse(e.target.value))}>
            {Theme.options.map((option) => <option key={option} value={option}>{option}</option>)}
          </select>
        </label>
        <button type="submit" className="primary">Save settings</button>
        {saved && <span className="ok" role="status">Saved</span>}
        {state.error && <p className="error" role="alert">{state.error}</p>}
      </form>
      <div className="diagnostics">
        <h3>Diagnostics</h3>
        <p className="muted">Runs a short counting job through the queue and the worker.</p>
        <button type="button" onClick={runSelfTest}>Run queue self-test</button>
        {diagnosticsError && <p className="error">{diagnosticsError}</p>}
      </div>
    </section>
  );
}
