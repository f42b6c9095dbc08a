// The export fields shared by the batch panel and the history gallery: an absolute folder, the
// format, "also a zip", Export (disabled while one runs). Controlled: the owner keeps the choice, so
// it survives the form being hidden and shown again.
import type { ExportFormat } from '../../src-shared/contract';

export const EXPORT_FORMATS: ExportFormat[] = ['png', 'jpeg', 'webp'];

export interface ExportChoice {
  outDir: string;
  format: ExportFormat;
  zip: boolean;
}

export const DEFAULT_EXPORT: ExportChoice = { outDir: '', format: 'png', zip: false };

interface ExportFormProps {
  value: ExportChoice;
  onChange(value: ExportChoice): void;
  onExport(value: ExportChoice): void;
  busy?: boolean;
  /** The form's accessible name. */
  label?: string;
  className?: string;
  /** Words after "Export" on the button ("2 images"). */
  what?: string;
}

export function ExportForm({ value, onChange, onExport, busy = false, label, className, what }: ExportFormProps) {
  return (
    <form
      className={className ? `export-form ${className}` : 'export-form'}
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        if (!busy) onExport({ ...value, outDir: value.outDir.trim() });
      }}
    >
      <input aria-label="export folder" placeholder="/absolute/folder" value={value.outDir} onChange={(e) => onChange({ ...value, outDir: e.target.value })} required />
      <select aria-label="export format" value={value.format} onChange={(e) => onChange({ ...value, format: e.target.value as ExportFormat })}>
        {EXPORT_FORMATS.map((f) => <option key={f} value={f}>{f}</option>)}
      </select>
      <label><input type="checkbox" checked={value.zip} onChange={(e) => onChange({ ...value, zip: e.target.checked })} /> also a zip</label>
      <button type="submit" disabled={busy}>{busy ? 'Exporting…' : what ? `Export ${what}` : 'Export'}</button>
    </form>
  );
}
