/** Where the window remembers that the teacher grades without names (one choice for all exams). */
const STORAGE_KEY = 'gradedesk.anonymousReview';

type Store = Pick<Storage, 'getItem' | 'setItem'>;

function defaultStore(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** Whether review hides the students' names: off unless the teacher turned it on. */
export function loadAnonymous(store: Store | null = defaultStore()): boolean {
  try {
    return store?.getItem(STORAGE_KEY) === '1';
  } catch {
    return false;
  }
}

/** Remembers the teacher's choice; a window without storage just forgets it. */
export function saveAnonymous(on: boolean, store: Store | null = defaultStore()): void {
  try {
    store?.setItem(STORAGE_KEY, on ? '1' : '0');
  } catch {
    // Private mode or a full disk: the toggle still works for this session.
  }
}

/** The name review shows: the student's, or only the script's number when names are hidden. */
export function reviewName(student: string, submissionId: number, anonymous: boolean): string {
  if (anonymous) return `Script #${submissionId}`;
  return student.trim() !== '' ? student : 'Unnamed student';
}
