import { useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { errorMessage, renameStudent } from '../api';

/** The student's name as a heading, with an inline "Rename" form. */
export function StudentName({
  submissionId,
  student,
  fileName,
  queryKey,
}: {
  submissionId: number;
  student: string;
  fileName: string;
  queryKey: readonly unknown[];
}) {
  const id = useId();
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(student);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() === '') {
      setError('Enter the student’s name.');
      return;
    }
    setSaving(true);
    try {
      await renameStudent(submissionId, name.trim());
      await client.invalidateQueries({ queryKey });
      setEditing(false);
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setSaving(false);
    }
  };

  if (!editing) {
    return (
      <>
        <h1 className="crop-title">
          {student.trim() !== '' ? student : 'Unnamed student'}
          <span className="muted"> · {fileName}</span>
        </h1>
        <button
          type="button"
          className="btn btn-small btn-ghost"
          data-testid="rename-student"
          aria-label="Rename the student"
          onClick={() => {
            setName(student);
            setEditing(true);
          }}
        >
          Rename
        </button>
      </>
    );
  }
  return (
    <form className="rename-form" onSubmit={(e) => void save(e)}>
      <label htmlFor={`${id}-name`} className="sr-only">
        Student’s name
      </label>
      <input
        id={`${id}-name`}
        data-testid="student-name-input"
        value={name}
        autoFocus
        maxLength={200}
        onChange={(e) => setName(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setEditing(false);
        }}
      />
      <button type="submit" className="btn btn-small btn-primary" disabled={saving} data-testid="student-name-save">
        Save
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={() => setEditing(false)}>
        Cancel
      </button>
      {error !== null && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
