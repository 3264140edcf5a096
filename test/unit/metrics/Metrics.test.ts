import assert from 'node:assert/strict';
import { createMetrics } from '../../../src/metrics/Metrics.js';

const sample = async (m: ReturnType<typeof createMetrics>, series: string): Promise<number | undefined> => {
  const { body } = await m.render();
  const line = body.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('createMetrics', () => {
  it('gives each call its own registry (two gateways in one process never share numbers)', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.xmpp.message('in', 'chat');
    assert.equal(await sample(a, 'parley_xmpp_messages_total{direction="in",kind="chat"}'), 1);
    assert.equal(await sample(b, 'parley_xmpp_messages_total{direction="in",kind="chat"}'), 0);
  });

  it('counts messages by direction and type, a missing type as normal and an unknown one as other', async () => {
    const m = createMetrics({ processMetrics: false });
    m.xmpp.message('out', 'groupchat');
    m.xmpp.message('in', undefined);
    m.xmpp.message('in', 'x-made-up');
    assert.equal(await sample(m, 'parley_xmpp_messages_total{direction="out",kind="groupchat"}'), 1);
    assert.equal(await sample(m, 'parley_xmpp_messages_total{direction="in",kind="normal"}'), 1);
    assert.equal(await sample(m, 'parley_xmpp_messages_total{direction="in",kind="other"}'), 1);
  });

  it('reads session and stream gauges from their source at scrape time', async () => {
    const m = createMetrics({ processMetrics: false });
    assert.equal(await sample(m, 'parley_sessions'), 0);
    const live = [{ openStreams: 2 }, { openStreams: 0 }];
    m.watchSessions({
      get size() {
        return live.length;
      },
      all: () => live,
    });
    assert.equal(await sample(m, 'parley_sessions'), 2);
    assert.equal(await sample(m, 'parley_sse_streams'), 2);
    live.push({ openStreams: 1 });
    assert.equal(await sample(m, 'parley_sse_streams'), 3);
  });

  it('reads the unacknowledged-stanza, server-delay and transit gauges from their source and counts backpressure refusals by code', async () => {
    const m = createMetrics({ processMetrics: false });
    assert.equal(await sample(m, 'parley_xmpp_unacked_stanzas'), 0);
    assert.equal(await sample(m, 'parley_xmpp_server_delay_seconds'), 0);
    assert.equal(await sample(m, 'parley_send_refused_total{code="XMPP_BACKLOG"}'), 0);
    assert.equal(await sample(m, 'parley_local_transit_seconds'), 0);
    const source = { total: 7, delayMs: () => 1250, transitMs: () => 40 };
    m.watchOutbound(source);
    assert.equal(await sample(m, 'parley_xmpp_unacked_stanzas'), 7);
    assert.equal(await sample(m, 'parley_xmpp_server_delay_seconds'), 1.25);
    assert.equal(await sample(m, 'parley_local_transit_seconds'), 0.04);
    m.xmpp.sendRefused('SEND_QUEUE_FULL');
    m.xmpp.sendRefused('SEND_QUEUE_FULL');
    assert.equal(await sample(m, 'parley_send_refused_total{code="SEND_QUEUE_FULL"}'), 2);
  });

  it('labels HTTP latency with the route template and the status class', async () => {
    const m = createMetrics({ processMetrics: false });
    m.http.request('GET', '/restapi/v1/chat/:streamid', 404, 0.003);
    assert.equal(
      await sample(
        m,
        'parley_http_request_duration_seconds_count{method="GET",route="/restapi/v1/chat/:streamid",status_class="4xx"}',
      ),
      1,
    );
    assert.equal(
      await sample(
        m,
        'parley_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/restapi/v1/chat/:streamid",status_class="4xx"}',
      ),
      1,
    );
  });

  it('reads the outbox once per scrape, and NaN when it cannot be read', async () => {
    const m = createMetrics({ processMetrics: false });
    assert.equal(await sample(m, 'parley_callback_outbox_depth'), 0, 'no probe: nothing waits');
    let calls = 0;
    m.watchOutbox(async () => {
      calls++;
      return { depth: 3, oldestAgeSeconds: 42, dead: 1 };
    });
    const { body } = await m.render();
    assert.match(body, /^parley_callback_outbox_depth 3$/m);
    assert.match(body, /^parley_callback_outbox_oldest_age_seconds 42$/m);
    assert.match(body, /^parley_callback_outbox_dead 1$/m);
    assert.equal(calls, 1, 'three gauges, one query');
    const failing = createMetrics({ processMetrics: false });
    failing.watchOutbox(async () => {
      throw new Error('database down');
    });
    assert.equal(await sample(failing, 'parley_callback_outbox_depth'), Number.NaN);
  });

  it('shows labelled series at zero before their first event', async () => {
    const m = createMetrics({ processMetrics: false });
    assert.equal(await sample(m, 'parley_xmpp_reconnects_total{resumed="false"}'), 0);
    assert.equal(await sample(m, 'parley_store_query_duration_seconds_count{operation="event_replay"}'), 0);
    m.xmpp.reconnected(false);
    m.store.statement('event_replay', 0.002);
    assert.equal(await sample(m, 'parley_xmpp_reconnects_total{resumed="false"}'), 1);
    assert.equal(await sample(m, 'parley_store_query_duration_seconds_count{operation="event_replay"}'), 1);
    m.store.statement('admin_history', 0.3);
    assert.equal(await sample(m, 'parley_store_round_trips_total{statement="event_replay"}'), 1);
    assert.equal(await sample(m, 'parley_store_round_trips_total{statement="admin_history"}'), 1);
    assert.equal(
      await sample(m, 'parley_store_query_duration_seconds_count{operation="admin_history"}'),
      undefined,
      'only the hot statements are timed',
    );
  });

  it('times a message row and a receipt whether written alone or with others of the same moment', async () => {
    const m = createMetrics({ processMetrics: false });
    for (const op of ['message_insert', 'message_insert_batch', 'receipt_delivered', 'receipt_batch']) {
      const key = `parley_store_query_duration_seconds_count{operation="${op}"}`;
      assert.equal(await sample(m, key), 0, op);
      m.store.statement(op, 0.001);
      assert.equal(await sample(m, key), 1, op);
    }
  });
});
