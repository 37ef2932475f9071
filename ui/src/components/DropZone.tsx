import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { toast } from 'sonner';
import { errorMessage, hasBackend, importClassPaths, importPaths, onFileDrag } from '../api';
import type { ClassImport, Exam, FileDrag } from '../api/types';
import { pluralize } from '../lib/format';
import { dropRefusal, dropToasts, nextDragView, type DragView } from '../lib/drop';
import { SNAPSHOT_QUERY_KEY } from '../live/useLive';

type Props = {
  /** The exam dropped scans go into (the one selected on the Exams page). */
  exam: Exam | null;
  /** Set while the Template page shows an exam with regions: a drop is the whole class,
   * imported against the template, and reported to it. */
  classImport?: { onImported: (result: ClassImport) => void } | null;
  /** For tests: where drag events come from (default: the webview). */
  subscribe?: (handler: (drag: FileDrag) => void) => Promise<() => void>;
};

/**
 * Files and folders dropped anywhere on the window are imported into the selected exam; a
 * full-window overlay shows while they are dragged over it. The core expands folders and
 * reports every file it skipped or could not import.
 */
export function DropZone({ exam, classImport = null, subscribe = onFileDrag }: Props) {
  const client = useQueryClient();
  const [view, setView] = useState<DragView>({ over: false });
  const [busy, setBusy] = useState(false);
  // The drag listener is registered once; it reads the current exam and import from refs.
  const examRef = useRef(exam);
  const busyRef = useRef(false);
  const classRef = useRef(classImport);
  useEffect(() => {
    examRef.current = exam;
    classRef.current = classImport;
  }, [exam, classImport]);

  useEffect(() => {
    if (subscribe === onFileDrag && !hasBackend()) return;
    let stop: (() => void) | null = null;
    let gone = false;
    const handle = (drag: FileDrag) => {
      setView((v) => nextDragView(v, drag));
      if (drag.type !== 'drop' || drag.paths.length === 0) return;
      const target = examRef.current;
      const refusal = dropRefusal(target?.id ?? null, busyRef.current);
      if (refusal !== null || target === null) {
        toast.error(refusal ?? 'Choose an exam first.', { id: 'drop-refused' });
        return;
      }
      busyRef.current = true;
      setBusy(true);
      const asClass = classRef.current;
      if (asClass !== null) {
        const reading = toast.loading(`Reading the class into “${target.name}”…`);
        importClassPaths(target.id, drag.paths)
          .then(async (result) => {
            asClass.onImported(result);
            await client.invalidateQueries({ queryKey: SNAPSHOT_QUERY_KEY });
          })
          .catch((err: unknown) =>
            toast.error('Could not import the class', { description: errorMessage(err), duration: 12000 }),
          )
          .finally(() => {
            toast.dismiss(reading);
            busyRef.current = false;
            setBusy(false);
          });
        return;
      }
      const progress = toast.loading(`Importing ${pluralize(drag.paths.length, 'dropped item')} into “${target.name}”…`);
      importPaths(target.id, drag.paths)
        .then(async (report) => {
          for (const t of dropToasts(report)) {
            const opts = t.description === undefined ? {} : { description: t.description };
            if (t.kind === 'success') toast.success(t.message, opts);
            else if (t.kind === 'error') toast.error(t.message, { ...opts, duration: 12000 });
            else toast.info(t.message, { ...opts, duration: 8000 });
          }
          if (report.imported.length > 0) await client.invalidateQueries({ queryKey: SNAPSHOT_QUERY_KEY });
        })
        .catch((err: unknown) => toast.error('The drop could not be imported', { description: errorMessage(err) }))
        .finally(() => {
          toast.dismiss(progress);
          busyRef.current = false;
          setBusy(false);
        });
    };
    subscribe(handle)
      .then((unlisten) => {
        if (gone) unlisten();
        else stop = unlisten;
      })
      .catch(() => {
        /* no drag and drop in this webview: the Import button still works */
      });
    return () => {
      gone = true;
      stop?.();
    };
  }, [subscribe, client]);

  if (!view.over) return null;
  const refusal = dropRefusal(exam?.id ?? null, busy);
  return (
    <div className={`drop-overlay${refusal ? ' is-refused' : ''}`} data-testid="drop-overlay" role="status" aria-live="polite">
      {refusal === null ? (
        <>
          <strong>
            {classImport !== null ? 'Drop to import the whole class' : 'Drop to import'}
            {view.count > 0 ? ` ${pluralize(view.count, 'item')}` : ''}
          </strong>
          <span>
            {classImport !== null
              ? `into “${exam?.name}”: every page is matched to the template and split into students`
              : `into “${exam?.name}” — files and whole folders of scans (JPEG, PNG, TIFF, WebP, HEIC, PDF)`}
          </span>
        </>
      ) : (
        <strong>{refusal}</strong>
      )}
    </div>
  );
}
