import { useCallback, useEffect, useRef, useState } from 'react';
import { toast, Toaster } from 'sonner';
import { notifyDesktop } from './api';
import { DropZone } from './components/DropZone';
import { Header } from './components/Header';
import { batchMessage, EMPTY_BATCH, trackBatch, type BatchSummary } from './lib/batch';
import { announceFinished } from './lib/notify';
import { LiveContext } from './live/LiveContext';
import { useBatchFinished, useBatchOverview } from './live/useBatchOverview';
import { useLive } from './live/useLive';
import { CropPage } from './pages/CropPage';
import { ExamsPage } from './pages/ExamsPage';
import { ReviewPage } from './pages/ReviewPage';
import { SettingsPage } from './pages/SettingsPage';
import { TemplatePage } from './pages/TemplatePage';
import type { ClassImport } from './api/types';
import { StatsPage } from './pages/StatsPage';

type Route =
  | { name: 'exams' }
  | { name: 'crop'; submissionId: number }
  | { name: 'template'; examId: number }
  | { name: 'review' }
  | { name: 'stats' }
  | { name: 'settings' };

/** Tells the teacher a batch finished: a toast in the window, and a desktop notification
 * (which may silently not appear, e.g. with no notification service: the toast remains). */
function announceBatch(summary: BatchSummary): void {
  const { title, body } = batchMessage(summary);
  if (summary.failed > 0) toast.warning(title, { description: body, id: 'batch-finished', duration: 10000 });
  else toast.success(title, { description: body, id: 'batch-finished', duration: 8000 });
  void notifyDesktop(title, body);
}

/** Marks when the first snapshot was painted (the end-to-end test reads it: start to interactive). */
export const FIRST_SNAPSHOT_MARK = 'gradedesk:first-snapshot';

export function App() {
  const live = useLive({ onItemFinished: announceFinished });
  const [route, setRoute] = useState<Route>({ name: 'exams' });
  const [examId, setExamId] = useState<number | null>(null);
  const exams = live.snapshot?.exams ?? [];
  const reviewExam = exams.find((e) => e.id === examId) ?? exams[0] ?? null;
  const batch = useRef(EMPTY_BATCH);
  const items = live.snapshot?.items;
  const loaded = live.snapshot !== null;
  // Set by the Template page while a drop on the window is the class's scans.
  const [classDrop, setClassDrop] = useState<{ onImported: (result: ClassImport) => void } | null>(null);
  const onClassDropTarget = useCallback(
    (target: ((result: ClassImport) => void) | null) => setClassDrop(target === null ? null : { onImported: target }),
    [],
  );
  const templateExam = route.name === 'template' ? (exams.find((e) => e.id === route.examId) ?? null) : null;

  // A Gemini batch whose results came in: a toast and a desktop notification.
  const batches = useBatchOverview(live.snapshot?.seq ?? 0);
  const announceGeminiBatch = useCallback((title: string, body: string) => {
    toast.success(title, { description: body, id: `gemini-batch-${title}-${body}`, duration: 10000 });
    void notifyDesktop(title, body);
  }, []);
  useBatchFinished(batches.data, announceGeminiBatch);

  useEffect(() => {
    if (items === undefined) return;
    const { state, finished } = trackBatch(batch.current, items);
    batch.current = state;
    if (finished !== null) announceBatch(finished);
  }, [items]);

  useEffect(() => {
    if (!loaded || performance.getEntriesByName(FIRST_SNAPSHOT_MARK).length > 0) return;
    requestAnimationFrame(() => performance.mark(FIRST_SNAPSHOT_MARK));
  }, [loaded]);

  return (
    <LiveContext.Provider value={live}>
      <div className="app">
        <Header
          onHome={() => setRoute({ name: 'exams' })}
          current={route.name}
          onNavigate={(name) => setRoute({ name } as Route)}
        />
        <main className="app-main" id="main">
          {live.error !== null && (
            <div className="banner banner-error" role="alert" data-testid="error-banner">
              <strong>Can’t reach the GradeDesk core.</strong> <span>{live.error}</span>
              <button type="button" className="btn btn-small" onClick={live.refresh}>
                Try again
              </button>
            </div>
          )}
          {route.name === 'exams' ? (
            <ExamsPage
              selectedExamId={examId}
              onSelectExam={setExamId}
              onOpenSubmission={(submissionId) => setRoute({ name: 'crop', submissionId })}
              onOpenTemplate={(id) => {
                setExamId(id);
                setRoute({ name: 'template', examId: id });
              }}
            />
          ) : route.name === 'template' ? (
            templateExam === null ? (
              <p className="empty">This exam is gone.</p>
            ) : (
              <TemplatePage
                key={templateExam.id}
                exam={templateExam}
                onBack={() => setRoute({ name: 'exams' })}
                onClassDropTarget={onClassDropTarget}
              />
            )
          ) : route.name === 'settings' ? (
            <SettingsPage />
          ) : route.name === 'stats' ? (
            <StatsPage
              key={reviewExam?.id ?? 0}
              exam={reviewExam}
              exams={exams}
              onSelectExam={setExamId}
              onBack={() => setRoute({ name: 'exams' })}
            />
          ) : route.name === 'review' ? (
            <ReviewPage
              key={reviewExam?.id ?? 0}
              exam={reviewExam}
              exams={exams}
              onSelectExam={setExamId}
              onBack={() => setRoute({ name: 'exams' })}
            />
          ) : (
            <CropPage
              key={route.submissionId}
              submissionId={route.submissionId}
              onBack={() => setRoute({ name: 'exams' })}
              onOpenSubmission={(submissionId) => setRoute({ name: 'crop', submissionId })}
            />
          )}
        </main>
        <DropZone exam={templateExam ?? reviewExam} classImport={templateExam !== null ? classDrop : null} />
        <Toaster position="bottom-right" richColors closeButton />
      </div>
    </LiveContext.Provider>
  );
}
