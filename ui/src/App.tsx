import { useState } from 'react';
import { Toaster } from 'sonner';
import { Header } from './components/Header';
import { announceFinished } from './lib/notify';
import { LiveContext } from './live/LiveContext';
import { useLive } from './live/useLive';
import { CropPage } from './pages/CropPage';
import { ExamsPage } from './pages/ExamsPage';
import { ReviewPage } from './pages/ReviewPage';
import { SettingsPage } from './pages/SettingsPage';

type Route = { name: 'exams' } | { name: 'crop'; submissionId: number } | { name: 'review' } | { name: 'settings' };

export function App() {
  const live = useLive({ onItemFinished: announceFinished });
  const [route, setRoute] = useState<Route>({ name: 'exams' });
  const [examId, setExamId] = useState<number | null>(null);
  const exams = live.snapshot?.exams ?? [];
  const reviewExam = exams.find((e) => e.id === examId) ?? exams[0] ?? null;

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
            />
          ) : route.name === 'settings' ? (
            <SettingsPage />
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
            />
          )}
        </main>
        <Toaster position="bottom-right" richColors closeButton />
      </div>
    </LiveContext.Provider>
  );
}
