import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { toast } from 'sonner';
import { errorMessage, exportFeedback, exportFolder, exportGradebook } from '../api';
import type { Exam, Format } from '../api/types';
import { FORMAT_LABELS, suggestedFeedbackFolder, suggestedFile } from '../lib/stats';

/** The export menu: a gradebook format written to a file, or the feedback PDFs written to a
 * folder. Paths are typed (the suggestion is GradeDesk in the Downloads folder): the window
 * has no native save dialog. */
export function ExportMenu({ exam }: { exam: Exam }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const [format, setFormat] = useState<Format>('csv');
  // What the teacher typed; until then the suggestion follows the exam and the format.
  const [typedFile, setTypedFile] = useState<string | null>(null);
  const [typedFolder, setTypedFolder] = useState<string | null>(null);
  const [busy, setBusy] = useState<'file' | 'pdf' | null>(null);
  const base = useQuery({ queryKey: ['export-folder'], queryFn: exportFolder, staleTime: Infinity });

  const file = typedFile ?? (base.data === undefined ? '' : suggestedFile(base.data, exam.name, format));
  const folder = typedFolder ?? (base.data === undefined ? '' : suggestedFeedbackFolder(base.data, exam.name));

  useEffect(() => {
    if (!open) return;
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open]);

  const writeFile = async () => {
    setBusy('file');
    try {
      const done = await exportGradebook(exam.id, format, file);
      toast.success(`Exported ${done.rows} rows`, { description: done.path });
    } catch (err) {
      toast.error('Export failed', { description: errorMessage(err) });
    } finally {
      setBusy(null);
    }
  };
  const writePdfs = async () => {
    setBusy('pdf');
    try {
      const done = await exportFeedback(exam.id, folder);
      toast.success(`Wrote ${done.students} feedback PDFs and the class PDF`, { description: done.class_pdf });
    } catch (err) {
      toast.error('Feedback PDFs failed', { description: errorMessage(err) });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="export-menu">
      <button
        type="button"
        className="btn btn-primary"
        aria-expanded={open}
        aria-controls={`${id}-panel`}
        data-testid="export-open"
        onClick={() => setOpen((o) => !o)}
      >
        Export ▾
      </button>
      {open && (
        <div className="export-panel card" id={`${id}-panel`} role="group" aria-label="Export" data-testid="export-panel">
          <h2 className="card-title">Gradebook</h2>
          <div className="field">
            <label htmlFor={`${id}-format`}>Format</label>
            <select
              id={`${id}-format`}
              data-testid="export-format"
              value={format}
              onChange={(e) => setFormat(e.target.value as Format)}
            >
              {FORMAT_LABELS.map((f) => (
                <option key={f.format} value={f.format}>
                  {f.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={`${id}-file`}>Save as</label>
            <input
              id={`${id}-file`}
              data-testid="export-file"
              value={file}
              spellCheck={false}
              onChange={(e) => setTypedFile(e.target.value)}
            />
          </div>
          <button type="button" className="btn" disabled={busy !== null || file.trim() === ''} onClick={() => void writeFile()} data-testid="export-write">
            {busy === 'file' ? 'Exporting…' : 'Export gradebook'}
          </button>
          <h2 className="card-title export-gap">Feedback PDFs</h2>
          <p className="hint">A PDF per student (answer crops, scores, rubric, feedback, your notes) and one for the class.</p>
          <div className="field">
            <label htmlFor={`${id}-folder`}>Into folder</label>
            <input
              id={`${id}-folder`}
              data-testid="export-folder"
              value={folder}
              spellCheck={false}
              onChange={(e) => setTypedFolder(e.target.value)}
            />
          </div>
          <button type="button" className="btn" disabled={busy !== null || folder.trim() === ''} onClick={() => void writePdfs()} data-testid="export-pdfs">
            {busy === 'pdf' ? 'Writing PDFs…' : 'Write feedback PDFs'}
          </button>
        </div>
      )}
    </div>
  );
}
