import { useState } from 'preact/hooks';
import type { ParleyApi } from './api';
import { report, type ReportReason } from './hostSite';
import './hostSite.css';

/**
 * The complaint form (Star.Comet's "report" button): about the dialogue's peer, or one of their messages.
 * It files a report (moderation's complaints list) and, unless unticked, blocks the peer.
 */
export function ReportForm({
  api,
  peer,
  name,
  messageIds,
  onClose,
}: {
  api: Pick<ParleyApi, 'call' | 'creds'>;
  peer: string;
  name: string;
  messageIds: string[];
  onClose: (sent: boolean) => void;
}) {
  const [reason, setReason] = useState<ReportReason>('spam');
  const [text, setText] = useState('');
  const [block, setBlock] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const what = messageIds.length ? `a message from ${name}` : name;
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    report(api, { jid: peer, messageIds, reason, text, block }).then(
      () => onClose(true),
      (err: Error) => {
        setBusy(false);
        setProblem(err.message);
      },
    );
  };
  return (
    <form class="report-form" role="dialog" aria-label={`Report ${what}`} onSubmit={submit}>
      <strong>Report {what}</strong>
      <label>
        Reason{' '}
        <select value={reason} onChange={(e) => setReason(e.currentTarget.value as ReportReason)}>
          <option value="spam">Spam</option>
          <option value="abuse">Abuse</option>
          <option value="other">Other</option>
        </select>
      </label>
      <label>
        What happened (optional)
        <textarea value={text} maxLength={2000} rows={2} onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <label class="report-block">
        <input type="checkbox" checked={block} onChange={(e) => setBlock(e.currentTarget.checked)} /> Also
        block {name}
      </label>
      {problem && (
        <span class="file-error" role="alert">
          {problem}
        </span>
      )}
      <div class="report-actions">
        <button type="submit" disabled={busy}>
          Send report
        </button>
        <button type="button" onClick={() => onClose(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
