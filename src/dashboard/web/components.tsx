/** The pieces every page uses: status badges, errors, times, a table, a confirmation dialog. */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { formatDuration } from '../timeline';

const STATUS_TONE: Record<string, string> = {
  COMPLETED: 'ok',
  RUNNING: 'run',
  PENDING: 'wait',
  SUBMITTED: 'wait',
  ACCEPTED: 'wait',
  QUEUED: 'wait',
  CANCEL_PENDING: 'wait',
  FAILED: 'bad',
  TIMED_OUT: 'bad',
  INTERRUPTED: 'bad',
  REJECTED: 'bad',
  CANCELLED: 'off',
};

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge tone-${STATUS_TONE[status] ?? 'off'}`}>{status}</span>;
}

export function ErrorBox({ error, what }: { error?: Error | undefined; what?: string }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      {what ? <strong>{what}: </strong> : null}
      {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" aria-live="polite">Loading {what}...</p>;
}

/** An ISO time as the reader's local time, the exact UTC time on hover. */
export function Time({ at }: { at: string | undefined }) {
  if (!at) return <span class="muted">-</span>;
  const date = new Date(at);
  return (
    <time dateTime={at} title={at}>
      {date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })}
    </time>
  );
}

export function Duration({ ms }: { ms: number | undefined }) {
  return ms === undefined ? <span class="muted">-</span> : <span>{formatDuration(ms)}</span>;
}

/** The role's name, the whole ARN on hover: tables stay readable. */
export function Arn({ arn }: { arn: string | undefined }) {
  if (!arn) return <span class="muted">-</span>;
  const name = arn.replace(/^arn:aws[\w-]*:(iam|sts)::\d{12}:/, '');
  return <span title={arn}>{name}</span>;
}

/**
 * A labelled choice of plain values (a native <select>: keyboard and screen readers as usual). `none`, if given, is
 * the label of the empty choice; `show` says a value for people.
 */
export function Choice(props: { label: string; value: string; values: readonly string[]; onChange: (value: string) => void; none?: string; show?: (value: string) => string; required?: boolean }) {
  return (
    <label>
      {props.label}
      <select value={props.value} required={props.required} onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}>
        {props.none !== undefined ? <option value="">{props.none}</option> : null}
        {props.values.map((v) => (
          <option key={v} value={v}>
            {props.show ? props.show(v) : v}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A table's column headings. */
export function Head({ columns }: { columns: readonly string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c, i) => (
          <th key={`${i}-${c}`} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section aria-label={title}>
      <div class="section-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/**
 * Asks before doing: the native <dialog> (modal, focus kept inside, Escape cancels). Shown while `open`; the
 * confirming button is focused first.
 */
export function ConfirmDialog(props: { open: boolean; title: string; children: ComponentChildren; confirm: string; dismiss: string; onConfirm: () => void; onCancel: () => void; danger?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Each dialog its own title id: a page has several (cancel, rerun), and a shared id would name them all alike.
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={props.onCancel} onClose={() => props.open && props.onCancel()}>
      <h2 id={titleId}>{props.title}</h2>
      <div>{props.children}</div>
      <div class="dialog-actions">
        <button type="button" onClick={props.onCancel}>
          {props.dismiss}
        </button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} autoFocus onClick={props.onConfirm}>
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}
