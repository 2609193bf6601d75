/** "May I?": your own decision for a cluster, a runtime role and a step type, with its reasons; nothing is submitted. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { DecisionResponse, RolesResponse } from '../../../client';
import { ACTIONS_ON_FAILURE, STEP_TYPES } from '../../../jobs/step-rules';
import { api } from '../api';
import { Choice, ErrorBox, Head, Section } from '../components';
import { describeRef } from '../statements';
import type { Place } from '../router';
import { go } from '../router';

export function MayIPage({ place, clusters }: { place: Place; clusters: RolesResponse['clusters'] | undefined }) {
  const firstCluster = clusters?.[0]?.clusterId;
  const asked = {
    clusterId: place.query.get('clusterId') ?? firstCluster ?? '',
    executionRoleArn: place.query.get('executionRoleArn') ?? '',
    stepType: place.query.get('stepType') ?? 'spark',
    actionOnFailure: place.query.get('actionOnFailure') ?? '',
  };
  const [form, setForm] = useState(asked);
  const [answer, setAnswer] = useState<DecisionResponse | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const key = place.query.toString();
  const known = [...new Set((clusters ?? []).flatMap((c) => c.roles.map((r) => r.roleArn)))];

  // The form follows the address (a bookmark, back and forward, an Ask), and nothing else: neither the clusters
  // arriving (a slow or retried GET /roles) nor the page's first effects, which a busy browser runs after the user
  // has begun to type, may wipe what is typed. The first drawing's form is already made from this address.
  const filledFrom = useRef(key);
  useEffect(() => {
    if (filledFrom.current === key) return;
    filledFrom.current = key;
    setForm(asked);
  }, [key]);
  // Once the clusters are known, an empty cluster choice takes the first of them; every other field stays.
  useEffect(() => {
    if (firstCluster) setForm((f) => (f.clusterId ? f : { ...f, clusterId: firstCluster }));
  }, [firstCluster]);
  // The answer to the address's question; a bookmarked question without a cluster waits for the first one.
  useEffect(() => {
    setAnswer(undefined);
    setError(undefined);
    if (!asked.executionRoleArn || !asked.clusterId) return;
    let gone = false;
    api<DecisionResponse>('GET', '/decision', { query: { clusterId: asked.clusterId, executionRoleArn: asked.executionRoleArn, stepType: asked.stepType, actionOnFailure: asked.actionOnFailure || undefined } }).then(
      (d) => !gone && setAnswer(d),
      (e: unknown) => !gone && setError(e as Error),
    );
    return () => {
      gone = true;
    };
  }, [key, asked.clusterId]);

  // Each change goes onto the form as it is then (an updater), not onto the form of the render that made the handler:
  // two changes between renders (a typed role, then a chosen step type) must both stay.
  const field = (name: keyof typeof form) => (e: Event) => {
    const value = (e.target as HTMLInputElement | HTMLSelectElement).value;
    setForm((f) => ({ ...f, [name]: value }));
  };
  return (
    <>
      <h1>May I?</h1>
      <p class="muted">The gateway's policy decision on a step you would submit: the same one POST /jobs would get, with its reasons. Nothing is submitted or recorded.</p>
      <form
        class="filters"
        aria-label="The submission to ask about"
        onSubmit={(e) => {
          e.preventDefault();
          go('/may-i', { ...form, actionOnFailure: form.actionOnFailure || undefined });
        }}
      >
        <Choice label="Cluster" required value={form.clusterId} values={(clusters ?? []).map((c) => c.clusterId)} onChange={(v) => setForm((f) => ({ ...f, clusterId: v }))} />
        <label>
          Runtime role
          <input type="text" required list="known-roles" size={56} value={form.executionRoleArn} placeholder="arn:aws:iam::123456789012:role/..." onInput={field('executionRoleArn')} />
          <datalist id="known-roles">
            {known.map((arn) => (
              <option key={arn} value={arn} />
            ))}
          </datalist>
        </label>
        <Choice label="Step type" value={form.stepType} values={STEP_TYPES} onChange={(v) => setForm((f) => ({ ...f, stepType: v }))} />
        <Choice label="On failure" none="default (CONTINUE)" value={form.actionOnFailure} values={ACTIONS_ON_FAILURE} onChange={(v) => setForm((f) => ({ ...f, actionOnFailure: v }))} />
        <button type="submit" class="primary">
          Ask
        </button>
      </form>
      <ErrorBox error={error} what="The gateway refused the question" />
      {answer ? <Answer decision={answer} /> : null}
    </>
  );
}

function Answer({ decision }: { decision: DecisionResponse }) {
  return (
    <Section title="The decision">
      <div class={`decision ${decision.allowed ? 'allowed' : 'denied'}`} role="status">
        <span class={`badge ${decision.allowed ? 'tone-ok' : 'tone-bad'}`}>{decision.allowed ? 'Allowed' : decision.result === 'ExplicitlyDenied' ? 'Denied (explicitly)' : 'Denied'}</span>{' '}
        <span class="reason">{decision.reason}</span>
      </div>
      <dl class="facts">
        <dt>Action</dt>
        <dd>{decision.action}</dd>
        <dt>Resource</dt>
        <dd class="id">{decision.resource}</dd>
        <dt>Principals rule</dt>
        <dd>{decision.rule ? `principals[${decision.rule.index}] ${decision.rule.match}` : 'none matched you'}</dd>
        {decision.allowedBy.length ? (
          <>
            <dt>{decision.deniedBy.length ? 'Would allow' : 'Allowed by'}</dt>
            <dd>{decision.allowedBy.map(describeRef).join('; ')}</dd>
          </>
        ) : null}
        {decision.deniedBy.length ? (
          <>
            <dt>Denied by</dt>
            <dd>{decision.deniedBy.map(describeRef).join('; ')}</dd>
          </>
        ) : null}
      </dl>
      {!decision.allowed && decision.nearMisses.length ? (
        <>
          <h3>Nearest statements</h3>
          <table class="near-misses">
            <Head columns={['Statement', 'Conditions that did not hold']} />
            <tbody>
              {decision.nearMisses.map((m) => (
                <tr key={describeRef(m.statement)}>
                  <td>{describeRef(m.statement)}</td>
                  <td>{m.failedConditions.join(', ') || 'the action matched'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </Section>
  );
}
