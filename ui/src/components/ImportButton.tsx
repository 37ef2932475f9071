import { useQueryClient } from '@tanstack/react-query';
import { useId, useState, type ChangeEvent } from 'react';
import { toast } from 'sonner';
import { errorMessage, importFile } from '../api';
import { pluralize } from '../lib/format';
import { SNAPSHOT_QUERY_KEY } from '../live/useLive';

export const ACCEPTED_SCANS = '.jpg,.jpeg,.png,.pdf,.tif,.tiff,.webp';

type Progress = { done: number; total: number };

/** "Import scans": a styled file input; every chosen file is imported in turn. */
export function ImportButton({ examId }: { examId: number | null }) {
  const id = useId();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<Progress | null>(null);
  const disabled = examId === null || progress !== null;

  async function importAll(exam: number, files: File[]) {
    let imported = 0;
    for (const [i, file] of files.entries()) {
      setProgress({ done: i, total: files.length });
      try {
        const res = await importFile(exam, file);
        imported += 1;
        toast.success(`Imported ${res.file}`, { description: pluralize(res.pages, 'page') });
      } catch (err) {
        toast.error(`Could not import ${file.name}`, { description: errorMessage(err) });
      }
    }
    setProgress(null);
    if (imported > 0) await queryClient.invalidateQueries({ queryKey: SNAPSHOT_QUERY_KEY });
  }

  function onChange(e: ChangeEvent<HTMLInputElement>) {
    const files = Array.from(e.currentTarget.files ?? []);
    e.currentTarget.value = ''; // choosing the same file again fires onChange again
    if (examId === null || files.length === 0) return;
    void importAll(examId, files);
  }

  return (
    <div className="import">
      <label htmlFor={id} className={`btn btn-primary file-button${disabled ? ' is-disabled' : ''}`}>
        <input
          id={id}
          className="visually-hidden"
          type="file"
          multiple
          accept={ACCEPTED_SCANS}
          data-testid="import-input"
          onChange={onChange}
          disabled={disabled}
        />
        <span aria-hidden="true">⤒</span> Import scans
      </label>
      {progress !== null && (
        <span className="import-progress" role="status" aria-live="polite">
          <span className="spinner" aria-hidden="true" /> Importing {progress.done + 1} of {progress.total}…
        </span>
      )}
    </div>
  );
}
