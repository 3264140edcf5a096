import { useLayoutEffect, useRef } from 'preact/hooks';
import type { FileLoader } from './attachments';
import { AttachmentList } from './AttachmentList';
import type { Msg, Thread } from './store';
import { time } from './ui';

const TICKS: Record<string, { text: string; label: string }> = {
  sending: { text: '…', label: 'sending' },
  sent: { text: '✓', label: 'sent' },
  delivered: { text: '✓✓', label: 'delivered' },
  displayed: { text: '✓✓', label: 'read' },
  failed: { text: '!', label: 'not sent' },
};

/** The message log: loads older pages when scrolled to the top, keeps the reading position, follows new ones. */
export function MessageLog({
  thread,
  onOlder,
  label,
  room,
  files,
  onReport,
}: {
  thread: Thread;
  onOlder: () => void;
  label: string;
  room?: boolean;
  files: FileLoader;
  /** a "Report" button on each received message (complaints) */
  onReport?: (m: Msg) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const prev = useRef({ height: 0, first: '', count: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = thread.messages[0]?.key ?? '';
    const p = prev.current;
    if (p.count === 0) el.scrollTop = el.scrollHeight;
    else if (first !== p.first)
      el.scrollTop += el.scrollHeight - p.height; // older page prepended: stay put
    else if (
      thread.messages.length !== p.count &&
      thread.messages[thread.messages.length - 1]?.status === 'sending'
    )
      el.scrollTop = el.scrollHeight; // own message
    else if (
      thread.messages.length !== p.count &&
      el.scrollHeight - el.scrollTop - el.clientHeight < 160 + (el.scrollHeight - p.height)
    )
      el.scrollTop = el.scrollHeight;
    prev.current = { height: el.scrollHeight, first, count: thread.messages.length };
    // A short first page leaves nothing to scroll: fetch more until the log fills.
    if (thread.loaded && thread.hasMore && !thread.loading && el.scrollHeight <= el.clientHeight) onOlder();
  });
  // Previews arrive after their message and make it taller: a reader at the bottom stays at the bottom.
  const imageLoaded = () => {
    const el = ref.current;
    if (!el) return;
    const grew = el.scrollHeight - prev.current.height;
    if (grew > 0 && el.scrollHeight - el.scrollTop - el.clientHeight < 160 + grew)
      el.scrollTop = el.scrollHeight;
    prev.current.height = el.scrollHeight;
  };
  return (
    <div
      class="log"
      ref={ref}
      role="log"
      aria-label={label}
      aria-live="polite"
      tabIndex={0}
      onLoadCapture={imageLoaded}
      onScroll={(e) => {
        const el = e.currentTarget;
        if (el.scrollTop < 60 && thread.hasMore && !thread.loading) onOlder();
      }}
    >
      {thread.loading && (
        <div class="hint" role="status">
          Loading…
        </div>
      )}
      {thread.loaded && !thread.hasMore && thread.messages.length > 0 && (
        <div class="hint">Beginning of the conversation</div>
      )}
      {thread.loaded && thread.messages.length === 0 && <div class="hint">No messages yet. Say hello!</div>}
      {thread.messages.map((m: Msg) => (
        <div key={m.key} class={`msg msg-${m.dir}`} data-id={m.id} data-status={m.status}>
          {room && m.dir === 'in' && (
            <div class="nick" dir="auto">
              {m.nick ?? ''}
            </div>
          )}
          {m.attachments.length > 0 && <AttachmentList files={m.attachments} loader={files} />}
          {m.body && (
            <div class="text" dir="auto">
              {m.body}
            </div>
          )}
          <div class="meta">
            <time dateTime={m.ts}>{time(m.ts)}</time>
            {m.dir === 'out' && !room && (
              <span class={`tick tick-${m.status}`} role="img" aria-label={TICKS[m.status]?.label}>
                {TICKS[m.status]?.text}
              </span>
            )}
            {onReport && m.dir === 'in' && m.id && (
              <button
                type="button"
                class="msg-report"
                aria-label="Report this message"
                onClick={() => onReport(m)}
              >
                Report
              </button>
            )}
          </div>
        </div>
      ))}
    </div>
  );
}
