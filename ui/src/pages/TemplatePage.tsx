import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type ChangeEvent } from 'react';
import { toast } from 'sonner';
import {
  addRegion,
  deleteRegion,
  errorMessage,
  importClass,
  moveRegion,
  regionImpact,
  setTemplate,
  setTemplateFromSubmission,
  templateImageUrl,
  templateView,
} from '../api';
import type { Bbox, ClassImport, Exam, Region, TemplateView } from '../api/types';
import { CropStage, type DrawnBox, type Selection, type StageItem } from '../components/CropStage';
import { ACCEPTED_SCANS } from '../components/ImportButton';
import { MatchingPanel } from '../components/MatchingPanel';
import { SplitReviewPanel, splitQueryKey } from '../components/SplitReview';
import { isTypingTarget } from '../lib/cropKeys';
import { pluralize } from '../lib/format';
import { clampBox, isTooSmall } from '../lib/geometry';
import {
  nextTarget,
  regionCaption,
  regionTargets,
  regradeWarning,
  targetKey,
  targetLabel,
  type RegionTarget,
} from '../lib/regions';
import { useLiveData } from '../live/LiveContext';

export const templateQueryKey = (examId: number) => ['template', examId] as const;

type Tab = 'template' | 'class' | 'names';

const TAB_TITLE: Record<Tab, string> = { template: 'Template', class: 'Class', names: 'Names' };

type Props = {
  exam: Exam;
  onBack: () => void;
  /** The tab to open on (the class tab after a drop of the class's scans). */
  initialTab?: Tab;
  /** Where the page tells the window how to import a drop of the class (null: it can't yet). */
  onClassDropTarget?: (target: ((result: ClassImport) => void) | null) => void;
};

/**
 * An exam's Template page: the blank exam, the regions drawn on it once (each question's
 * answer, the student's name and ID), and the class: one import for every student's pages,
 * then the split review before grading starts.
 */
export function TemplatePage({ exam, onBack, initialTab = 'template', onClassDropTarget }: Props) {
  const view = useQuery({ queryKey: templateQueryKey(exam.id), queryFn: () => templateView(exam.id) });
  const [tab, setTab] = useState<Tab>(initialTab);
  const client = useQueryClient();
  const hasRegions = (view.data?.regions.length ?? 0) > 0;

  // A class dropped on the window while this page shows an exam with regions: imported here.
  useEffect(() => {
    if (!onClassDropTarget) return;
    if (!hasRegions) {
      onClassDropTarget(null);
      return;
    }
    onClassDropTarget((result) => {
      announceImport(result);
      setTab('class');
      void client.invalidateQueries({ queryKey: splitQueryKey(exam.id) });
    });
    return () => onClassDropTarget(null);
  }, [onClassDropTarget, hasRegions, exam.id, client]);

  return (
    <div className="page template-page">
      <div className="toolbar">
        <button type="button" className="btn btn-ghost" onClick={onBack} data-testid="back-button">
          ← Exams
        </button>
        <h1 className="page-title">{exam.name}</h1>
        <div className="tabs" role="tablist" aria-label="Template, class and names">
          {(['template', 'class', 'names'] as const).map((t) => (
            <button
              key={t}
              type="button"
              role="tab"
              className="tab"
              aria-selected={tab === t}
              data-testid={`tab-${t}`}
              onClick={() => setTab(t)}
            >
              {TAB_TITLE[t]}
            </button>
          ))}
        </div>
      </div>
      {view.isPending ? (
        <p className="empty">Loading the template…</p>
      ) : view.isError ? (
        <div className="banner banner-error" role="alert">
          <span>{errorMessage(view.error)}</span>
          <button type="button" className="btn btn-small" onClick={() => void view.refetch()}>
            Try again
          </button>
        </div>
      ) : tab === 'template' ? (
        view.data.pages.length === 0 ? (
          <BlankExamForm exam={exam} />
        ) : (
          <RegionEditor exam={exam} view={view.data} onImported={() => setTab('class')} />
        )
      ) : tab === 'class' ? (
        <ClassTab exam={exam} view={view.data} />
      ) : (
        <MatchingPanel exam={exam} />
      )}
    </div>
  );
}

/** Tells the teacher what a class import found. */
function announceImport(result: ClassImport) {
  const answers = result.submissions.reduce((n, s) => n + s.answers, 0);
  const flagged = result.submissions.filter((s) => s.flags.length > 0).length;
  const parts = [pluralize(answers, 'answer'), `${flagged} with something to look at`];
  if (result.unassigned.length > 0) parts.push(`${pluralize(result.unassigned.length, 'page')} nobody got`);
  toast.success(`Imported ${pluralize(result.submissions.length, 'student')}`, {
    description: `${parts.join(', ')}. Check the split, then confirm to start grading.`,
  });
  for (const w of result.warnings) toast.warning(w, { duration: 12000 });
}

/** Step 1: the blank exam (its PDF or a scan), or one imported student's pages. */
function BlankExamForm({ exam }: { exam: Exam }) {
  const id = useId();
  const client = useQueryClient();
  const live = useLiveData();
  const submissions = (live.snapshot?.submissions ?? []).filter((s) => s.exam_id === exam.id);
  const [from, setFrom] = useState<number | null>(null);
  const done = async (pages: number) => {
    toast.success(`The template has ${pluralize(pages, 'page')}`, { description: 'Now draw each answer’s region once.' });
    await client.invalidateQueries({ queryKey: templateQueryKey(exam.id) });
  };
  const upload = useMutation({
    mutationFn: (files: File[]) => setTemplate(exam.id, files),
    onSuccess: (set) => done(set.pages),
    onError: (err) => toast.error('Could not set the template', { description: errorMessage(err) }),
  });
  const promote = useMutation({
    mutationFn: (submissionId: number) => setTemplateFromSubmission(exam.id, submissionId),
    onSuccess: (set) => done(set.pages),
    onError: (err) => toast.error('Could not set the template', { description: errorMessage(err) }),
  });
  function onChange(e: ChangeEvent<HTMLInputElement>) {
    const files = Array.from(e.currentTarget.files ?? []);
    e.currentTarget.value = '';
    if (files.length > 0) upload.mutate(files);
  }
  const chosen = from ?? submissions[0]?.id ?? null;
  return (
    <section className="card template-start" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="card-title">
        Give the blank exam
      </h2>
      <p className="hint">
        The exam as the students got it — the PDF from your word processor, or a scan of a blank copy. You draw
        each answer’s region on it once; every student’s pages are then lined up with it.
      </p>
      <label htmlFor={`${id}-file`} className={`btn btn-primary file-button${upload.isPending ? ' is-disabled' : ''}`}>
        <input
          id={`${id}-file`}
          className="visually-hidden"
          type="file"
          multiple
          accept={ACCEPTED_SCANS}
          data-testid="template-input"
          onChange={onChange}
          disabled={upload.isPending}
        />
        {upload.isPending ? 'Reading the blank exam…' : 'Choose the blank exam…'}
      </label>
      {submissions.length > 0 && (
        <div className="field template-from">
          <label htmlFor={`${id}-from`}>or use a student’s scan</label>
          <select id={`${id}-from`} value={chosen ?? ''} onChange={(e) => setFrom(Number(e.target.value))}>
            {submissions.map((s) => (
              <option key={s.id} value={s.id}>
                {s.student} ({s.file_name})
              </option>
            ))}
          </select>
          <button
            type="button"
            className="btn"
            disabled={chosen === null || promote.isPending}
            onClick={() => chosen !== null && promote.mutate(chosen)}
          >
            Use as template
          </button>
        </div>
      )}
    </section>
  );
}

/** A region as the stage draws it. */
type RegionBox = StageItem & { region: Region };

/** Step 2: the template's pages with their regions, drawn with the crop page's tools. */
function RegionEditor({ exam, view, onImported }: { exam: Exam; view: TemplateView; onImported: () => void }) {
  const id = useId();
  const client = useQueryClient();
  const pages = view.pages;
  const [pageIndex, setPageIndex] = useState(0);
  const page = pages[Math.min(pageIndex, pages.length - 1)];
  const targets = regionTargets(exam.questions);
  const [target, setTarget] = useState<RegionTarget | null>(null);
  const current = target ?? nextTarget(targets, view.regions, targets[targets.length - 1] ?? targets[0]!);
  const [draft, setDraft] = useState<DrawnBox | null>(null);
  const [selection, setSelection] = useState<Selection | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const refresh = () => client.invalidateQueries({ queryKey: templateQueryKey(exam.id) });

  const boxes: RegionBox[] = view.regions
    .filter((r) => page !== undefined && r.page === page.number)
    .map((r) => ({
      item_id: r.region_id,
      bbox: r.bbox,
      question_label: regionCaption(r, view.regions),
      state: 'done',
      region: r,
    }));

  const add = useMutation({
    mutationFn: ({ box, t }: { box: Bbox; t: RegionTarget }) =>
      addRegion(exam.id, page?.number ?? 1, t.kind, t.questionLabel, clampBox(box)),
    onSuccess: async (_id, { t }) => {
      setDraft(null);
      setMessage(null);
      const fresh = await client.fetchQuery({ queryKey: templateQueryKey(exam.id), queryFn: () => templateView(exam.id) });
      setTarget(nextTarget(targets, fresh.regions, t));
      toast.success(`${targetLabel(t)} region drawn`, { id: 'region-drawn' });
    },
    onError: (err) => {
      setMessage(errorMessage(err));
      toast.error('Could not add the region', { description: errorMessage(err) });
    },
  });

  /** Asks first when the edit would grade graded answers again. */
  async function confirmRegrade(regionId: number, action: 'move' | 'delete'): Promise<boolean> {
    if (view.students === 0) return true;
    const impact = await regionImpact(regionId);
    const warning = regradeWarning(impact.graded, impact.answers, action);
    return warning === null || window.confirm(warning);
  }

  const edit = useMutation({
    mutationFn: async ({ regionId, box }: { regionId: number; box: Bbox | null }) => {
      if (!(await confirmRegrade(regionId, box === null ? 'delete' : 'move'))) return null;
      return box === null ? deleteRegion(regionId) : moveRegion(regionId, clampBox(box));
    },
    onSuccess: async (recut, { box }) => {
      setSelection(null);
      if (recut === null) return;
      const what = box === null ? 'Region deleted' : 'Region changed';
      toast.success(what, recut > 0 ? { description: `${pluralize(recut, 'answer')} cut again and queued` } : {});
      await refresh();
    },
    onError: async (err) => {
      setMessage(errorMessage(err));
      toast.error('Could not change the region', { description: errorMessage(err) });
      await refresh();
    },
  });

  function onDraw(drawn: DrawnBox) {
    if (isTooSmall(drawn.box, drawn.displayed)) {
      setDraft(null);
      setMessage('That region is too small. Drag across the whole answer space.');
      return;
    }
    // One drag, one region: it is saved for the target the menu shows.
    add.mutate({ box: drawn.box, t: current });
  }

  // PageDown/PageUp (and ] [) go through the template's pages.
  const keyRef = useRef<(e: KeyboardEvent) => void>(() => undefined);
  useEffect(() => {
    keyRef.current = (e: KeyboardEvent) => {
      if (e.defaultPrevented || isTypingTarget(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const delta = e.key === 'PageDown' || e.key === ']' ? 1 : e.key === 'PageUp' || e.key === '[' ? -1 : 0;
      if (delta === 0) return;
      const next = pageIndex + delta;
      if (next < 0 || next >= pages.length) return;
      e.preventDefault();
      setPageIndex(next);
      setDraft(null);
      setSelection(null);
    };
  });
  useEffect(() => {
    const listener = (e: KeyboardEvent) => keyRef.current(e);
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, []);

  if (!page) return <p className="empty">The template has no pages.</p>;
  const answerRegions = view.regions.filter((r) => r.kind === 'answer');
  const missing = exam.questions.filter((q) => !answerRegions.some((r) => r.question_label === q.label));

  return (
    <div className="workspace">
      <section className="viewer card" aria-label="Template page">
        <div className="viewer-bar">
          <nav className="pager" aria-label="Template pages">
            {pages.map((p, k) => (
              <button
                key={p.id}
                type="button"
                className="btn btn-small"
                aria-current={k === pageIndex ? 'page' : undefined}
                data-testid={`template-page-${p.number}`}
                onClick={() => {
                  setPageIndex(k);
                  setSelection(null);
                }}
              >
                Page {p.number}
              </button>
            ))}
          </nav>
        </div>
        <div className="viewer-body">
          <CropStage<RegionBox>
            src={templateImageUrl(page.id)}
            alt={`Template page ${page.number}`}
            pageWidth={page.width}
            pageHeight={page.height}
            zoom={1}
            items={boxes}
            highlightId={null}
            draft={draft?.box ?? null}
            onDraw={onDraw}
            onDraftChange={(box) => {
              if (box === null) setDraft(null);
              else setDraft({ box: clampBox(box), displayed: draft?.displayed ?? { width: 1000, height: 1000 } });
            }}
            selection={selection}
            onSelect={(b) => setSelection(b === null ? null : { itemId: b.item_id, box: b.bbox })}
            onEditChange={(box) => selection && setSelection({ ...selection, box })}
            onEditCommit={(box) => selection && edit.mutate({ regionId: selection.itemId, box })}
            onDelete={(b) => edit.mutate({ regionId: b.item_id, box: null })}
            statusText={(b) => (b.region.kind === 'answer' ? 'answer' : 'identity')}
            boxName="region"
          />
        </div>
      </section>
      <aside className="side" aria-label="Regions">
        <section className="card" aria-labelledby={`${id}-draw`}>
          <h2 id={`${id}-draw`} className="card-title">
            Draw the regions once
          </h2>
          <p className="hint">
            Drag a box around each answer space: the box is saved for the region below, and the next one is picked for
            you. A question continued on the next page: choose it again and draw there too.
          </p>
          <div className="field">
            <label htmlFor={`${id}-target`}>Next region</label>
            <select
              id={`${id}-target`}
              data-testid="region-target"
              value={targetKey(current)}
              onChange={(e) => setTarget(targets.find((t) => targetKey(t) === e.target.value) ?? null)}
            >
              {targets.map((t) => (
                <option key={targetKey(t)} value={targetKey(t)}>
                  {targetLabel(t)}
                  {t.kind === 'answer' ? ` — ${exam.questions.find((q) => q.label === t.questionLabel)?.prompt ?? ''}` : ''}
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            className="btn btn-block"
            data-testid="add-region-keyboard"
            onClick={() => add.mutate({ box: draft?.box ?? { x: 0.1, y: 0.1, w: 0.8, h: 0.2 }, t: current })}
          >
            Add {targetLabel(current)} region {draft ? 'here' : 'in the middle of the page'}
          </button>
          {message !== null && (
            <p className="form-error" role="alert" data-testid="region-message">
              {message}
            </p>
          )}
          {missing.length > 0 && (
            <p className="muted" data-testid="regions-missing">
              No region yet: {missing.map((q) => q.label).join(', ')}
            </p>
          )}
        </section>
        <section className="card" aria-labelledby={`${id}-list`}>
          <h2 id={`${id}-list`} className="card-title">
            {pluralize(view.regions.length, 'region')}
          </h2>
          <ol className="region-list" data-testid="region-list">
            {view.regions.map((r) => (
              <li key={r.region_id} data-testid={`region-row-${r.region_id}`}>
                <span>{regionCaption(r, view.regions)}</span>
                <span className="muted">page {r.page}</span>
                <button
                  type="button"
                  className="btn btn-small btn-ghost"
                  aria-label={`Delete the ${regionCaption(r, view.regions)} region on page ${r.page}`}
                  onClick={() => edit.mutate({ regionId: r.region_id, box: null })}
                >
                  Delete
                </button>
              </li>
            ))}
          </ol>
        </section>
        <ClassImportCard exam={exam} disabled={answerRegions.length === 0} onImported={onImported} />
      </aside>
    </div>
  );
}

/** Step 3: one import for the whole class (the file chooser, or a drop on the window). */
function ClassImportCard({ exam, disabled, onImported }: { exam: Exam; disabled: boolean; onImported: () => void }) {
  const id = useId();
  const client = useQueryClient();
  const run = useMutation({
    mutationFn: (files: File[]) => importClass(exam.id, files),
    onSuccess: async (result) => {
      announceImport(result);
      await client.invalidateQueries({ queryKey: splitQueryKey(exam.id) });
      onImported();
    },
    onError: (err) => toast.error('Could not import the class', { description: errorMessage(err), duration: 12000 }),
  });
  function onChange(e: ChangeEvent<HTMLInputElement>) {
    const files = Array.from(e.currentTarget.files ?? []);
    e.currentTarget.value = '';
    if (files.length > 0) run.mutate(files);
  }
  return (
    <section className="card" aria-labelledby={`${id}-class`}>
      <h2 id={`${id}-class`} className="card-title">
        Import the class
      </h2>
      <p className="hint">
        One scanner PDF with every student’s pages (or several files), chosen here or dropped on the window. Pages are
        matched to the template, split into students and lined up; you check the split before grading starts.
      </p>
      <label
        htmlFor={`${id}-file`}
        className={`btn btn-primary btn-block file-button${disabled || run.isPending ? ' is-disabled' : ''}`}
      >
        <input
          id={`${id}-file`}
          className="visually-hidden"
          type="file"
          multiple
          accept={ACCEPTED_SCANS}
          data-testid="class-input"
          onChange={onChange}
          disabled={disabled || run.isPending}
        />
        {run.isPending ? (
          <>
            <span className="spinner" aria-hidden="true" /> Reading the class…
          </>
        ) : (
          'Import the class…'
        )}
      </label>
      {disabled && <p className="muted">Draw at least one answer region first.</p>}
    </section>
  );
}

/** The Class tab: the split review (or how to get there). */
function ClassTab({ exam, view }: { exam: Exam; view: TemplateView }) {
  if (view.pages.length === 0) {
    return <p className="empty">Give the blank exam on the Template tab first.</p>;
  }
  return <SplitReviewPanel exam={exam} templatePages={view.pages.length} />;
}
