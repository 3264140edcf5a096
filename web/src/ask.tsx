import { useEffect, useRef, useState } from 'preact/hooks';
import { storage } from './storage';
import { openAskStream } from './askStream';

/**
 * A visitor asks an expert queue (workgroup) without an account: `POST /restapi/v1/ask`, then the visitor's own
 * event stream (`chatapi.ask`: place in the queue, the agent's room offer, room messages), joining the assistance
 * room (`POST /restapi/v1/ask/{userId}`), posting (`PUT`), leaving (`DELETE`). Opened as `/chat/#ask=<workgroup>`.
 */

interface AskSession {
  userID: string;
  token: string;
  events: string;
}
interface Line {
  key: string;
  dir: 'in' | 'out';
  nick: string | null;
  body: string;
}
type Phase = 'form' | 'queued' | 'chat' | 'ended';

const api = async <T,>(
  method: string,
  path: string,
  token?: string,
  body?: { json?: unknown; text?: string },
): Promise<T> => {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body?.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body.json);
  }
  if (body?.text !== undefined) {
    headers['Content-Type'] = 'text/plain; charset=utf-8';
    payload = body.text;
  }
  const res = await fetch(path, { method, headers, body: payload });
  const text = await res.text();
  const parsed =
    text && /json/.test(res.headers.get('content-type') ?? '') ? (JSON.parse(text) as unknown) : text;
  if (!res.ok) throw new Error((parsed as { detail?: string }).detail ?? res.statusText);
  return parsed as T;
};

export function AskView({ workgroup }: { workgroup: string }) {
  const [phase, setPhase] = useState<Phase>('form');
  const [session, setSession] = useState<AskSession | null>(() => {
    try {
      return JSON.parse(storage.get(`parley.ask.${workgroup}`) ?? 'null') as AskSession | null;
    } catch {
      return null;
    }
  });
  const [position, setPosition] = useState<number | null>(null);
  const [wait, setWait] = useState<number | null>(null);
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const joined = useRef(false);

  useEffect(() => {
    if (!session) return;
    setPhase((p) => (p === 'form' ? 'queued' : p));
    return openAskStream(session, (d) => {
      switch (d.type) {
        case 'status':
        case 'update-queue':
          if (typeof d.position === 'number') setPosition(d.position);
          if (typeof d.remainingTime === 'number') setWait(d.remainingTime);
          if (d.type === 'status' && (d.status === 'ended' || d.status === 'departed')) setPhase('ended');
          break;
        case 'offer':
          if (!joined.current) {
            joined.current = true;
            api('POST', `/restapi/v1/ask/${encodeURIComponent(session.userID)}`, session.token).then(
              () => setPhase('chat'),
              (e: Error) => setError(e.message),
            );
          }
          break;
        case 'groupchat':
          setPhase('chat');
          setLines((ls) => {
            const key = String(d.id ?? d.stanzaId ?? Math.random());
            return ls.some((l) => l.key === key)
              ? ls
              : [
                  ...ls,
                  {
                    key,
                    dir: d.direction === 'out' ? 'out' : 'in',
                    nick: (d.nick as string | null) ?? null,
                    body: String(d.body ?? ''),
                  },
                ];
          });
          break;
        case 'depart-queue':
          setPhase('ended');
          break;
      }
    });
  }, [session]);

  const logRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines.length]);

  const ask = async (form: HTMLFormElement) => {
    const f = new FormData(form);
    try {
      const r = await api<AskSession & { position: number | null; remainingTime: number | null }>(
        'POST',
        '/restapi/v1/ask',
        undefined,
        {
          json: {
            workgroup,
            userID: String(f.get('name')),
            emailAddress: String(f.get('email')),
            question: String(f.get('question')),
          },
        },
      );
      const s = { userID: r.userID, token: r.token, events: r.events };
      storage.set(`parley.ask.${workgroup}`, JSON.stringify(s));
      setPosition(r.position);
      setWait(r.remainingTime);
      setError(null);
      setSession(s);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const send = async () => {
    const t = text.trim();
    if (!t || !session) return;
    setText('');
    try {
      await api('PUT', `/restapi/v1/ask/${encodeURIComponent(session.userID)}`, session.token, { text: t });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const leave = async () => {
    if (session)
      await api('DELETE', `/restapi/v1/ask/${encodeURIComponent(session.userID)}`, session.token).catch(
        () => undefined,
      );
    storage.set(`parley.ask.${workgroup}`, 'null');
    setPhase('ended');
  };

  return (
    <main class="ask" aria-label={`Ask ${workgroup}`}>
      <header class="bar">
        <div class="title">
          <h1>Ask {workgroup}</h1>
          <span class="sub" role="status" aria-live="polite">
            {phase === 'queued'
              ? position
                ? `You are number ${position} in the queue${wait ? `, about ${Math.ceil(wait / 60)} min` : ''}.`
                : 'Waiting for an expert…'
              : phase === 'chat'
                ? 'An expert is with you.'
                : phase === 'ended'
                  ? 'This chat has ended.'
                  : 'An expert will answer you here.'}
          </span>
        </div>
        {(phase === 'queued' || phase === 'chat') && (
          <button type="button" onClick={() => void leave()}>
            End
          </button>
        )}
      </header>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      {phase === 'form' && (
        <form
          class="ask-form"
          onSubmit={(e) => {
            e.preventDefault();
            void ask(e.currentTarget);
          }}
        >
          <label>
            Your name{' '}
            <input name="name" required pattern="[\p{L}\p{N}._+@\-]{1,64}" autoComplete="nickname" />
          </label>
          <label>
            E-mail <input name="email" type="email" required autoComplete="email" />
          </label>
          <label>
            Your question <textarea name="question" required rows={4} dir="auto" />
          </label>
          <button type="submit">Ask</button>
        </form>
      )}
      {phase !== 'form' && (
        <div class="log" ref={logRef} role="log" aria-label="Messages" aria-live="polite" tabIndex={0}>
          {lines.map((l) => (
            <div key={l.key} class={`msg msg-${l.dir}`}>
              {l.dir === 'in' && l.nick && (
                <div class="nick" dir="auto">
                  {l.nick}
                </div>
              )}
              <div class="text" dir="auto">
                {l.body}
              </div>
            </div>
          ))}
        </div>
      )}
      {phase === 'chat' && (
        <form
          class="composer"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <textarea
            rows={1}
            value={text}
            dir="auto"
            aria-label="Message to the expert"
            placeholder="Write a message"
            onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                void send();
              }
            }}
          />
          <button type="submit">Send</button>
        </form>
      )}
    </main>
  );
}
